"""Bring the index to exactly the state of a clean build of a folder, doing only the work needed.

Chunk ids are derived from source, content and span, so the wanted set of ids is known before any
embedding: ids in the store but not wanted are deleted (changed or removed files), wanted ids not
in the store are embedded, with each of their sentences, and added (new or changed files).
Because the store itself is the record of what is done, a build killed at any moment is completed
by the next one.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from index.addressed import AddressedDetector
from index.bm25 import BM25Index, fingerprint
from index.chunk import chunk_document, embed_text, search_text
from index.document import build_document
from index.embed import Embedder
from index.load import list_files, read_file
from index.models import Chunk, Document
from index.sentences import split_sentences
from index.settings import Settings
from index.store import Store

log = logging.getLogger(__name__)

BATCH = 64  # chunks embedded and written per step


@dataclass
class BuildReport:
    """What a build did, for the CLI and the UI."""

    files: int = 0
    skipped: list[str] = field(default_factory=list)
    chunks: int = 0
    added: int = 0
    removed: int = 0
    addressed: dict[str, int] = field(default_factory=dict)  # source -> its sentences addressed to an AI


def bm25_dir(settings: Settings) -> Path:
    """Where the BM25 cache for these settings lives."""
    return settings.data_dir / "bm25" / settings.collection_name()


def drop_local_index(settings: Settings) -> None:
    """Delete the embedded Chroma folder (not a server's data) and the BM25 cache."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # chromadb caches open clients by path
    if not settings.chroma_url:
        shutil.rmtree(settings.data_dir / "chroma", ignore_errors=True)
    shutil.rmtree(bm25_dir(settings), ignore_errors=True)


def load_documents(folder: Path, settings: Settings) -> tuple[list[Document], list[str]]:
    """Every readable document in `folder`, and the names of the files skipped."""
    docs, skipped = [], []
    for path in list_files(folder):
        raw = read_file(path, folder, settings.max_file_bytes)
        doc = build_document(raw) if raw else None
        if doc is None or not doc.blocks:
            skipped.append(path.relative_to(folder).as_posix())
            continue
        docs.append(doc)
    return docs, skipped


def build_index(settings: Settings, folder: Path | None = None, embedder: Embedder | None = None,
                progress: bool = True, rebuild: bool = False) -> BuildReport:
    """Index `folder` (default: the corpus folder) incrementally; see the module docstring."""
    folder = Path(folder or settings.corpus_dir)
    if rebuild:
        drop_local_index(settings)
    embedder = embedder or Embedder(settings)
    docs, skipped = load_documents(folder, settings)
    chunks = [c for d in docs for c in chunk_document(d, settings, embedder.count_tokens, embedder.max_tokens)]
    store = Store(settings, create=True)
    if rebuild and settings.chroma_url:
        store.delete(sorted(store.ids()))
    existing = store.ids()
    wanted = {c.id: c for c in chunks}
    new = [c for c in chunks if c.id not in existing]
    _add(store, new, embedder, settings, progress)
    stale = sorted(existing - wanted.keys())
    store.delete(stale)
    if new or stale or store.stamp() != fingerprint(list(wanted)) or not BM25Index.exists(bm25_dir(settings)):
        _write_bm25(store, chunks, settings)
    log.info("indexed %d files: %d chunks, %d added, %d removed", len(docs), len(chunks), len(new), len(stale))
    return BuildReport(len(docs), skipped, len(chunks), len(new), len(stale), store.addressed_per_source())


def _add(store: Store, chunks: list[Chunk], embedder: Embedder, settings: Settings, progress: bool) -> None:
    from tqdm import tqdm

    detector = AddressedDetector()
    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not progress or not chunks) as bar:
        for i in range(0, len(chunks), BATCH):
            batch = chunks[i:i + BATCH]
            sentences = {c.id: split_sentences(c.text) for c in batch}
            texts = [text for group in sentences.values() for text in group]
            vectors = embedder.embed(texts)
            store.add(batch, embedder.embed([embed_text(c, settings) for c in batch]), sentences, vectors,
                      detector.flags(texts, vectors, embedder.embed))
            bar.update(len(batch))


def _write_bm25(store: Store, chunks: list[Chunk], settings: Settings) -> None:
    index = BM25Index.build([c.id for c in chunks], [c.text for c in chunks], [c.metadata() for c in chunks],
                            [embed_text(c, settings) for c in chunks])
    index.save(bm25_dir(settings))
    store.set_stamp(index.fingerprint)


def ensure_bm25(store: Store, settings: Settings) -> BM25Index:
    """The BM25 cache matching the store, rebuilt from the store's records when stale or missing."""
    cached = BM25Index.load(bm25_dir(settings))
    if cached is not None and cached.fingerprint == store.stamp():
        return cached
    log.info("rebuilding the BM25 cache from the store")
    ids, texts, metas = store.records()
    index = BM25Index.build(ids, texts, metas, [search_text(m.get("title"), t, settings) for t, m in zip(texts, metas)])
    index.save(bm25_dir(settings))
    store.set_stamp(index.fingerprint)
    return index
