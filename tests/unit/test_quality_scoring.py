"""The benchmark's scoring rules (benchmarks/quality.py), on made-up names."""

import pytest

from benchmarks.quality import Error, lexicon_main, normalise, prf, score_list, topic_code


def gold(name, *aliases, optional=False):
    return {"name": name, "aliases": list(aliases), **({"optional": True} if optional else {})}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("  Zorbia   Quell ", "zorbia quell"),
        ("ＺＯＲＢＩＡ", "zorbia"),  # NFKC, then case-folded
        ("Quell-Varnen", "quell varnen"),
        ("Quell's", "quell"),
        ("Quell’s", "quell"),
        ("The Blorvian Times", "blorvian times"),
        ("Blorvian Assembly (BA)", "blorvian assembly ba"),
        ("“Blorvia”", "blorvia"),
        ("B.L.R.", "blr"),
        ("Mr Tam Quell", "tam quell"),
        ("Dr. Tam Quell", "tam quell"),
        ("Prof Tam Quell", "tam quell"),
        ("Dame Ulla Vorn", "ulla vorn"),
        ("Zarn Province", "zarn"),
        ("Zarn city", "zarn"),
        ("Zarn County", "zarn"),
        ("Zarn Region", "zarn"),
    ],
)
def test_normalise_ignores_form(name, expected):
    assert normalise(name) == expected


def test_normalise_keeps_a_lone_word_that_is_only_a_title_or_region():
    assert normalise("State") == "state"
    assert normalise("the") == "the"
    assert normalise("Drax Quell") == "drax quell"  # "dr" only as a whole word


def test_exact_and_alias_matches_are_true_positives():
    entities = [gold("Tam Quell", "Quell"), gold("Blorvia")]
    assert score_list(["Quell", "blorvia"], entities) == (2, 0, 0, [])


def test_second_mention_of_a_found_entity_is_a_split_false_positive():
    tp, fp, fn, errors = score_list(["Tam Quell", "Mr Quell"], [gold("Tam Quell", "Quell")])
    assert (tp, fp, fn) == (1, 1, 0)
    assert errors == [Error("split", "Mr Quell", "Tam Quell")]


def test_exact_duplicate_prediction_is_also_a_split():
    assert score_list(["Blorvia", "Blorvia"], [gold("Blorvia")])[:3] == (1, 1, 0)


def test_optional_entities_are_neither_required_nor_penalised():
    entities = [gold("Blorvia"), gold("Zarn Herald", optional=True)]
    assert score_list(["Blorvia", "Zarn Herald", "Zarn Herald"], entities) == (1, 0, 0, [])
    assert score_list([], [gold("Zarn Herald", optional=True)]) == (0, 0, 0, [])


def test_unmatched_prediction_is_fp_and_unfound_gold_is_fn():
    tp, fp, fn, errors = score_list(["Quorvex Ltd"], [gold("Tam Quell")])
    assert (tp, fp, fn) == (0, 1, 1)
    assert errors == [Error("FP", "Quorvex Ltd"), Error("FN", "Tam Quell")]


def test_a_prediction_shared_by_two_entities_finds_the_unfound_one():
    entities = [gold("Ulla Vorn", "Vorn"), gold("Ivo Vorn", "Vorn")]
    assert score_list(["Ulla Vorn", "Vorn"], entities)[:3] == (2, 0, 0)


def test_prf_and_empty_counts():
    assert prf(3, 1, 3) == {"p": 0.75, "r": 0.5, "f1": 0.6, "tp": 3, "fp": 1, "fn": 3}
    assert prf(0, 0, 0)["f1"] == 0.0


def test_the_lexicon_main_topic_is_its_highest_scoring_top_level_code():
    assert lexicon_main(["election", "voter", "ballot"], []) == "medtop:11000000"
    assert lexicon_main(["match", "goal", "inflation", "economist"], ["inflation"]) == "medtop:04000000"
    assert lexicon_main(["the"], []) is None
    assert topic_code("11000000") == topic_code("medtop:11000000") == "medtop:11000000"
