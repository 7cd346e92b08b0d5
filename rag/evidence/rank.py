"""Rank the candidate sentences as answers to the question, in every mode.

The cheap score is half cosine similarity to the question, half IDF-weighted coverage of its
content words, each read with the sentence's title and the sentence before it; a sentence that
offers no answer of the expected type (`rag.question.kind`: a person for "who", a number for "how
many") drops back (`RAG_RANKER=rules`). By default (`RAG_RANKER=learned`) a combiner fitted on news
questions over those same signals (`rag.reader.combiner`) ranks the best candidates by the cheap
score instead; with `RAG_RANKER=reader` the trained reader reads them and its combiner ranks them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from rag.evidence.offers import offers_or_lead
from rag.evidence.premise import unmentioned
from rag.evidence.sentences import SourceSentence, load_document, preceding
from rag.kinds import ROLE_PATTERN
from rag.question.read import Question
from rag.reader.combiner import Combiner, sigmoid
from rag.reader.model import second_segment
from rag.reader.score import Reader
from rag.text import content_stems

TYPE_CHECKED = 12  # only the best candidates are type-checked: named-entity tagging costs ~7 ms a sentence
# on one core (see rag.nlp); a cost bound: 6, 8, 16 and 24 answer the same (`bench.ablate`)
# The reader reads the best candidates by the cheap score (among the type-checked ones, so the combiner
# sees whether each offers an answer). Its cost on 2 cores is ~0.06 s a candidate; refitting the combiner
# with fewer read (`bench.combiner_ablate`, BBC dev, 240 questions): 12 read put the evidence first for
# 0.606 of answerable questions and got 0.496 right at the best threshold, 10 0.594 / 0.492, 8 0.575 /
# 0.496, 6 0.581 / 0.500, 4 0.569 / 0.487. Six cost half of twelve and answer as well.
READ_CANDIDATES = 6
# Score factor for a sentence offering no answer of the expected type. `bench.ablate` (questions right of
# 444 studied, 345 as shipped): 0.4 to 0.8 give 345, off 346 (6 fewer correct, 7 more refused). Deleted on
# that, the unseen qa_blind6 fell 42 -> 41 of 60 right and its answerability AUROC 0.68 -> 0.46: it stays.
OFF_TYPE_PENALTY = 0.6
HEADLINE_FACTOR = 0.85  # a headline sums the story up; the body sentence that says the same is the better answer
# (`bench.ablate`, questions right of 444: 0.7 to 0.9 give 345 as shipped, off 343)
# A back-reference must be the subject of the sentence's opening clause, within this many characters
# (measured with the sentence an answer leans on, `rag.draft.extractive.with_context`; `bench.ablate`:
# 30 and 90 give 345 of 444 as shipped, 0 (no back-references) 336).
SUBJECT_WITHIN = 60
# "He", "They", "The group", "These buildings": a subject that only the sentence before explains
_BACK_REFERENCE = re.compile(r"(?:he|she|they|(?:the|this|these|that|those|such)(?: [a-z]+)?)", re.I)
_PRONOUN_KINDS = {"he": {"PERSON"}, "she": {"PERSON"}, "they": {"PERSON", "ORG", "NORP", "GPE"}}


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


def similarities(vector: list[float], vectors: list[list[float]]) -> list[float]:
    """Cosine similarity of unit vectors: `vector` against each of `vectors`, in one product. Summed
    one by one in Python, these held the interpreter lock for 16% of a loaded server's time
    (py-spy --gil, 20 clients, 2026-12-07), which every answer running beside it waits for."""
    import numpy as np

    if not vectors:
        return []
    return (np.asarray(vectors, dtype=np.float64) @ np.asarray(vector, dtype=np.float64)).tolist()


@dataclass
class Ranked:
    """A candidate sentence, its strength as an answer to the question, and the answers of the
    expected type it offers (empty: none, so it cannot answer)."""

    sentence: SourceSentence
    base: float  # similarity and coverage, before the type check
    probability: float | None = None  # the combiner's (or a lone reader's) when one ranks; 0 for those it did not describe
    offered: set[str] = field(default_factory=set)
    lead: SourceSentence | None = None  # the sentence before, when it holds the asked-for time
    previous: SourceSentence | None = None  # the sentence just before it in its article, when a candidate
    similarity: float = 0.0  # cosine similarity to the question (half the cheap score)
    coverage: float = 0.0  # IDF-weighted coverage of the question's words (the other half)
    features: list[float] | None = None  # the combiner's inputs (`rag.reader.combiner.FEATURES`), when described
    learned: bool = False  # the probability is the combiner's, which already weighs the type check
    judged: float | None = None  # the excerpt reader's logit, for the combiner's shortlist (`rag.evidence.gather`)

    @property
    def strength(self) -> float:
        """The combiner's (or reader's) probability when one ranks, else the cheap score."""
        return self.base if self.probability is None else self.probability

    @property
    def score(self) -> float:
        """The candidate's strength; by the rules, lowered when it offers no answer of the kind asked for."""
        return self.strength if self.fits or self.learned else self.strength * OFF_TYPE_PENALTY

    @property
    def fits(self) -> bool:
        """Whether it offers an answer of the kind the question asks for."""
        return bool(self.offered)

    @cached_property
    def back_reference(self) -> str | None:
        """The sentence's opening subject when only the sentence before can explain it (`back_reference`)."""
        return back_reference(self.sentence.text)

    @cached_property
    def antecedent(self) -> SourceSentence | None:
        """The sentence before this one when this one opens with a back-reference that it explains: a
        person or a role ("a senior official") for "he", a person, group or role for "they", the noun
        itself for "the council" ("...chaired a National Security Council meeting. The council
        reiterated..."). The official introduced three sentences earlier is not explained by the
        sentence just before, which is then no help. The extractive answer and what a model is shown
        both bring it along."""
        from rag.nlp import entities

        reference = self.back_reference if self.previous else None
        if reference is None:
            return None
        kinds = _PRONOUN_KINDS.get(reference.lower())
        if kinds is not None:
            explained = (any(e.label in kinds for e in entities(self.previous.text))
                         or bool(ROLE_PATTERN.search(self.previous.text)))
        else:
            explained = set(content_stems(reference)) <= set(content_stems(self.previous.text))
        return self.previous if explained else None


def back_reference(text: str) -> str | None:
    """The sentence's opening subject when only the sentence before can explain it ("He" in "He
    added that...", "The group" in "The group has linked..."), else None."""
    from rag.nlp import subjects

    found = subjects(text)
    if found and _BACK_REFERENCE.fullmatch(found[0]) and text.find(found[0]) < SUBJECT_WITHIN:
        return found[0]
    return None


def base_score(question_stems: list[str], cosine: float, context: str, idf: Idf) -> tuple[float, float, float]:
    """Half cosine similarity to the question, half IDF-weighted coverage of its words; and the two halves."""
    similarity, covered = max(cosine, 0.0), coverage(question_stems, context, idf)
    return 0.5 * similarity + 0.5 * covered, similarity, covered


def _is_headline(sentence: SourceSentence) -> bool:
    return sentence.text.strip() == (sentence.passage.title or "").strip()


def rank_sentences(question: Question, q_vector: list[float], candidates: list[SourceSentence],
                   vectors: list[list[float]], idf: Idf, reader: Reader | None = None,
                   combiner: Combiner | None = None, describe: bool = False) -> list[Ranked]:
    """Candidates ordered by answer score; those offering no answer of the expected type drop back.

    The cheap score is similarity plus coverage of the words the question asks with
    (`Standalone.wording`), counting the sentence's title and the sentence before it, so "said the
    group's secretary-general, ..." still covers a question that names the group one sentence
    earlier. With a combiner, the READ_CANDIDATES best by the cheap score are described by its
    features and ranked by its probability (`rag.reader.combiner`); the rest drop out (probability
    0). With the reader (`RAG_RANKER=reader`) those are read first, each with its title and the
    sentence before it, and the reader's logit is among the features; without it (`RAG_RANKER=learned`)
    the reader's features are 0. `describe`: the features without a combiner (fitting one).
    """
    wording, kind = question.alone.wording, question.expected.kind
    stems = content_stems(wording)
    ranked = []
    previous = preceding(candidates)
    for cand, cosine in zip(candidates, similarities(q_vector, vectors)):
        before = previous.get(cand.key)
        context = f"{cand.passage.title}\n{before.text if before else ''}\n{cand.text}"
        score, similarity, covered = base_score(stems, cosine, context, idf)
        ranked.append(Ranked(cand, score * HEADLINE_FACTOR if _is_headline(cand) else score, previous=before,
                             similarity=similarity, coverage=covered))
    ranked.sort(key=lambda r: -r.base)
    for r in ranked[:None if kind is None else TYPE_CHECKED]:
        r.offered, r.lead = offers_or_lead(kind, r.sentence, previous, question.focus)
    if reader is not None or combiner is not None or describe:
        _describe(wording, ranked, reader, combiner, typed=kind is not None)
    return sorted(ranked, key=lambda r: -r.score)


def _describe(question: str, ranked: list[Ranked], reader: Reader | None, combiner: Combiner | None,
              typed: bool) -> None:
    """The combiner's features of the best candidates by the cheap score (the reader's logits when
    there is a reader, else 0), and, when a reader or combiner ranks, their probability: the
    combiner's, or without one the reader's own; 0 for the rest."""
    read = ranked[:READ_CANDIDATES]
    if reader is not None:
        logits = reader.logits(question, [second_segment(r.sentence.text, r.sentence.before, r.sentence.passage.title)
                                          for r in read])
    else:
        logits = [0.0] * len(read)
    best_logit, best_base = max(logits, default=0.0), max((r.base for r in ranked), default=0.0)
    missing = _unmentioned_by_article(question, [r.sentence for r in read])
    ranks = reader is not None or combiner is not None
    for r in ranked:
        r.probability = 0.0 if ranks else None
    for r, z in zip(read, logits):
        s = r.sentence
        r.features = [z, z - best_logit, r.similarity, r.coverage, r.base / best_base if best_base else 0.0,
                      float(typed), float(typed and r.fits), float(missing[s.passage.file])]
        r.learned = combiner is not None
        if ranks:
            r.probability = combiner.probability(r.features) if combiner else sigmoid(z)


def _unmentioned_by_article(question: str, sentences: list[SourceSentence]) -> dict[str, int]:
    """Per article file of the sentences: how many things the question names it never does
    (`rag.evidence.premise`); a file no longer readable is judged by the sentence alone."""
    out: dict[str, int] = {}
    for s in sentences:
        if s.passage.file not in out:
            doc = load_document(s.passage.file)
            out[s.passage.file] = unmentioned(question, doc.original if doc else s.text)
    return out
