"""The combiner: turns the reader's score and the cheap signals of a candidate sentence into one
probability that it answers the question, and the best candidate's into the answerability.

A logistic regression over `FEATURES` (computed by the evidence stage, `rag.evidence.rank`): the
reader's scaled logit and its gap to the best candidate's, the cheap score's similarity and coverage
and the share of the best cheap score it reaches, whether the question asks for a kind of answer and
whether the sentence offers one (`rag.evidence.offers`), and the rank of its passage (passages
ordered by their best sentence's cheap score, not by retrieval). The answer-type and premise checks that were hand-set rules are features here, weighed
by the data instead of vetoing.

Fitted on the news questions kept from the reader (`rag.reader.news.NewsSplit.fit`, so the reader's
scores are those of articles it never saw), one row per read candidate, labelled 1 when it is an
evidence sentence of an answerable question. The best candidate's probability is then calibrated on
the dev split (Platt scaling: P(answerable) from its logit), which is the `answerability` an Answer
carries and the refusal threshold (`RAG_READER_THRESHOLD`) is compared with.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Measured by `bench.combiner_ablate` (BBC dev, refitted without each): "headline" (whether the sentence is the
# title) changed nothing (evidence first 0.581, AUROC 0.631 either way) and was deleted.
FEATURES = ("reader", "reader_gap", "similarity", "coverage", "match", "typed", "fits", "passage_rank")
FILE = "combiner.json"


def sigmoid(z: float) -> float:
    """The logistic function, safe for large |z|."""
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def logit(p: float) -> float:
    """The inverse of `sigmoid`, clipped away from 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass
class Combiner:
    """The fitted weights (one per feature), the bias, and the answerability calibration."""

    weights: list[float]
    bias: float
    calibration: tuple[float, float] = (1.0, 0.0)  # a, b: P(answerable) = sigmoid(a * logit(p_best) + b)
    features: tuple[str, ...] = FEATURES
    figures: dict = field(default_factory=dict)  # what fitting and calibration measured

    def probability(self, row: list[float]) -> float:
        """P(this candidate states the answer)."""
        return sigmoid(self.bias + sum(w * x for w, x in zip(self.weights, row)))

    def answerability(self, best: float) -> float:
        """P(the question is answerable), from the best candidate's probability."""
        a, b = self.calibration
        return sigmoid(a * logit(best) + b)

    def save(self, folder: Path) -> None:
        """Write combiner.json into `folder`."""
        (folder / FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Combiner:
        """The combiner of a reader's weights folder; ValueError when it does not fit today's features."""
        raw = json.loads((folder / FILE).read_text(encoding="utf-8"))
        combiner = cls(raw["weights"], raw["bias"], tuple(raw["calibration"]), tuple(raw["features"]),
                       raw.get("figures", {}))
        if combiner.features != FEATURES or len(combiner.weights) != len(FEATURES):
            raise ValueError(f"{folder / FILE} was fitted on features {combiner.features}, not {FEATURES}")
        return combiner


def fit(rows: list[list[float]], labels: list[int], strength: float = 1.0) -> Combiner:
    """A logistic regression (L2, C=`strength`) over candidate rows; uncalibrated answerability."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=strength, max_iter=2000).fit(rows, labels)
    return Combiner([round(float(w), 5) for w in model.coef_[0]], round(float(model.intercept_[0]), 5))


def calibrate(best: list[float], answerable: list[bool]) -> tuple[float, float]:
    """Platt scaling of the best candidates' probabilities into P(answerable)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100.0).fit([[logit(p)] for p in best], [int(a) for a in answerable])
    return round(float(model.coef_[0][0]), 5), round(float(model.intercept_[0]), 5)
