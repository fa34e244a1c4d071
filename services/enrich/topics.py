"""IPTC Media Topics from a weighted cue lexicon (pure): every top-level topic with enough evidence, plus the
second-level topics that are confident, each with a relevance of 0-100, best first.

The lexicon (`data/mediatopics.json`) maps each of the 17 top-level codes to its IPTC label, its cues grouped by
weight, its second-level topics (same shape) and a few single-word cues in other languages. Cues are written as the
pipeline sees the text: lower-cased lemmas of alphabetic non-stop-word tokens, a phrase being such lemmas joined by
one space ("interest rate", "prime minister"). For a language without a model, the same lexicon can be given plain
lower-cased word tokens: they hit the other-language cues (and the English ones that are spelt the same).

Scoring: the text is read left to right, the longest phrase first, so that a phrase's words do not count again on
their own ("air strike" is conflict, not a labour strike). A cue found n times in the body adds weight * (1 + ln n);
one in the headline adds TITLE_WEIGHT * weight more (less for a "headline" longer than HEADLINE_LEMMAS). A top-level
topic scores its own cues and those of its children. Relevance is 100 * score / max(best top-level score, FULL_SCORE):
the main topic gets 100 unless the evidence is thin. Confidence is 100 * score / FULL_SCORE, capped at 100: how
sure the topic is on its own evidence (relevance says how it ranks against the article's other topics).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

IPTC_URI = "http://cv.iptc.org/newscodes/mediatopic/"

TITLE_WEIGHT = 2.0  # a cue in the headline counts this many times its weight on top of the body
HEADLINE_LEMMAS = 15  # a longer "headline" is a paragraph: its bonus is spread over its length
KEEP_RATIO = 0.35  # a top-level topic needs this share of the best top-level score...
MIN_SCORE = 3.0  # ...and this much evidence (the best one is always kept)
MAX_TOP_LEVEL = 4
CHILD_RATIO = 0.3  # a second-level topic needs this share of its parent's score...
CHILD_MIN = 4.0  # ...and this much evidence of its own
FULL_SCORE = 12.0  # evidence at which the main topic reaches relevance 100; below it, relevance shows the doubt

_LEXICON: dict = json.loads((Path(__file__).parent / "data" / "mediatopics.json").read_text(encoding="utf-8"))


def _weights(groups: dict[str, list[str]]) -> dict[str, float]:
    return {cue: float(weight) for weight, cues in groups.items() for cue in cues}


def _build_index(lexicon: dict) -> tuple[dict[str, str], dict[str, str], dict[str, list[tuple[str, float]]]]:
    """(code -> IPTC label, child code -> parent code, cue -> [(code, weight)])."""
    names: dict[str, str] = {}
    parents: dict[str, str] = {}
    index: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for code, entry in lexicon.items():
        names[code] = entry["name"]
        top: dict[str, float] = {}
        for child, sub in entry.get("children", {}).items():
            names[child], parents[child] = sub["name"], code
            own = _weights(sub["cues"])
            for cue, weight in own.items():
                index[cue].append((child, weight))
                top[cue] = max(top.get(cue, 0.0), weight)
        top |= _weights(entry.get("cues", {}))  # the parent's own weight for a cue wins over its children's
        for cue, weight in _weights(entry.get("other_languages", {})).items():
            top[cue] = max(top.get(cue, 0.0), weight)
        for cue, weight in top.items():
            index[cue].append((code, weight))
    return names, parents, dict(index)


NAMES, PARENTS, _INDEX = _build_index(_LEXICON)
TOP_LEVEL: dict[str, str] = {code: name for code, name in NAMES.items() if code not in PARENTS}
_PHRASE_STARTS = {cue.split(" ", 1)[0] for cue in _INDEX if " " in cue}
_LONGEST = max(cue.count(" ") + 1 for cue in _INDEX)


def cue_counts(tokens: Sequence[str]) -> Counter[str]:
    """How often each lexicon cue occurs in `tokens`, the longest phrase first and its words not again alone."""
    counts: Counter[str] = Counter()
    i = 0
    while i < len(tokens):
        step = 1
        if tokens[i] in _PHRASE_STARTS:
            for n in range(min(_LONGEST, len(tokens) - i), 1, -1):
                if (phrase := " ".join(tokens[i : i + n])) in _INDEX:
                    counts[phrase] += 1
                    step = n
                    break
        if step == 1 and tokens[i] in _INDEX:
            counts[tokens[i]] += 1
        i += step
    return counts


def scores(lemmas: Sequence[str], title_lemmas: Sequence[str] = ()) -> dict[str, float]:
    """Evidence per code (top-level and second-level) from the body and the headline."""
    body, title = cue_counts(lemmas), cue_counts(title_lemmas)
    bonus = TITLE_WEIGHT * min(1.0, HEADLINE_LEMMAS / max(len(title_lemmas), 1))
    totals: dict[str, float] = defaultdict(float)
    for cue in body.keys() | title.keys():
        evidence = (1 + math.log(body[cue]) if body[cue] else 0.0) + (bonus if title[cue] else 0.0)
        for code, weight in _INDEX[cue]:
            totals[code] += weight * evidence
    return dict(totals)


def _subject(code: str, relevance: int, score: float) -> dict:
    return {
        "name": NAMES[code],
        "uri": IPTC_URI + code,
        "code": f"medtop:{code}",
        "relevance": relevance,
        "confidence": confidence(score),
    }


def confidence(score: float) -> int:
    """0-100: the topic's own evidence against FULL_SCORE, whatever the other topics score."""
    return max(1, min(100, round(100 * score / FULL_SCORE)))


def _kept_top_level(totals: dict[str, float]) -> list[str]:
    ranked = sorted((c for c in totals if c in TOP_LEVEL), key=lambda c: (-totals[c], c))
    if not ranked:
        return []
    best = totals[ranked[0]]
    kept = [c for c in ranked[1:] if totals[c] >= max(KEEP_RATIO * best, MIN_SCORE)]
    return [ranked[0], *kept][:MAX_TOP_LEVEL]


def _kept_children(totals: dict[str, float], parents: Iterable[str]) -> list[str]:
    kept = set(parents)
    return [
        c
        for c, parent in PARENTS.items()
        if parent in kept and totals.get(c, 0.0) >= max(CHILD_MIN, CHILD_RATIO * totals[parent])
    ]


def subjects(lemmas: list[str], title_lemmas: Sequence[str] = ()) -> list[dict]:
    """IPTC subjects of an article from its body lemmas and headline lemmas, best first.

    The first top-level subject is the main topic. Second-level subjects come only with their parent, and never
    rank above it. Without any cue, there is nothing to go on: the list is empty.
    """
    totals = scores(lemmas, title_lemmas)
    top = _kept_top_level(totals)
    if not top:
        return []
    scale = 100 / max(totals[top[0]], FULL_SCORE)
    relevance = {c: max(1, round(totals[c] * scale)) for c in top}
    for child in _kept_children(totals, top):
        relevance[child] = max(1, min(relevance[PARENTS[child]], round(totals[child] * scale)))
    order = sorted(relevance, key=lambda c: (-relevance[c], c in PARENTS, -totals[c], c))
    return [_subject(c, relevance[c], totals[c]) for c in order]
