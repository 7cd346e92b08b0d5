"""The combiner: turns the reader's score and the cheap signals of a candidate sentence into one
probability that it answers the question, and a question's candidates into the answerability.

Three logistic regressions. The candidate regression, over `FEATURES` (computed by the evidence stage,
`rag.evidence.rank`): the reader's scaled logit and its gap to the best candidate's, the cheap
score's similarity and coverage and the share of the best cheap score it reaches, whether the
question asks for a kind of answer and whether the sentence offers one (`rag.evidence.offers`), and
how many things the question names that the sentence's article never does
(`rag.evidence.premise`). The rerank, over its combined logit and the excerpt reader's logit, chooses
the answer among the `SHORTLIST` most probable candidates (the excerpt reader reads only those). The
answerability head, over `QUESTION_FEATURES`: the chosen candidate's probability read beside the
signals whose weight differs between "which sentence answers" and "does any" (`Combiner.question_row`). The answer-type and premise checks that were hand-set rules
are features here, weighed by the data; with `type_check`, a question asking for a kind of answer no
candidate offers is refused before the head (measured: rag/evidence/weights/README.md).

Two combiners are committed. The reader's (rag/reader/weights, `RAG_RANKER=reader`) is described
next. The learned ranker's (rag/evidence/weights, `RAG_RANKER=learned`, the default) is the same
without the reader: its two reader features are 0, it has no rerank and no excerpt logit, and it is
fitted on the reader's training split too (`rag fit-combiner --cheap`, `rag.reader.fit.fit_combiner`).

All three are fitted on the news questions kept from the reader (`rag.reader.news.NewsSplit.fit`, so
the reader's scores are those of articles it never saw): the candidate regression on one row per read
candidate, labelled 1 when it is an evidence sentence of an answerable question; the rerank on the
shortlisted ones of the same questions; the head on one row per question, labelled 1 when it is
answerable. The head's logit is then calibrated on the dev split
(Platt scaling), which is the `answerability` an Answer carries and the refusal threshold
(`RAG_READER_THRESHOLD`, or `RAG_LEARNED_THRESHOLD` for the learned ranker's) is compared with.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

# Measured by `bench.combiner_ablate` (BBC dev, refitted without each): "headline" (whether the sentence is the
# title) changed nothing (evidence first 0.581, AUROC 0.631 either way) and was deleted; "unmentioned" counted
# in the sentence, its title and the sentence before instead of its whole article got weight 0.02 and was dropped.
# "passage_rank" (1 / (1 + the rank of its passage by best cheap score)) was dropped after three refits in a row
# measured as much or more without it (the third, on the query-mapped rows of 2026-12-06: evidence first
# 0.619 -> 0.625, head AUROC 0.720 -> 0.723).
FEATURES = ("reader", "reader_gap", "similarity", "coverage", "match", "typed", "fits", "unmentioned")
# The answerability head's inputs, from the candidate chosen among those read for one question
# (`Combiner.question_row`; the best by the candidate regression until session 21's rerank).
# Chosen on the dev split (head AUROC / unanswerable refused where 5% of answerable ones are / off-corpus
# questions over the seeds refused, of 4): these 4 0.724 / 0.275 / 4; adding the second-best candidate's
# logits, the least unmentioned count, the coverage and the count of likely candidates 0.727 / 0.225 / 3
# (the best and second-best reader logits weighed as a gap, which an off-corpus question also shows).
# "excerpt": the excerpt reader's logit for that candidate read with its neighbours (`rag.reader.excerpt_reader`).
QUESTION_FEATURES = ("chosen", "unmentioned_chosen", "typed", "fits_chosen", "excerpt")
# The excerpt reader reads the best candidates and a second regression over the combined logit and its
# logit chooses among them (`Combiner.chosen`), before the head reads the chosen one. Measured offline on the
# kept rows (2026-12-07, bfloat16 excerpt reader, rerank fitted on the fit split; BBC dev): 1 (no rerank):
# evidence first 0.619, unanswerable refused at 5% answerable refused 0.375, head AUROC 0.809; 2: 0.637 /
# 0.450 / 0.817; 3 (float32, session 20): 0.650 evidence first. Each more costs one excerpt, ~0.4 s.
SHORTLIST = 2
FILE = "combiner.json"
_AT = {name: i for i, name in enumerate(FEATURES)}


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
    head: list[float] = field(default_factory=list)  # the answerability head: one weight per QUESTION_FEATURES
    head_bias: float = 0.0
    calibration: tuple[float, float] = (1.0, 0.0)  # a, b: P(answerable) = sigmoid(a * head logit + b)
    features: tuple[str, ...] = FEATURES
    rerank: list[float] = field(default_factory=list)  # over (combined logit, excerpt logit); empty: no rerank
    rerank_bias: float = 0.0
    figures: dict = field(default_factory=dict)  # what fitting and calibration measured
    type_check: bool = False  # refuse when the question asks for a kind of answer no candidate read offers

    @property
    def reads_excerpts(self) -> bool:
        """Whether it weighs the excerpt reader's logit (the reader's combiner; not the one fitted on the
        cheap signals alone)."""
        return bool(self.rerank) or bool(self.head and self.head[QUESTION_FEATURES.index("excerpt")])

    def probability(self, row: list[float]) -> float:
        """P(this candidate states the answer)."""
        return sigmoid(self.bias + sum(w * x for w, x in zip(self.weights, row)))

    def best(self, rows: list[list[float]]) -> int:
        """The index of the candidate most likely to state the answer (at least one row)."""
        return max(range(len(rows)), key=lambda i: self.probability(rows[i]))

    def shortlist(self, rows: list[list[float]], size: int = SHORTLIST) -> list[int]:
        """The indices of the `size` most likely candidates: those the excerpt reader reads."""
        return sorted(range(len(rows)), key=lambda i: -self.probability(rows[i]))[:size]

    @property
    def judged_when_answering(self) -> int:
        """How many candidates an answer's excerpt judge reads: the shortlist the rerank chooses among,
        or the best alone without a rerank (the learned ranker's head reads only the best's logit)."""
        return SHORTLIST if self.rerank else 1

    def chosen(self, rows: list[list[float]], judged: Sequence[float | None]) -> int:
        """The index of the answer among the candidates the excerpt reader judged (`judged`: its logit
        per row, None where it did not read): the highest of the rerank regression over the combined
        logit and the excerpt reader's; the best by the candidate regression when none was judged."""
        read = [i for i, z in enumerate(judged) if z is not None]
        if not read or not self.rerank:
            return self.best(rows)
        return max(read, key=lambda i: self.rerank_bias + self.rerank[0] * logit(self.probability(rows[i]))
                   + self.rerank[1] * judged[i])

    def question_row(self, rows: list[list[float]], judged: Sequence[float | None]) -> list[float]:
        """The head's inputs from the candidates read for one question (at least one): the chosen
        candidate's combined logit, whether its article names what the question names, whether the
        question asks for a kind of answer, whether the candidate offers one, and the excerpt
        reader's logit for it (`excerpt`; 0 when it was not judged)."""
        at = self.chosen(rows, judged)
        row, excerpt = rows[at], judged[at] if judged[at] is not None else 0.0
        return [logit(self.probability(row)), row[_AT["unmentioned"]], row[_AT["typed"]], row[_AT["fits"]], excerpt]

    def head_logit(self, rows: list[list[float]], judged: Sequence[float | None]) -> float:
        """The answerability head's uncalibrated logit for one question's read candidates."""
        return self.head_bias + sum(w * x for w, x in zip(self.head, self.question_row(rows, judged)))

    def offers_nothing(self, rows: list[list[float]]) -> bool:
        """With `type_check`: the question asks for a kind of answer (a person, a number...) and no
        candidate read offers one (`rag.evidence.offers`)."""
        return self.type_check and bool(rows) and bool(rows[0][_AT["typed"]]) and not any(r[_AT["fits"]] for r in rows)

    def answerability(self, rows: list[list[float]], judged: Sequence[float | None]) -> float:
        """P(the question is answerable), from the candidates read for it (0 when none was read, or
        when none offers the kind of answer asked for, `offers_nothing`) and the excerpt reader's
        logits for those it judged."""
        if not rows or self.offers_nothing(rows):
            return 0.0
        a, b = self.calibration
        return sigmoid(a * self.head_logit(rows, judged) + b)

    def save(self, folder: Path) -> None:
        """Write combiner.json into `folder`."""
        (folder / FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Combiner:
        """The combiner in `folder` (a reader's, or the learned ranker's); ValueError when it does not fit
        today's features or a weight is not a number."""
        raw = json.loads((folder / FILE).read_text(encoding="utf-8"))
        combiner = cls(raw["weights"], raw["bias"], raw.get("head", []), raw.get("head_bias", 0.0),
                       tuple(raw["calibration"]), tuple(raw["features"]), raw.get("rerank", []),
                       raw.get("rerank_bias", 0.0), raw.get("figures", {}), raw.get("type_check", False))
        numbers = [*combiner.weights, combiner.bias, *combiner.head, combiner.head_bias, *combiner.calibration,
                   *combiner.rerank, combiner.rerank_bias]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in numbers) \
                or len(combiner.calibration) != 2 or not isinstance(combiner.type_check, bool):
            raise ValueError(f"{folder / FILE} holds a weight that is not a finite number, or a calibration not of two")
        if combiner.features != FEATURES or len(combiner.weights) != len(FEATURES):
            raise ValueError(f"{folder / FILE} was fitted on features {combiner.features}, not {FEATURES}")
        if len(combiner.head) != len(QUESTION_FEATURES):
            raise ValueError(f"{folder / FILE} has {len(combiner.head)} answerability head weights, not one per "
                             f"{QUESTION_FEATURES}")
        return combiner


def _regression(rows: list[list[float]], labels: list[int], strength: float,
                weights: list[float] | None = None) -> tuple[list[float], float]:
    """Weights and bias of a logistic regression (L2, C=`strength`), rows weighted by `weights`."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=strength, max_iter=2000).fit(rows, labels, sample_weight=weights)
    return [round(float(w), 5) for w in model.coef_[0]], round(float(model.intercept_[0]), 5)


def fit(rows: list[list[float]], labels: list[int], strength: float = 1.0) -> Combiner:
    """The candidate regression over candidate rows; no answerability head yet (`fit_head`)."""
    return Combiner(*_regression(rows, labels, strength))


def fit_rerank(combiner: Combiner, questions: list[list[list[float]]], judged: list[list[float | None]],
               labels: list[list[int]], strength: float = 1.0) -> None:
    """Fit the rerank regression on the judged candidates of questions (their rows, the excerpt
    reader's logits, None where it did not read, and whether each is an evidence sentence)."""
    rows = [[logit(combiner.probability(r)), z] for q, js in zip(questions, judged) for r, z in zip(q, js) if z is not None]
    ys = [y for js, ls in zip(judged, labels) for z, y in zip(js, ls) if z is not None]
    combiner.rerank, combiner.rerank_bias = _regression(rows, ys, strength)


def fit_head(combiner: Combiner, questions: list[list[list[float]]], judged: list[list[float | None]],
             answerable: list[bool], weights: list[float] | None = None, strength: float = 1.0) -> None:
    """Fit the answerability head on questions (each its candidates' rows, at least one, and the
    excerpt reader's logits for those it judged), whether each is answerable, and how much each counts."""
    combiner.head, combiner.head_bias = _regression([combiner.question_row(q, j) for q, j in zip(questions, judged)],
                                                    [int(a) for a in answerable], strength, weights)


def fit_excerpt_weight(combiner: Combiner, questions: list[list[list[float]]], judged: list[list[float | None]],
                       answerable: list[bool], weights: list[float] | None = None) -> None:
    """Weigh an excerpt logit into a head fitted without one: a logistic regression over the head's
    logit and the excerpt logit of its chosen candidate, folded into the head (its weights scaled, the
    excerpt weight set), so the head reads both. For the learned ranker's head, fitted on more
    questions than the excerpt student may be read on (`rag.reader.fit.stack_student`)."""
    rows = [[combiner.head_logit(q, [None] * len(q)), combiner.question_row(q, j)[-1]] for q, j in zip(questions, judged)]
    (scale, excerpt), bias = _regression(rows, [int(a) for a in answerable], 1.0, weights)
    combiner.head = [round(scale * w, 5) for w in combiner.head[:-1]] + [excerpt]
    combiner.head_bias = round(scale * combiner.head_bias + bias, 5)


def calibrate(logits: list[float], answerable: list[bool]) -> tuple[float, float]:
    """Platt scaling of the head's logits into P(answerable)."""
    a, b = _regression([[z] for z in logits], [int(a) for a in answerable], 100.0)
    return a[0], b
