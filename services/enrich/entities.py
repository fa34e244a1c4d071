"""Named entities from a spaCy Doc, resolved to one entry per real-world entity (pure).

spaCy gives mentions; resolution turns them into entities: names cleaned of titles and
determiners, junk and demonyms dropped, partial names merged into the full one ("Blinken" ->
"Anthony Blinken", "NIH" -> "National Institutes of Health"), aliases of a country folded into
its name ("U.S.", "America" -> "United States"), and the type decided by the whole entity, with
gazetteers and name shapes overruling the model where it is often wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from services.enrich import gazetteer
from services.enrich.gazetteer import Place, key
from services.enrich.nlp import Lexicon

PEOPLE, ORGANISATIONS, PLACES = "people", "organisations", "places"
KINDS = (PEOPLE, ORGANISATIONS, PLACES)
KIND_BY_LABEL = {"PERSON": PEOPLE, "ORG": ORGANISATIONS, "GPE": PLACES, "LOC": PLACES, "FAC": PLACES}

# Words that, leading a name, mark a person and are not part of the name. The ambiguous ones
# ("General Motors", "Chief Keef") are stripped only from what spaCy itself called a person.
PERSON_TITLES = set(
    "mr mrs ms miss dr prof sir dame lord lady president vice prime minister secretary senator sen rep "
    "representative gov governor mayor chancellor pope dcp sp acp ceo chairman chairwoman sheikh imam rev "
    "reverend lt col colonel sgt sergeant adm admiral ambassador spokesman spokeswoman spokesperson premier "
    "detective constable superintendent commissioner inspector".split()
)
AMBIGUOUS_TITLES = set(
    "gen general king queen prince princess judge justice chief deputy officer chair coach captain capt father "
    "maj major speaker leader attorney".split()
)
ALL_TITLES = PERSON_TITLES | AMBIGUOUS_TITLES
# A name holding one of these words names an organisation ("Haqqani network", "FC Goa").
ORGANISATION_WORDS = set(
    "fc cf afc club party council committee ministry department agency university college school institute "
    "bank police army navy forces network group inc corp corporation company co ltd llc plc association "
    "federation union league commission court parliament senate congress assembly government foundation "
    "organization organisation airlines airways channel hospital church fund authority board bureau "
    "service services society movement brigade militia cabinet office tribunal trust institution "
    "administration agency academy times post news press tribune herald journal television tv radio museum "
    "center centre library laboratory observatory gallery studios biologics pharmaceuticals pharma therapeutics "
    "technologies technology systems holdings industries labs motors energy capital partners ventures media "
    "entertainment telecom communications solutions software electronics insurance securities".split()
)
# ...and one of these, as the last word, a place ("Gulf Coast", "Orange County").
PLACE_WORDS = set(
    "city county province district island islands valley river mountain mountains lake sea ocean bay gulf "
    "coast peninsula desert street road avenue square airport strait canal village town region".split()
)
# Suffixes that name the administrative form of a place already known ("Kunduz province" -> "Kunduz").
ADMIN_SUFFIXES = {"province", "city", "district", "governorate", "prefecture", "region", "municipality"}
# Legal forms: "MediaTek Inc." is "MediaTek" when the article also says "MediaTek".
LEGAL_FORMS = {"inc", "ltd", "corp", "llc", "plc", "co", "gmbh", "ag", "sa", "nv", "bv", "limited", "incorporated"}
# Leading words of named events, which are no person, organisation or place ("Hurricane Ian").
EVENT_WORDS = {"hurricane", "typhoon", "cyclone", "storm", "tornado", "operation"}
CONNECTORS = {"of", "and", "the", "for", "&", "de", "du", "des", "la", "le", "on", "in"}
DEMONYM_ENDINGS = ("n", "an", "ian", "ese", "i", "ish", "ic", "er")
IRREGULAR_DEMONYMS = set(
    "british french dutch swiss greek thai filipino welsh scottish irish english spanish danish swedish finnish "
    "polish turkish kurdish arab arabic afghan uzbek kazakh kyrgyz tajik turkmen pashtun baloch sindhi punjabi "
    "bengali tamil sikh hindu muslim christian jewish sunni shia shiite european african asian latino latina "
    "hispanic western eastern northern southern".split()
)

_EDGE_JUNK = re.compile(r"^[\W_]+|[\W_]+$")
_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass
class Mention:
    name: str
    kind: str
    start_char: int
    titled: bool = False  # a person title stood before the name ("Dr", "President")


@dataclass
class Entity:
    name: str
    kinds: Counter = field(default_factory=Counter)
    surfaces: Counter = field(default_factory=Counter)
    mentions: int = 0
    first_char: int = 0
    titled: bool = False
    place: Place | None = None

    @property
    def tokens(self) -> list[str]:
        return self.name.split()

    def absorb(self, other: Entity) -> None:
        self.kinds.update(other.kinds)
        self.surfaces.update(other.surfaces)
        self.mentions += other.mentions
        self.first_char = min(self.first_char, other.first_char)
        self.titled |= other.titled


# --- mentions ---------------------------------------------------------------------------------------------


def clean_name(text: str, person: bool = False) -> tuple[str, bool]:
    """(name, titled): whitespace, quotes, determiners, possessive and titles removed."""
    titles = ALL_TITLES if person else PERSON_TITLES
    name = _EDGE_JUNK.sub("", " ".join(text.split()))
    name = _POSSESSIVE.sub("", _LEADING_ARTICLE.sub("", name))
    words, titled = name.split(), False
    while len(words) > 1 and key(words[0]) in titles:
        words, titled = words[1:], True
    while len(words) > 1 and key(words[-1]) in ALL_TITLES:  # "ASEAN Chair"
        words = words[:-1]
    return _EDGE_JUNK.sub("", " ".join(words)), titled


def is_demonym(name: str) -> bool:
    word = key(name).removesuffix("s")
    if word in IRREGULAR_DEMONYMS:
        return True
    stems = {word[: -len(ending)] for ending in DEMONYM_ENDINGS if word.endswith(ending)}
    return any(gazetteer.certain_place(stem + tail) for stem in stems for tail in ("", "a", "ia", "istan", "land"))


def is_junk(name: str) -> bool:
    return (
        len(name) < 2
        or (len(name) == 2 and not name.isupper())  # "Ca" in "Los Angeles, Ca"
        or key(name) in ALL_TITLES
        or key(name) in LEGAL_FORMS
        or not name[0].isupper()
        or any(ch.isdigit() for ch in name)
        or "/" in name
        or (name.isupper() and len(name) > 6 and " " not in name)  # a shouted word, not an acronym
    )


def _is_role_word(span: Span) -> bool:
    """'Opposition' in 'Opposition Leader Bill Shorten', 'Education' in 'Minister for Education Jane Doe':
    a department named as part of someone's job title, not an entity of its own."""
    doc, after = span.doc, span.end
    if after < len(doc) and key(doc[after].text).removesuffix("s") in ALL_TITLES:
        return True
    before = doc[max(span.start - 2, 0) : span.start]
    return len(before) == 2 and key(before[0].text) in ALL_TITLES and before[1].lower_ in ("for", "of")


def _is_common_word(span: Span, lexicon: Lexicon) -> bool:
    """'Provisional results', 'Hedge funds ...': a capitalised everyday word, not a name."""
    word = span.text.lower()
    if len(span) != 1 or gazetteer.lookup(span.text):
        return False
    if word in lexicon.adjectives and word not in lexicon.nouns:
        return True
    followed_by_lowercase = span.end < len(span.doc) and span.doc[span.end].is_lower
    starts_sentence = span[0].is_sent_start or span.start == 0 or span.doc[span.start - 1].is_space
    return starts_sentence and followed_by_lowercase and word in lexicon.nouns


def _parts(span: Span) -> list[tuple[str, str]]:
    """(text, kind) of the names in one span: 'AstraZeneca, Johnson & Johnson' is two organisations,
    'Saudi Arabia Saud Al Suwelim' a country and a person; 'Health, Education and Pensions Committee' one."""
    kind = KIND_BY_LABEL[span.label_]
    words = span.text.split()
    for cut in range(len(words) - 2, 0, -1):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        tail_is_name = all(w[0].isupper() for w in words[cut:]) and not {key(w) for w in words} & ORGANISATION_WORDS
        if kind != ORGANISATIONS and tail_is_name and gazetteer.certain_place(head):
            return [(head, PLACES), (tail, PEOPLE if len(words) - cut >= 2 else kind)]
    if re.search(r"\s[-–—|]\s", span.text):  # "New York - US": a dateline or a headline joint
        return [(part, kind) for part in re.split(r"\s[-–—|]\s", span.text)]
    if "," not in span.text or {key(w) for w in words[-2:]} & ORGANISATION_WORDS:
        return [(span.text, kind)]
    return [(part, kind) for part in re.split(r",\s+|\s+and\s+(?=[A-Z])", span.text)]


def _employer(span: Span) -> bool:
    """'Moderna' in 'Moderna chief executive Jane Doe' names the employer, whatever spaCy thought."""
    after = span.end
    return len(span) == 1 and after < len(span.doc) and key(span.doc[after].text) in ALL_TITLES | {"executive"}


def _joined_lists(doc: Doc) -> list[Span]:
    """spaCy's entities, with 'Senate Health, Education, Labor and Pensions Committee' (ORG spans
    separated by commas and 'and', only the last holding an organisation word) joined back into one."""
    runs: list[list[Span]] = []
    for ent in doc.ents:
        prev = runs[-1][-1] if runs else None
        listed = prev is not None and ent.label_ == prev.label_ == "ORG"
        if listed and re.fullmatch(r",?\s*(and\s+)?", doc.text[prev.end_char : ent.start_char]):
            runs[-1].append(ent)
        else:
            runs.append([ent])
    spans = []
    for run in runs:
        if len(run) > 1 and {key(w) for w in run[-1].text.split()} & ORGANISATION_WORDS:
            spans.append(Span(doc, run[0].start, run[-1].end, label="ORG"))
        else:
            spans.extend(run)
    return spans


def mentions_in(doc: Doc, lexicon: Lexicon) -> list[Mention]:
    found = []
    for ent in _joined_lists(doc):
        kind = KIND_BY_LABEL.get(ent.label_)
        if not kind or "\n" in ent.text.strip() or _is_common_word(ent, lexicon):
            continue
        if len(ent) == 1 and kind != PEOPLE and _is_role_word(ent) and not gazetteer.lookup(ent.text):
            continue
        for part, part_kind in _parts(ent):
            if part_kind == PEOPLE and _employer(ent):
                part_kind = ORGANISATIONS
            name, titled = clean_name(part, person=part_kind == PEOPLE)
            if not is_junk(name) and not is_demonym(name):
                found.append(Mention(name, PEOPLE if titled else part_kind, ent.start_char, titled))
    return found


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
        entity.kinds[PLACES if place else m.kind] += 1
        entity.surfaces[m.name] += 1
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


def _majority(entity: Entity) -> str:
    return entity.kinds.most_common(1)[0][0]


def _part_of(short: Entity, long: Entity) -> bool:
    """'Blinken' or 'Mahmood Qureshi' within 'Shah Mahmood Qureshi', as leading or trailing words."""
    n = len(short.tokens)
    return n < len(long.tokens) and (long.tokens[-n:] == short.tokens or long.tokens[:n] == short.tokens)


def _initials(entity: Entity) -> str:
    return "".join(w[0] for w in entity.tokens if w.lower() not in CONNECTORS and w[0].isupper())


def _name_shaped(entity: Entity) -> bool:
    """'Kobe Bryant', not 'Johnson & Johnson' or 'Haqqani network': two or three capitalised words."""
    words = entity.tokens
    return (
        2 <= len(words) <= 3
        and all(w.isalpha() and w[0].isupper() and w[1:].islower() for w in words)
        and not {w.lower() for w in words} & (ORGANISATION_WORDS | PLACE_WORDS)
        and entity.place is None
    )


def _is_event(entity: Entity) -> bool:
    return len(entity.tokens) > 1 and entity.tokens[0].lower() in EVENT_WORDS


def _merge_target(entity: Entity, entities: list[Entity]) -> Entity | None:
    if entity.place and entity.place.kind in (gazetteer.COUNTRY, gazetteer.US_STATE):
        return None
    # News style names a person in full once, then by surname: a later bare surname makes a person.
    holders = [
        e for e in entities if (_majority(e) == PEOPLE or _name_shaped(e) or _is_event(e)) and _part_of(entity, e)
    ]
    if len(holders) == 1 and len(entity.tokens) == 1 and not _is_event(holders[0]):
        holders[0].kinds[PEOPLE] += entity.mentions + holders[0].mentions
    if holders:  # 'Obama' after 'Barack Obama' and 'Michelle Obama': the first one named
        return min(holders, key=lambda e: e.first_char)
    if len(entity.tokens) == 1 and not gazetteer.lookup(entity.name):  # "Labor" -> "Labor Party"
        bodies = [
            e for e in entities if e.tokens[0] == entity.name and {w.lower() for w in e.tokens} & ORGANISATION_WORDS
        ]
        if len(bodies) == 1:
            return bodies[0]
    acronym = entity.name.upper()  # "NIH", or "Opec" as British papers write it
    if len(entity.tokens) == 1 and entity.name.isalpha() and 2 <= len(acronym) <= 6:
        expansions = [e for e in entities if e is not entity and len(e.tokens) > 1 and _initials(e) == acronym]
        if len(expansions) == 1:
            return expansions[0]
    singular = _singular_key(entity)
    twins = [e for e in entities if e is not entity and _singular_key(e) == singular and e.mentions >= entity.mentions]
    return twins[0] if twins else None


def _singular_key(entity: Entity) -> str:
    return " ".join(word.removesuffix("s") for word in key(entity.name).split())


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


def _kind(entity: Entity, countries: set[str]) -> str:
    words = {w.lower() for w in entity.tokens}
    if entity.place:
        return PLACES
    if entity.titled and _majority(entity) != ORGANISATIONS:
        return PEOPLE
    if words & ORGANISATION_WORDS:
        return ORGANISATIONS
    if entity.tokens[-1].lower() in PLACE_WORDS:
        return PLACES
    kind = _majority(entity)
    if kind != PLACES and not entity.titled:
        place = gazetteer.likely_place(entity.name, countries)
        if place and (place.kind == gazetteer.PROVINCE or place.population >= 50_000):
            entity.place = place
            return PLACES
    return kind


def _place_fields(entity: Entity, countries: set[str]) -> dict:
    place = entity.place or gazetteer.likely_place(entity.name, countries)
    if not place:
        return {}
    fields = {"country": place.country} if place.country else {}
    return {**fields, "uri": place.uri} if place.uri and place.country else fields


def resolve(mentions: list[Mention], text_length: int, title: str = "") -> dict[str, list[dict]]:
    entities = _merge_partial_names(_group(mentions))
    countries = {e.place.country for e in entities if e.place and e.place.kind == gazetteer.COUNTRY}
    grouped: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for entity in entities:
        if _is_event(entity):
            continue
        kind = _kind(entity, countries)
        item = {"name": entity.name, "relevance": relevance(entity, text_length, title), "mentions": entity.mentions}
        if kind == PLACES:
            item |= _place_fields(entity, countries)
        grouped[kind].append(item)
    return {kind: sorted(items, key=lambda e: (-e["relevance"], e["name"])) for kind, items in grouped.items()}


def relevance(entity: Entity, text_length: int, title: str = "") -> int:
    """0-100: in the headline (40), how early it first appears (30), how often, saturating at 5 (30)."""
    in_title = any(surface.casefold() in title.casefold() for surface in entity.surfaces) if title else False
    position = 1.0 - min(entity.first_char / max(text_length, 1), 1.0)
    frequency = min(entity.mentions, 5) / 5
    return round(100 * (0.4 * in_title + 0.3 * position + 0.3 * frequency))
