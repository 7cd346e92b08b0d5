"""Chroma: embedded (PersistentClient) by default, a server (HttpClient) when RAG_CHROMA_URL is set.

Two collections per index: the chunks, and beside them the sentences of every chunk with their own
embeddings (ids `<chunk id>-<n>`), so answering ranks source sentences without embedding them at
question time. A chunk is added after its sentences and deleted after them, so a chunk present
always has its sentences, whatever moment a build is killed at.

Vectors are always passed in, so Chroma's own embedding function (which would try to download a
model) is never used. The collection is used directly: llama-index's `ChromaVectorStore` was
measured here at 4.5 s more import time, ~3.5 ms more per query and twice the stored metadata
(a JSON copy of every node), for no feature we use.
"""

from __future__ import annotations

import logging
from collections import Counter
from urllib.parse import urlparse

from index.addressed import Mark
from index.errors import IndexCorrupt, IndexMissing, StoreUnavailable
from index.models import Chunk
from index.settings import Settings

log = logging.getLogger(__name__)

PAGE = 5000  # ids fetched per `get` call

# The chunks are searched by vector, so their HNSW graph keeps Chroma's defaults. The sentences are
# only ever fetched by chunk id (`get`), never searched, yet Chroma builds a graph over them all the
# same: it is built as cheaply as it can be. 20,000 upserts of 384-d vectors: 21-23 s CPU with the
# defaults (ef_construction 100, max_neighbors 16), 7.8 s with these (2/2 gave no more); the full BBC
# build (`bench.bbc`) went from 1.28x to 1.14x bare chunk embedding, peak RSS 1.23 -> 0.92 GB.
CHUNK_GRAPH = {"space": "cosine"}
SENTENCE_GRAPH = {"space": "cosine", "ef_construction": 8, "max_neighbors": 4}


def connect(settings: Settings):
    """A Chroma client for the settings, or a clear error when it cannot be had."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.index.chroma_url:
        url = urlparse(settings.index.chroma_url)
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises several types for a refused connection
            raise StoreUnavailable(f"cannot reach the Chroma server at {settings.index.chroma_url} ({exc.__class__.__name__}): "
                                   "start it (`chroma run --path DIR --port PORT`) or unset RAG_CHROMA_URL") from None
        return client
    path = settings.index.data_dir / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexCorrupt(f"the index at {path} cannot be opened ({exc}): run `rag index --rebuild`") from None


class Store:
    """The collections that hold the chunks, and their sentences, for one set of index settings."""

    def __init__(self, settings: Settings, create: bool = False):
        self.settings = settings
        self.client = connect(settings)
        self.name = settings.index.collection_name()
        self.collection = self._open(self.name, create, CHUNK_GRAPH)
        self.sentences = self._open(f"{self.name}_sentences", create, SENTENCE_GRAPH)

    def _open(self, name: str, create: bool, graph: dict):
        try:
            if create:
                return self.client.get_or_create_collection(
                    name, configuration={"hnsw": graph}, embedding_function=None)
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if create or "does not exist" not in str(exc).lower():
                raise IndexCorrupt(f"cannot open collection {name} ({exc}): run `rag index --rebuild`") from None
            raise IndexMissing(f"no index for these settings (collection {name}): run `rag index`") from None

    def ids(self) -> set[str]:
        """Every chunk id in the collection."""
        ids, offset = set(), 0
        while True:
            page = self.collection.get(include=[], limit=PAGE, offset=offset)["ids"]
            ids.update(page)
            if len(page) < PAGE:
                return ids
            offset += PAGE

    def add(self, chunks: list[Chunk], vectors: list[list[float]], sentences: dict[str, list[str]],
            sentence_vectors: list[list[float]], marks: list[Mark]) -> None:
        """Upsert chunks with their vectors, after their sentences (chunk id -> texts; vectors and the
        addressed-to-an-AI detector's marks in the same order) with theirs (same id, same content:
        idempotent)."""
        rows = [(f"{chunk}-{n}", chunk, text) for chunk, texts in sentences.items() for n, text in enumerate(texts)]
        source = {c.id: c.source for c in chunks}
        if rows:
            self.sentences.upsert(ids=[i for i, _, _ in rows], embeddings=sentence_vectors,
                                  documents=[text for _, _, text in rows],
                                  metadatas=[{"chunk_id": chunk, "source": source[chunk], "addressed": mark.addressed,
                                              "addressed_p": round(float(mark.probability), 4),
                                              "held_back": mark.held_back}
                                             for (_, chunk, _), mark in zip(rows, marks)])
        self.collection.upsert(ids=[c.id for c in chunks], embeddings=vectors, documents=[c.text for c in chunks],
                               metadatas=[c.metadata() for c in chunks])

    def query(self, vector: list[float], n: int, where: dict | None) -> dict[str, float]:
        """Chunk id -> cosine similarity of the `n` nearest chunks passing `where` (fewer when the
        collection holds fewer: Chroma 1.x answers with what it has, so no count is asked first)."""
        result = self.collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        return {i: 1.0 - d for i, d in zip(result["ids"][0], result["distances"][0])}

    def sentence_vectors(self, chunk_ids: list[str]) -> dict[str, list[float]]:
        """Sentence text -> stored embedding, for the sentences of these chunks."""
        if not chunk_ids:
            return {}
        found = self.sentences.get(where={"chunk_id": {"$in": list(chunk_ids)}}, include=["documents", "embeddings"])
        return {text: list(vector) for text, vector in zip(found["documents"], found["embeddings"])}

    def addressed(self, chunk_ids: list[str] | None = None) -> list[tuple[str, str]]:
        """(source, sentence text) of the sentences marked as addressed to an AI (as a whole), in
        these chunks or in the whole index."""
        return self._marked("addressed", chunk_ids)

    def held_back(self, chunk_ids: list[str]) -> list[tuple[str, str]]:
        """(source, sentence text) of the sentences of these chunks that are never evidence: addressed
        to an AI as a whole or in a clause (`index.addressed.Mark`)."""
        return self._marked("held_back", chunk_ids)

    def _marked(self, mark: str, chunk_ids: list[str] | None) -> list[tuple[str, str]]:
        where: dict = {mark: True}
        if chunk_ids is not None:
            if not chunk_ids:
                return []
            where = {"$and": [where, {"chunk_id": {"$in": list(chunk_ids)}}]}
        found = self.sentences.get(where=where, include=["documents", "metadatas"])
        return [(m.get("source", ""), text) for text, m in zip(found["documents"], found["metadatas"])]

    def flagged(self) -> dict[str, list[tuple[str, float]]]:
        """Article -> its sentences marked as addressed to an AI with the detector's probability, most
        probable first (a sentence that overlapping chunks both hold is listed once)."""
        found = self.sentences.get(where={"addressed": True}, include=["documents", "metadatas"])
        seen = {(m.get("source", ""), text): float(m.get("addressed_p", 1.0))
                for text, m in zip(found["documents"], found["metadatas"])}
        out: dict[str, list[tuple[str, float]]] = {}
        for (source, text), p in sorted(seen.items(), key=lambda item: (item[0][0], -item[1])):
            out.setdefault(source, []).append((text, p))
        return out

    def addressed_per_source(self) -> dict[str, int]:
        """Article -> how many of its sentences are marked as addressed to an AI (a sentence that
        overlapping chunks both hold counts once)."""
        return dict(sorted(Counter(source for source, _ in set(self.addressed())).items()))

    def delete(self, ids: list[str]) -> None:
        """Remove the sentences of chunks, then the chunks (a chunk deleted only in part is still stale
        at the next build, which deletes it again)."""
        for i in range(0, len(ids), PAGE):
            self.sentences.delete(where={"chunk_id": {"$in": ids[i:i + PAGE]}})
            self.collection.delete(ids=ids[i:i + PAGE])

    def stamp(self) -> str:
        """The BM25 fingerprint written after the last complete build ('' if none)."""
        return (self.collection.metadata or {}).get("bm25_fingerprint", "")

    def set_stamp(self, fingerprint: str) -> None:
        """Record that the BM25 cache matching `fingerprint` is complete."""
        self.collection.modify(metadata={"bm25_fingerprint": fingerprint})

