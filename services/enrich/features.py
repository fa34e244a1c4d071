"""What the entity model decides on (pure): features of one resolved entity, from its name, what
gazetteers know of it, and what its mentions' surroundings say (spaCy's label, the words either side,
the line it sits in: a heading, a list of links, a sentence)."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from services.enrich.gazetteer import key

if TYPE_CHECKING:
    from services.enrich.entities import Entity

# Prior knowledge a handful of articles cannot teach: words that make a name an organisation...
ORGANISATION_WORDS = set(
    "fc cf afc club party council committee ministry department agency university college school institute "
    "bank police army navy forces network group inc corp corporation company co ltd llc plc association "
    "federation union league commission court parliament senate congress assembly government foundation "
    "organization organisation airlines airways channel hospital church fund authority board bureau "
    "service services society movement brigade militia cabinet office tribunal trust institution "
    "administration academy times post news press tribune herald journal television tv radio museum "
    "center centre library laboratory observatory gallery studios pharmaceuticals pharma therapeutics "
    "technologies technology systems holdings industries labs motors energy capital partners ventures media "
    "entertainment telecom communications solutions software electronics insurance securities "
    "parti ministère université conseil assemblée commission banque société groupe syndicat fédération".split()
)
# ...or, as the last word, a place ("Gulf Coast", "Orange County").
PLACE_WORDS = set(
    "city county province district island islands valley river mountain mountains lake sea ocean bay gulf "
    "coast peninsula desert street road avenue square airport strait canal village town region ville".split()
)
_SENTENCE_END = re.compile(r"[.!?:][\"'”’»)]*$")


def line_cues(text: str) -> list[tuple[int, dict[str, float]]]:
    """(first character, cues) of each line of `text`: its length, whether it is a sentence, how capitalised."""
    found, start = [], 0
    for index, line in enumerate(text.split("\n")):
        words = line.split()
        n = len(words)
        size = "3" if n <= 3 else "8" if n <= 8 else "20" if n <= 20 else "more"
        cues = {f"line_words<={size}": 1.0, "line_sentence": float(bool(_SENTENCE_END.search(line.strip())))}
        cues["line_capitalised"] = sum(w[:1].isupper() for w in words) / n if n else 0.0
        cues["line_first"] = float(index == 0)
        cues["line_separators"] = float(bool(re.search(r"[|•·>»]", line)))
        found.append((start, cues))
        start += len(line) + 1
    return found


def entity_features(entity: Entity, in_title: bool, position: float) -> dict[str, float]:
    words = [key(w) for w in entity.tokens] or [""]
    n = entity.mentions
    features = {cue: value / n for cue, value in entity.cues.items()}  # the mentions' average
    features |= {f"word={w}": 1.0 for w in words} | {f"first={words[0]}": 1.0, f"last={words[-1]}": 1.0}
    features |= {
        "bias": 1.0,
        f"tokens={min(len(words), 4)}": 1.0,
        f"spacy={entity.kind}": 1.0,
        "upper": float(entity.name.isupper()),
        "acronym": float(entity.name.isupper() and len(words) == 1 and len(entity.name) <= 6),
        "connector": float(any(not w[:1].isupper() for w in entity.tokens)),
        "organisation_word": float(bool(set(words) & ORGANISATION_WORDS)),
        "place_word": float(words[-1] in PLACE_WORDS),
        "titled": float(entity.titled),
        "surname_later": min(entity.surname_of, 3) / 3,
        "mentions": min(n, 10) / 10,
        "once": float(n == 1),
        "surfaces": min(len(entity.surfaces), 4) / 4,
        "in_title": float(in_title),
        "position": position,
        "early": float(position < 0.1),
    }
    if entity.place:
        features[f"place={entity.place.kind}"] = 1.0
        features["place_population"] = math.log10(entity.place.population + 1) / 8
        features["place_country_known"] = float(entity.place.country is not None)
    return features
