"""spaCy pipelines, loaded once per process and only for languages with an installed model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language

from shared.config import DEFAULTS


def model_name(language: str) -> str | None:
    if language != "en":
        return None
    return os.environ.get("ENRICH_SPACY_MODEL") or DEFAULTS["ENRICH_SPACY_MODEL"]


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


@dataclass(frozen=True)
class Lexicon:
    """Everyday English words, from the model's own lemmatizer tables (WordNet's lemma index)."""

    nouns: frozenset[str]
    adjectives: frozenset[str]


@lru_cache(maxsize=4)
def lexicon_of(nlp: Language) -> Lexicon:
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return Lexicon(frozenset(index.get("noun", ())), frozenset(index.get("adj", ())))
