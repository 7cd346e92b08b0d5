"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by weighted reciprocal rank fusion.

Everything heavy (the store, the BM25 cache, the embedding model) is opened once per `Retriever`,
read only (a missing or stale part names the command that rebuilds it); a query costs one
embedding, one Chroma query and one BM25 lookup; the answer's sentence ranking embeds it once more
through the learned query map (`rag.evidence.query_map`) and reads the retrieved passages' sentence
embeddings from the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Collection

from index.build import load_bm25
from index.embed import Embedder
from index.errors import BadQuestion
from index.settings import MAX_TOP_K, Settings
from index.store import Store
from rag.evidence.query_map import QueryMap
from rag.question.read import check_question
from rag.schema import Passage

log = logging.getLogger(__name__)


@dataclass
class Filters:
    """Restrict retrieval to some sources and/or a date range (inclusive, YYYY-MM-DD)."""

    sources: Collection[str] | None = None  # a set is the quick one to test thousands of sources against
    date_from: str | None = None
    date_to: str | None = None

    def chroma_where(self) -> dict | None:
        """The same filters as a Chroma `where` clause."""
        clauses = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.date_from:
            clauses.append({"date_int": {"$gte": _date_int(self.date_from)}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": _date_int(self.date_to)}})
        return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict) -> bool:
        """True when a chunk's metadata passes the filters."""
        date = meta.get("date_int", 0)
        return ((not self.sources or meta.get("source") in self.sources)
                and (not self.date_from or date >= _date_int(self.date_from))
                and (not self.date_to or (date and date <= _date_int(self.date_to))))


def _date_int(iso: str) -> int:
    try:
        return int(iso.replace("-", ""))
    except ValueError:
        raise BadQuestion(f"bad date {iso!r}: use YYYY-MM-DD") from None


def rrf(rankings: list[list[str]], weights: list[float], k: int) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the rankings."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


class Retriever:
    """Answers `search(question)` with the best passages from the index."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.store = Store(settings)
        self.bm25 = load_bm25(self.store, settings)
        self.position = {chunk_id: i for i, chunk_id in enumerate(self.bm25.ids)}
        self.embedder = embedder or Embedder(settings)
        self.query_map = QueryMap.for_settings(settings, self.embedder)
        self.embedder.embed_query("warm up")  # models' load and first-call set-up here, not in a query's timing
        self.query_vector("warm up")

    def query_vector(self, question: str) -> list[float]:
        """The question's embedding through the query map when it is on (`RAG_QUERY_MAP`): what the
        answer sentences' similarity compares with."""
        return self.query_map.vector(question)

    def dense(self, question: str, n: int, filters: Filters) -> dict[str, float]:
        """Chunk id -> cosine similarity for the `n` nearest chunks, by the embedding model's own
        question vector: over all 2,225 BBC articles it put the evidence chunk among the 5 nearest
        for 0.856 of the dev questions, the linear query map for 0.794 and the tuned one for 0.694
        (session 23), for the map learned to tell sentences of one article apart."""
        return self.store.query(self.embedder.embed_query(question), n, filters.chroma_where())

    def lexical(self, question: str, n: int, filters: Filters) -> dict[str, float]:
        """Chunk id -> BM25 score for the best `n` chunks passing the filters."""
        hits = self.bm25.search(question, len(self.bm25.ids) if filters.chroma_where() else n)
        out = {self.bm25.ids[i]: s for i, s in hits if filters.accepts(self.bm25.metas[i])}
        return dict(list(out.items())[:n])

    def search(self, question: str, k: int | None = None, filters: Filters | None = None,
               method: str | None = None) -> list[Passage]:
        """The top `k` passages for `question` by the configured method (hybrid, dense or bm25)."""
        question = check_question(question, self.settings)
        if k and not 1 <= k <= MAX_TOP_K:
            raise BadQuestion(f"{k} passages cannot be retrieved: ask for 1 to {MAX_TOP_K}")
        k, filters, method = k or self.settings.retrieval.top_k, filters or Filters(), method or self.settings.retrieval.method
        n = max(k, self.settings.retrieval.candidates)
        dense = self.dense(question, n, filters) if method in ("hybrid", "dense") else {}
        lexical = self.lexical(question, n, filters) if method in ("hybrid", "bm25") else {}
        fused = rrf([list(dense), list(lexical)], [self.settings.retrieval.dense_weight, self.settings.retrieval.bm25_weight],
                    self.settings.retrieval.rrf_k)
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [self._passage(i, fused[i], dense.get(i), lexical.get(i)) for i in best if i in self.position]

    def sentence_vectors(self, passages: list[Passage], texts: list[str]) -> list[list[float]]:
        """Embeddings of these sentences of the passages: read from the store, where the build put
        them; any sentence the store lacks is embedded now."""
        stored = self.store.sentence_vectors([p.id for p in passages])
        missing = list(dict.fromkeys(t for t in texts if t not in stored))
        if missing:
            log.debug("embedding %d sentences the index does not hold", len(missing))
            stored.update(zip(missing, self.embedder.embed(missing)))
        return [stored[t] for t in texts]

    def addressed(self, passages: list[Passage]) -> set[str]:
        """The sentences of these passages that the index holds back as addressed to an AI, as a whole
        or in a clause (`index.addressed.Mark`)."""
        return {text for _, text in self.store.held_back([p.id for p in passages])}

    def _passage(self, chunk_id: str, score: float, dense: float | None, bm25: float | None) -> Passage:
        pos = self.position[chunk_id]
        meta = self.bm25.metas[pos]
        fields = {key: meta.get(key) for key in ("source", "title", "publisher", "date", "dateline", "start", "end")}
        return Passage(id=chunk_id, text=self.bm25.texts[pos], score=score, dense_score=dense, bm25_score=bm25,
                       file=meta.get("path", ""), **fields)
