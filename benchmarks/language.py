"""Language detection on whole articles and on short items, beside py3langid's own answer in the same run.

Run from the repo root:

    .venv/bin/python -m benchmarks.language [--corpus PATH ...] [--rounds N]

A short item is what a wire sends as a brief: the article's first 20, 30 and 40 words after the boilerplate remover
(the headline, then the lede), so three items an article. Newsflow is `detect_language`; py3langid is its module-level
`classify` (every language it knows, no calibration). Nothing in `detect_language` is fitted to the corpus: its
candidate set and minimum confidence are fixed a priori, and its name weighting was designed on train.jsonl's errors
and on items written for the unit tests, so dev.jsonl is the held-out figure. Speed is the ratio of the two on the
same items, alternating the two in rounds (median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import py3langid

from services.enrich.boilerplate import remove_boilerplate
from services.enrich.language import MAX_CHARS, detect_language

CORPUS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CORPORA = (CORPUS_DIR / "train.jsonl", CORPUS_DIR / "dev.jsonl")
LENGTHS = (20, 30, 40)
NEWSFLOW, RAW = "newsflow", "py3langid"


def py3langid_language(text: str) -> str:
    return py3langid.classify(text[:MAX_CHARS])[0]


SYSTEMS: dict[str, Callable[[str], str]] = {NEWSFLOW: detect_language, RAW: py3langid_language}


def short_items(text: str, lengths: tuple[int, ...] = LENGTHS) -> list[str]:
    """The first `n` words of the cleaned article for each `n`, its line breaks kept (headline, then lede)."""
    lines = [line.split() for line in remove_boilerplate(text).splitlines() if line.strip()]
    items = []
    for n in lengths:
        kept, left = [], n
        for words in lines:
            if left <= 0:
                break
            kept.append(" ".join(words[:left]))
            left -= len(words)
        items.append("\n".join(kept))
    return items


def language_figures(articles: list[dict]) -> dict:
    """Per system, per kind of text (full, short), per gold language and "all": correct and total."""
    texts = {"full": [(a["text"], a["language"]) for a in articles]}
    texts["short"] = [(item, a["language"]) for a in articles for item in short_items(a["text"])]
    figures: dict = {}
    for system, detect in SYSTEMS.items():
        for kind, pairs in texts.items():
            counts: Counter = Counter()
            for text, gold in pairs:
                right = detect(text) == gold
                counts.update({(gold, "correct"): right, (gold, "total"): 1, ("all", "correct"): right})
                counts[("all", "total")] += 1
            figures.setdefault(system, {})[kind] = {
                lang: {"correct": counts[(lang, "correct")], "total": counts[(lang, "total")]}
                for lang in sorted({lang for lang, _ in counts}, key=lambda x: (x != "all", x))
            }
    return figures


def speed_ratio(texts: list[str], rounds: int) -> float:
    """Newsflow's time over py3langid's on the same texts: the median of `rounds` alternating runs."""
    ratios = []
    for _ in range(rounds):
        took = {}
        for system, detect in SYSTEMS.items():
            start = time.perf_counter()
            for text in texts:
                detect(text)
            took[system] = time.perf_counter() - start
        ratios.append(took[NEWSFLOW] / took[RAW])
    return statistics.median(ratios)


def print_table(figures: dict) -> None:
    languages = list(figures[NEWSFLOW]["full"])
    print(f"{'text':<7}{'system':<11}" + "".join(f"{lang:>12}" for lang in languages))
    for kind in ("full", "short"):
        for system in SYSTEMS:
            cells = []
            for lang in languages:
                c = figures[system][kind].get(lang, {"correct": 0, "total": 0})
                cells.append(
                    f"{c['correct']}/{c['total']}" + (f" {c['correct'] / c['total']:.0%}" if lang == "all" else "")
                )
            print(f"{kind:<7}{system:<11}" + "".join(f"{cell:>12}" for cell in cells))


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=list(CORPORA), help="gold JSONL files")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds (the median counts)")
    args = parser.parse_args(argv)
    every: list[dict] = []
    for path in args.corpus:
        articles = load(path)
        every += articles
        print(f"{path.name}: {len(articles)} articles, short items of {'/'.join(map(str, LENGTHS))} words")
        print_table(language_figures(articles))
        print()
    texts = [item for a in every for item in short_items(a["text"])] + [a["text"] for a in every]
    print(f"speed: newsflow takes {speed_ratio(texts, max(args.rounds, 1)):.2f}x py3langid's time on the same texts")


if __name__ == "__main__":
    main()
