"""Named entities from a spaCy Doc, resolved to one entry per real-world entity (pure)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from spacy.tokens import Doc

KIND_BY_LABEL = {"PERSON": "people", "ORG": "organisations", "GPE": "places", "LOC": "places", "FAC": "places"}
KINDS = ("people", "organisations", "places")

_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_TRAILING_POSSESSIVE = re.compile(r"['’]s$")


@dataclass
class Mention:
    text: str
    kind: str
    start_char: int


@dataclass
class Entity:
    name: str
    kinds: Counter = field(default_factory=Counter)
    mentions: int = 0
    first_char: int = 0


def surface(text: str) -> str:
    text = " ".join(text.split())
    return _TRAILING_POSSESSIVE.sub("", _LEADING_THE.sub("", text)).strip(" .,;:\"'“”‘’()[]")


def mentions_in(doc: Doc) -> list[Mention]:
    found = []
    for ent in doc.ents:
        kind = KIND_BY_LABEL.get(ent.label_)
        name = surface(ent.text)
        if kind and name and "\n" not in ent.text.strip():
            found.append(Mention(name, kind, ent.start_char))
    return found


def _full_name_for(short: str, people: set[str]) -> str | None:
    """'Blinken' -> 'Anthony Blinken' when exactly one known person ends with it."""
    matches = [p for p in people if p != short and p.split()[-1] == short]
    return matches[0] if len(matches) == 1 else None


def resolve(mentions: list[Mention], text_length: int) -> dict[str, list[dict]]:
    people = {m.text for m in mentions if m.kind == "people" and " " in m.text}
    entities: dict[str, Entity] = {}
    for mention in mentions:
        name = mention.text
        if " " not in name and (full := _full_name_for(name, people)):
            name, kind = full, "people"
        else:
            kind = mention.kind
        entity = entities.setdefault(name.casefold(), Entity(name=name, first_char=mention.start_char))
        entity.kinds[kind] += 1
        entity.mentions += 1
    grouped: dict[str, list[dict]] = defaultdict(list)
    for entity in entities.values():
        kind = entity.kinds.most_common(1)[0][0]
        grouped[kind].append(
            {"name": entity.name, "relevance": relevance(entity, text_length), "mentions": entity.mentions}
        )
    return {kind: sorted(grouped[kind], key=lambda e: (-e["relevance"], e["name"])) for kind in KINDS}


def relevance(entity: Entity, text_length: int) -> int:
    """0-100: half from how early it first appears, half from how often (saturating at 5)."""
    position = 1.0 - min(entity.first_char / max(text_length, 1), 1.0)
    frequency = min(entity.mentions, 5) / 5
    return round(100 * (0.5 * position + 0.5 * frequency))
