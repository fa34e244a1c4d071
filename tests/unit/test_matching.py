from services.publish.matching import matches

ARTICLE = {
    "language": "en",
    "source": "wire",
    "people": [{"name": "Anthony Blinken"}],
    "organisations": [{"name": "Taliban"}],
    "places": [{"name": "Pakistan", "country": "PK"}],
    "subjects": [{"code": "medtop:11000000"}],
}


def sub(**filters):
    base = {"topics": [], "entities": [], "places": [], "sources": [], "languages": []}
    return {"enabled": True, "event_types": ["article.published"], "filters": {**base, **filters}}


def test_no_filters_match_everything():
    assert matches(sub(), ARTICLE, "article.published")


def test_any_value_within_a_list_matches():
    assert matches(sub(places=["Nowhere", "pakistan"]), ARTICLE, "article.published")
    assert matches(sub(places=["pk"]), ARTICLE, "article.published")
    assert matches(sub(topics=["11000000"]), ARTICLE, "article.published")


def test_every_given_list_must_match():
    assert matches(sub(entities=["Taliban"], languages=["en"]), ARTICLE, "article.published")
    assert not matches(sub(entities=["Taliban"], languages=["fr"]), ARTICLE, "article.published")


def test_event_type_and_enabled_gate_everything():
    assert not matches(sub(), ARTICLE, "article.updated")
    assert not matches({**sub(), "enabled": False}, ARTICLE, "article.published")
