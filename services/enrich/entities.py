"""Named entities from a spaCy Doc, resolved to one entry per real-world entity (pure).

Candidates are spaCy's spans and the capitalised runs it missed. Resolution groups their mentions
into entities: names cleaned of titles and determiners, demonyms dropped, partial names merged
into the full one ("Blinken" -> "Anthony Blinken", "NIH" -> "National Institutes of Health"),
aliases of a country folded into its name ("U.S.", "America" -> "United States"). Whether an
entity is a person, an organisation, a place or nothing is then decided by the model learned from
labelled articles (`services.enrich.learned`) from what is known of the whole entity.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from services.enrich import gazetteer
from services.enrich.features import ORGANISATION_WORDS, entity_features, line_cues
from services.enrich.gazetteer import Place, key
from services.enrich.learned import Model

PEOPLE, ORGANISATIONS, PLACES = "people", "organisations", "places"
KINDS = (PEOPLE, ORGANISATIONS, PLACES)
# spaCy's labels, English (OntoNotes) and French (WikiNER), as one set; French LOC is any place.
LABELS = {"PER": "PERSON", "MISC": "MISC"}
FRENCH_LABELS = {"LOC": "GPE"}
KIND_BY_LABEL = {"PERSON": PEOPLE, "ORG": ORGANISATIONS, "GPE": PLACES, "LOC": PLACES, "FAC": PLACES}
# Numbers, dates and amounts are never names; every other label is a candidate the model may keep or drop.
NUMERIC_LABELS = {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"}
CAPITALISED = "CAPS"  # a capitalised run spaCy did not tag
# The weight of a mention's contextual vector (spaCy's tok2vec output, `doc.tensor`, averaged over its tokens; one
# feature a dimension, named by language: the models' vectors are not comparable) beside the 0/1 features: the
# regression's penalty then shrinks them as much as those. Chosen by cross-validation (docs/development.md).
VECTOR_SCALE = 0.5

# Words that, leading a name, mark a person and are not part of the name. The ambiguous ones
# ("General Motors", "Chief Keef") are stripped only from what spaCy itself called a person.
PERSON_TITLES = set(
    "mr mrs ms miss dr prof sir dame lord lady president vice prime minister secretary senator sen rep "
    "representative gov governor mayor chancellor pope ceo chairman chairwoman sheikh imam rev reverend lt col "
    "colonel sgt sergeant adm admiral ambassador spokesman spokeswoman spokesperson premier detective constable "
    "superintendent commissioner inspector sheriff archbishop rabbi m mme mlle monsieur madame président présidente "
    "ministre".split()
)
AMBIGUOUS_TITLES = set(
    "gen general king queen prince princess judge justice chief deputy officer chair coach captain capt father "
    "maj major speaker leader attorney bishop cardinal pastor roi reine".split()
)
ALL_TITLES = PERSON_TITLES | AMBIGUOUS_TITLES
# Suffixes that name the administrative form of a place already known ("Kunduz province" -> "Kunduz"),
# and legal forms ("MediaTek Inc." is "MediaTek" when the article also says "MediaTek").
ADMIN_SUFFIXES = {"province", "city", "district", "governorate", "prefecture", "region", "municipality"}
LEGAL_FORMS = {"inc", "ltd", "corp", "llc", "plc", "co", "gmbh", "ag", "sa", "nv", "bv", "limited", "incorporated"}
# Leading words of named events: a surname after "Hurricane Ian" is the storm's, not a person's.
EVENT_WORDS = {"hurricane", "typhoon", "cyclone", "storm", "tornado", "operation", "tempête", "ouragan"}
CONNECTORS = {"of", "and", "the", "for", "&", "de", "du", "des", "la", "le", "on", "in", "d", "l"}
DEMONYM_ENDINGS = ("n", "an", "ian", "ese", "i", "ish", "ic", "er", "ais", "aise", "ien", "ienne", "ain", "aine")
IRREGULAR_DEMONYMS = set(
    "british french dutch swiss greek thai filipino welsh scottish irish english spanish danish swedish finnish "
    "polish turkish kurdish arab arabic afghan uzbek kazakh kyrgyz tajik turkmen pashtun baloch sindhi punjabi "
    "bengali tamil sikh hindu muslim christian jewish sunni shia shiite european african asian latino latina "
    "hispanic western eastern northern southern".split()
)

# Party labels leading a person's name in election news ("Conservative Jane Doe"), stripped as titles are.
AFFILIATIONS = {"conservative", "liberal", "labour", "labor", "democrat", "republican", "tory", "socialist"}
# Nouns for groups of people whose possessive belongs to an institution's name ("People's Party",
# "Magistrate's Court", "Children's Hospital"), unlike a name's ("ITV News' Jane Doe").
GROUP_POSSESSORS = set(
    "people peoples magistrate magistrates children women men workers veterans farmers teachers citizens "
    "nurses doctors pensioners students".split()
)

_EDGE_JUNK = re.compile(r"^[\W_]+|[\W_]+$")
_LEADING_ARTICLE = re.compile(r"^(?:(?:the|a|an|le|la|les)\s+|l['’](?=\w))", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s?$")
# Where one span holds several names: a dash or bar, a comma, a line break, brackets, a possessive ("ITV News'
# Jane Doe", "New York's Lincoln Center"), a stock ticker ("BHP.AX and Rio Tinto RIO.AX").
_JOINTS = re.compile(
    r"\s[-–—|]\s|,\s+|\s*\n\s*|\s*[()]\s*|(?<=\w)['’]s?\s+(?=[A-Z])|(?:^|\s+)[A-Z]{1,5}\.[A-Z]{1,3}(?:\s+|$)"
)
_RUN_WORD = re.compile(r"[A-ZÀ-Ý][\w'’.&-]*$")


@dataclass
class Mention:
    name: str
    label: str  # spaCy's label (LABELS applied), or CAPITALISED
    start_char: int
    titled: bool = False  # a person title stood before the name ("Dr", "President")
    cues: dict[str, float] = field(default_factory=dict)


@dataclass
class Entity:
    name: str
    labels: Counter = field(default_factory=Counter)
    surfaces: Counter = field(default_factory=Counter)
    cues: Counter = field(default_factory=Counter)  # summed over the mentions
    mentions: int = 0
    first_char: int = 0
    titled: bool = False
    surname_of: int = 0  # bare surnames merged in (news style names a person in full once, then by surname)
    place: Place | None = None

    @property
    def tokens(self) -> list[str]:
        return self.name.split()

    @property
    def kind(self) -> str | None:
        """What most of spaCy's labels say, or None."""
        votes = Counter({KIND_BY_LABEL[label]: n for label, n in self.labels.items() if label in KIND_BY_LABEL})
        return votes.most_common(1)[0][0] if votes else None

    def absorb(self, other: Entity) -> None:
        self.labels.update(other.labels)
        self.surfaces.update(other.surfaces)
        self.cues.update(other.cues)
        self.mentions += other.mentions
        self.first_char = min(self.first_char, other.first_char)
        self.titled |= other.titled
        self.surname_of += other.surname_of


@dataclass
class Candidate:
    """One resolved entity, with what the model decides on and its relevance (0-100)."""

    entity: Entity
    features: dict[str, float]
    relevance: int


# --- mentions ---------------------------------------------------------------------------------------------


def clean_name(text: str, label: str = "") -> tuple[str, bool]:
    """(name, titled): whitespace, quotes, determiners, possessive and titles removed. A leading demonym or party
    label ("Croatian Ivo Karlovic") goes only from a person or a capitalised run: in an organisation or a place
    it is part of the name ("British Red Cross", "Northern Samar")."""
    person = label == "PERSON"
    titles = ALL_TITLES if person else PERSON_TITLES
    name = _EDGE_JUNK.sub("", " ".join(text.split()))
    name = _POSSESSIVE.sub("", _LEADING_ARTICLE.sub("", name))
    words, titled = name.split(), False
    lead = next((i for i, w in enumerate(words) if w[:1].isupper()), 0)
    if lead and gazetteer.certain_place(" ".join(words[lead:])):  # "de France", "région de New York"
        words = words[lead:]
    while len(words) > 1 and key(words[0]) in titles and not _institution(words):  # "Prince Albert Services"
        words, titled = words[1:], True
    if len(words) > 2 and label in ("PERSON", CAPITALISED) and (is_demonym(words[0]) or key(words[0]) in AFFILIATIONS):
        words = words[1:]
    while len(words) > 1 and words[0] in ("and", "&"):  # what followed a ticker: "BHP.AX and Fortescue Metals"
        words = words[1:]
    while len(words) > 1 and key(words[-1]) in ALL_TITLES | CONNECTORS:
        words = words[:-1]  # "ASEAN Chair", "Sarawak and"
    return _EDGE_JUNK.sub("", " ".join(words)), titled


def _institution(words: list[str]) -> bool:
    """The name ends as an institution's does: a country or title leading it is its own ("U.S. Forest Service",
    "Taiwan Semiconductor Co", "Prince Albert Victim Services")."""
    return key(words[-1]) in ORGANISATION_WORDS | LEGAL_FORMS


def is_demonym(name: str) -> bool:
    word = key(name).removesuffix("s")
    if word in IRREGULAR_DEMONYMS:
        return True
    # A stem of three letters at least: "Ali" is a name, not someone from "Al".
    stems = {word[: -len(end)] for end in DEMONYM_ENDINGS if word.endswith(end) and len(word) - len(end) >= 3}
    tails = ("", "a", "ia", "e", "istan", "land")
    return any(gazetteer.certain_place(stem + tail) for stem in stems for tail in tails)


def is_junk(name: str) -> bool:
    return (
        len(name) < 2
        or (len(name) == 2 and not name.isupper())  # "Ca" in "Los Angeles, Ca"
        or key(name) in ALL_TITLES | LEGAL_FORMS | CONNECTORS
        or not any(ch.isupper() for ch in name)  # "eBay" is a name, "the ministry" is not
        or any(ch.isdigit() for ch in name)
        or "/" in name
    )


def _parts(span: Span, label: str) -> list[tuple[str, str]]:
    """(text, label) of the names in one span: 'AstraZeneca, Johnson & Johnson' is two, 'Saudi Arabia Saud
    Al Suwelim' a country and a person, 'New York - US' a dateline and a country."""
    words = span.text.split()
    for cut in range(len(words) - 2, 0, -1):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        if not _institution(words) and all(w[0].isupper() for w in words[cut:]) and gazetteer.certain_place(head):
            return [(head, "GPE"), (tail, "PERSON" if len(words) - cut >= 2 else label)]
    return [(piece, label) for piece in _split_names(span.text) if piece]


def _split_names(text: str) -> list[str]:
    """`text` cut at its joints, but for a possessive of a group of people."""
    pieces, start = [], 0
    for joint in _JOINTS.finditer(text):
        possessor = text[start : joint.start()].split()[-1:]
        if joint.group()[0] in "'’" and possessor and key(possessor[0]) in GROUP_POSSESSORS:
            continue
        pieces.append(text[start : joint.start()])
        start = joint.end()
    return [*pieces, text[start:]]


def _glued(doc: Doc, i: int) -> bool:
    """Token i is a hyphen, or a word, written with no space against token i - 1: one word to a reader."""
    return 0 < i < len(doc) and not doc[i - 1].whitespace_ and (doc[i].text == "-" or doc[i].is_alpha)


def _hyphenated(span: Span) -> Span:
    """`span` widened over the capitalised words hyphenated to it: spaCy's "Ottawa" in "Ottawa-Vanier". Not over a
    lower-case word ("Acme-owned")."""
    doc, start, end = span.doc, span.start, span.end
    k = end
    while _glued(doc, k):
        k += 1
        if doc[k - 2].text == "-" and doc[k - 1].is_title:
            end = k
    k = start
    while k > 0 and _glued(doc, k):
        k -= 1
        if doc[k + 1].text == "-" and doc[k].is_title:
            start = k
    return Span(doc, start, end, label=span.label_)


def _capitalised_runs(doc: Doc, tagged: set[int]) -> list[Span]:
    """Runs of capitalised words (with 'of', 'de'..., or hyphens as in "Abdul-ul-Haq", inside) that overlap no
    token of `tagged`."""
    runs, start = [], None
    for token in [*doc, None]:
        capital = token is not None and token.i not in tagged and bool(_RUN_WORD.match(token.text))
        inside = token is not None and start is not None and token.i not in tagged
        inside = inside and (token.lower_ in CONNECTORS or (_glued(doc, token.i) and _glued(doc, token.i + 1)))
        if capital or inside:
            start = token.i if start is None else start
            continue
        if start is not None:
            end = token.i if token is not None else len(doc)
            while end > start and (doc[end - 1].lower_ in CONNECTORS or not _RUN_WORD.match(doc[end - 1].text)):
                end -= 1
            if not all(t.is_stop for t in doc[start:end]):
                runs.append(Span(doc, start, end, label=CAPITALISED))
            start = None
    return runs


def _label(span: Span) -> str:
    label = LABELS.get(span.label_, span.label_)
    return FRENCH_LABELS.get(label, label) if span.doc.lang_ == "fr" else label


def mentions_in(doc: Doc) -> list[Mention]:
    found = []
    lines = line_cues(doc.text)
    tagged = list({(span.start, span.end): span for span in map(_hyphenated, doc.ents)}.values())
    runs = _capitalised_runs(doc, {i for span in tagged for i in range(span.start, span.end)})
    spans = [span for span in tagged if span.label_ not in NUMERIC_LABELS] + runs
    for span in spans:
        label = _label(span)
        for part, part_label in _parts(span, label):
            name, titled = clean_name(part, part_label)
            if not is_junk(name) and not is_demonym(name):
                cues = _cues(span, part_label, lines)
                found.append(Mention(name, part_label, span.start_char, titled, cues))
    return found


def _cues(span: Span, label: str, lines: list[tuple[int, dict[str, float]]]) -> dict[str, float]:
    """What one mention's surroundings say: its label, its line, the words either side, its part of speech, and its
    tokens' contextual vector."""
    doc = span.doc
    before = doc[span.start - 1] if span.start > 0 else None
    after = doc[span.end] if span.end < len(doc) else None
    line = next(cues for start, cues in reversed(lines) if start <= span.start_char)
    cues = {f"label={label}": 1.0, **line}
    cues[f"prev={before.lower_ if before is not None and not before.is_space else '^'}"] = 1.0
    cues[f"next={after.lower_ if after is not None and not after.is_space else '$'}"] = 1.0
    cues["sentence_start"] = float(span[0].is_sent_start or before is None or before.is_space)
    cues["proper_nouns"] = sum(t.pos_ == "PROPN" for t in span) / len(span)
    if len(span) == 1:
        cues[f"pos={span[0].pos_}"] = 1.0
    if doc.tensor.size:  # the contextual token vectors spaCy's tagger reads
        vector = doc.tensor[span.start : span.end].mean(axis=0) * VECTOR_SCALE
        cues |= {f"{doc.lang_}vec{i}": float(v) for i, v in enumerate(vector)}
    return cues


# --- resolution -------------------------------------------------------------------------------------------


def _group(mentions: list[Mention]) -> dict[str, Entity]:
    """One entity per distinct name; every alias of a country or US state under its canonical name."""
    entities: dict[str, Entity] = {}
    for m in mentions:
        place = gazetteer.certain_place(m.name)
        name = place.name if place else m.name
        if not place and m.name.isupper() and len(m.name) > 4 and gazetteer.likely_place(m.name):
            name = m.name.title()  # a dateline's "KABUL"
        entity = entities.setdefault(key(name), Entity(name=name, first_char=m.start_char, place=place))
        entity.labels[m.label] += 1
        entity.surfaces[m.name] += 1
        entity.cues.update(m.cues)
        entity.mentions += 1
        entity.titled |= m.titled
    return _fold_admin_forms(entities)


def _fold_admin_forms(entities: dict[str, Entity]) -> dict[str, Entity]:
    """'Kunduz province' is 'Kunduz', 'MediaTek Inc' is 'MediaTek', when the article says the short name too;
    'Mexico City', a place of its own name, stays apart from 'Mexico'."""
    for name_key in list(entities):
        words = name_key.split()
        folds = len(words) > 1 and (words[-1] in ADMIN_SUFFIXES or words[-1] in LEGAL_FORMS)
        folds = folds and not gazetteer.lookup(name_key)
        base = entities.get(" ".join(words[:-1])) if folds else None
        if base is not None:
            base.absorb(entities.pop(name_key))
    return entities


def _part_of(short: Entity, long: Entity) -> bool:
    """'Blinken' or 'Mahmood Qureshi' within 'Shah Mahmood Qureshi', as leading or trailing words."""
    n = len(short.tokens)
    return n < len(long.tokens) and (long.tokens[-n:] == short.tokens or long.tokens[:n] == short.tokens)


def _initials(entity: Entity) -> str:
    return "".join(w[0] for w in entity.tokens if w.lower() not in CONNECTORS and w[0].isupper())


def is_event(entity: Entity) -> bool:
    return len(entity.tokens) > 1 and entity.tokens[0].lower() in EVENT_WORDS


def _merge_target(entity: Entity, entities: list[Entity]) -> Entity | None:
    if entity.place and entity.place.kind in (gazetteer.COUNTRY, gazetteer.US_STATE):
        return None
    # A known place stays apart from a longer organisation holding its name ("Paris" and "Paris Saint-Germain").
    known = gazetteer.lookup(entity.name)
    holders = [e for e in entities if _part_of(entity, e) and (e.kind in (PEOPLE, None) or not known)]
    if holders:  # 'Obama' after 'Barack Obama' and 'Michelle Obama': the first one named
        target = min(holders, key=lambda e: e.first_char)
        if len(holders) == 1 and len(entity.tokens) == 1 and not is_event(target):
            target.surname_of += entity.mentions
        return target
    acronym = entity.name.upper()  # "NIH", or "Opec" as British papers write it
    if len(entity.tokens) == 1 and entity.name.isalpha() and 2 <= len(acronym) <= 6:
        expansions = [e for e in entities if e is not entity and len(e.tokens) > 1 and _initials(e) == acronym]
        if len(expansions) == 1:
            return expansions[0]
    return None


def _merge_partial_names(entities: dict[str, Entity]) -> list[Entity]:
    pool = sorted(entities.values(), key=lambda e: (-len(e.tokens), -e.mentions))
    kept: list[Entity] = []
    for entity in pool:
        target = _merge_target(entity, kept)
        if target:
            target.absorb(entity)
        else:
            kept.append(entity)
    return kept


def candidates(mentions: list[Mention], text_length: int, title: str = "") -> list[Candidate]:
    """The resolved entities of one text with their features: everything but the model's decision."""
    entities = _merge_partial_names(_group(mentions))
    countries = {e.place.country for e in entities if e.place and e.place.kind == gazetteer.COUNTRY}
    found = []
    for entity in entities:
        entity.place = entity.place or gazetteer.likely_place(entity.name, countries)
        in_title = _in_title(entity, title)
        features = entity_features(entity, in_title, entity.first_char / max(text_length, 1))
        found.append(Candidate(entity, features, relevance(entity, text_length, in_title)))
    return found


def resolve(found: list[Candidate], model: Model) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for candidate, kind in zip(found, model.decide([c.features for c in found]), strict=True):
        entity = candidate.entity
        if kind not in grouped:
            continue
        item = {"name": entity.name, "relevance": candidate.relevance, "mentions": entity.mentions}
        if kind == PLACES and entity.place and entity.place.country:
            item |= {"country": entity.place.country} | ({"uri": entity.place.uri} if entity.place.uri else {})
        grouped[kind].append(item)
    return {kind: sorted(items, key=lambda e: (-e["relevance"], e["name"])) for kind, items in grouped.items()}


def _in_title(entity: Entity, title: str) -> bool:
    return bool(title) and any(surface.casefold() in title.casefold() for surface in entity.surfaces)


def relevance(entity: Entity, text_length: int, in_title: bool) -> int:
    """0-100: in the headline (40), how early it first appears (30), how often, saturating at 5 (30)."""
    position = 1.0 - min(entity.first_char / max(text_length, 1), 1.0)
    frequency = min(entity.mentions, 5) / 5
    return round(100 * (0.4 * in_title + 0.3 * position + 0.3 * frequency))
