import pytest

from services.enrich.gazetteer import certain_place, key, likely_place, lookup


@pytest.mark.parametrize("alias", ["US", "U.S.", "USA", "America", "United States of America", "the United States"])
def test_every_everyday_name_of_a_country_is_one_place(alias):
    place = certain_place(alias)
    assert (place.name, place.country) == ("United States", "US")


def test_official_and_common_names_meet():
    assert certain_place("Russian Federation").name == certain_place("Russia").name == "Russia"
    assert certain_place("Britain").country == certain_place("United Kingdom").country == "GB"


def test_ap_state_abbreviations_resolve_to_us_states():
    assert (certain_place("Fla.").name, certain_place("Fla.").country) == ("Florida", "US")
    assert certain_place("Calif").name == "California"


def test_a_city_shared_by_two_countries_follows_the_article():
    assert likely_place("Hyderabad", {"PK"}).country == "PK"
    assert likely_place("Hyderabad", {"IN"}).country == "IN"


def test_provinces_and_cities_are_geocoded():
    assert lookup("Sabah").country == "MY"
    assert lookup("Lisbon").country == "PT" and lookup("Lisbon").uri.startswith("https://sws.geonames.org/")


def test_unknown_names_are_not_places():
    assert lookup("Acme Widgets") is None


def test_key_ignores_accents_case_and_punctuation():
    assert key("Mahārāshtra") == key("MAHARASHTRA") == "maharashtra"
    assert key("U.S.") == "us" and key("Moderna, Inc.") == "moderna inc"
