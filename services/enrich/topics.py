"""IPTC Media Topics from a weighted cue lexicon and a model learned on the labelled corpus (pure): the main topic,
every other top-level topic with enough evidence, plus the second-level topics that are confident, each with a
relevance of 0-100, best first.

The lexicon (`data/topic_cues.json`) gives each of the 17 top-level codes and their second-level topics (named in
shared/mediatopics.py) cues grouped by weight, and the top-level ones a few single-word cues in other languages.
Cues are written as the pipeline sees the text: lower-cased lemmas of alphabetic non-stop-word tokens, a phrase
being such lemmas joined by one space ("interest rate", "prime minister"). For a language without a model, the
same lexicon can be given plain lower-cased word tokens: they hit the other-language cues (and the English ones
that are spelt the same).

Scoring: the text is read left to right, the longest phrase first, so that a phrase's words do not count again on
their own ("air strike" is conflict, not a labour strike). A cue found n times in the body has evidence 1 + ln n;
one in the headline TITLE_WEIGHT more (less for a "headline" longer than HEADLINE_LEMMAS). A topic scores the sum of
its cues' weight * evidence; a top-level topic scores its own cues and those of its children.

Choice: the hand-set weights confuse neighbouring topics (business and technology, disasters and weather), so the
main topic and the order of the top-level topics come from a multinomial logistic regression (`data/topic_model.json`,
built by `make train` from the labelled corpus, see `topic_training`) over the lexicon's scores (and which topic is
best) and each cue's evidence, applied here in plain Python. Which other top-level topics are kept is the lexicon's
call: a share of the best score and some evidence. Relevance is 100 * the model's probability of a top-level topic,
scaled down where the best score is under FULL_SCORE (thin evidence: a guess); a second-level topic gets its
parent's, scaled by its share of the parent's score. Confidence is 100 * score /
FULL_SCORE, capped at 100: how sure the topic is on its own evidence, whatever the other topics score.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from services.enrich.learned import Model
from shared.mediatopics import IPTC_URI, NAMES, PARENTS, TOP_LEVEL

TITLE_WEIGHT = 2.0  # a cue in the headline counts this many times its weight on top of the body
HEADLINE_LEMMAS = 15  # a longer "headline" is a paragraph: its bonus is spread over its length
KEEP_RATIO = 0.35  # a top-level topic needs this share of the best top-level score...
MIN_SCORE = 3.0  # ...and this much evidence (the best one is always kept)
MAX_TOP_LEVEL = 4
CHILD_RATIO = 0.3  # a second-level topic needs this share of its parent's score...
CHILD_MIN = 4.0  # ...and this much evidence of its own
FULL_SCORE = 12.0  # score at which a topic's confidence reaches 100, and below which relevance shows the doubt
# A cue's evidence enters the model scaled down, so that regularisation lets a single cue's weight move little from
# zero (111 labelled articles: most cues are seen in a few) while the lexicon's per-topic scores carry the decision.
CUE_SCALE = 0.1

_DATA = Path(__file__).parent / "data"
_LEXICON: dict = json.loads((_DATA / "topic_cues.json").read_text(encoding="utf-8"))
MODEL_PATH = _DATA / "topic_model.json"


def _weights(groups: dict[str, list[str]]) -> dict[str, float]:
    return {cue: float(weight) for weight, cues in groups.items() for cue in cues}


def _build_index(lexicon: dict) -> dict[str, list[tuple[str, float]]]:
    """cue -> [(code, weight)]: a second-level topic's cues count for it and for its parent, whose own weight
    for a cue wins over its children's."""
    index: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for code, entry in lexicon.items():
        if code in PARENTS:
            continue
        top: dict[str, float] = {}
        for child in (c for c, parent in PARENTS.items() if parent == code):
            for cue, weight in _weights(lexicon[child]["cues"]).items():
                index[cue].append((child, weight))
                top[cue] = max(top.get(cue, 0.0), weight)
        top |= _weights(entry.get("cues", {}))
        for cue, weight in _weights(entry.get("other_languages", {})).items():
            top[cue] = max(top.get(cue, 0.0), weight)
        for cue, weight in top.items():
            index[cue].append((code, weight))
    return dict(index)


_INDEX = _build_index(_LEXICON)
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


def evidence(lemmas: Sequence[str], title_lemmas: Sequence[str] = ()) -> dict[str, float]:
    """Each cue met, with its evidence from the body and the headline."""
    body, title = cue_counts(lemmas), cue_counts(title_lemmas)
    bonus = TITLE_WEIGHT * min(1.0, HEADLINE_LEMMAS / max(len(title_lemmas), 1))
    return {
        cue: (1 + math.log(body[cue]) if body[cue] else 0.0) + (bonus if title[cue] else 0.0)
        for cue in body.keys() | title.keys()
    }


def scores(cues: dict[str, float]) -> dict[str, float]:
    """Score per code (top-level and second-level) from the cues' evidence."""
    totals: dict[str, float] = defaultdict(float)
    for cue, found in cues.items():
        for code, weight in _INDEX[cue]:
            totals[code] += weight * found
    return dict(totals)


def features(cues: dict[str, float], totals: dict[str, float]) -> dict[str, float]:
    """What the topic model reads: each top-level topic's score (log and share of the best), which is best, and
    each cue's evidence."""
    top = {code: score for code, score in totals.items() if code in TOP_LEVEL and score > 0}
    best = max(top.values(), default=0.0)
    row = {f"cue:{cue}": CUE_SCALE * found for cue, found in cues.items()}
    for code, score in top.items():
        row[f"log:{code}"] = math.log1p(score)
        row[f"share:{code}"] = score / best
    row |= {f"best:{code}": 1.0 for code, score in top.items() if score == best}
    return row


@lru_cache(maxsize=1)
def topic_model() -> Model:
    return Model.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def probabilities(row: dict[str, float], model: Model) -> dict[str, float]:
    scores = model.scores(row)
    top = max(scores)
    exp = [math.exp(s - top) for s in scores]
    return {code: e / sum(exp) for code, e in zip(model.classes, exp, strict=True)}


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


def _kept_top_level(totals: dict[str, float], main: str) -> list[str]:
    """The main topic, then the other top-level topics with enough evidence of their own, best first."""
    ranked = sorted((c for c in totals if c in TOP_LEVEL and c != main), key=lambda c: (-totals[c], c))
    best = max([totals.get(main, 0.0)] + [totals[c] for c in ranked[:1]])
    return [main, *(c for c in ranked if totals[c] >= max(KEEP_RATIO * best, MIN_SCORE))][:MAX_TOP_LEVEL]


def _kept_children(totals: dict[str, float], parents: Iterable[str]) -> list[str]:
    kept = set(parents)
    return [
        c
        for c, parent in PARENTS.items()
        if parent in kept and totals.get(c, 0.0) >= max(CHILD_MIN, CHILD_RATIO * totals.get(parent, 0.0))
    ]


def subjects(lemmas: list[str], title_lemmas: Sequence[str] = (), model: Model | None = None) -> list[dict]:
    """IPTC subjects of an article from its body lemmas and headline lemmas, best first.

    The first top-level subject is the main topic: the one `model` (by default the shipped one) finds most probable.
    Second-level subjects come only with their parent, and never rank above it. Without any cue, there is nothing to
    go on: the list is empty.
    """
    cues = evidence(lemmas, title_lemmas)
    if not cues:
        return []
    totals = scores(cues)
    probability = probabilities(features(cues, totals), model or topic_model())
    top = _kept_top_level(totals, max(probability, key=probability.__getitem__))
    certainty = min(1.0, max(totals.get(c, 0.0) for c in top) / FULL_SCORE)
    relevance = {c: max(1, round(100 * certainty * probability.get(c, 0.0))) for c in top}
    for child in _kept_children(totals, top):
        share = totals[child] / totals[PARENTS[child]]
        relevance[child] = max(1, min(relevance[PARENTS[child]], round(relevance[PARENTS[child]] * share)))
    order = sorted(relevance, key=lambda c: (-relevance[c], c != top[0], c in PARENTS, -totals.get(c, 0.0), c))
    return [_subject(c, relevance[c], totals.get(c, 0.0)) for c in order]
