"""The entity model's parts on made-up data: features, decisions, reproducible training, gold labels."""

from collections import Counter

from services.enrich.entities import Candidate, Entity
from services.enrich.features import entity_features, line_cues
from services.enrich.learned import NOTHING, Model, fit
from services.enrich.training import gold_index, label


def test_line_cues_tell_a_heading_from_a_sentence():
    text = "Home | World | Sport\nThe council of Blorvia met on Monday and approved the new budget for schools."
    (first_start, heading), (second_start, sentence) = line_cues(text)
    assert (first_start, second_start) == (0, text.index("The council"))
    assert heading["line_words<=8"] == 1.0 and heading["line_separators"] == 1.0 and heading["line_sentence"] == 0.0
    assert sentence["line_words<=20"] == 1.0 and sentence["line_sentence"] == 1.0 and sentence["line_first"] == 0.0


def test_entity_features_average_the_mentions_and_describe_the_name():
    entity = Entity(name="Blorvia Rail Company", mentions=2, titled=False)
    entity.cues = Counter({"label=ORG": 2.0, "next=said": 1.0})
    features = entity_features(entity, in_title=True, position=0.05)
    assert features["label=ORG"] == 1.0 and features["next=said"] == 0.5
    assert features["organisation_word"] == 1.0 and features["word=rail"] == 1.0 and features["last=company"] == 1.0
    assert features["in_title"] == 1.0 and features["early"] == 1.0 and features["tokens=3"] == 1.0


def test_the_model_decides_by_the_highest_score():
    model = Model(
        classes=(NOTHING, "organisations", "people"),
        intercept=(0.5, 0.0, 0.0),
        weights={"organisation_word": (0.0, 2.0, -1.0), "titled": (0.0, -1.0, 2.0)},
    )
    rows = [{"organisation_word": 1.0}, {"titled": 1.0}, {"unseen feature": 5.0}]
    assert model.decide(rows) == ["organisations", "people", NOTHING]
    assert Model.from_json(model.to_json()) == model


def _synthetic(n: int = 60) -> tuple[list[dict[str, float]], list[str]]:
    rows, labels = [], []
    for i in range(n):
        kind = ("people", "organisations", "places", NOTHING)[i % 4]
        rows.append({f"cue={kind}": 1.0, "position": (i % 7) / 7, f"noise={i % 5}": 1.0})
        labels.append(kind)
    return rows, labels


def test_training_is_reproducible_and_learns_the_signal():
    rows, labels = _synthetic()
    first, second = fit(rows, labels, seed=7), fit(rows, labels, seed=7)
    assert first.to_json() == second.to_json()
    assert first.decide([{"cue=places": 1.0}, {"cue=people": 1.0}]) == ["places", "people"]


def _candidate(name: str, *surfaces: str) -> Candidate:
    return Candidate(Entity(name=name, surfaces=Counter(surfaces or (name,))), {}, 0)


def test_gold_labels_are_alias_aware_and_skip_optional_or_ambiguous_entities():
    gold = {
        "people": [{"name": "Tam Quell", "aliases": ["Quell"]}],
        "organisations": [{"name": "Blorvian Times", "aliases": [], "optional": True}],
        "places": [{"name": "Zarn", "aliases": ["Zarn Province"]}],
    }
    index = gold_index(gold)
    assert label(_candidate("Mr Tam Quell"), index) == "people"
    assert label(_candidate("zarn province"), index) == "places"
    assert label(_candidate("The Blorvian Times"), index) is None  # optional: neither right nor wrong
    assert label(_candidate("Tam Quell Jr", "Quell"), index) is None  # only a variant matches
    assert label(_candidate("Main Menu"), index) == NOTHING
