"""Multinomial logistic regression applied in plain Python (`Model`; `fit` trains one with scikit-learn), and the
entity model built with it over `features` (`data/entity_model.json`, built by `make train`; pure, loaded once).
The topic model is a `Model` too, loaded by `topics.topic_model`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_PATH = Path(__file__).parent / "data" / "entity_model.json"
NOTHING = "none"


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]  # NOTHING and the entity kinds
    intercept: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]

    def scores(self, features: dict[str, float]) -> list[float]:
        scores = list(self.intercept)
        for name, value in features.items():
            for i, weight in enumerate(self.weights.get(name, ())):
                scores[i] += weight * value
        return scores

    def decide(self, rows: list[dict[str, float]]) -> list[str]:
        """The class of each row of features: the kind of entity, or NOTHING."""
        decided = []
        for row in rows:
            scores = self.scores(row)
            decided.append(self.classes[scores.index(max(scores))])
        return decided

    def to_json(self) -> dict:
        return {"classes": list(self.classes), "intercept": list(self.intercept), "weights": self.weights}

    @classmethod
    def from_json(cls, data: dict) -> Model:
        weights = {name: tuple(w) for name, w in data["weights"].items()}
        return cls(tuple(data["classes"]), tuple(data["intercept"]), weights)


@lru_cache(maxsize=1)
def entity_model() -> Model:
    return Model.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def fit(
    rows: list[dict[str, float]], labels: list[str], seed: int = 0, c: float = 1.0, fit_intercept: bool = True
) -> Model:
    """Learn a Model from feature rows and their classes; the same input and seed give the same weights.
    Without `fit_intercept`, the classes' shares among the rows are not learned as a prior."""
    from sklearn.feature_extraction import DictVectorizer  # training only: the service never imports it
    from sklearn.linear_model import LogisticRegression

    vectoriser = DictVectorizer()
    x = vectoriser.fit_transform(rows)
    regression = LogisticRegression(C=c, fit_intercept=fit_intercept, max_iter=2000, random_state=seed).fit(x, labels)
    coef, intercept = regression.coef_, regression.intercept_
    if len(regression.classes_) == 2:  # scikit-learn keeps one row for two classes: the second's against the first
        coef, intercept = [0 * coef[0], coef[0]], [0.0, intercept[0]]
    coef = list(zip(*coef, strict=True))
    weights = {
        name: tuple(round(float(w), 4) for w in coef[i])
        for i, name in enumerate(vectoriser.get_feature_names_out())
        if any(abs(w) >= 1e-4 for w in coef[i])
    }
    classes = tuple(str(label) for label in regression.classes_)
    return Model(classes, tuple(round(float(b), 4) for b in intercept), weights)
