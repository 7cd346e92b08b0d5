"""Decide whether the retrieved evidence can answer the question at all (calibrated refusal).

Small models answer whatever they are asked, so the decision is made from the evidence: how well
the best sentence answers the question (similarity and IDF-weighted coverage of its words, see
`rag.evidence.rank`), and, for questions that ask for a person, group, place, quantity or time,
whether it names a new one (`rag.evidence.offers`). The threshold is a setting, calibrated on the
evaluation set. (Asking the packaged 0.5B model "do the passages answer this?" was tried: it said
"no" to 14 of 14 answerable questions.) With a combiner (`RAG_RANKER=learned` or `reader`) its
calibrated P(answerable) alone decides, against the ranker's threshold (`AnswerSettings.threshold`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.evidence.rank import Ranked
from rag.kinds import KINDS
from rag.reader.combiner import Combiner

# The answering sentence must score this share of the best-matching one's, or the articles tell only
# the question's premise. Set by hand with the unanswerable questions of eval/qa.jsonl, and the refusal
# threshold recalibrated (0.2) with it. `bench.ablate` (questions right of 444 studied, 345 as shipped):
# off 334, 0.7 339, 0.75 341, 0.85 and 0.9 347 (2 fewer correct, 4 more refused): kept, within two questions.
MIN_MATCH_RATIO = 0.8


@dataclass
class Answerability:
    """The best answer sentence's score (see `rag.evidence.rank.rank_sentences`) and whether it
    supplies an answer of the kind the question asks for.

    Measured on eval/qa.jsonl, coverage and similarity alone separate answerable from unanswerable
    questions only weakly (AUC about 0.67), because the unanswerable ones are on-topic; the type
    check does most of the work and the threshold is set for at most 5% false refusals.
    """

    score: float
    kind: str | None
    type_found: bool  # the best candidate offers the kind asked for (with a combiner: its type check passed)
    best_match: float  # the best score of any sentence, before the type check
    learned: bool = False  # `score` is the combiner's calibrated P(answerable) (its head), which alone decides

    @property
    def premise_only(self) -> bool:
        """The sentence that best matches the question names no answer and only weaker ones do:
        the articles tell the question's premise ("an official told the paper...") but not its
        answer (the official's name)."""
        return self.score < MIN_MATCH_RATIO * self.best_match

    def suffices(self, threshold: float) -> bool:
        """True when the evidence is strong enough; by the rules, also of the asked kind and not premise-only."""
        if self.learned:
            return self.score >= threshold
        return self.score >= threshold and (self.kind is None or self.type_found) and not self.premise_only

    def why_not(self) -> str:
        """The refusal reason, for an answerability that does not answer."""
        if self.kind and not self.type_found:
            return f"no retrieved sentence states {KINDS[self.kind].asked_for}"
        if self.learned:
            return (f"no retrieved sentence answers the question (the articles answer it with probability "
                    f"{self.score:.2f})")
        if self.kind and self.premise_only:
            return f"the sentences about the question do not state {KINDS[self.kind].asked_for}"
        return f"no retrieved sentence answers the question well enough (evidence score {self.score:.2f})"


def answerability(ranked: list[Ranked], kind: str | None, combiner: Combiner | None = None) -> Answerability:
    """How well the ranked sentences answer a question asking for `kind`: with a combiner, its
    answerability head's calibrated P(answerable) over the candidates it described and, for the
    reader's, the excerpt reader's logits for those it judged (`Ranked.judged`)."""
    best = max((r.strength for r in ranked), default=0.0)
    if combiner is not None:
        read = [r for r in ranked if r.features is not None]
        rows = [r.features for r in read]
        score = combiner.answerability(rows, [r.judged for r in read])
        return Answerability(score, kind, not combiner.offers_nothing(rows), best, learned=True)
    return Answerability(ranked[0].score if ranked else 0.0, kind, bool(ranked) and ranked[0].fits, best)
