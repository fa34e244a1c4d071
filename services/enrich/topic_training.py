"""`make train`: rebuild the topic model (`data/topic_model.json`) from gold-labelled articles.

    python -m services.enrich.topic_training ../shared/corpus/train.jsonl ../shared/corpus/dev.jsonl

Each article (one JSON object a line: `text` and `gold.topics`, IPTC Media Topic top-level codes, the main one
first; see the corpus README) goes through `enrich()`'s own analysis; its lexicon features (`topics.features`) are
one example, labelled with its main topic. The regression is seeded, so the same files give the same weights.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from services.enrich.learned import Model, fit
from services.enrich.topics import MODEL_PATH, evidence, features, scores
from services.enrich.training import raw_for, read_corpus, save

SEED = 13
C = 1.0  # the regression's inverse regularisation (scikit-learn's default; see CUE_SCALE in topics.py)
# No intercept: the corpus's mix of topics (18 politics articles, 1 about the weather) is not the stream's, and as a
# prior it would leave a rare topic out of reach even where every cue points to it.
INTERCEPT = False


def row(body: list[str], title: list[str]) -> dict[str, float]:
    cues = evidence(body, title)
    return features(cues, scores(cues))


def main_topic(gold: dict) -> str:
    return gold["topics"][0].removeprefix("medtop:")


def train(articles: Iterable[tuple[tuple[list[str], list[str]], dict]], seed: int = SEED) -> Model:
    """A topic model from ((body words, headline words), gold) pairs."""
    pairs = list(articles)
    return fit(
        [row(*words) for words, _ in pairs],
        [main_topic(gold) for _, gold in pairs],
        seed=seed,
        c=C,
        fit_intercept=INTERCEPT,
    )


def main(argv: list[str] | None = None) -> None:
    from services.enrich.pipeline import analyse, topic_words

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, nargs="+", help="gold JSONL files")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    articles = read_corpus(args.corpus)
    model = train((topic_words(analyse(raw_for(a))), a["gold"]) for a in articles if a["gold"].get("topics"))
    save(model, args.out)


if __name__ == "__main__":
    main()
