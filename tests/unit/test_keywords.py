"""Keywords with YAKE (services/enrich/keywords.py), on made-up texts."""

import re
from pathlib import Path

import pytest
import yake

from services.enrich.keywords import (
    YAKE_LANGUAGES,
    capitalised_runs,
    close_lines,
    extractor,
    keeps_to_names,
    keywords,
    same_word,
    text_case,
    yake_language,
)
from services.enrich.pipeline import enrich

ENGLISH = """Zorbian wind farm opens off the northern coast

The Zorbian energy ministry opened the country's largest offshore wind farm on Tuesday. The wind farm's 80 turbines
will supply power to 400,000 homes, the ministry said. Engineers from Quell Energy built the turbines over three years.
Critics of the wind farm said the project had cost twice the original budget. Quell Energy said offshore wind would
supply a third of Zorbian power by 2035, and that a second wind farm was planned for the eastern coast.
"""

FRENCH = """Le parlement de Blorvie adopte la réforme des retraites

Les députés ont adopté mardi la réforme des retraites après trois semaines de débat. La réforme repousse l'âge de
départ à la retraite à 64 ans. Les syndicats appellent à une nouvelle grève contre la réforme des retraites jeudi.
"""

GERMAN = """Hochwasser in Varnental: Tausende Menschen evakuiert

Nach tagelangem Regen ist der Fluss Varn über die Ufer getreten. Die Feuerwehr evakuierte Tausende Menschen aus dem
Hochwassergebiet. Das Hochwasser hat Straßen und Brücken zerstört, teilte die Feuerwehr mit.
"""


def words_of(found):
    return [w for k in found for w in k.lower().split()]


def test_english_keywords_name_what_the_story_is_about():
    found = keywords(ENGLISH, "en")
    assert 1 <= len(found) <= 10
    assert "wind farm" in found and "Quell Energy" in found


def test_keywords_are_deduplicated_one_per_concept():
    found = keywords(ENGLISH, "en")
    assert len({k.lower() for k in found}) == len(found)
    assert len(set(words_of(found))) == len(words_of(found)), "no two keywords share a word"


def test_limit_is_respected():
    assert len(keywords(ENGLISH, "en", limit=3)) == 3
    assert keywords(ENGLISH, "en", limit=0) == []


def test_no_text_gives_no_keywords():
    assert keywords("", "en") == [] and keywords("   \n ", "fr") == []


def test_day_names_and_numbers_alone_are_not_keywords():
    found = [k.lower() for k in keywords(ENGLISH, "en", limit=20)]
    assert "tuesday" not in found and not any(k.isdigit() for k in found)


@pytest.mark.parametrize(("text", "language", "expected"), [(FRENCH, "fr", "réforme"), (GERMAN, "de", "hochwasser")])
def test_other_languages_use_their_stop_words(text, language, expected):
    found = keywords(text, language)
    assert any(expected in k.lower() for k in found)
    stop_words = extractor(yake_language(language)).stopword_set
    assert not any(k.lower() in stop_words for k in found)


def test_unknown_languages_fall_back_to_yakes_language_agnostic_mode():
    assert yake_language("sw") == yake_language("xx") == "xx"
    text = "Serikali ya Zorbia imesema bajeti ya elimu itaongezwa. Walimu wa Zorbia wamepokea habari hiyo kwa furaha."
    assert keywords(text, "sw")


def test_yake_language_names():
    assert yake_language("en") == "en" and yake_language("PT") == "pt"
    assert yake_language("cs") == "cz" and yake_language("nb") == "no" and yake_language("nn") == "no"


def test_every_listed_language_has_a_stop_word_file_in_the_installed_yake():
    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    assert all((folder / f"stopwords_{code}.txt").exists() for code in YAKE_LANGUAGES)


def test_languages_without_spaces_give_no_keywords():
    assert keywords("布洛维议会周二通过了养老金改革。工会呼吁举行新的罢工。", "zh") == []


def test_one_extractor_per_language_is_kept():
    assert extractor(yake_language("fr")) is extractor(yake_language("fr"))
    assert extractor(yake_language("sw")) is extractor(yake_language("tl"))


def test_a_headline_line_is_closed_before_yake_joins_the_lines():
    assert close_lines("Storm hits coast\n\nThe storm hit.\nCaption: a tree") == (
        "Storm hits coast.\n\nThe storm hit.\nCaption: a tree."
    )


def test_keywords_keep_the_case_the_text_uses():
    text = "Oil prices rose. The oil minister met NATO officials. NATO said oil exports would grow."
    assert text_case("Oil", text) == "oil"
    assert text_case("nato", text) == "NATO"
    assert text_case("Quell Energy", "QUELL ENERGY said. Quell Energy said.") == "Quell Energy"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("chip", "chips", True),
        ("announces", "announced", True),
        ("state", "statement", False),
        ("minister", "ministry", False),
        ("ice", "iced", False),
    ],
)
def test_same_word(a, b, same):
    assert same_word(a, b) is same


TALKS = """Varga meets Zorbian minister in Portville
Zorbian Secretary of State Anton Varga met Blorvian Foreign Minister Ilse Marko Tenn in Portville on Monday to discuss
trade and the river treaty. Varga said Blorvia wanted a stable border. Tenn told reporters that Prime Minister Otto
Brand backed the talks. The two sides also discussed fishing rights, Secretary of State Anton Varga said."""
NAMES = ("Anton Varga", "Ilse Marko Tenn", "Otto Brand", "Varga", "Tenn", "Portville", "Blorvia", "Zorbian", "Blorvian")


def spans_of(names, text):
    """Where `names` are in `text`, as an entity recogniser gives them: the longest, none overlapping."""
    spans = [m.span() for name in names for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
    return [(a, b) for a, b in spans if not any(c <= a and b <= d and (a, b) != (c, d) for c, d in spans)]


def cuts_or_glues_a_name(keyword, text, names):
    return not keeps_to_names(keyword, text, names)


def test_capitalised_runs_stop_at_lowercase_words_punctuation_and_line_ends():
    text = "Secretary of State Anton Varga met\nPrime Minister Otto Brand in Portville, Zorbia"
    assert [text[a:b] for a, b in capitalised_runs(text)] == [
        "Secretary",
        "State Anton Varga",
        "Prime Minister Otto Brand",
        "Portville",
        "Zorbia",
    ]


def test_a_capitalised_stop_word_starts_no_name():
    text = "The Zorbian ministry said. Die Feuerwehr kam."
    assert [text[a:b] for a, b in capitalised_runs(text, frozenset({"the", "die"}))] == ["Zorbian", "Feuerwehr"]


def test_a_phrase_must_be_a_whole_name_or_keep_apart_from_names():
    text = "Secretary of State Anton Varga met Otto Brand. Anton Varga left."
    names = spans_of(["Anton Varga", "Otto Brand"], text)
    assert keeps_to_names("Anton Varga", text, names) and keeps_to_names("Secretary", text, names)
    assert not keeps_to_names("State Anton", text, names)  # glues a title to a first name
    assert not keeps_to_names("Varga met", text, names) and not keeps_to_names("met Otto", text, names)
    assert not keeps_to_names("Brand", text, names)  # a piece of a name
    assert keeps_to_names("Brand", "Otto Brand met Brand.", spans_of(["Otto Brand", "Brand"], "Otto Brand met Brand."))


def test_keywords_do_not_glue_titles_or_verbs_to_names():
    found = keywords(TALKS, "en", names=spans_of(NAMES, TALKS))
    assert "Anton Varga" in found
    assert not [k for k in found if cuts_or_glues_a_name(k, TALKS, spans_of(NAMES, TALKS))], found


def test_without_a_model_the_capitalised_runs_are_the_names():
    found = keywords(TALKS, "en")
    runs = capitalised_runs(TALKS)
    assert found and not [k for k in found if cuts_or_glues_a_name(k, TALKS, runs)], found


def test_enrich_gives_keywords_that_respect_spacys_names():
    found = enrich({"title": "Talks in Portville", "body": TALKS})["enrichment"]["keywords"]
    assert "Anton Varga" in found and not {"State Anton", "Varga meets", "meets Zorbian"} & set(found), found
