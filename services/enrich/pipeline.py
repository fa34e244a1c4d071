"""`enrich(raw) -> article`: the whole enrichment, pure (no network, no Redis).

`raw` is what ingest stored (`title`, `body` or `html`, optional `language`, `url`, `source`,
`authors`, `published_at`) plus, when the worker calls it, `id`, `version` and `received_at`.
The result is the finished article of DESIGN.md §5, built by `services.enrich.ninjs`: an IPTC ninjs 2.2 news item
under `data` and Newsflow's extra analysis under `enrichment`. Without an `id`, the article gets the one ingest
would give it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc

from services.enrich.cleaning import article_text
from services.enrich.entities import KINDS, Candidate, candidates, mentions_in, resolve
from services.enrich.keywords import keywords
from services.enrich.language import detect_language
from services.enrich.learned import entity_model
from services.enrich.ninjs import finished_article
from services.enrich.nlp import pipeline_for
from services.enrich.topics import subjects
from shared.identity import article_id

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Analysis:
    """What `enrich()` reads off an article before the entity model decides."""

    title: str
    text: str
    language: str
    nlp: Language | None
    doc: Doc | None
    candidates: list[Candidate] = field(default_factory=list)


def analyse(raw: dict) -> Analysis:
    title = raw["title"].strip()
    text = article_text(raw)
    language = raw.get("language") or detect_language(f"{title}\n{text}")
    nlp = pipeline_for(language)
    doc = nlp(text) if nlp else None
    found = candidates(mentions_in(doc), len(text), title) if doc else []
    return Analysis(title, text, language, nlp, doc, found)


def enrich(raw: dict) -> dict:
    """The finished article: `{"data": <IPTC ninjs 2.2 news item>, "enrichment": <Newsflow's extra analysis>}`."""
    a = analyse(raw)
    title, text, language, doc = a.title, a.text, a.language, a.doc
    return finished_article(
        {**raw, "id": raw.get("id") or article_id({"source": "", **raw})},
        text,
        language,
        summary(_sentences(doc, text), title),
        resolve(a.candidates, entity_model()) if doc else {kind: [] for kind in KINDS},
        subjects(*topic_words(a)),
        keywords(text, language, names=[(e.start_char, e.end_char) for e in doc.ents] if doc else None),
    )


def topic_words(a: Analysis) -> tuple[list[str], list[str]]:
    """The words topics are matched on: the body's and the headline's."""
    return _words(a.nlp, a.text, a.doc), _words(a.nlp, a.title)


def _words(nlp: Language | None, text: str, doc: Doc | None = None) -> list[str]:
    """What topics are matched on: lower-case content words where a model exists (lemmas where it lemmatises, see
    `nlp`), else plain words."""
    if nlp is None:
        return re.findall(r"\w+", text.lower())
    return [(t.lemma_ or t.text).lower() for t in (doc or nlp(text)) if t.is_alpha and not t.is_stop]


def _sentences(doc: Doc | None, text: str) -> list[str]:
    return [s.text.strip() for s in doc.sents] if doc else _SENTENCE_END.split(text)


def summary(sentences: list[str], title: str, max_chars: int = 400) -> str:
    """The lede: the first sentences that are not the headline again, up to `max_chars`."""
    picked: list[str] = []
    for sentence in sentences:
        if not sentence or sentence.casefold() in title.casefold():
            continue
        if picked and len(" ".join(picked)) + len(sentence) > max_chars:
            break
        picked.append(sentence)
        if len(picked) == 2:
            break
    return " ".join(picked)[:max_chars]
