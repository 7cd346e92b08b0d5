"""The lexical half of hybrid search: BM25 over the chunks, built at index time and updated in place.

News questions are full of names, places and dates, where exact words beat embeddings. The index
keeps each chunk's term counts (a sparse chunks x terms matrix) rather than precomputed scores, so
adding or removing an article touches only that article's rows: the statistics BM25 needs from
the whole corpus (document frequencies, average length) are cheap sums taken at load time. Scores
are Lucene's BM25 (k1 1.5, b 0.75), with bm25s's tokenizer (English stopwords, Snowball stemmer).
The cache sits beside the store and carries the fingerprint of the chunk ids it holds; the store
is stamped with it once a build is complete, so a reader can tell a stale cache from a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

K1, B = 1.5, 0.75  # Lucene's defaults, as bm25s (which this index replaced) used


def fingerprint(ids: list[str]) -> str:
    """Hash of a set of chunk ids."""
    return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stopword-free, stemmed words of each text."""
    import bm25s
    import Stemmer

    logging.getLogger("bm25s").setLevel(logging.ERROR)  # bm25s resets it to DEBUG when imported
    return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False,
                          show_progress=False)


@dataclass
class BM25Index:
    """BM25 over chunk texts, plus each chunk's text and metadata so hits need no store round trip."""

    ids: list[str]
    texts: list[str]
    metas: list[dict]
    terms: dict[str, int]
    counts: object  # scipy.sparse.csr_matrix, chunks x terms, how often each term occurs in each chunk

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict], search_texts: list[str]) -> "BM25Index":
        """Index `search_texts` (what is matched) for chunks `ids` (what is returned)."""
        empty = cls([], [], [], {}, _counts([], {}))
        return empty.updated(set(), ids, texts, metas, search_texts)

    def updated(self, removed: set[str], ids: list[str], texts: list[str], metas: list[dict],
                search_texts: list[str]) -> "BM25Index":
        """A new index without the chunks `removed` and with the chunks `ids` added (only these are
        tokenized; the rest keep their counts)."""
        import scipy.sparse as sp

        keep = [i for i, chunk_id in enumerate(self.ids) if chunk_id not in removed]
        terms = dict(self.terms)
        added = _counts(tokenize(search_texts) if ids else [], terms)
        kept = self.counts[keep]
        kept.resize(len(keep), len(terms))
        return BM25Index([self.ids[i] for i in keep] + list(ids), [self.texts[i] for i in keep] + list(texts),
                         [self.metas[i] for i in keep] + list(metas), terms, sp.vstack([kept, added], format="csr"))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.ids)

    @cached_property
    def _columns(self):
        """Per term: which chunks hold it and how often (CSC), with its inverse document frequency and
        each chunk's length normaliser, computed once per loaded index."""
        columns = self.counts.tocsc()
        n, df = len(self.ids), np.diff(columns.indptr)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.asarray(self.counts.sum(axis=1)).ravel().astype(np.float32)
        norm = K1 * ((1 - B) + B * lengths / max(float(lengths.mean()), 1e-9)) if n else lengths
        return columns, idf, norm

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position, score) of the best `k` chunks with a positive score, ties in chunk-id order."""
        wanted = [self.terms[t] for t in tokenize([query])[0] if t in self.terms]
        if not self.ids or not wanted:
            return []
        columns, idf, norm = self._columns
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term in wanted:
            rows = columns.indices[columns.indptr[term]:columns.indptr[term + 1]]
            tf = columns.data[columns.indptr[term]:columns.indptr[term + 1]].astype(np.float32)
            scores[rows] += idf[term] * tf / (norm[rows] + tf)
        hits = np.flatnonzero(scores > 0)
        best = hits if len(hits) <= k else hits[np.argpartition(-scores[hits], k - 1)[:k]]
        return sorted(((int(i), float(scores[i])) for i in best), key=lambda h: (-h[1], self.ids[h[0]]))[:k]

    def save(self, folder: Path) -> None:
        """Write to `folder` via a temporary sibling, so a crash leaves the old copy or none."""
        import scipy.sparse as sp

        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        sp.save_npz(tmp / "counts.npz", self.counts)
        records = {"ids": self.ids, "texts": self.texts, "metas": self.metas, "terms": list(self.terms)}
        (tmp / "records.json").write_text(json.dumps(records))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    @classmethod
    def load(cls, folder: Path) -> "BM25Index | None":
        """The cached index, or None when it is missing or unreadable."""
        import scipy.sparse as sp

        try:
            records = json.loads((folder / "records.json").read_text())
            counts = sp.load_npz(folder / "counts.npz").tocsr()
            terms = {t: i for i, t in enumerate(records["terms"])}
            if counts.shape != (len(records["ids"]), len(terms)):
                raise ValueError(f"counts of shape {counts.shape} for {len(records['ids'])} chunks")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("BM25 cache at %s not usable (%s)", folder, exc)
            return None
        return cls(records["ids"], records["texts"], records["metas"], terms, counts)


def _counts(docs: list[list[str]], terms: dict[str, int]):
    """Chunks x terms count matrix of tokenized docs; new terms are added to `terms`."""
    import scipy.sparse as sp

    rows, cols = [], []
    for row, tokens in enumerate(docs):
        for token in tokens:
            rows.append(row)
            cols.append(terms.setdefault(token, len(terms)))
    data = np.ones(len(rows), dtype=np.int32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(docs), len(terms)), dtype=np.int32)
