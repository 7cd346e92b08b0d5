"""The `extractive` mode: an answer composed of the best supporting source sentences, no model.

Instant, deterministic, and the fallback when no model is available. Sentences are ranked by
similarity to the question and coverage of its rare words; a sentence of the expected kind (a
number for "how many", a day or date for "when") is preferred.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.align import dot
from rag.evidence import SourceSentence
from rag.refuse import Idf, coverage, satisfies
from rag.text import content_stems

SECOND_SOURCE_RATIO = 0.9  # a sentence from another article joins the answer if it scores this close


@dataclass
class Ranked:
    """A candidate sentence and its score as an answer to the question."""

    sentence: SourceSentence
    score: float
    fits: bool  # of the kind the question asks for (a number, a day...)


def rank_sentences(question: str, q_vector: list[float], candidates: list[SourceSentence],
                   vectors: list[list[float]], idf: Idf, kind: str | None) -> list[Ranked]:
    """Candidates ordered by answer score: half similarity, half question coverage, type match first.

    Coverage counts the sentence's title and the sentence before it, so "said the group's
    secretary-general, ..." still covers a question that names the group one sentence earlier.
    """
    stems = content_stems(question)
    ranked = []
    for i, (cand, vec) in enumerate(zip(candidates, vectors)):
        before = candidates[i - 1].text if i and candidates[i - 1].passage.id == cand.passage.id else ""
        context = f"{cand.passage.title}\n{before}\n{cand.text}"
        score = 0.5 * max(dot(q_vector, vec), 0.0) + 0.5 * coverage(stems, context, idf)
        fits = satisfies(kind, cand.text, set(stems))
        ranked.append(Ranked(cand, score if fits else score * 0.6, fits))
    return sorted(ranked, key=lambda r: -r.score)


def compose(ranked: list[Ranked]) -> list[SourceSentence]:
    """The best sentence, plus the best from another article when it scores nearly as well."""
    if not ranked:
        return []
    best = ranked[0]
    chosen = [best.sentence]
    for other in ranked[1:]:
        if other.sentence.source != best.sentence.source and other.score >= SECOND_SOURCE_RATIO * best.score:
            chosen.append(other.sentence)
            break
    return chosen
