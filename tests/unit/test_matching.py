import pytest

from services.publish.matching import matches, matching
from shared.contracts import EventType

POLITICS, ELECTION, GOVERNMENT = "medtop:11000000", "medtop:20000574", "medtop:20000593"
CONFLICT = "medtop:16000000"


def article(subjects=(POLITICS, ELECTION)) -> dict:
    """A finished article: the ninjs news item and, beside it, the enrichment (places' countries)."""
    return {
        "data": {
            "language": "en",
            "infosources": [{"name": "wire"}],
            "people": [{"name": "Anthony Blinken"}],
            "organisations": [{"name": "Taliban"}],
            "places": [{"name": "Pakistan"}, {"name": "Lahore"}],
            # as enrich emits them: a second-level subject always comes with its top-level parent
            "subjects": [{"literal": code} for code in subjects],
        },
        "enrichment": {"places": [{"name": "Pakistan", "country": "PK"}, {"name": "Lahore", "country": "PK"}]},
    }


ARTICLE = article()


def sub(event_types=(EventType.PUBLISHED,), **filters):
    base = {"topics": [], "entities": [], "places": [], "sources": [], "languages": []}
    return {"enabled": True, "event_types": list(event_types), "filters": {**base, **filters}}


def test_no_filters_match_everything():
    assert matches(sub(), ARTICLE, EventType.PUBLISHED)


def test_any_value_within_a_list_matches():
    assert matches(sub(places=["Nowhere", "pakistan"]), ARTICLE, EventType.PUBLISHED)
    assert matches(sub(entities=["Nobody", "anthony blinken"]), ARTICLE, EventType.PUBLISHED)
    assert matches(sub(sources=["cms", "wire"]), ARTICLE, EventType.PUBLISHED)


def test_every_given_list_must_match():
    assert matches(sub(entities=["Taliban"], languages=["en"], places=["PK"]), ARTICLE, EventType.PUBLISHED)
    assert not matches(sub(entities=["Taliban"], languages=["fr"]), ARTICLE, EventType.PUBLISHED)
    assert not matches(sub(entities=["Taliban"], topics=[CONFLICT]), ARTICLE, EventType.PUBLISHED)


def test_a_top_level_topic_matches_articles_tagged_with_its_children():
    assert matches(sub(topics=[POLITICS]), ARTICLE, EventType.PUBLISHED)
    assert matches(sub(topics=["11000000"]), ARTICLE, EventType.PUBLISHED)  # with or without the prefix


def test_a_second_level_topic_matches_only_itself():
    assert matches(sub(topics=[ELECTION]), ARTICLE, EventType.PUBLISHED)
    assert not matches(sub(topics=[GOVERNMENT]), ARTICLE, EventType.PUBLISHED)
    only_parent = article(subjects=[POLITICS])
    assert not matches(sub(topics=[ELECTION]), only_parent, EventType.PUBLISHED)


def test_entities_are_people_or_organisations_by_name_not_places():
    assert matches(sub(entities=["TALIBAN"]), ARTICLE, EventType.PUBLISHED)
    assert not matches(sub(entities=["Pakistan"]), ARTICLE, EventType.PUBLISHED)


@pytest.mark.parametrize("place, wanted", [("PK", True), ("pk", True), ("Lahore", True), ("IN", False)])
def test_places_match_by_name_or_iso_country_code(place, wanted):
    assert matches(sub(places=[place]), ARTICLE, EventType.PUBLISHED) is wanted


def test_event_type_and_enabled_gate_everything():
    assert not matches(sub(), ARTICLE, EventType.UPDATED)
    assert matches(sub(event_types=[EventType.UPDATED]), ARTICLE, EventType.UPDATED)
    assert not matches({**sub(), "enabled": False}, ARTICLE, EventType.PUBLISHED)


def test_an_article_without_facets_matches_only_unfiltered_subscriptions():
    bare = {"data": {"uri": "urn:newsflow:article:x", "subjects": [], "people": [], "organisations": [], "places": []}}
    assert matches(sub(), bare, EventType.PUBLISHED)
    assert not matches(sub(languages=["en"]), bare, EventType.PUBLISHED)
    assert not matches(sub(topics=[POLITICS]), bare, EventType.PUBLISHED)


def test_matching_picks_the_wanting_subscriptions_in_order():
    subs = [sub(places=["PK"]), sub(places=["FR"]), sub(topics=[POLITICS]), {**sub(), "enabled": False}]
    assert matching(subs, ARTICLE, EventType.PUBLISHED) == [subs[0], subs[2]]
