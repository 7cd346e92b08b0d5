"""The evidence stage's entry: for a question read by the question stage, the passages retrieved,
their sentences (planted text held back) with their embeddings, ranked as answers, and how well
they can answer (`rag.evidence.gate`)."""

from __future__ import annotations

from dataclasses import dataclass

from rag.concurrency import side_by_side
from rag.evidence.gate import Answerability, answerability
from rag.evidence.planted import is_instruction_like, planted
from rag.evidence.rank import Idf, Ranked, rank_sentences
from rag.evidence.retrieve import Filters, Retriever
from rag.evidence.sentences import SourceSentence, candidate_sentences
from rag.question.read import Question
from rag.reader.combiner import Combiner
from rag.reader.excerpt_reader import ExcerptReader, excerpt_in
from rag.reader.excerpt_student import ExcerptStudent
from rag.reader.list_ranker import ListRanker
from rag.reader.model import second_segment
from rag.reader.score import Reader
from rag.schema import Passage


@dataclass
class Gathered:
    """Everything retrieval found for one question."""

    question: Question
    passages: list[Passage]
    candidates: list[SourceSentence]
    vectors: list[list[float]]  # one per candidate
    ranked: list[Ranked]
    answerability: Answerability
    addressed: set[str]  # sentences of the passages the index holds back as addressed to an AI (whole or a clause)


class Gatherer:
    """Gathers the evidence for questions from one retriever. `combiner`, when given, turns the best
    candidates' signals into the ranking and the answerability: the cheap signals alone
    (`RAG_RANKER=learned`), or with the scores of the `reader`, which reads them, and the `excerpts`
    reader's judgement of the best (`RAG_RANKER=reader`). `chooser`: the list ranker, which chooses the
    answer among the combiner's best (`RAG_LIST_RANKER`). `describe`: the candidates' features
    without a combiner (fitting one)."""

    def __init__(self, retriever: Retriever, reader: Reader | None = None, combiner: Combiner | None = None,
                 excerpts: ExcerptReader | ExcerptStudent | None = None, describe: bool = False,
                 chooser: ListRanker | None = None):
        if combiner is not None and excerpts is None and combiner.reads_excerpts:
            raise ValueError("the combiner's answerability head reads the excerpt reader's logit: pass `excerpts`")
        self.retriever = retriever
        self.reader = reader
        self.combiner = combiner
        self.excerpts = excerpts
        self.describe = describe
        self.chooser = chooser if combiner is not None else None
        self.idf = Idf(retriever.bm25.texts)

    def gather(self, question: Question, k: int | None = None, filters: Filters | None = None) -> Gathered:
        """Retrieve (within `filters`, when given), split the passages into candidate sentences, rank
        them, judge the evidence."""
        passages = self.retriever.search(question.alone.query, k=k, filters=filters)
        addressed = self.retriever.addressed(passages)
        sentences = candidate_sentences(passages)
        held_back = planted(sentences, addressed)
        candidates = [c for c in sentences if c.key not in held_back and not is_instruction_like(c.text)]
        vectors = self.retriever.sentence_vectors(passages, [c.text for c in candidates])
        q_vector = self.retriever.query_vector(question.alone.reading)
        ranked = rank_sentences(question, q_vector, candidates, vectors, self.idf, self.reader, self.combiner,
                                self.describe)
        if self.chooser is not None:  # the excerpt judge and the list ranker read the combiner's best at once
            _, chosen_first = side_by_side(lambda: self._judge(question, ranked),
                                           lambda: self._chosen_first(question, ranked))
        else:  # the combiner's choice reads the judge's logits
            self._judge(question, ranked)
            chosen_first = self._chosen_first(question, ranked)
        gate = answerability(ranked, question.expected.kind, self.combiner)  # before the list ranker's choice
        # moves first: equally probable candidates (copies of one story) keep the combiner's order
        return Gathered(question, passages, candidates, vectors, chosen_first, gate, addressed)

    def _judge(self, question: Question, ranked: list[Ranked]) -> None:
        """The combiner's shortlist judged by the excerpt reader or student (each its `judged` logit)."""
        read = [r for r in ranked if r.features is not None]
        if self.combiner is None or self.excerpts is None or not read:
            return
        for at in self.combiner.shortlist([r.features for r in read], self.combiner.judged_when_answering):
            s = read[at].sentence
            read[at].judged = self.excerpts.logit(question.alone.reading, s.passage.title,
                                                  excerpt_in(s.paragraph(), s.text))

    def _chosen_first(self, question: Question, ranked: list[Ranked]) -> list[Ranked]:
        """The candidate the combiner (or, with one, the list ranker) chooses among those judged moved
        first: the answer the extractive draft gives. The answerability reads the combiner's choice
        either way."""
        read = [r for r in ranked if r.features is not None]
        if self.combiner is None or not read:
            return ranked
        rows = [r.features for r in read]
        if self.chooser is not None:
            seconds = [second_segment(r.sentence.text, r.sentence.before, r.sentence.passage.title) for r in read]
            chosen = read[self.chooser.choose(question.alone.wording, self.combiner, rows, seconds)]
        else:
            chosen = read[self.combiner.chosen(rows, [r.judged for r in read])]
        return [chosen] + [r for r in ranked if r is not chosen]
