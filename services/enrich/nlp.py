"""spaCy pipelines, loaded lazily (once per process, only for a language that is met) and only for languages
with a model: English from `ENRICH_SPACY_MODEL`, others from `ENRICH_SPACY_MODELS` (`fr:fr_core_news_md`).

Only what enrich reads is loaded: entities, part-of-speech tags (entity features), sentence boundaries (the
summary) and, in English only, lemmas (the topic lexicon's English cues are lemmas; its cues in other languages are
word forms, which is what topics read there). What a worker process then holds: docs/operations.md."""

from __future__ import annotations

import os
from functools import lru_cache

import spacy
from spacy.language import Language

from shared.config import DEFAULTS

LEMMATISED = frozenset({"en"})


def model_name(language: str) -> str | None:
    if language == "en":
        return os.environ.get("ENRICH_SPACY_MODEL") or DEFAULTS["ENRICH_SPACY_MODEL"]
    listed = os.environ.get("ENRICH_SPACY_MODELS") or DEFAULTS["ENRICH_SPACY_MODELS"] or ""
    models = dict(item.split(":", 1) for item in listed.replace(" ", "").split(",") if ":" in item)
    return models.get(language)


@lru_cache(maxsize=4)
def _load(name: str, lemmas: bool) -> Language:
    # - "parser": the costliest component; only its sentence boundaries were used, and the small sentence
    #   recogniser gives those at a fraction of the cost. NER does not depend on it.
    # - "strings": the vocabulary's string table maps hashes back to text, and in a model with vectors it holds a
    #   string for every vector key (fr_core_news_md: 713,000, about 130 MiB in memory). Nothing reads them: vectors
    #   are found by hash, and the strings the pipeline makes (tokens, labels, lemmas) are added as they are met.
    # - "lemmatizer": its lookup tables are large (French: about 140 MiB) and lemmas feed the topics only.
    nlp = spacy.load(name, exclude=["parser", "strings", *([] if lemmas else ["lemmatizer"])])
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    return nlp


def pipeline_for(language: str) -> Language | None:
    name = model_name(language)
    return _load(name, language in LEMMATISED) if name else None
