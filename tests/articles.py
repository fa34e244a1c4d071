"""Finished articles for tests, and validators for them: IPTC's official ninjs 2.2 schema (read from
../shared/standards, which tests may read and the product never does) and the enrichment schema the project ships."""

from __future__ import annotations

import json
import time
from functools import cache

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from services.enrich.ninjs import finished_article
from services.publish.matching import topic_code
from shared.mediatopics import IPTC_URI, NAMES
from shared.openapi import json_schema
from shared.times import iso
from tests.helpers import ROOT

NINJS_SCHEMA = ROOT.parent / "shared" / "standards" / "ninjs-schema_2.2.json"
GEOJSON_SCHEMA = "https://geojson.org/schema/GeoJSON.json"
# geojson.org is not reachable here: a stand-in for its schema that asks what every GeoJSON object has.
GEOJSON_STAND_IN = Resource.from_contents(
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["type"]}
)


def _validator(schema: dict, registry: Registry | None = None) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    # format checks on: date-time and uri are checked (rfc3339-validator, rfc3986-validator in the dev deps)
    return Draft202012Validator(
        schema, registry=registry or Registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def ninjs() -> Draft202012Validator:
    schema = json.loads(NINJS_SCHEMA.read_text(encoding="utf-8"))
    return _validator(schema, Registry().with_resource(GEOJSON_SCHEMA, GEOJSON_STAND_IN))


@cache
def enrichment() -> Draft202012Validator:
    return _validator(json_schema("enrichment"))


def errors(validator: Draft202012Validator, document: dict) -> list[str]:
    """Every error, as `path: message`, so a failing test shows them all."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(document)]


def assert_finished_article(article: dict) -> None:
    """`{"data": <valid ninjs 2.2>, "enrichment": <valid against our schema>}`, each entity of the extra tied to
    exactly one ninjs entry (by uri where there is one, else by name)."""
    assert set(article) >= {"data", "enrichment"}, sorted(article)
    assert errors(ninjs(), article["data"]) == []
    assert errors(enrichment(), article["enrichment"]) == []
    for kind in ("people", "organisations", "places"):
        for extra in article["enrichment"][kind]:
            tie = ("uri", extra["uri"]) if "uri" in extra else ("name", extra["name"])
            assert [e for e in article["data"][kind] if e.get(tie[0]) == tie[1]], (kind, extra)


def finished(
    article_id: str,
    version: int = 1,
    *,
    title: str = "T",
    text: str = "Text.",
    language: str = "en",
    source: str | None = "wire",
    people: tuple[str, ...] = (),
    organisations: tuple[str, ...] = (),
    places: dict[str, str] | None = None,
    topics: tuple[str, ...] = (),
) -> dict:
    """A finished article as enrich shapes it, with the facets given: `places` name -> ISO country, `topics` codes."""
    raw = {"id": article_id, "version": version, "title": title, "source": source, "received_at": iso(time.time())}

    def named(names) -> list[dict]:
        return [{"name": name, "relevance": 50, "mentions": 1} for name in names]

    entities = {
        "people": named(people),
        "organisations": named(organisations),
        "places": [{**e, "country": (places or {})[e["name"]]} for e in named(places or {})],
    }
    codes = [topic_code(t) for t in topics]
    subjects = [
        {"name": NAMES[c], "uri": IPTC_URI + c, "code": f"medtop:{c}", "relevance": 90, "confidence": 90} for c in codes
    ]
    return finished_article(raw, text, language, text, entities, subjects, [])
