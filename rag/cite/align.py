"""Align answer sentences to the exact source sentences that support them, without asking the model.

Each answer sentence is scored against every candidate source sentence by lexical recall (share of
its content words the source contains) and embedding similarity; the best span is cited, plus a
second one when it covers what the first leaves out (answers that join two articles).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.evidence.rank import similarities
from rag.evidence.sentences import SourceSentence
from rag.text import content_stems

# Set by hand with the first answers. `bench.ablate` (extractive, 444 studied questions): LEXICAL_WEIGHT 0
# or 1, MAX_CITATIONS 3 and SECOND_GAIN_SHARE off change no answer and citations on gold by < 0.001;
# MAX_CITATIONS 1 lowers citations on gold 0.809 -> 0.806. SECOND_CANDIDATES and SECOND_GAIN_WORDS not swept.
LEXICAL_WEIGHT = 0.6  # of the alignment score; the rest is cosine similarity
MAX_CITATIONS = 2  # spans cited for one answer sentence: the best, and one that covers what it misses
SECOND_CANDIDATES = 7  # the next-best spans looked at for that second citation
# the second span must bring this many of the missing content words, or this share of them
SECOND_GAIN_WORDS = 2
SECOND_GAIN_SHARE = 0.5


@dataclass
class Alignment:
    """How well one source sentence supports one answer sentence."""

    source: SourceSentence
    lexical: float
    semantic: float

    @property
    def score(self) -> float:
        """The weighted sum of word overlap and cosine similarity (`LEXICAL_WEIGHT`)."""
        return LEXICAL_WEIGHT * self.lexical + (1 - LEXICAL_WEIGHT) * max(self.semantic, 0.0)


def rank_support(sentence: str, vector: list[float], candidates: list[SourceSentence],
                 vectors: list[list[float]]) -> list[Alignment]:
    """Candidates ordered by how well they support `sentence`, best first."""
    wanted = set(content_stems(sentence))
    ranked = []
    for cand, cosine in zip(candidates, similarities(vector, vectors)):
        lexical = len(wanted & set(content_stems(cand.text))) / len(wanted) if wanted else 0.0
        ranked.append(Alignment(cand, lexical, cosine))
    return sorted(ranked, key=lambda s: -s.score)


def choose_citations(sentence: str, ranked: list[Alignment]) -> list[Alignment]:
    """The best span, plus the next one that covers enough of what it misses (`SECOND_GAIN_*`)."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    missing = set(content_stems(sentence)) - set(content_stems(ranked[0].source.text))
    for other in ranked[1:1 + SECOND_CANDIDATES]:
        if len(chosen) >= MAX_CITATIONS or not missing:
            break
        gain = len(missing & set(content_stems(other.source.text)))
        if gain >= SECOND_GAIN_WORDS or gain / len(missing) >= SECOND_GAIN_SHARE:
            chosen.append(other)
    return chosen
