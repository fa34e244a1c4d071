import json

import pytest

from services.enrich.cleaning import NothingToEnrich
from services.enrich.nlp import model_name
from services.enrich.pipeline import enrich
from shared.identity import article_id
from tests.articles import assert_finished_article
from tests.helpers import CORPUS, seed_article

UPSTREAM = {
    "id": "abc",
    "version": 2,
    "received_at": "2026-01-01T00:00:00.000Z",
    "published_at": "2025-12-31T23:00:00+00:00",
    "url": "https://news.example/world/taliban-talks",
    "external_id": "wire-1234",
    "source": "example-wire",
    "authors": ["Jane Doe", "John Roe"],
}
HTML = (
    "<html><body><nav>Home | World | Sport</nav><article><h1>Storm hits coast</h1>"
    "<p>A powerful storm hit the coast of Portugal on Monday, forcing thousands of people to leave their homes "
    "as rivers burst their banks.</p><p>Officials in Lisbon said the damage was the worst in decades.</p>"
    "</article><footer>Copyright 2024 Example News</footer></body></html>"
)


@pytest.fixture(scope="module")
def finished():
    return enrich({**seed_article(), **UPSTREAM})


@pytest.fixture(scope="module")
def seed(finished):
    return finished["data"]


@pytest.fixture(scope="module")
def extra(finished):
    return finished["enrichment"]


def names(article, kind):
    return {e["name"] for e in article[kind]}


def test_seed_article_is_valid_ninjs_with_a_valid_enrichment(finished):
    assert_finished_article(finished)


def test_html_article_is_valid_ninjs_with_a_valid_enrichment():
    """In-process, without an id: the article gets the one ingest would give it."""
    article = enrich({"title": "Storm hits coast", "html": HTML})
    assert_finished_article(article)
    assert article["data"]["uri"] == "urn:newsflow:article:" + article_id({"title": "Storm hits coast", "html": HTML})


def _dev_corpus() -> list[dict]:
    return [json.loads(line) for line in (CORPUS / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("item", _dev_corpus(), ids=lambda item: item["id"])
def test_every_dev_corpus_article_is_valid_ninjs_with_a_valid_enrichment(item):
    title = next(line for line in item["text"].splitlines() if line.strip())
    raw = {"title": title, "body": item["text"], "url": item["url"], "id": item["id"], "version": 1}
    assert_finished_article(enrich({**raw, "received_at": "2026-01-01T00:00:00.000Z", "source": "dev"}))


def test_nothing_published_before_is_dropped(seed, extra):
    """Every field of the old output, now in its ninjs place or in the enrichment."""
    assert seed["infosources"] == [{"name": "example-wire"}]
    assert seed["altids"] == [
        {"role": "url", "value": "https://news.example/world/taliban-talks"},
        {"role": "external-id", "value": "wire-1234"},
    ]
    assert seed["by"] == "Jane Doe, John Roe" and extra["authors"] == ["Jane Doe", "John Roe"]
    assert seed["firstcreated"] == "2025-12-31T23:00:00+00:00"
    assert 8 <= len(extra["keywords"]) <= 10
    for kind in ("people", "organisations", "places"):
        assert [e["name"] for e in seed[kind]] == [e["name"] for e in extra[kind]]
    china = next(p for p in extra["places"] if p["name"] == "China")
    assert china["country"] == "CN" and china["uri"] == next(p["uri"] for p in seed["places"] if p["name"] == "China")


def test_seed_article_entities(seed):
    assert {"Anthony Blinken", "Shah Mahmood Qureshi"} <= names(seed, "people")
    assert "Taliban" in names(seed, "organisations")
    assert {"Pakistan", "China", "Russia", "Afghanistan"} <= names(seed, "places")


def test_surname_mentions_merge_into_the_full_person(seed, extra):
    blinken = next(p for p in extra["people"] if p["name"] == "Anthony Blinken")
    assert blinken["mentions"] >= 5
    assert "Blinken" not in names(seed, "places") | names(seed, "people")


def test_ninjs_fields(seed, extra):
    assert seed["uri"] == "urn:newsflow:article:abc"
    assert seed["version"] == "2" and seed["type"] == "text" and seed["language"] == "en"
    assert seed["headlines"] == [{"role": "main", "value": seed_article()["title"]}]
    assert seed["bodies"][0]["contenttype"] == "text/plain" and "Blinken" in seed["bodies"][0]["value"]
    assert seed["descriptions"][0]["role"] == "summary" and seed["descriptions"][0]["value"]
    assert seed["versioncreated"] == "2026-01-01T00:00:00.000Z"
    body = seed["bodies"][0]
    assert body["wordcount"] == len(body["value"].split()) > 200 and body["charcount"] == len(body["value"])
    for entity in extra["people"] + extra["organisations"] + extra["places"]:
        assert 0 <= entity["relevance"] <= 100 and entity["mentions"] >= 1


def test_subjects_are_iptc_media_topics(seed):
    assert seed["subjects"], "the seed article is about politics and conflict"
    for subject in seed["subjects"]:
        code = subject["literal"].removeprefix("medtop:")
        assert subject["uri"] == f"http://cv.iptc.org/newscodes/mediatopic/{code}"
        assert 0 <= subject["relevance"] <= 100 and 0 <= subject["confidence"] <= 100
        assert subject["creator"] == "Newsflow"
    assert {s["literal"] for s in seed["subjects"]} & {"medtop:11000000", "medtop:16000000"}


def test_html_is_reduced_to_its_main_text():
    article = enrich({"title": "Storm hits coast", "html": HTML})["data"]
    body = article["bodies"][0]["value"]
    assert "Lisbon" in body and "Copyright" not in body and "Home | World" not in body
    assert "Portugal" in names(article, "places")


def test_french_text_gets_entities_from_the_french_model():
    text = (
        "Le président Émile Vardan a rencontré mardi à Lyon les dirigeants du groupe Quorvel. "
        "Émile Vardan a ensuite quitté la France pour Bruxelles."
    )
    article = enrich({"title": "Vardan à Lyon", "body": text})
    assert article["data"]["language"] == "fr"
    assert "Émile Vardan" in names(article["data"], "people")
    assert {"Lyon", "France"} <= names(article["data"], "places")


def test_a_language_without_a_model_gets_no_entities():
    text = "El presidente Emilio Vardan se reunió el martes en Madrid con los directivos del grupo Quorvel en España."
    article = enrich({"title": "Vardan en Madrid", "body": text, "language": "es"})
    assert article["data"]["language"] == "es"
    assert article["data"]["people"] == article["data"]["organisations"] == article["data"]["places"] == []
    assert article["enrichment"]["people"] == article["enrichment"]["places"] == []


def test_the_model_of_each_language_is_a_setting(monkeypatch):
    monkeypatch.setenv("ENRICH_SPACY_MODELS", "fr:fr_core_news_sm, de:de_pipeline")
    assert (model_name("fr"), model_name("de"), model_name("es")) == ("fr_core_news_sm", "de_pipeline", None)
    monkeypatch.setenv("ENRICH_SPACY_MODEL", "en_core_web_md")
    assert model_name("en") == "en_core_web_md"


def test_no_text_left_is_a_permanent_error():
    with pytest.raises(NothingToEnrich):
        enrich({"title": "Empty", "html": "<html><body><script>track()</script><p> </p></body></html>"})
