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
    dense_score: float | None = Field(None, description="Cosine similarity to the question, if dense-retrieved.")
    bm25_score: float | None = Field(None, description="BM25 score, if lexically retrieved.")
