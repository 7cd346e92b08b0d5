"""The lexical half of hybrid search: a BM25 index over the chunks, built at index time and cached.

News questions are full of names, places and dates, where exact words beat embeddings. The cache
sits beside the store and carries the fingerprint of the chunk ids it was built from; a reader
whose fingerprint differs from the store's rebuilds it once, never per query.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


def _bm25s():
    """bm25s, with its logger quietened (it resets the level to DEBUG when imported)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.ERROR)
    return bm25s


def fingerprint(ids: list[str]) -> str:
    """Hash of a set of chunk ids."""
    return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def _tokenize(texts: list[str]):
    import Stemmer

    return _bm25s().tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)


@dataclass
class BM25Index:
    """BM25 over chunk texts, plus each chunk's text and metadata so hits need no store round trip."""

    ids: list[str]
    texts: list[str]
    metas: list[dict]
    model: object  # bm25s.BM25

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict], search_texts: list[str]) -> "BM25Index":
        """Index `search_texts` (what is matched) for chunks `ids` (what is returned)."""
        model = _bm25s().BM25()
        if ids:
            model.index(_tokenize(search_texts), show_progress=False)
        return cls(ids, texts, metas, model)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.ids)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position, score) of the best `k` chunks with a positive score."""
        if not self.ids:
            return []
        tokens = _tokenize([query])
        if not tokens.vocab or not any(tokens.ids):
            return []
        docs, scores = self.model.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def save(self, folder: Path) -> None:
        """Write to `folder` via a temporary sibling, so a crash leaves the old copy or none."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self.model.save(str(tmp / "model"))
        records = {"ids": self.ids, "texts": self.texts, "metas": self.metas}
        (tmp / "records.json").write_text(json.dumps(records))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    @staticmethod
    def exists(folder: Path) -> bool:
        """True when a saved index is at `folder` (a cheap check; `load` reads it)."""
        return (folder / "records.json").is_file()

    @classmethod
    def load(cls, folder: Path) -> "BM25Index | None":
        """The cached index, or None when it is missing or unreadable."""
        bm25s = _bm25s()
        try:
            records = json.loads((folder / "records.json").read_text())
            model = bm25s.BM25.load(str(folder / "model")) if records["ids"] else bm25s.BM25()
        except (OSError, ValueError, KeyError) as exc:
            log.info("BM25 cache at %s not usable (%s); it will be rebuilt", folder, exc)
            return None
        return cls(records["ids"], records["texts"], records["metas"], model)
