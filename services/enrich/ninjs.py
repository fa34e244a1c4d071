"""The finished article (pure): `{"data": <IPTC ninjs 2.2 news item>, "enrichment": <Newsflow's extra analysis>}`.

`data` holds only what ninjs 2.2 allows, so it validates unchanged against IPTC's official schema: `version` is a
string, entities carry `name` (and `uri` where known), subjects carry `uri`, `literal` (the `medtop:` code),
`relevance`, `confidence` and `creator`, the body its `wordcount` and `charcount`, the authors go in `by`, the
source in `infosources`, the source URL and external id in `altids`.

`enrichment` holds what ninjs has no field for, described by `shared/enrichment.schema.json`: per entity its
relevance and mention count (and a place's ISO 3166 country), tied to its ninjs entry by `uri` where the entry has
one, else by exact `name`; the keywords; the authors as a list.
"""

from __future__ import annotations

URI_PREFIX = "urn:newsflow:article:"
SUBJECT_CREATOR = "Newsflow"  # ninjs `creator`: the system that assigned the subject
KINDS = ("people", "organisations", "places")
ALTIDS = (("url", "url"), ("external-id", "external_id"))  # (ninjs altid role, raw article field)
_NINJS_ENTITY = ("name", "uri")
_EXTRA_ENTITY = ("name", "uri", "relevance", "mentions", "country")


def finished_article(
    raw: dict,
    text: str,
    language: str,
    summary: str,
    entities: dict[str, list[dict]],
    subjects: list[dict],
    keywords: list[str],
) -> dict:
    """`raw` as enrich got it, with its `id`; `entities` as `entities.resolve` gives them (name, relevance,
    mentions, a place's country and uri); `subjects` as `topics.subjects` gives them."""
    return {
        "data": news_item(raw, text, language, summary, entities, subjects),
        "enrichment": extra(raw, entities, keywords),
    }


def news_item(
    raw: dict, text: str, language: str, summary: str, entities: dict[str, list[dict]], subjects: list[dict]
) -> dict:
    item = {
        "uri": URI_PREFIX + raw["id"],
        "version": str(raw.get("version", 1)),
        "type": "text",
        "language": language,
    }
    if raw.get("received_at"):
        item |= {"firstcreated": raw.get("published_at") or raw["received_at"], "versioncreated": raw["received_at"]}
    item |= {
        "headlines": [{"role": "main", "value": raw["title"].strip()}],
        "bodies": [_body(text)],
        "descriptions": [{"role": "summary", "value": summary}],
        **{kind: [_pick(e, _NINJS_ENTITY) for e in entities[kind]] for kind in KINDS},
        "subjects": [_subject(s) for s in subjects],
    }
    if raw.get("authors"):
        item["by"] = ", ".join(raw["authors"])
    if raw.get("source"):
        item["infosources"] = [{"name": raw["source"]}]
    altids = [{"role": role, "value": raw[field]} for role, field in ALTIDS if raw.get(field)]
    return item | ({"altids": altids} if altids else {})


def extra(raw: dict, entities: dict[str, list[dict]], keywords: list[str]) -> dict:
    """Newsflow's analysis beside the news item (shared/enrichment.schema.json)."""
    return {
        **{kind: [_pick(e, _EXTRA_ENTITY) for e in entities[kind]] for kind in KINDS},
        "keywords": keywords,
        "authors": list(raw.get("authors") or []),
    }


def _body(text: str) -> dict:
    return {
        "role": "main",
        "contenttype": "text/plain",
        "value": text,
        "wordcount": len(text.split()),
        "charcount": len(text),
    }


def _subject(subject: dict) -> dict:
    return {
        "name": subject["name"],
        "uri": subject["uri"],
        "literal": subject["code"],
        "relevance": subject["relevance"],
        "confidence": subject["confidence"],
        "creator": SUBJECT_CREATOR,
    }


def _pick(entity: dict, names: tuple[str, ...]) -> dict:
    return {name: entity[name] for name in names if entity.get(name) is not None}
