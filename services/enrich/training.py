"""`make train`: rebuild the entity model (`data/entity_model.json`) from gold-labelled articles.

    python -m services.enrich.training ../shared/corpus/train.jsonl ../shared/corpus/dev.jsonl

Each article (one JSON object a line: `text`, `gold` lists of `{name, aliases, optional?}`, see the
corpus README) goes through `enrich()`'s own analysis; every resolved entity becomes one example,
labelled with the gold list its name matches (alias-aware, as the benchmark scores) or `none`.
Entities matching an optional gold entity, or only by a variant surface form, teach nothing and are
left out. The regression is seeded, so the same files give the same weights.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from pathlib import Path

from services.enrich.entities import KINDS, Candidate
from services.enrich.learned import MODEL_PATH, NOTHING, Model, fit

SEED = 13
C = 0.3  # the regression's inverse regularisation, chosen by cross-validation (benchmarks/quality.py)

_HYPHENS = str.maketrans({"-": " ", "\u2010": " ", "\u2011": " "})
_DROPPED = str.maketrans("", "", ".\"'“”‘’()[]{}")
_POSSESSIVE = re.compile(r"['’]s(?=[\s\"'“”‘’)\]}]*$)")
_LEADING_THE = re.compile(r"^the\s+")
_TITLE = re.compile(r"^(?:mr|mrs|ms|dr|sir|dame|prof)\s+")
_REGION_WORD = re.compile(r"\s+(?:province|city|district|county|state|region)$")


def normalise(name: str) -> str:
    """The form names are compared in: case, punctuation, titles, "the", possessive and region words ignored."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(_HYPHENS)
    text = _POSSESSIVE.sub("", text.strip())
    text = " ".join(text.translate(_DROPPED).split())
    text = _TITLE.sub("", _LEADING_THE.sub("", text))
    return " ".join(_REGION_WORD.sub("", text).split())


def gold_index(gold: dict) -> dict[str, tuple[str, bool]]:
    """Normalised name or alias -> (list, optional) of an article's gold entities."""
    index: dict[str, tuple[str, bool]] = {}
    for kind in KINDS:
        for entity in gold.get(kind, []):
            for name in (entity["name"], *entity.get("aliases", [])):
                index.setdefault(normalise(name), (kind, bool(entity.get("optional"))))
    return index


def label(candidate: Candidate, index: dict[str, tuple[str, bool]]) -> str | None:
    """The class one resolved entity should get, or None when it teaches nothing."""
    match = index.get(normalise(candidate.entity.name))
    if match:
        return None if match[1] else match[0]
    if any(normalise(surface) in index for surface in candidate.entity.surfaces):
        return None
    return NOTHING


def examples(found: list[Candidate], gold: dict) -> tuple[list[dict[str, float]], list[str]]:
    index = gold_index(gold)
    pairs = [(c.features, label(c, index)) for c in found]
    kept = [(features, kind) for features, kind in pairs if kind is not None]
    return [f for f, _ in kept], [k for _, k in kept]


def train(articles: list[tuple[list[Candidate], dict]], seed: int = SEED) -> Model:
    rows: list[dict[str, float]] = []
    labels: list[str] = []
    for found, gold in articles:
        more_rows, more_labels = examples(found, gold)
        rows += more_rows
        labels += more_labels
    return fit(rows, labels, seed=seed, c=C)


def raw_for(article: dict) -> dict:
    """What an upstream would send for a corpus article: its first line as the title, the whole text as body."""
    title = next((line.strip() for line in article["text"].splitlines() if line.strip()), "")
    return {"title": title, "body": article["text"]}


def main(argv: list[str] | None = None) -> None:
    from services.enrich.pipeline import analyse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, nargs="+", help="gold JSONL files")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    model = train([(analyse(raw_for(a)).candidates, a["gold"]) for a in read_corpus(args.corpus)])
    save(model, args.out)


def read_corpus(paths: list[Path]) -> list[dict]:
    """The gold articles of JSONL files, one a line (../shared/corpus/README.md)."""
    return [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]


def save(model: Model, out: Path) -> None:
    """Written with sorted keys and no spaces, so the same training gives the same bytes."""
    out.write_text(json.dumps(model.to_json(), sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{out}: {len(model.weights)} features, classes {', '.join(model.classes)}")


if __name__ == "__main__":
    main()
