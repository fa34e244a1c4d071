"""Whether fine-tuning spaCy's English NER on the gold corpus helps the entities (printed, never asserted).

    .venv/bin/python -m benchmarks.finetune_ner [--epochs 5] [--learn-rate 0.0005] [--folds 0 1 2 3 4]

The folds are `make bench`'s. For each, `en_core_web_sm`'s NER is fine-tuned on the English articles of the
other folds only, from the same cleaned text `enrich()` reads: every gold name or alias found in it (optional ones
too) is an entity, PERSON, ORG or GPE (LOC or FAC where the base model already said so); the base model's own
entities of other labels (dates, amounts, groups, events...) stay as it found them, against forgetting; everything
else, bylines, navigation and credits included, is taught as no entity. The held-out fold is then scored four ways:

- `classifier`: the entity model over today's candidates (what `make bench` prints);
- `classifier, tuned NER`: the entity model retrained on candidates (and spaCy-label features) from the fine-tuned
  NER, for training and held-out articles alike;
- `tuned NER alone` and `base NER alone`: the spaCy labels as they are, scored as `make bench` scores plain spaCy.

With `--cross-fit`, the entity model of the second learns from training articles' candidates found by NERs
fine-tuned without them (4 inner folds). Figures accumulate over the folds run so far; each fold's fine-tuning
time is printed beside them.
"""

from __future__ import annotations

import argparse
import random
import re
import time

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import filter_spans, fix_random_seed, minibatch

from benchmarks.quality import CORPORA, LISTS, SPACY_MODELS, entity_figures, folds_of, load_corpus, spacy_names
from services.enrich.cleaning import article_text
from services.enrich.entities import KINDS, candidates, mentions_in
from services.enrich.pipeline import analyse
from services.enrich.training import SEED, raw_for, train

LABEL_OF_KIND = dict(zip(KINDS, ("PERSON", "ORG", "GPE"), strict=True))
ENTITY_LABELS = {"PERSON", "ORG", "GPE", "LOC", "FAC"}


def load_english() -> Language:
    """The English pipeline with the components `services.enrich.nlp` runs: no parser, the sentence recogniser on."""
    nlp = spacy.load(SPACY_MODELS["en"], exclude=["parser"])
    nlp.enable_pipe("senter")
    return nlp


def gold_spans(doc: Doc, gold: dict, found: dict[tuple[int, int], str]) -> list[Span]:
    """Every occurrence of a gold name or alias in `doc`, labelled by its list (a place keeps `found`'s LOC/FAC)."""
    spans = []
    for kind in KINDS:
        for entity in gold.get(kind, []):
            for name in {entity["name"], *entity.get("aliases", [])}:
                for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", doc.text):
                    label = LABEL_OF_KIND[kind]
                    if kind == "places" and found.get(match.span()) in ("LOC", "FAC"):
                        label = found[match.span()]
                    if (span := doc.char_span(*match.span(), label=label)) is not None:
                        spans.append(span)
    return spans


def example(nlp: Language, text: str, gold: dict) -> Example:
    """One training example: gold names as entities, the base model's other labels kept, the rest no entity."""
    found = nlp(text).ents
    reference = nlp.make_doc(text)
    named = gold_spans(reference, gold, {(e.start_char, e.end_char): e.label_ for e in found})
    taken = {i for span in named for i in range(span.start, span.end)}
    kept = [
        reference.char_span(e.start_char, e.end_char, label=e.label_) for e in found if e.label_ not in ENTITY_LABELS
    ]
    kept = [s for s in kept if s is not None and not taken & set(range(s.start, s.end))]
    reference.set_ents(filter_spans(named + kept), default="outside")
    return Example(nlp.make_doc(text), reference)


def fine_tune(nlp: Language, texts_and_gold: list[tuple[str, dict]], epochs: int, learn_rate: float) -> Language:
    """`nlp` with its NER fine-tuned on the texts (seeded: the same texts give the same weights)."""
    fix_random_seed(SEED)
    examples = [example(nlp, text, gold) for text, gold in texts_and_gold]
    optimizer = nlp.resume_training()
    optimizer.learn_rate = learn_rate
    rng = random.Random(SEED)
    with nlp.select_pipes(enable=["ner"]):
        for _ in range(epochs):
            rng.shuffle(examples)
            for batch in minibatch(examples, size=8):
                nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learn-rate", type=float, default=0.0005)
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="which of the 5 folds to run")
    parser.add_argument(
        "--cross-fit",
        action="store_true",
        help="the entity model learns from training candidates found by NERs tuned without them (4 more per fold)",
    )
    args = parser.parse_args(argv)

    articles = load_corpus(CORPORA)
    english = [a for a in articles if a["language"] == "en"]
    raws = {a["id"]: raw_for(a) for a in english}
    texts = {i: article_text(raw) for i, raw in raws.items()}
    base = load_english()

    def analysed(nlp: Language, ids: list[str]) -> dict[str, list]:
        return {i: candidates(mentions_in(nlp(texts[i])), len(texts[i]), raws[i]["title"]) for i in ids}

    def tuned_on(trained: list[dict]) -> Language:
        return fine_tune(load_english(), [(texts[a["id"]], a["gold"]) for a in trained], args.epochs, args.learn_rate)

    before = analysed(base, list(texts))
    # The classifier also learns from the other languages' articles, as in `make bench`; their NER is not English.
    others = {a["id"]: analyse(raw_for(a)).candidates for a in articles if a["language"] != "en"}
    systems = ("classifier", "classifier, tuned NER", "tuned NER alone", "base NER alone")
    predicted: dict[str, dict] = {system: {} for system in systems}
    folds = folds_of(articles, 5)  # over every language, as `make bench` deals them
    for f in args.folds:
        held = [a for a in folds[f] if a["language"] == "en"]
        trained_on = [a for a in english if a not in held]
        others_trained_on = [a for a in articles if a["id"] in others and a not in folds[f]]
        start = time.perf_counter()
        tuned = tuned_on(trained_on)
        seconds = time.perf_counter() - start
        after = analysed(tuned, list(texts))
        learned_from = after
        if args.cross_fit:  # so that the entity model does not learn how well a NER knows its own training texts
            learned_from = {}
            for part in folds_of(trained_on, 4):
                learned_from |= analysed(tuned_on([a for a in trained_on if a not in part]), [a["id"] for a in part])
        for system, learned, found in (("classifier", before, before), ("classifier, tuned NER", learned_from, after)):
            model = train([({**learned, **others}[a["id"]], a["gold"]) for a in trained_on + others_trained_on])
            for a in held:
                kinds = model.decide([c.features for c in found[a["id"]]])
                names = [(c.entity.name, kind) for c, kind in zip(found[a["id"]], kinds, strict=True)]
                predicted[system][a["id"]] = {lst: [n for n, kind in names if kind == lst] for lst in LISTS}
        for system, nlp in (("tuned NER alone", tuned), ("base NER alone", base)):
            predicted[system] |= {a["id"]: spacy_names(nlp, texts[a["id"]]) for a in held}
        print(f"fold {f}: {len(trained_on)} English training articles, fine-tuned in {seconds:.0f} s")
        for system in systems:
            scored = [a for a in english if a["id"] in predicted[system]]
            figures = entity_figures(predicted[system], scored)[0]
            m = figures["micro"]
            per_list = "  ".join(f"{lst} {figures[lst]['f1']:.3f}" for lst in LISTS)
            print(f"  {system:<22} P {m['p']:.3f} R {m['r']:.3f} F1 {m['f1']:.3f}   {per_list}")


if __name__ == "__main__":
    main()
