"""The shapes that cross boundaries: the CLI's --json, the UI, the API and the evaluation share them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["supported", "partial", "unsupported"]


class Passage(BaseModel):
    """A retrieved chunk with its exact span in the original article."""

    id: str
    source: str
    title: str = ""
    publisher: str = ""
    date: str = ""
    dateline: str = ""
    text: str
    start: int
    end: int
    score: float = Field(description="Fused retrieval score (reciprocal rank fusion).")
    file: str = Field("", description="Path of the article file, for reading the original text.")
    dense_score: float | None = Field(None, description="Cosine similarity to the question, if dense-retrieved.")
    bm25_score: float | None = Field(None, description="BM25 score, if lexically retrieved.")


class Citation(BaseModel):
    """An exact span of an article that supports a sentence: `original[start:end] == quote`."""

    id: int = Field(description="The [n] number, stable for the whole conversation.")
    source: str
    title: str = ""
    publisher: str = ""
    date: str = ""
    quote: str
    start: int
    end: int
    score: float = Field(description="Alignment score of the sentence to this span, 0..1.")
    supported: bool
    verdict: Verdict
    file: str = Field("", description="Path of the article file.")


class AnswerSentence(BaseModel):
    """One sentence of the answer with its citation numbers and verification verdict."""

    text: str
    citations: list[int] = []
    verdict: Verdict
    support: float = Field(0.0, description="Share of the sentence's content words found in its cited spans.")


class Answer(BaseModel):
    """A complete answer: the shape of `rag ask --json`, the UI's API and the evaluation."""

    id: str | None = None
    question: str
    standalone_question: str = Field("", description="What was searched for: the question itself, or for a follow-up "
                                     "the question resolved with its topic and what the last answer said.")
    answer: str
    refused: bool
    refusal_reason: str | None = None
    mode: str = ""
    drafted_by: str = Field("", description="Who wrote the answer text: the mode's model, or 'extractive' when "
                                            "the model's draft did not answer or was not fully supported by the articles.")
    sentences: list[AnswerSentence] = []
    citations: list[Citation] = []
    passages: list[Passage] = []
    answerability: float = Field(0.0, description="What the refusal threshold is compared with (`rag.evidence.gate`): "
                                 "by default (RAG_RANKER=learned or reader) the calibrated probability, 0 to 1, that the "
                                 "articles answer (`rag.reader.combiner`); with RAG_RANKER=rules the best answer "
                                 "sentence's score.")
    timings_ms: dict[str, float] = {}
    conversation_id: str | None = Field(None, description="The conversation the answer belongs to, where one is "
                                                          "kept (the API's conversations, saved chats).")

    def also_retrieved(self) -> list[Passage]:
        """Retrieved passages that no citation points into."""
        cited = {(c.source, c.start, c.end) for c in self.citations}
        return [p for p in self.passages
                if not any(s == p.source and p.start <= a and b <= p.end for s, a, b in cited)]


class Transcript(BaseModel):
    """A whole conversation, as exported (`rag chat --save`, the UI's export): its answers in order,
    citation numbers stable across them."""

    conversation_id: str
    exported: str = Field(description="When it was exported, ISO 8601 UTC.")
    turns: list[Answer]
