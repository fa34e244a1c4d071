"""Entity resolution on made-up news text, with the real spaCy model and the shipped entity model (pure)."""

import pytest
import spacy

from services.enrich.entities import VECTOR_SCALE, candidates, clean_name, is_demonym, mentions_in, resolve
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


def test_a_mention_carries_its_tokens_contextual_vector_named_by_language():
    doc = pipeline_for("en")("Shares of Blorvex Quantafield rose after the results in Warsaw.")
    mention = next(m for m in mentions_in(doc) if m.name == "Blorvex Quantafield")
    expected = doc.tensor[2:4].mean(axis=0) * VECTOR_SCALE  # the mention's tokens, 2 and 3
    assert [mention.cues[f"envec{i}"] for i in range(doc.tensor.shape[1])] == pytest.approx(expected.tolist())
    assert not any(cue.startswith("frvec") for cue in mention.cues)


def test_a_pipeline_without_token_vectors_gives_no_vector_cues():
    doc = spacy.blank("en")("Officials met Jane Kowalski in Warsaw on Monday.")
    assert doc.tensor.size == 0
    assert all("vec" not in cue for m in mentions_in(doc) for cue in m.cues)


@pytest.fixture(scope="module")
def mention_names():
    nlp = pipeline_for("en")
    return lambda text: {m.name for m in mentions_in(nlp(text))}


@pytest.mark.parametrize(
    "text, name",
    [
        ("Two men will appear in the Velmora Magistrate’s Court on Monday.", "Velmora Magistrate’s Court"),
        ("The party with the most seats, the People's Unity Congress, chose a leader.", "People's Unity Congress"),
    ],
)
def test_a_possessive_of_a_group_of_people_stays_in_the_name(mention_names, text, name):
    assert name in mention_names(text)


@pytest.mark.parametrize(
    "text, name",
    [
        ("Customers of Q-Telvox lost their data, a Q-Telvox spokesman said.", "Q-Telvox"),
        ("The opener was followed by Qadir-ul-Hamza, who made 40 runs.", "Qadir-ul-Hamza"),
        ("Jane Doe held her seat in Ottawa-Brennick on Monday.", "Ottawa-Brennick"),
    ],
)
def test_hyphenated_words_are_one_name(mention_names, text, name):
    assert name in mention_names(text)


def test_a_lower_case_word_after_a_hyphen_is_not_part_of_a_name(mention_names):
    names = mention_names("A Velmont-owned carrier said on Monday it was hacked.")
    assert "Velmont" in names and "Velmont-owned" not in names


def test_stock_tickers_separate_company_names(mention_names):
    names = mention_names("Kestrel Metals KMM.AX and Norvane Mining NVM.AX fell between 4% and 7% on Monday.")
    assert {"Kestrel Metals", "Norvane Mining"} <= names
    assert not any(".AX" in name for name in names)


def test_a_country_leading_an_institution_stays_in_its_name(mention_names):
    names = mention_names("Crews from the U.S. Forest Service and Taiwan Quellar Manufacturing Co arrived.")
    assert {"U.S. Forest Service", "Taiwan Quellar Manufacturing Co"} <= names


@pytest.mark.parametrize(
    "raw, label, name",
    [
        ("Conservative Jane Doe", "PERSON", "Jane Doe"),
        ("Liberal Tom Harlow", "CAPS", "Tom Harlow"),
        ("Croatian Ivo Velmar", "PERSON", "Ivo Velmar"),
        ("British Velmora Cross", "ORG", "British Velmora Cross"),
        ("Northern Velmora Resources", "ORG", "Northern Velmora Resources"),
        ("Ali Velmar Kani", "PERSON", "Ali Velmar Kani"),
        ("Bishop Tom Harlow", "PERSON", "Tom Harlow"),
        ("Prince Velmar Victim Services", "PERSON", "Prince Velmar Victim Services"),
        ("Harris Velmora County Sheriff", "CAPS", "Harris Velmora County"),
        ("région de New York", "LOC", "New York"),
        ("de Velmarre", "PERSON", "de Velmarre"),  # a particle of a surname, not a preposition before a place
    ],
)
def test_names_lose_what_is_not_theirs_and_keep_what_is(raw, label, name):
    assert clean_name(raw, label)[0] == name
