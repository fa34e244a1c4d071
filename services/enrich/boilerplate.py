"""Site boilerplate out of scraped plain text (pure): `remove_boilerplate` works in three steps:

1. each line is rewritten: a leading date stamp and stray tags go, a dateline loses its agency ("KABUL (Reuters) -"
   becomes "Kabul —") and its capitals, trailing credits and "read more" links are cut;
2. each line is classified by small named rules (caption, byline, widget, ...);
3. a few rules look at where a line stands: copies of the headline, the header before the article starts, short lines
   under a related-articles marker, everything after the comments or the author box.

Every rule keeps a line of over 25 words that ends a sentence (a paragraph), except the notice rule (cookie banners,
disclaimers), whose phrases do not occur in news prose, and the rules that drop a second copy of a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\u00a0]+")


def normalise_text(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def remove_boilerplate(text: str, title: str = "") -> str:
    """`text` without navigation, captions, credits, bylines, related links and footers; `title` is the headline."""
    kept = [_strip_credit_tail(line) for line, reason in explain(text, title) if reason is None]
    return normalise_text("\n".join(kept))


def explain(text: str, title: str = "") -> list[tuple[str, str | None]]:
    """Each rewritten line of `text` with the name of the rule that removes it, or None when it is kept."""
    lines = [_rewrite(line) for line in normalise_text(text).split("\n")]
    return list(zip(lines, _classify(lines, _rewrite(title)), strict=True))


# --- vocabulary -------------------------------------------------------------------------------------------------

_AGENCIES = (
    r"AP|AFP|Reuters|UPI|dpa|EFE|ANSA|PTI|IANS|ANI|UNI|Xinhua|Kyodo|Yonhap|TASS|RIA Novosti|Sputnik|Bernama|Antara|"
    r"VNA|PNA|APP|WAM|SPA|KUNA|QNA|MENA|IRNA|AAP|PA|AA|CNA|BSS|UNB|KCNA|NNN|Ritzau|NTB|TT|ANP|Belga|APA|Lusa|EPA|"
    r"Anadolu(?: Agency)?|Associated Press|Agence France[- ]Presse|Press Trust of India|Thomson Reuters Foundation|"
    r"Reuters Health|Bloomberg|CNN|Agencies|agencies|Getty Images|REUTERS|XINHUA|ritzau"
)
# Case matters: "AP", "PA" or "APP" in capitals are agencies, in lower case they are words.
_KNOWN_AGENCY = re.compile(rf"(?:{_AGENCIES})")
_AGENCY_LIKE = re.compile(r"[A-Z]{2,6}|(?:[A-Z][\w&.'-]* ){0,3}(?:News|Agency|Press|Newswire|Wire|Service)")
_PHOTO_WORD = r"(?:photo(?:graph)?|image|picture|pic|foto|fotó|bild|imagen|imagem|фото)s?"
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?"
)
_DAYS = r"mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs?|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
_RELATED = (
    r"read more|read also|also read|also see|see also|read next|"
    r"related(?: articles?| stories| posts| news| content| coverage| links| reading)?|"
    r"more (?:from|on|stories|news|articles|headlines)\b[^.!?:|]{0,30}|recommended(?: for you| stories| articles)?|"
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in|have missed)|"
    r"(?:most|more) (?:read|popular|viewed|shared|watched)|trending(?: now| stories| news)?|popular (?:now|stories)|"
    r"top stories|latest (?:news|stories|articles)|editor'?s'? picks?|don'?t miss|further reading|what to read next|"
    r"in other news|lesen sie auch|mehr zum thema|(?:à |a )?lire aussi|voir aussi|lee también|lea también|leer más|"
    r"ver también|te puede interesar|leia também|leia mais|veja também|saiba mais|leggi anche|vedi anche|lees ook|"
    r"lees meer|læs også|læs mere|les også|läs också|читайте также|اقرأ أيضا|اقرأ أيضاً|اقرأ المزيد"
)
_UI_WORDS = frozenset(
    "share shares sharing tweet email e-mail mail print comment comments save copy link adjust text size font facebook "
    "twitter x whatsapp linkedin pinterest reddit telegram messenger flipboard tumblr instagram youtube tiktok threads "
    "bluesky pocket sms gift follow listen bookmark more menu close search subscribe login logout sign in up on this "
    "us via and or the to article story page options".split()
)
_UI_FILLER = frozenset("on this us via and or the to in up more x".split())
_BYLINE_LOWER_OK = frozenset(
    "and & und et y e og staff reporter reporters writer writers correspondent correspondents editor contributor "
    "columnist journalist the at of for in with ago hour hours minutes mins updated published posted on am pm".split()
)
_NOT_DATELINES = frozenset(
    "UPDATE UPDATED BREAKING WATCH LISTEN NOTE EXCLUSIVE ANALYSIS OPINION EDITORIAL VIDEO PHOTOS LIVE READ RELATED "
    "SOURCE CORRECTION WARNING ALERT URGENT COMMENT REVIEW INTERVIEW FACTBOX EXPLAINER PODCAST GALLERY ADVERTISEMENT "
    "SPONSORED NATO NASA OPEC FIFA UEFA ASEAN UNICEF UNESCO IMF FBI CIA WHO".split()
)

# --- line shapes --------------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?][\"'”’»)\]]*$")
_ELLIPSIS_END = re.compile(r"(?:\.{3,}|…)[\"'”’»)\]]*$")
_BULLET = re.compile(r"^(?:[•·▪►*]|[-–](?=\s))\s*")
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _n_words(line: str) -> int:
    return len(line.split())


def _ends_sentence(line: str) -> bool:
    return bool(_SENTENCE_END.search(line)) and not _ELLIPSIS_END.search(line)


def _is_paragraph(line: str) -> bool:
    """Article text for every rule."""
    return _n_words(line) > 25 and _ends_sentence(line)


def _is_sentence(line: str) -> bool:
    return _n_words(line) >= 8 and _ends_sentence(line)


def _core(line: str) -> str:
    return _BULLET.sub("", line)


# --- 1. rewriting a line ------------------------------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
_DATE_STAMP = re.compile(r"^(?:date\s*:?\s*)?\d{4}-\d{2}(?:-\d{2})?(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?\s+(?=\S)", re.I)
_LEADING_AGENCY = re.compile(rf"^\((?:{_AGENCIES})\)\s*(?:[-–—]+\s*)?")
_CAP = r"[A-Z][\w'’.-]*"
_DATE_PART = r"(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?|\d{1,2} [A-Z][a-z]{2,8}\.?(?: \d{4})?)"
_PLACE = rf"{_CAP}(?: {_CAP}){{0,3}}(?:, ?{_CAP}(?: {_CAP}){{0,2}})?(?:,? {_DATE_PART})?"
_AGENCY_DATELINE = re.compile(
    rf"^(?P<place>{_PLACE}) ?\((?P<agency>[^()]{{2,40}})\)\s*(?P<dash>[-–—]+|:)?\s*(?P<rest>.*)$"
)
_CAPS_WORD = r"[A-Z][A-Z'’.-]*[A-Z.]"
_CAPS_DATELINE = re.compile(
    rf"^(?P<place>{_CAPS_WORD}(?: {_CAPS_WORD}){{0,3}}(?:, ?{_CAP}(?: {_CAP}){{0,2}})?(?:,? {_DATE_PART})?)"
    r"(?P<sep>\s*[—–]\s*|\s+--?\s+|:\s+)(?=\S)"
)
_CAPS_TOKEN = re.compile(r"\b[A-Z][A-Z'’-]*[A-Z]\b")
_READ_MORE_TAIL = re.compile(
    r"(?:\s*[=»|\[(…]+|\.{3})\s*(?:read more|continue reading|read (?:the )?full (?:story|article)|full story)\W*$",
    re.I,
)
_BRACKET_TAIL = re.compile(r"(?<=[.!?\"”’])\s*\[([^\[\]]{3,150})\]\s*$")
_REPORTING_TAIL = re.compile(
    r"(?<=[.!?\"”’])\s*\(\s*(?:additional\s+)?(?:reporting|writing|editing|compiled|written|edited)\b[^()]*\)?\s*$",
    re.I,
)
_SOURCE_TAIL = re.compile(
    rf"(?<=[.!?\"”’])\s+(?:[-–—]+\s*(?:{_AGENCIES}|[A-Za-z][\w.]*(?:/[A-Za-z][\w.]*)*)"
    r"|\(?(?:source|sources|with inputs from)\s*:?\s+[^.!?()]{1,60}\)?)\s*[,.]?\s*$",
    re.I,
)


def _rewrite(line: str) -> str:
    line = _DATE_STAMP.sub("", _TAG.sub("", line).strip())
    line = _fix_dateline(_LEADING_AGENCY.sub("", line))
    for tail in (_READ_MORE_TAIL, _REPORTING_TAIL, _SOURCE_TAIL):
        line = _without(_at_end(tail, line), line)
    bracket = _at_end(_BRACKET_TAIL, line)
    if bracket and _is_link_text(bracket.group(1)):
        line = line[: bracket.start()]
    return line.strip()


def _at_end(tail: re.Pattern[str], line: str) -> re.Match[str] | None:
    """`tail` (anchored with $) in the last 200 characters: credits are short, and whole junk lines are slow."""
    return tail.search(line, max(0, len(line) - 200))


def _without(tail: re.Match[str] | None, line: str) -> str:
    return line[: tail.start()].rstrip() if tail else line


def _fix_dateline(line: str) -> str:
    """'NEW DELHI, India (AP) — text' -> 'New Delhi, India — text': no agency, no capitals for spaCy to misread."""
    if m := _AGENCY_DATELINE.match(line):
        agency = m["agency"].strip()
        known = _KNOWN_AGENCY.fullmatch(agency)
        if (known or _AGENCY_LIKE.fullmatch(agency)) and (m["dash"] or known):
            return f"{_title_case(m['place'])}{_dateline_joint(m['dash'] or '')}{m['rest']}".strip()
    if (m := _CAPS_DATELINE.match(line)) and m["place"].split()[0].strip(",.:") not in _NOT_DATELINES:
        return _title_case(m["place"]) + _dateline_joint(m["sep"]) + line[m.end() :]
    return line


def _dateline_joint(separator: str) -> str:
    # spaCy reads "New York - US-based" as one place, "New York — US-based" as two.
    return ": " if separator.strip() == ":" else " — "


def _title_case(place: str) -> str:
    return _CAPS_TOKEN.sub(lambda m: "-".join(part.capitalize() for part in m[0].split("-")), place)


def _is_link_text(text: str) -> bool:
    """'[Related: Storms Of The Decade]': a label before a colon, or mostly capitalised words."""
    words = [w for w in text.split() if w[:1].isalpha()]
    return ":" in text[:30] or (len(words) >= 2 and sum(w[0].isupper() for w in words) >= 0.6 * len(words))


# --- credits that end a kept line -------------------------------------------------------------------------------

_PHOTO_CREDIT_TAIL = re.compile(
    rf"(?:\b{_PHOTO_WORD}\s*(?:credit)?\s*(?:[:/|©]|\bby\b)\s*(?:[^.!?()]|\.(?=\S)){{1,80}}"
    rf"|\([^()]*\b(?:{_PHOTO_WORD}|credit|courtesy|file)\b[^()]*(?<![.!?])\)"
    r"|\b(?:getty images|shutterstock|istock(?:photo)?|alamy(?: stock photo)?|license photo|nurphoto|zuma press))\s*$",
    re.I,
)
_NAME_CREDIT_TAIL = re.compile(
    rf"(?:\(\s*)?\b(?:{_CAP}\s+){{0,3}}{_CAP}\s*/\s*{_CAP}(?:\s+{_CAP})*(?:\s*/\s*{_CAP}(?:\s+{_CAP})*)*\s*\)?"
    r"(?:\s*\|\s*[\w ]+)?\s*$"
    rf"|\((?:{_CAP}\s+){{1,3}}for\s+[^()]{{2,60}}\)\s*$"
)
_AGENCY_TAIL = re.compile(rf"(?:(?<=[.!?”\"’\d])\s*(?:{_AGENCIES})|\s*\((?:{_AGENCIES})\))\s*$")


def _strip_credit_tail(line: str) -> str:
    """A kept line, usually a lede with its photo's credit glued on, loses the credit."""
    return _without(_at_end(_AGENCY_TAIL, line) or _at_end(_PHOTO_CREDIT_TAIL, line), line)


# --- 2. line rules --------------------------------------------------------------------------------------------

_NOTICE = re.compile(
    r"^(?:we|this (?:site|website)) uses? cookies\b|\bby continuing to (?:use|browse|visit)\b|"
    r"\b(?:accept|reject|manage) (?:all )?cookies\b|\bcookie (?:policy|settings|preferences|consent)\b|"
    r"^\(?\s*disclaimer\s*:|\bauto-generated from a syndicated feed\b|"
    r"^\(?\s*this (?:story|article|post|piece|content) (?:has|had|was|is|may)(?: not)?(?: been| have been)?"
    r"(?: (?:first|originally|also))? (?:edited|auto-generated|generated|published|republished|syndicated|produced|"
    r"updated|corrected|appeared)\b",
    re.I,
)
_MARKUP = re.compile(r"<!\[CDATA\[|https?://\S+.*https?://|^(?:https?://|www\.)\S+$", re.I)
_CRUMB_SEPARATOR = re.compile(r"\s*(?:[/›»>|→]|::)\s*")
_DATE_TOKEN = re.compile(
    rf"(?:{_MONTHS}|{_DAYS})\.?|\d{{1,4}}(?:st|nd|rd|th)?|\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?(?:[ap]\.?m\.?)?|"
    r"[ap]\.?m\.?|gmt|utc|bst|cet|cest|eet|ist|pkt|jst|kst|sgt|hkt|aest|aedt|est|edt|cst|cdt|mst|mdt|pst|pdt|et|pt|"
    r"at|on|ago|hours?|hrs?|minutes?|mins?|days?|first|last|published|updated|posted|modified|created|dated?|issued",
    re.I,
)
_DATE_SIGNAL = re.compile(rf"\d|\b(?:{_MONTHS}|{_DAYS})\b", re.I)
_BYLINE = re.compile(r"^(?:by|por|par|von|door|af)\s+(?=\S)", re.I)
_NAME_AND_ROLE = re.compile(
    rf"^{_CAP}(?: {_CAP}){{1,4}},?(?: [\w-]+){{0,2}} "
    r"(?i:correspondent|reporter|editor|writer|columnist|journalist|contributor)s?$"
)
_CREDIT_START = re.compile(
    r"^\(?\s*(?:(?:additional|further|contributing)\s+)?(?:reporting|reported|writing|written|editing|edited|compiled|"
    r"produced|posted|research|researched|translated|translation|graphics|photography|video|contributions?|inputs?|"
    r"story|words)(?:\s+and\s+\w+)?:?\s+(?:by|from)\b",
    re.I,
)
_CONTRIBUTED = re.compile(
    r"\bcontributed(?: reporting)?(?: to)? (?:this|the) (?:report|story|article)\b|contributed reporting", re.I
)
_AGENCY_LINE = re.compile(rf"^\W*(?i:with inputs from\s+)?(?:{_AGENCIES})(?:\s*[/,&|]\s*(?:{_AGENCIES}))*\W*$")
_SLASH_CREDIT = re.compile(r"^/?\s*[\w.-]+(?:\s*/\s*[\w.-]+)+\s*/?$")
_SOURCE_LINE = re.compile(r"^\(?\s*(?:source|sources|with inputs from)\s*:?\s+[^.!?]{1,60}\)?\.?$", re.I)
_CAPTION_LABEL = re.compile(
    rf"^(?:{_PHOTO_WORD}|video|file photo|file picture|caption|pictured|photographer|credit|courtesy|illustration)"
    rf"\s*[:|/©]|^(?:{_PHOTO_WORD}|video)\s+(?:source|caption|credit|courtesy)s?\s*[:,]"
    r"|^(?:file photo|file picture)\b|^(?:photo|image|picture)s?\s+(?:by|courtesy)\b",
    re.I,
)
_PHOTO_START = re.compile(
    r"^(?:an?\s+|the\s+)?(?:file\s+)?(?:photo(?:graph)?|picture|image)\s+(?:of|shows|taken)\b", re.I
)
_PICTURED = re.compile(r"\((?:pictured|left|right|centre|center|above|below|inset|from left|l-r)\b[^()]{0,30}\)", re.I)
_WIDGET = re.compile(
    r"^(?:skip to (?:main )?content|skip navigation|jump to\b.*|toggle navigation|exit mobile version|back to top|"
    r"scroll to top|(?:open |close |main )?menu|sign in|log ?in|log ?out|my account|edit story|article content|"
    r"featured[- ]image|loading\W*|(?:play|watch) video|listen to (?:this|the) (?:article|story)\b.*|"
    r"(?:print|email|gift) (?:this )?(?:article|page|story)|newer posts?|older posts?|home|email this|blogthis!?|"
    r"reuse this content|"
    r"subscribe to: post comments.*)\W*$"
    r"|^(?:share|follow|like|join)(?:\s+(?:us|me|this|@\S+|the \w+|\w+(?: \w+)?))?\s+(?:on|via|to)\s+"
    r"(?:facebook|twitter|x|whatsapp|linkedin|instagram|telegram|youtube|tiktok|threads|reddit|pinterest|google news)"
    r"|^share (?:this|the) (?:article|story|post|page)\b|^join (?:our|us)\b.{0,40}\b(?:channel|community|group)\b"
    r"|^(?:click|tap) here\b|\bclick(?:ing)? here[\s»›>]*$"
    r"|^(?:subscribe|sign up|signup)\b|\bsign up (?:for|to)\b.*\bnewsletters?\b|\bnewsletters?\b.*\bsign up\b"
    r"|\bdelivered (?:straight |directly )?to your inbox\b|^(?:download|get) (?:the|our)\b.{0,40}\bapps?\b"
    r"|^[^.!?]{0,40}\b\d+\s*[-–]?\s*min(?:ute)?s?\.?\s+read\W*$"
    r"|\b(?:is|are) (?:not|no longer) supported\b|\boptimal experience\b|\b(?:update|upgrade) your browser\b"
    r"|\benable javascript\b|\bjavascript is disabled\b|\byour browser does not support\b"
    r"|\b(?:this|the) (?:article|story|page) is (?:more than|over) \w+ (?:years?|months?) old\b"
    r"|^this is a beta experience\b",
    re.I,
)
_ADVERT = re.compile(
    r"^(?:advertisement|advertising|advert|ads?|sponsored(?: content)?|promoted(?: content)?|paid (?:content|post)|"
    r"anzeige|werbung|publicit[ée]|publicidad|publicidade|pubblicit[àa]|advertentie|annonce|annons|реклама|إعلان)"
    r"(?:\s*[-:]?\s*\d+)?\W*$"
    r"|\b(?:story|article|content|text|reading) continues? (?:below|after)\b|^continue reading\b"
    r"|^scroll (?:down )?to continue\b",
    re.I,
)
_FOOTER = re.compile(
    r"^(?:copyright\s*(?:©|\(c\)|\d{4})|©)|\ball rights reserved\b|©\s*\d{4}|\bcopyright\s*(?:©|\(c\))?\s*\d{4}\b"
    r"|\b(?:alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|todos os direitos reservados|"
    r"tutti i diritti riservati)\b|^(?:privacy policy|terms of (?:use|service)|contact us|about us)\W*$"
    r"|^(?:please enter your (?:comment|name|email)|you have entered an incorrect email|your email address will not be "
    r"published|required fields are marked|note: only a member of this blog may post|save my name, email)",
    re.I,
)
_RELATED_LINK = re.compile(rf"^(?:{_RELATED})\s*(?:on|about)?\s*(?:[:|»›>]|[-–—]\s)\s*\S", re.I)
_PROMO = re.compile(
    r"^(?:watch|video|listen|podcast|gallery|in pictures|in photos|photos|live updates)\s*[:|]"
    r"|^(?:full|complete|live|special) coverage\b",
    re.I,
)
_RELATED_MARKER = re.compile(rf"^(?:{_RELATED})\s*(?:on|about)?\s*:?\W*$", re.I)
_COMMENTS_MARKER = re.compile(
    r"^(?:leave a (?:reply|comment)|post a comment|add a comment|write a comment|no comments|\d+\s+comments?|comments?|"
    r"show comments|view comments|load comments|comments are closed|join the (?:conversation|discussion)|cancel reply|"
    r"kommentare|commentaires|comentarios|comentários|commenti|reacties|kommentarer)(?:\s*\(\d+\))?\W*$",
    re.I,
)
_AUTHOR_MARKER = re.compile(
    r"^(?:about the (?:author|writer|reporter)|author bio|meet the author|more (?:articles|stories|posts) by)\b", re.I
)
_TAGS_MARKER = re.compile(
    r"^(?:tags?|topics?|filed under|posted in|categories|category|keywords|labels?|related (?:topics|tags)|"
    r"(?:read )?more on)\s*:|^(?:posted|filed) in\b[^.!?]*$"
    r"|^(?:tags|topics|labels|related topics|more on this (?:story|topic)|explore more on these topics)\W*$",
    re.I,
)
_AUTHOR_BIO = re.compile(
    rf"^{_CAP}(?: {_CAP}){{1,3}} (?:is|has been) (?:a|an|the)\b(?: \S+){{0,4}}? (?:reporter|correspondent|journalist|"
    r"writer|editor|columnist|contributor|producer|photographer|photojournalist|freelancer|intern)s?\b"
)


def _is_markup(line: str) -> bool:
    return bool(_MARKUP.search(line))


def _is_separator(line: str) -> bool:
    """'___', '***': nothing to read."""
    return not any(c.isalnum() for c in line)


def _is_navigation(line: str) -> bool:
    """'News / Nation & World', 'Home › World', or a row of share buttons."""
    parts = _CRUMB_SEPARATOR.split(line)
    crumbs = len(parts) >= 2 and all(p and _n_words(p) <= 3 and p[0].isupper() for p in parts)
    words = set(_WORD.findall(line.casefold()))
    buttons = 0 < _n_words(line) <= 8 and words <= _UI_WORDS and not words <= _UI_FILLER
    return (crumbs and _n_words(line) <= 8 and not _ends_sentence(line)) or buttons


def _is_date_line(line: str) -> bool:
    """'Published: November 5, 2016, 3:20pm', 'Monday, 13 Oct 2014', 'First Published: Dec 28 2018 | 1:10 PM IST'."""
    tokens = [t.strip(".:") for t in re.split(r"[\s,|•·/()–—-]+", line) if t.strip(".:")]
    return bool(tokens) and all(_DATE_TOKEN.fullmatch(t) for t in tokens) and bool(_DATE_SIGNAL.search(line))


def _is_byline(line: str) -> bool:
    """'By Jane Doe and John Roe, Reuters', 'By JANE DOE', 'Jane Doe Political correspondent' (not 'By the end')."""
    if _NAME_AND_ROLE.match(line):
        return True
    if not _BYLINE.match(line) or _n_words(line) > 12:
        return False
    tokens = [t.strip(".,;:()[]\"'") for t in line.split()[1:]]
    tokens = [t for t in tokens if t.strip("|/-–—·•")]
    return (
        bool(tokens)
        and tokens[0][:1].isupper()
        and all(t[:1].isupper() or t[:1].isdigit() or t.casefold() in _BYLINE_LOWER_OK or _is_agency(t) for t in tokens)
    )


def _is_agency(token: str) -> bool:
    return bool(_KNOWN_AGENCY.fullmatch(token))


def _is_credit(line: str) -> bool:
    """'Reporting by X; Editing by Y', '(Writing by X)', 'Compiled by X', '/ritzau/Reuters', 'Source: AFP'."""
    if _CREDIT_START.match(line):
        # "Written by Shakespeare in 1600, the play ..." is a sentence; a credit has no full stop, or has a ';'.
        unambiguous = line.lstrip("(").lower().startswith(("additional", "further", "contributing"))
        return unambiguous or not _ends_sentence(line) or ";" in line or line.endswith(")")
    credits = (_AGENCY_LINE.match(line), _SLASH_CREDIT.match(line), _SOURCE_LINE.match(line))
    return any(credits) or (_n_words(line) <= 25 and bool(_CONTRIBUTED.search(line)))


def _is_caption(line: str) -> bool:
    """A photo caption: a label ('Photo:', 'Image source,'), a credit at the end, or '(pictured)' in a non-sentence."""
    n = _n_words(line)
    if n > 60:
        return False
    if _CAPTION_LABEL.match(line) or _at_end(_PHOTO_CREDIT_TAIL, line) or _at_end(_NAME_CREDIT_TAIL, line):
        return True
    if _PICTURED.search(line) and not _ends_sentence(line):
        return True
    # A bare agency ends a caption ('... in Michigan. June 12, 2019 (AFP)') but also an article ('... said. (AFP)').
    tail = _at_end(_AGENCY_TAIL, line)
    if tail and n <= 25:
        return not _ends_sentence(line[: tail.start()].rstrip()) or bool(_PHOTO_START.match(line))
    return False


def _is_widget(line: str) -> bool:
    return _n_words(line) <= 25 and bool(_WIDGET.search(line))


def _is_related_link(line: str) -> bool:
    """'Read more: <headline>', 'ALSO READ | <headline>', 'Watch: <video title>', 'Full coverage of ...'."""
    if _n_words(line) > 25:
        return False
    return bool(_RELATED_LINK.match(line)) or (not _ends_sentence(line) and bool(_PROMO.match(line)))


def _matches(pattern: re.Pattern[str], max_words: int = 25) -> Callable[[str], bool]:
    return lambda line: _n_words(line) <= max_words and bool(pattern.search(line))


# Markers are removed like any other line; a structural rule then looks at what follows them. Only an end marker
# (comments, author box, tags) may take the whole rest: a related list can sit in the middle of an article.
_RELATED_LIST, _COMMENTS, _AUTHOR, _TAGS = "related list", "comments", "author box", "tags"
_END_MARKERS = (_COMMENTS, _AUTHOR, _TAGS)

_LINE_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("markup", _is_markup),
    ("separator", _is_separator),
    (_TAGS, _matches(_TAGS_MARKER)),
    (_RELATED_LIST, _matches(_RELATED_MARKER)),
    (_COMMENTS, _matches(_COMMENTS_MARKER)),
    (_AUTHOR, _matches(_AUTHOR_MARKER)),
    ("caption", _is_caption),
    ("byline", _is_byline),
    ("credit", _is_credit),
    ("date", _is_date_line),
    ("navigation", _is_navigation),
    ("widget", _is_widget),
    ("advert", _matches(_ADVERT, 12)),
    ("footer", _matches(_FOOTER, 40)),
    ("related link", _is_related_link),
)


def _line_reason(line: str) -> str | None:
    core = _core(line)
    if not core:
        return None
    if _matches(_NOTICE, 60)(core):
        return "notice"
    if _is_paragraph(core):
        return None
    return next((name for name, test in _LINE_RULES if test(core)), None)


# --- 3. where a line stands -------------------------------------------------------------------------------------


def _classify(lines: list[str], title: str) -> list[str | None]:
    reasons = [_line_reason(line) for line in lines]
    _mark_headline_copies(lines, reasons, title)
    _mark_caption_copies(lines, reasons)
    _mark_duplicates(lines, reasons)
    start = _article_start(lines, reasons)
    if start is not None:
        _mark_header(lines, reasons, start)
        _mark_lists_and_tail(lines, reasons, start)
        _mark_author_bios(lines, reasons)
    return reasons


def _kept(lines: list[str], reasons: list[str | None], start: int = 0) -> list[int]:
    return [i for i in range(start, len(lines)) if lines[i] and reasons[i] is None]


def _mark_headline_copies(lines: list[str], reasons: list[str | None], title: str) -> None:
    for i in _kept(lines, reasons):
        if _n_words(lines[i]) <= 25 and not _ends_sentence(lines[i]) and _same_headline(lines[i], title):
            reasons[i] = "headline"


def _same_headline(line: str, title: str) -> bool:
    """The headline again: exact, truncated with an ellipsis, or behind navigation ('Home World <headline>...')."""
    line_words, title_words = _headline_words(line), _headline_words(title)
    if not line_words or not title_words:
        return False
    return line_words == title_words or _crumbed_copy(line, title_words) or _crumbed_copy(title, line_words)


def _headline_words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _crumbed_copy(text: str, other: list[str]) -> bool:
    """`text` is `other` (one of them possibly cut off with '...') behind up to five capitalised navigation words."""
    original = _WORD.findall(text)
    words = [w.casefold() for w in original]
    text_cut = bool(_ELLIPSIS_END.search(text))
    for skip in range(min(6, len(words))):
        if skip and not original[skip - 1][:1].isupper():
            return False
        rest = words[skip:]
        if rest == other or (text_cut and len(rest) >= 4 and other[: len(rest)] == rest):
            return True
    return False


def _mark_caption_copies(lines: list[str], reasons: list[str | None]) -> None:
    """A caption is often there twice, once without its credit: the copy next to it goes too."""
    captions = [i for i, reason in enumerate(reasons) if reason == "caption"]
    for i in _kept(lines, reasons):
        words = _headline_words(lines[i])
        near = (_headline_words(lines[j]) for j in captions if abs(i - j) <= 4)
        if len(words) >= 5 and any(caption[: len(words)] == words for caption in near):
            reasons[i] = "caption"


def _mark_duplicates(lines: list[str], reasons: list[str | None]) -> None:
    seen: set[tuple[str, ...]] = set()
    for i, line in enumerate(lines):
        key = tuple(_headline_words(line))
        if len(key) >= 5 and key in seen and reasons[i] is None:
            reasons[i] = "duplicate"
        seen.add(key)


def _article_start(lines: list[str], reasons: list[str | None]) -> int | None:
    """The first kept line that is a sentence of eight words or more; None when there is none."""
    return next((i for i in _kept(lines, reasons) if _is_sentence(_core(lines[i]))), None)


def _mark_header(lines: list[str], reasons: list[str | None], start: int) -> None:
    """Before the article starts, a line of three words or less is a section name, a label or a name tag."""
    for i in _kept(lines, reasons):
        if i >= start:
            return
        core = _core(lines[i])
        if _n_words(core) <= 3 and not _ends_sentence(core) and not core.endswith(("-", "–", "—", ":")):
            reasons[i] = "navigation"


def _mark_lists_and_tail(lines: list[str], reasons: list[str | None], start: int) -> None:
    """After an end marker, all that is left goes unless the article goes on; under a related list, its items go."""
    continues = _article_continues_after(lines, reasons)
    i = 0
    while i < len(lines):
        if reasons[i] in _END_MARKERS and i > start and not continues[i]:
            for j in _kept(lines, reasons, i + 1):
                reasons[j] = f"after {reasons[i]}"
            return
        i = _mark_list(lines, reasons, i + 1) if reasons[i] == _RELATED_LIST else i + 1


def _article_continues_after(lines: list[str], reasons: list[str | None]) -> list[bool]:
    """For each line, whether a paragraph or three sentences are kept after it (list items are neither)."""
    continues, paragraph, sentences = [False] * len(lines), False, 0
    for i in reversed(range(len(lines))):
        continues[i] = paragraph or sentences >= 3
        if lines[i] and reasons[i] is None:
            paragraph = paragraph or _is_paragraph(_core(lines[i]))
            sentences += _is_sentence(_core(lines[i]))
    return continues


def _mark_list(lines: list[str], reasons: list[str | None], i: int) -> int:
    """The items under a related-articles marker: short lines that do not end a sentence, up to the first other one."""
    while i < len(lines):
        if lines[i] and reasons[i] is None:
            if _n_words(lines[i]) > 20 or _ends_sentence(lines[i]):
                return i
            reasons[i] = _RELATED_LIST
        i += 1
    return i


def _mark_author_bios(lines: list[str], reasons: list[str | None]) -> None:
    """'Jane Doe is a reporter at ...' after the article's last sentence: in the body the same words may be news."""
    for i in reversed(_kept(lines, reasons)):
        line = _core(lines[i])
        if _n_words(line) <= 40 and _AUTHOR_BIO.match(line):
            reasons[i] = "author bio"
        elif _is_sentence(line):
            return
