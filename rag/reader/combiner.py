"""The combiner: turns the reader's score and the cheap signals of a candidate sentence into one
probability that it answers the question, and a question's candidates into the answerability.

Three logistic regressions. The candidate regression, over `FEATURES` (computed by the evidence stage,
`rag.evidence.rank`): the reader's scaled logit and its gap to the best candidate's, the cheap
score's similarity and coverage and the share of the best cheap score it reaches, whether the
question asks for a kind of answer and whether the sentence offers one (`rag.evidence.offers`), and
how many things the question names that the sentence's article never does
(`rag.evidence.premise`). The rerank, over its combined logit and the excerpt reader's logit, chooses
the answer among the `SHORTLIST` most probable candidates (the excerpt reader reads only those). The
answerability head, over the question's inputs its `head_features` name (`HEAD_INPUTS`, read by
`Combiner.question_row`): for the reader's, the chosen candidate's probability read beside the
signals whose weight differs between "which sentence answers" and "does any"; for the learned
ranker's, the excerpt student's best logit over the `STUDENT_READS` most probable candidates, the
premise count and whether no candidate offers the kind of answer asked for. The answer-type and
premise checks that were hand-set rules are features here, weighed by the data (measured:
rag/evidence/weights/README.md).

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
# What the answerability head may read of one question's described candidates (`Combiner.question_row`):
# the chosen candidate's combined logit, its article's count of things the question names and it never
# does, whether the question asks for a kind of answer, whether the chosen candidate offers one, the
# excerpt judge's logit for it, the excerpt judge's highest logit over those it read, and whether no
# candidate offers the kind asked for (`offers_none`). Each head names the ones it reads (`head_features`).
HEAD_INPUTS = ("chosen", "unmentioned_chosen", "typed", "fits_chosen", "excerpt", "excerpt_best", "offers_none")
# The reader's head (rag/reader/weights), chosen on the dev split (head AUROC / unanswerable refused where
# 5% of answerable ones are / off-corpus questions over the seeds refused, of 4): its first 4 0.724 / 0.275 /
# 4; adding the second-best candidate's logits, the least unmentioned count, the coverage and the count of
# likely candidates 0.727 / 0.225 / 3 (the best and second-best reader logits weighed as a gap, which an
# off-corpus question also shows). "excerpt": the excerpt reader's logit for the chosen candidate.
READER_HEAD = ("chosen", "unmentioned_chosen", "typed", "fits_chosen", "excerpt")
# The learned ranker's head (rag/evidence/weights), chosen by 5-fold cross-validation over the fit split's
# articles (never trained on by the query map or the excerpt student; session 29, rag/evidence/weights/
# README.md): AUROC / unanswerable refused where 5% of answerable ones are, 0.745 / 0.26, against 0.664 /
# 0.14 for the reader's head with the student's logit: the combined logit ("chosen"), the similarity and the
# coverage each lowered it (they separate Wikipedia's questions from news, not a news question the
# articles do not answer from one they do). The student reading the best 1, 2, 3, 4 or 6: 0.717, 0.734,
# 0.745, 0.751, 0.753 (dev 0.770, 0.785, 0.786, 0.768, 0.756); three, as the list ranker reads.
LEARNED_HEAD = ("excerpt_best", "unmentioned_chosen", "offers_none")
CHEAP_HEAD = ("chosen", "unmentioned_chosen", "offers_none")  # the learned ranker's without the student (--no-student)
STUDENT_READS = 3
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


def offers_none(rows: list[list[float]]) -> bool:
    """The question asks for a kind of answer (a person, a number...) and no candidate described offers
    one (`rag.evidence.offers`)."""
    return bool(rows) and bool(rows[0][_AT["typed"]]) and not any(r[_AT["fits"]] for r in rows)


@dataclass
class Combiner:
    """The fitted weights (one per feature), the bias, and the answerability calibration."""

    weights: list[float]
    bias: float
    head: list[float] = field(default_factory=list)  # the answerability head: one weight per head_features
    head_bias: float = 0.0
    calibration: tuple[float, float] = (1.0, 0.0)  # a, b: P(answerable) = sigmoid(a * head logit + b)
    features: tuple[str, ...] = FEATURES
    rerank: list[float] = field(default_factory=list)  # over (combined logit, excerpt logit); empty: no rerank
    rerank_bias: float = 0.0
    figures: dict = field(default_factory=dict)  # what fitting and calibration measured
    head_features: tuple[str, ...] = READER_HEAD  # what the head reads, of HEAD_INPUTS
    excerpts_read: int = 1  # how many of the most probable candidates the excerpt judge reads for an answer

    @property
    def reads_excerpts(self) -> bool:
        """Whether it weighs an excerpt judge's logit: the excerpt reader's (the reader's combiner) or
        the excerpt student's (the learned ranker's)."""
        return bool(self.rerank) or any(w for name, w in zip(self.head_features, self.head) if name.startswith("excerpt"))

    def probability(self, row: list[float]) -> float:
        """P(this candidate states the answer)."""
        return sigmoid(self.bias + sum(w * x for w, x in zip(self.weights, row)))

    def best(self, rows: list[list[float]]) -> int:
        """The index of the candidate most likely to state the answer (at least one row)."""
        return max(range(len(rows)), key=lambda i: self.probability(rows[i]))

    def shortlist(self, rows: list[list[float]], size: int = SHORTLIST) -> list[int]:
        """The indices of the `size` most likely candidates: those the excerpt reader reads."""
        return sorted(range(len(rows)), key=lambda i: -self.probability(rows[i]))[:size]

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
        """The head's inputs (`head_features`, of HEAD_INPUTS) from the candidates read for one question
        (at least one) and the excerpt judge's logits for those it read (None for the others; an
        excerpt input is 0 when none was read)."""
        at = self.chosen(rows, judged)
        row, read = rows[at], [z for z in judged if z is not None]
        inputs = {"chosen": logit(self.probability(row)), "unmentioned_chosen": row[_AT["unmentioned"]],
                  "typed": row[_AT["typed"]], "fits_chosen": row[_AT["fits"]],
                  "excerpt": judged[at] if judged[at] is not None else 0.0,
                  "excerpt_best": max(read, default=0.0), "offers_none": float(offers_none(rows))}
        return [inputs[name] for name in self.head_features]

    def head_logit(self, rows: list[list[float]], judged: Sequence[float | None]) -> float:
        """The answerability head's uncalibrated logit for one question's read candidates."""
        return self.head_bias + sum(w * x for w, x in zip(self.head, self.question_row(rows, judged)))

    def answerability(self, rows: list[list[float]], judged: Sequence[float | None]) -> float:
        """P(the question is answerable), from the candidates read for it (0 when none was read) and
        the excerpt judge's logits for those it read."""
        if not rows:
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
        if raw.get("type_check") or "head_features" not in raw:
            raise ValueError(f"{folder / FILE} was fitted for a head of session 28 or before (with the answer-type "
                             "refusal, or without head_features): refit it with `rag fit-combiner`")
        combiner = cls(raw["weights"], raw["bias"], raw.get("head", []), raw.get("head_bias", 0.0),
                       tuple(raw["calibration"]), tuple(raw["features"]), raw.get("rerank", []),
                       raw.get("rerank_bias", 0.0), raw.get("figures", {}), tuple(raw["head_features"]),
                       raw.get("excerpts_read", 1))
        numbers = [*combiner.weights, combiner.bias, *combiner.head, combiner.head_bias, *combiner.calibration,
                   *combiner.rerank, combiner.rerank_bias]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in numbers) \
                or len(combiner.calibration) != 2:
            raise ValueError(f"{folder / FILE} holds a weight that is not a finite number, or a calibration not of two")
        if combiner.features != FEATURES or len(combiner.weights) != len(FEATURES):
            raise ValueError(f"{folder / FILE} was fitted on features {combiner.features}, not {FEATURES}")
        if not set(combiner.head_features) <= set(HEAD_INPUTS) or len(combiner.head) != len(combiner.head_features):
            raise ValueError(f"{folder / FILE} has {len(combiner.head)} answerability head weights for inputs "
                             f"{combiner.head_features}, not one per input of {HEAD_INPUTS}")
        if not isinstance(combiner.excerpts_read, int) or isinstance(combiner.excerpts_read, bool) \
                or combiner.excerpts_read < 1:
            raise ValueError(f"{folder / FILE} reads {combiner.excerpts_read!r} excerpts, not a positive count")
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


def calibrate(logits: list[float], answerable: list[bool]) -> tuple[float, float]:
    """Platt scaling of the head's logits into P(answerable)."""
    a, b = _regression([[z] for z in logits], [int(a) for a in answerable], 100.0)
    return a[0], b
