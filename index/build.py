"""Bring the index to exactly the state of a clean build of a folder, doing only the work needed.

Chunk ids are derived from source, content and span, so the wanted set of ids is known before any
embedding: ids in the store but not wanted are deleted (changed or removed files), wanted ids not
in the store are embedded, with each of their sentences, and added (new or changed files). A
file whose bytes are unchanged since the last build is not cleaned or chunked again: the BM25 cache
records each chunk's file and its SHA-256, so its chunk ids are known (hence INDEX_FORMAT_VERSION
must change with the cleaning or chunking code). Because the store itself is the record of what is
done, a build killed at any moment is completed by the next one.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.addressed import AddressedDetector
from index.bm25 import BM25Index, fingerprint
from index.chunk import chunk_document, embed_text
from index.document import build_document
from index.embed import Embedder
from index.errors import IndexStale
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
    # source -> (sentence, the detector's probability) of each, most probable first: shown so a user can judge
    flagged: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    threshold: float = 0.0  # the detector's threshold, for saying how sure it is

    @property
    def addressed(self) -> dict[str, int]:
        """Source -> how many of its sentences are addressed to an AI."""
        return {source: len(sentences) for source, sentences in self.flagged.items()}


def bm25_dir(settings: Settings) -> Path:
    """Where the BM25 cache for these settings lives."""
    return settings.index.data_dir / "bm25" / settings.index.collection_name()


def drop_local_index(settings: Settings) -> None:
    """Delete the embedded Chroma folder (not a server's data) and the BM25 cache."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # chromadb caches open clients by path
    if not settings.index.chroma_url:
        shutil.rmtree(settings.index.data_dir / "chroma", ignore_errors=True)
    shutil.rmtree(bm25_dir(settings), ignore_errors=True)


def load_documents(folder: Path, settings: Settings) -> tuple[list[Document], list[str]]:
    """Every readable document in `folder`, and the names of the files skipped."""
    docs, skipped = [], []
    for path in list_files(folder):
        raw = read_file(path, folder, settings.index.max_file_bytes)
        doc = build_document(raw) if raw else None
        if doc is None or not doc.blocks:
            skipped.append(path.relative_to(folder).as_posix())
            continue
        docs.append(doc)
    return docs, skipped


def build_index(settings: Settings, folder: Path | None = None, embedder: Embedder | None = None,
                progress: bool = True, rebuild: bool = False) -> BuildReport:
    """Index `folder` (default: the corpus folder) incrementally; see the module docstring."""
    folder = Path(folder or settings.index.corpus_dir)
    if rebuild:
        drop_local_index(settings)
    embedder = embedder or Embedder(settings)
    store = Store(settings, create=True)
    if rebuild and settings.index.chroma_url:
        store.delete(sorted(store.ids()))
    existing, cached = store.ids(), BM25Index.load(bm25_dir(settings))
    found = _read_folder(folder, settings, embedder, _chunks_by_file(cached, existing))
    new = [c for c in found.chunks if c.id not in existing]
    detector = AddressedDetector()
    _add(store, new, embedder, detector, settings, progress)
    stale = sorted(existing - found.wanted)
    store.delete(stale)
    wanted = fingerprint(list(found.wanted))
    if cached is None or cached.fingerprint != wanted or store.stamp() != wanted:
        _update_bm25(store, cached, found, settings)
    log.info("indexed %d files: %d chunks, %d added, %d removed", found.files, len(found.wanted), len(new), len(stale))
    return BuildReport(found.files, found.skipped, len(found.wanted), len(new), len(stale), store.flagged(),
                       detector.threshold)


@dataclass
class Folder:
    """What a folder holds for the index: the ids of every chunk wanted, and the chunks of the files
    that had to be read anew (new or changed since the last build)."""

    files: int = 0
    skipped: list[str] = field(default_factory=list)
    wanted: set[str] = field(default_factory=set)
    chunks: list[Chunk] = field(default_factory=list)


def _chunks_by_file(cached: BM25Index | None, existing: set[str]) -> dict[tuple[str, str], list[str]]:
    """(source, file SHA-256) -> chunk ids, for the files whose every chunk the BM25 cache and the
    store both hold: an unchanged file's chunk ids (a function of its bytes and the settings) are
    known without cleaning or chunking it again."""
    files: dict[tuple[str, str], list[str]] = {}
    for chunk_id, meta in zip(cached.ids, cached.metas) if cached else ():
        files.setdefault((meta.get("source", ""), meta.get("file_sha256", "")), []).append(chunk_id)
    return {key: ids for key, ids in files.items() if existing.issuperset(ids)}


def _read_folder(folder: Path, settings: Settings, embedder: Embedder,
                 known: dict[tuple[str, str], list[str]]) -> Folder:
    """Every file of `folder`: the known chunk ids of an unchanged one, the chunks of the others."""
    found = Folder()
    for path in list_files(folder):
        raw = read_file(path, folder, settings.index.max_file_bytes)
        if raw and (raw.source, raw.sha256) in known:
            found.files += 1
            found.wanted.update(known[(raw.source, raw.sha256)])
            continue
        doc = build_document(raw) if raw else None
        if doc is None or not doc.blocks:
            found.skipped.append(path.relative_to(folder).as_posix())
            continue
        found.files += 1
        chunks = chunk_document(doc, settings, embedder.wordpieces, embedder.max_tokens)
        found.chunks += chunks
        found.wanted.update(c.id for c in chunks)
    return found


def _add(store: Store, chunks: list[Chunk], embedder: Embedder, detector: AddressedDetector, settings: Settings,
         progress: bool) -> None:
    from tqdm import tqdm

    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not progress or not chunks) as bar:
        for i in range(0, len(chunks), BATCH):
            batch = chunks[i:i + BATCH]
            vectors, sentences, sentence_vectors = _embed(batch, embedder, settings)
            texts = [text for group in sentences.values() for text in group]
            store.add(batch, vectors, sentences, sentence_vectors, detector.marks(texts, sentence_vectors, embedder.embed))
            bar.update(len(batch))


def _embed(chunks: list[Chunk], embedder: Embedder, settings: Settings) \
        -> tuple[list[list[float]], dict[str, list[str]], list[list[float]]]:
    """Chunk vectors, each chunk's sentences (chunk id -> texts) and their vectors in that order.

    Each distinct sentence (and title) goes through the model once, alone; a chunk's vector is the
    mean of the token embeddings of its title and sentences. So the build costs one pass over the
    text instead of two (chunks, then their sentences again), sentences shared by overlapping
    chunks are embedded once, and the sentence vectors are exactly those of sentences embedded alone.
    """
    sentences = {c.id: split_sentences(c.text) for c in chunks}
    parts = {c.id: ([title] if (title := _title_prefix(c, settings)) else []) + sentences[c.id] for c in chunks}
    distinct = list(dict.fromkeys(t for group in parts.values() for t in group))
    units, sums = embedder.embed_with_sums(distinct)
    unit, total = dict(zip(distinct, units)), dict(zip(distinct, sums))
    vectors = [_unit(np.sum([total[t] for t in parts[c.id]], axis=0)) for c in chunks]
    return vectors, sentences, [unit[t] for c in chunks for t in sentences[c.id]]


def _title_prefix(chunk: Chunk, settings: Settings) -> str | None:
    """The title `embed_text` puts before the chunk, if any."""
    text = embed_text(chunk, settings)
    return text[:len(text) - len(chunk.text)].rstrip("\n") or None


def _unit(vector: np.ndarray) -> list[float]:
    return (vector / (np.linalg.norm(vector) or 1.0)).tolist()


def _update_bm25(store: Store, cached: BM25Index | None, found: Folder, settings: Settings) -> None:
    """Bring the BM25 cache to exactly the wanted chunks: drop those no longer wanted, tokenize and
    add the new ones (all of them when there is no readable cache), save it, then stamp the store."""
    index = cached or BM25Index.build([], [], [], [])
    held = set(index.ids)
    new = [c for c in found.chunks if c.id not in held]
    removed = held - found.wanted
    if new or removed:
        index = index.updated(removed, [c.id for c in new], [c.text for c in new], [c.metadata() for c in new],
                              [embed_text(c, settings) for c in new])
    if new or removed or cached is None:
        index.save(bm25_dir(settings))
    store.set_stamp(index.fingerprint)


def load_bm25(store: Store, settings: Settings) -> BM25Index:
    """The BM25 cache matching the store; reading never rebuilds it (only a build writes)."""
    folder = bm25_dir(settings)
    cached = BM25Index.load(folder)
    if cached is None:
        raise IndexStale(f"the BM25 cache at {folder} is missing or unreadable: run `rag index`")
    if cached.fingerprint != store.stamp():
        raise IndexStale(f"the BM25 cache at {folder} does not match the index (a build was interrupted, "
                         "or the index was built on another machine): run `rag index`")
    return cached
