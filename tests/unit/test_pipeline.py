import pytest

from services.enrich.cleaning import NothingToEnrich
from services.enrich.nlp import model_name
from services.enrich.pipeline import enrich
from tests.helpers import seed_article


@pytest.fixture(scope="module")
def seed():
    return enrich({**seed_article(), "id": "abc", "version": 2, "received_at": "2026-01-01T00:00:00.000Z"})


def names(article, kind):
    return {e["name"] for e in article[kind]}


def test_seed_article_entities(seed):
    assert {"Anthony Blinken", "Shah Mahmood Qureshi"} <= names(seed, "people")
    assert "Taliban" in names(seed, "organisations")
    assert {"Pakistan", "China", "Russia", "Afghanistan"} <= names(seed, "places")


def test_surname_mentions_merge_into_the_full_person(seed):
    blinken = next(p for p in seed["people"] if p["name"] == "Anthony Blinken")
    assert blinken["mentions"] >= 5
    assert "Blinken" not in names(seed, "places") | names(seed, "people")


def test_ninjs_fields(seed):
    assert seed["uri"] == "urn:newsflow:article:abc"
    assert seed["version"] == 2 and seed["type"] == "text" and seed["language"] == "en"
    assert seed["headlines"] == [{"role": "main", "value": seed_article()["title"]}]
    assert seed["bodies"][0]["contenttype"] == "text/plain" and "Blinken" in seed["bodies"][0]["value"]
    assert seed["descriptions"][0]["role"] == "summary" and seed["descriptions"][0]["value"]
    assert seed["versioncreated"] == "2026-01-01T00:00:00.000Z"
    assert seed["wordcount"] > 200
    for entity in seed["people"] + seed["organisations"] + seed["places"]:
        assert 0 <= entity["relevance"] <= 100 and entity["mentions"] >= 1


def test_subjects_are_iptc_media_topics(seed):
    assert seed["subjects"], "the seed article is about politics and conflict"
    for subject in seed["subjects"]:
        code = subject["code"].removeprefix("medtop:")
        assert subject["uri"] == f"http://cv.iptc.org/newscodes/mediatopic/{code}"
        assert 0 <= subject["relevance"] <= 100
    assert {s["code"] for s in seed["subjects"]} & {"medtop:11000000", "medtop:16000000"}


def test_html_is_reduced_to_its_main_text():
    html = (
        "<html><body><nav>Home | World | Sport</nav><article><h1>Storm hits coast</h1>"
        "<p>A powerful storm hit the coast of Portugal on Monday, forcing thousands of people to leave their homes "
        "as rivers burst their banks.</p><p>Officials in Lisbon said the damage was the worst in decades.</p>"
        "</article><footer>Copyright 2024 Example News</footer></body></html>"
    )
    article = enrich({"title": "Storm hits coast", "html": html})
    body = article["bodies"][0]["value"]
    assert "Lisbon" in body and "Copyright" not in body and "Home | World" not in body
    assert "Portugal" in names(article, "places")


def test_french_text_gets_entities_from_the_french_model():
    text = (
        "Le président Émile Vardan a rencontré mardi à Lyon les dirigeants du groupe Quorvel. "
        "Émile Vardan a ensuite quitté la France pour Bruxelles."
    )
    article = enrich({"title": "Vardan à Lyon", "body": text})
    assert article["language"] == "fr"
    assert "Émile Vardan" in names(article, "people")
    assert {"Lyon", "France"} <= names(article, "places")


def test_a_language_without_a_model_gets_no_entities():
    text = "El presidente Emilio Vardan se reunió el martes en Madrid con los directivos del grupo Quorvel en España."
    article = enrich({"title": "Vardan en Madrid", "body": text, "language": "es"})
    assert article["language"] == "es"
    assert article["people"] == article["organisations"] == article["places"] == []


def test_the_model_of_each_language_is_a_setting(monkeypatch):
    monkeypatch.setenv("ENRICH_SPACY_MODELS", "fr:fr_core_news_sm, de:de_pipeline")
    assert (model_name("fr"), model_name("de"), model_name("es")) == ("fr_core_news_sm", "de_pipeline", None)
    monkeypatch.setenv("ENRICH_SPACY_MODEL", "en_core_web_md")
    assert model_name("en") == "en_core_web_md"


def test_no_text_left_is_a_permanent_error():
    with pytest.raises(NothingToEnrich):
        enrich({"title": "Empty", "html": "<html><body><script>track()</script><p> </p></body></html>"})
