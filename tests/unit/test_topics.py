"""IPTC Media Topics from the cue lexicon and the topic model (services/enrich/topics.py), on made-up texts."""

import re

import pytest
from spacy.lang.en.stop_words import STOP_WORDS

from services.enrich import topic_training, topics
from services.enrich.learned import Model
from services.enrich.nlp import pipeline_for
from services.enrich.topics import cue_counts, subjects
from shared.mediatopics import IPTC_URI, NAMES, PARENTS, TOP_LEVEL

IPTC_TOP_LEVEL = {
    "01000000": "arts, culture, entertainment and media",
    "02000000": "crime, law and justice",
    "03000000": "disaster, accident and emergency incident",
    "04000000": "economy, business and finance",
    "05000000": "education",
    "06000000": "environment",
    "07000000": "health",
    "08000000": "human interest",
    "09000000": "labour",
    "10000000": "lifestyle and leisure",
    "11000000": "politics",
    "12000000": "religion",
    "13000000": "science and technology",
    "14000000": "society",
    "15000000": "sport",
    "16000000": "conflict, war and peace",
    "17000000": "weather",
}

ARTICLES = {
    "15000000": (
        "Late goal sends champions into cup final",
        "The striker scored in stoppage time to beat their rivals 2-1 in the semi-final. The coach praised his "
        "team's spirit and the fans celebrated long after the match. The league leaders play the final next month.",
    ),
    "11000000": (
        "Voters head to the polls in tight presidential election",
        "Polling stations opened at 7am as voters chose between the incumbent president and the opposition "
        "candidate. Turnout was high in the capital. The electoral commission expects results on Monday.",
    ),
    "16000000": (
        "Troops advance as fighting intensifies",
        "Government forces said they recaptured two villages after heavy shelling. Rebels launched drone attacks "
        "on military positions overnight, and the army said a ceasefire was not on the table.",
    ),
    "04000000": (
        "Central bank holds rates as inflation eases",
        "The central bank kept its benchmark interest rate unchanged, saying inflation had slowed for a third "
        "month. Economists expect a cut later in the year. The currency weakened and shares fell after the decision.",
    ),
    "07000000": (
        "Measles cases rise as vaccination rates fall",
        "Health officials reported 300 new cases of measles this year. Doctors urged parents to vaccinate their "
        "children, and hospitals said patients with the disease were mostly unvaccinated.",
    ),
    "17000000": (
        "Heatwave to bring temperatures of 40C this weekend",
        "Forecasters issued a weather warning as temperatures are expected to soar. Thunderstorms and heavy rain "
        "will follow on Tuesday, the weather service said.",
    ),
    "02000000": (
        "Man jailed for armed robbery at petrol station",
        "A judge sentenced the man after a jury found him guilty of robbery. Prosecutors told the court he "
        "threatened a cashier. Police arrested him two days later.",
    ),
    "13000000": (
        "Astronomers spot water vapour on distant planet",
        "Using a space telescope, the team detected water in the atmosphere of a planet orbiting a nearby star. "
        "The study, published in a scientific journal, could help the search for life, scientists said.",
    ),
}


@pytest.fixture(scope="module")
def nlp():
    return pipeline_for("en")


def lemmas_of(nlp, text):
    """What the pipeline passes: lower-cased lemmas of the alphabetic non-stop-word tokens."""
    return [t.lemma_.lower() for t in nlp(text) if t.is_alpha and not t.is_stop]


def codes(result):
    return [s["code"] for s in result]


def test_all_17_top_level_codes_are_in_the_lexicon_with_their_iptc_labels():
    assert TOP_LEVEL == IPTC_TOP_LEVEL


def test_every_topic_of_the_catalogue_has_cues_and_every_cue_a_topic_of_it():
    assert {code for found in topics._INDEX.values() for code, _ in found} == set(NAMES)


def test_second_level_codes_are_iptc_concepts_under_one_top_level_topic():
    assert PARENTS, "the lexicon has second-level topics"
    for child, parent in PARENTS.items():
        assert re.fullmatch(r"20\d{6}", child) and parent in TOP_LEVEL and NAMES[child]


def test_english_cues_are_written_as_the_pipeline_lemmas():
    for code, entry in topics._LEXICON.items():
        for weight, cues in entry["cues"].items():
            assert float(weight) > 0, code
            for cue in cues:
                words = cue.split(" ")
                assert all(w.isalpha() and w == w.lower() and w not in STOP_WORDS for w in words), cue


@pytest.mark.parametrize("expected", list(ARTICLES))
def test_made_up_articles_get_their_main_topic(nlp, expected):
    title, body = ARTICLES[expected]
    result = subjects(lemmas_of(nlp, f"{title}\n{body}"), lemmas_of(nlp, title))
    assert result[0]["code"] == f"medtop:{expected}"


def test_subjects_are_well_formed_sorted_and_children_come_with_their_parent(nlp):
    for title, body in ARTICLES.values():
        result = subjects(lemmas_of(nlp, f"{title}\n{body}"), lemmas_of(nlp, title))
        relevance = {s["code"].removeprefix("medtop:"): s["relevance"] for s in result}
        assert [s["relevance"] for s in result] == sorted(relevance.values(), reverse=True)
        for subject in result:
            code = subject["code"].removeprefix("medtop:")
            assert subject["uri"] == IPTC_URI + code and subject["name"] == NAMES[code]
            assert isinstance(subject["relevance"], int) and 1 <= subject["relevance"] <= 100
            assert isinstance(subject["confidence"], int) and 1 <= subject["confidence"] <= 100
            if code in PARENTS:
                assert PARENTS[code] in relevance and subject["relevance"] <= relevance[PARENTS[code]]
        assert result[0]["code"].endswith("000000")


def test_confident_second_level_topics_are_given(nlp):
    title, body = ARTICLES["11000000"]
    assert "medtop:20000574" in codes(subjects(lemmas_of(nlp, f"{title}\n{body}"), lemmas_of(nlp, title)))


def test_a_phrase_counts_once_and_its_words_not_again():
    assert cue_counts(["air", "strike", "kill", "civilian"]) == {"air strike": 1, "kill": 1, "civilian": 1}
    assert subjects(["nato", "air", "strike", "kill", "civilian"])[0]["code"] == "medtop:16000000"


def test_the_headline_tips_a_balanced_body():
    body = ["match", "goal", "inflation", "economist"]
    assert subjects(body, ["inflation"])[0]["code"] == "medtop:04000000"
    assert subjects(body, ["goal"])[0]["code"] == "medtop:15000000"


def test_the_pipeline_can_still_call_it_without_a_headline():
    assert subjects(["election", "voter", "ballot"])[0]["code"] == "medtop:11000000"


def test_thin_evidence_is_a_low_relevance_guess_and_no_evidence_nothing():
    (guess,) = subjects(["football"])
    assert guess["code"] == "medtop:15000000" and guess["relevance"] < 50
    assert subjects([], []) == []
    assert subjects(["yesterday", "afternoon"], ["thing"]) == []


def test_plain_word_tokens_of_other_languages_hit_their_cues():
    spanish = re.findall(r"\w+", "El equipo ganó con dos goles del delantero y el entrenador celebró".lower())
    assert subjects(spanish)[0]["code"] == "medtop:15000000"
    danish = re.findall(r"\w+", "Statsministeren vandt valget, og regeringen får flertal i Folketinget".lower())
    assert subjects(danish)[0]["code"] == "medtop:11000000"


def test_the_main_topic_is_the_models_choice_and_the_lexicon_keeps_the_others():
    body = ["inflation", "economist", "inflation", "goal"]
    sport_on_goals = Model(classes=("04000000", "15000000"), intercept=(0.0, 0.0), weights={"cue:goal": (0.0, 9.0)})
    result = subjects(body, model=sport_on_goals)
    assert codes(result)[0] == "medtop:15000000"
    assert "medtop:04000000" in codes(result), "the lexicon's best topic is kept beside the model's choice"
    assert [s["relevance"] for s in result] == sorted((s["relevance"] for s in result), reverse=True)
    assert codes(subjects(body))[0] == "medtop:04000000"  # the shipped model agrees with the lexicon here


def test_topic_training_is_reproducible_and_learns_what_the_lexicon_gets_wrong():
    health = (["study", "coffee", "drinker", "risk", "death", "researcher"], ["coffee", "study"])
    science = (["study", "telescope", "planet", "researcher", "star"], ["planet", "study"])
    sport = (["goal", "match", "league"], ["goal"])
    labelled = [(words, {"topics": [f"medtop:{code}"]}) for words, code in
                [(health, "07000000"), (science, "13000000"), (sport, "15000000")] * 8]  # fmt: skip
    first, second = topic_training.train(labelled), topic_training.train(labelled)
    assert first.to_json() == second.to_json()
    lexicon = topics.scores(topics.evidence(*health))
    assert lexicon.get("13000000", 0) > lexicon.get("07000000", 0), "the lexicon alone calls it science"
    assert codes(subjects(*health, model=first))[0] == "medtop:07000000"
    assert codes(subjects(*science, model=first))[0] == "medtop:13000000"
