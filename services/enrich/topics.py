"""IPTC Media Topics from cue words (pure). A first, lexicon-based version."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

IPTC_URI = "http://cv.iptc.org/newscodes/mediatopic/"

# code -> {"name": IPTC label, "cues": lemmas that point to the topic}
_LEXICON = json.loads((Path(__file__).parent / "data" / "mediatopics.json").read_text())
TOP_LEVEL: dict[str, tuple[str, frozenset[str]]] = {
    code: (entry["name"], frozenset(entry["cues"])) for code, entry in _LEXICON.items()
}


def subjects(lemmas: list[str], keep_ratio: float = 0.4) -> list[dict]:
    """Top-level topics whose cue count reaches `keep_ratio` of the best one, best first."""
    counts = Counter()
    for lemma in lemmas:
        for code, (_, cues) in TOP_LEVEL.items():
            if lemma in cues:
                counts[code] += 1
    if not counts:
        return []
    best = max(counts.values())
    return [
        {
            "name": TOP_LEVEL[code][0],
            "uri": IPTC_URI + code,
            "code": f"medtop:{code}",
            "relevance": round(100 * n / best),
        }
        for code, n in counts.most_common()
        if n >= keep_ratio * best
    ]
