import pytest

from services.enrich.language import candidates, default_language, detect_language, identifier, names_weigh_half
from services.enrich.pipeline import enrich
from shared.config import ConfigError

# Short items (20-30 words) whose names come from elsewhere: py3langid alone calls the first one Nigerian Pidgin.
SHORT_ENGLISH = [
    "Ruto meets Museveni in Kampala\nKenyan President William Ruto met Yoweri Museveni in Kampala on Monday to discuss "
    "trade and the oil pipeline.",
    "Magufuli names new cabinet in Dodoma\nPresident John Magufuli named Kassim Majaliwa prime minister in Dodoma on "
    "Thursday, the State House said.",
    "Van der Berg wins in Utrecht\nJan van der Berg won the mayoral vote in Utrecht on Sunday, beating Pieter de Vries "
    "by a wide margin.",
    "Mnangagwa sworn in at Harare\nEmmerson Mnangagwa was sworn in as Zimbabwe's president at a stadium in Harare on "
    "Sunday.",
]
SHORT_OTHERS = [
    (
        "id",  # left out, rather than weighed half, the names would make this Malay
        "Pemerintah umumkan kebijakan baru\nPemerintah Indonesia mengumumkan kebijakan baru di Jakarta pada hari "
        "Selasa untuk menurunkan harga beras, kata menteri.",
    ),
    (
        "sw",
        "Serikali yatangaza bajeti mpya\nSerikali ya Kenya imetangaza bajeti mpya leo jijini Nairobi, na waziri wa "
        "fedha amesema kodi zitapunguzwa mwaka huu.",
    ),
    (
        "fr",
        "Le gouvernement annonce une réforme\nLe Premier ministre a présenté mardi à Paris une réforme des retraites "
        "contestée par les syndicats.",
    ),
    (
        "de",
        "Regierung plant neues Gesetz\nDie Bundesregierung in Berlin will am Mittwoch ein neues Gesetz zum "
        "Klimaschutz beschließen, teilte ein Sprecher mit.",
    ),
    (
        "es",
        "Lluvias en Valencia\nLas fuertes lluvias obligaron el lunes a cerrar varias carreteras en Valencia, según "
        "informaron las autoridades de la región.",
    ),
]


@pytest.mark.parametrize("text", SHORT_ENGLISH)
def test_a_short_english_item_full_of_foreign_names_is_english(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize(("language", "text"), SHORT_OTHERS)
def test_short_items_in_other_languages_keep_their_language(language, text):
    assert detect_language(text) == language


def test_too_little_text_to_tell_gets_the_default_language(monkeypatch):
    monkeypatch.setenv("ENRICH_DEFAULT_LANGUAGE", "de")
    assert detect_language("Body HTML story") == "de"
    assert detect_language("") == "de"
    assert detect_language(SHORT_ENGLISH[0]) == "en"  # the default only decides when the text cannot


def test_the_default_language_must_be_a_known_iso_code(monkeypatch):
    monkeypatch.setenv("ENRICH_DEFAULT_LANGUAGE", "xx")
    with pytest.raises(ConfigError, match="ENRICH_DEFAULT_LANGUAGE"):
        default_language()


def test_answers_are_iso_639_1_news_languages_only():
    assert {"en", "fr", "de", "es", "ar", "zh", "sw"} <= candidates()
    assert all(len(code) == 2 for code in candidates())
    assert not {"pcm", "zxx", "la", "eo"} & candidates()


def test_names_weigh_half_as_much_as_the_other_words():
    assert names_weigh_half("Yoweri Museveni met William Ruto in Kampala") == (
        "met in\nYoweri Museveni met William Ruto in Kampala"
    )
    assert names_weigh_half("Talks In Kampala") == "Talks In Kampala"


def test_one_classifier_per_process():
    assert identifier() is identifier()


def test_a_short_english_item_through_enrich_is_english_with_its_entities():
    title, body = SHORT_ENGLISH[0].split("\n")
    article = enrich({"title": title, "body": body})["data"]
    assert article["language"] == "en"
    assert {"William Ruto", "Yoweri Museveni"} <= {p["name"] for p in article["people"]}
    assert "Kampala" in {p["name"] for p in article["places"]}


def test_the_language_the_request_gives_wins():
    title, body = SHORT_ENGLISH[0].split("\n")
    assert enrich({"title": title, "body": body, "language": "sw"})["data"]["language"] == "sw"
