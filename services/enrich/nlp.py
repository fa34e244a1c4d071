"""spaCy pipelines, loaded lazily (once per process, only for a language that is met) and only for languages
with a model: English from `ENRICH_SPACY_MODEL`, others from `ENRICH_SPACY_MODELS` (`fr:fr_core_news_md`)."""

from __future__ import annotations

import os
from functools import lru_cache

import spacy
from spacy.language import Language

from shared.config import DEFAULTS


def model_name(language: str) -> str | None:
    if language == "en":
        return os.environ.get("ENRICH_SPACY_MODEL") or DEFAULTS["ENRICH_SPACY_MODEL"]
    listed = os.environ.get("ENRICH_SPACY_MODELS") or DEFAULTS["ENRICH_SPACY_MODELS"] or ""
    models = dict(item.split(":", 1) for item in listed.replace(" ", "").split(",") if ":" in item)
    return models.get(language)


@lru_cache(maxsize=4)
def _load(name: str) -> Language:
    # The dependency parser is the costliest component and only its sentence boundaries are used:
    # the small sentence recogniser gives those at a fraction of the cost. NER does not depend on it.
    nlp = spacy.load(name, exclude=["parser"])
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    return nlp


def pipeline_for(language: str) -> Language | None:
    name = model_name(language)
    return _load(name) if name else None
