"""Entity resolution on made-up news text, with the real spaCy model and the shipped entity model (pure)."""

import pytest

from services.enrich.entities import candidates, clean_name, is_demonym, mentions_in, resolve
from services.enrich.learned import entity_model
from services.enrich.nlp import pipeline_for


@pytest.fixture(scope="module")
def entities_of():
    nlp = pipeline_for("en")

    def run(text: str, title: str = "") -> dict[str, dict[str, dict]]:
        resolved = resolve(candidates(mentions_in(nlp(text)), len(text), title), entity_model())
        return {kind: {e["name"]: e for e in items} for kind, items in resolved.items()}

    return run


def test_surname_mentions_fold_into_the_full_name(entities_of):
    found = entities_of(
        "Prime Minister Jane Kowalski met farmers in Warsaw on Monday. Kowalski said prices would fall. "
        "Later, Kowalski flew to Berlin."
    )
    assert found["people"]["Jane Kowalski"]["mentions"] == 3
    assert "Kowalski" not in found["people"] | found["places"] | found["organisations"]


def test_country_aliases_are_one_place_with_its_iso_code(entities_of):
    found = entities_of(
        "The U.S. will send aid, the United States said. Officials in America welcomed the decision. "
        "The US embassy confirmed it."
    )
    us = found["places"]["United States"]
    assert us["country"] == "US" and us["mentions"] >= 3
    assert set(found["places"]) == {"United States"}


def test_an_acronym_folds_into_its_expansion(entities_of):
    found = entities_of(
        "The National Institutes of Health announced a trial on Tuesday. A spokesperson for the NIH said "
        "the NIH would publish its results in June."
    )
    assert "NIH" not in found["organisations"]
    assert found["organisations"]["National Institutes of Health"]["mentions"] >= 2


def test_demonyms_are_not_entities(entities_of):
    found = entities_of("Tom Harlow said Afghan officials had met Pakistani diplomats in Kabul on Monday.")
    every_name = set(found["people"]) | set(found["organisations"]) | set(found["places"])
    assert "Afghan" not in every_name and "Pakistani" not in every_name
    assert "Tom Harlow" in found["people"] and found["places"]["Kabul"]["country"] == "AF"


def test_relevance_favours_the_headline_and_the_lede(entities_of):
    text = "Jane Kowalski won the vote in Poland. " + "The count went on. " * 40 + "Tom Harlow watched from Rome."
    found = entities_of(text, title="Kowalski wins in Poland")
    assert found["people"]["Jane Kowalski"]["relevance"] > found["people"]["Tom Harlow"]["relevance"]
    for kind in found.values():
        assert all(0 <= e["relevance"] <= 100 for e in kind.values())


@pytest.mark.parametrize(
    "raw, name, titled",
    [
        ("the Taliban's", "Taliban", False),
        ("Dr. Jane Doe", "Jane Doe", True),
        ("President Jane Doe", "Jane Doe", True),
        ("“Acme”", "Acme", False),
        ("Ahmed Zarif", "Ahmed Zarif", False),  # a leading "A" is no article
        ("l’Élysée", "Élysée", False),
        ("Mme Claire Dubois", "Claire Dubois", True),
    ],
)
def test_clean_name(raw, name, titled):
    assert clean_name(raw) == (name, titled)


def test_demonyms_are_recognised_from_country_names():
    assert all(is_demonym(w) for w in ["Afghans", "Pakistani", "Chinese", "American", "Russian", "British"])
    assert all(is_demonym(w) for w in ["Française", "Canadiennes"])
    assert not any(is_demonym(w) for w in ["Taliban", "Kowalski", "Warsaw"])


def test_capitalised_runs_spacy_missed_become_candidates():
    doc = pipeline_for("en")("Shares of Blorvex Quantafield rose after the results.")
    names = {m.name: m.label for m in mentions_in(doc)}
    assert "Blorvex Quantafield" in names
