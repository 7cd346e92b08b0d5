"""Decide whether the retrieved evidence can answer the question at all (calibrated refusal).

Small models answer whatever they are asked, so the decision is made from the evidence: how well
the best sentence answers the question (similarity and IDF-weighted coverage of its words), and,
for questions that ask for a person, group, place, quantity or time, whether it names a new one
(`rag.question.kind`). The threshold is a setting, calibrated on the evaluation set. (Asking the
packaged 0.5B model "do the passages answer this?" was tried: it said "no" to 14 of 14
answerable questions.)
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from rag.text import content_stems

MIN_MATCH_RATIO = 0.8


class Idf:
    """Inverse document frequency of content stems over the indexed chunks."""

    def __init__(self, texts: list[str]):
        self.n = max(len(texts), 1)
        self.df = Counter(stem for text in texts for stem in set(content_stems(text)))

    def __call__(self, stem: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(stem, 0)))


def coverage(question_stems: list[str], text: str, idf: Idf) -> float:
    """IDF-weighted share of the question's content words that `text` contains."""
    wanted = set(question_stems)
    if not wanted:
        return 0.0
    have = set(content_stems(text))
    return sum(idf(s) for s in wanted & have) / sum(idf(s) for s in wanted)


@dataclass
class Evidence:
    """The best answer sentence's score (see `rag.draft.extractive.rank_sentences`) and whether it
    supplies an answer of the kind the question asks for.

    Measured on eval/qa.jsonl, coverage and similarity alone separate answerable from unanswerable
    questions only weakly (AUC about 0.67), because the unanswerable ones are on-topic; the type
    check does most of the work and the threshold is set for at most 5% false refusals.
    """

    score: float
    kind: str | None
    type_found: bool
    best_match: float  # the best score of any sentence, before the type check

    @property
    def premise_only(self) -> bool:
        """The sentence that best matches the question names no answer and only weaker ones do:
        the articles tell the question's premise ("an official told the paper...") but not its
        answer (the official's name)."""
        return self.score < MIN_MATCH_RATIO * self.best_match

    def answers(self, threshold: float) -> bool:
        """True when the evidence is strong enough, of the asked kind, and not premise-only."""
        return self.score >= threshold and (self.kind is None or self.type_found) and not self.premise_only
