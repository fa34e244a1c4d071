"""`enrich(raw) -> article`: the whole enrichment, pure (no network, no Redis).

`raw` is what ingest stored (`title`, `body` or `html`, optional `language`, `url`, `source`,
`authors`, `published_at`) plus, when the worker calls it, `id`, `version` and `received_at`.
The result uses IPTC ninjs field names (DESIGN.md §5).
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
from services.enrich.nlp import pipeline_for
from services.enrich.topics import subjects

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
    a = analyse(raw)
    title, text, language, nlp, doc = a.title, a.text, a.language, a.nlp, a.doc
    return {
        **({"uri": f"urn:newsflow:article:{raw['id']}"} if raw.get("id") else {}),
        "version": raw.get("version", 1),
        "type": "text",
        "language": language,
        **({"firstcreated": raw.get("published_at") or raw["received_at"]} if raw.get("received_at") else {}),
        **({"versioncreated": raw["received_at"]} if raw.get("received_at") else {}),
        "headlines": [{"role": "main", "value": title}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": text}],
        "descriptions": [{"role": "summary", "value": summary(_sentences(doc, text), title)}],
        **(resolve(a.candidates, entity_model()) if doc else {kind: [] for kind in KINDS}),
        "subjects": subjects(_words(nlp, text, doc), _words(nlp, title)),
        "keywords": keywords(text, language),
        "source": raw.get("source"),
        "url": raw.get("url"),
        "authors": raw.get("authors", []),
        "wordcount": len(text.split()),
    }


def _words(nlp: Language | None, text: str, doc: Doc | None = None) -> list[str]:
    """What topics are matched on: lower-case lemmas of content words where a model exists, else plain words."""
    if nlp is None:
        return re.findall(r"\w+", text.lower())
    return [t.lemma_.lower() for t in (doc or nlp(text)) if t.is_alpha and not t.is_stop]


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
