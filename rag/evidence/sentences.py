"""Source sentences with exact spans in the original article files.

Citations quote the original file, so candidates are rebuilt from the files themselves: the
article is re-cleaned (deterministically, as at index time), each retrieved passage is located in
its block, and every sentence in it gets `original[start:end]` as its quote.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.document import build_document
from index.load import read_file
from index.mapped import MappedText
from index.models import Document
from index.sentences import sentence_spans
from rag.schema import Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceSentence:
    """One sentence of a retrieved passage: cleaned text plus its exact original span."""

    source: str
    text: str  # cleaned
    quote: str  # original[start:end], verbatim
    start: int
    end: int
    passage: Passage
    before: str = ""  # the sentence before it in its article (cleaned), "" at the start of a block

    @property
    def key(self) -> tuple[str, int, int]:
        """(source, start, end): one sentence however many chunks hold it."""
        return self.source, self.start, self.end

    def paragraph(self) -> str:
        """The cleaned text of the paragraph (the article's block) holding this sentence; the sentence
        alone when its file changed since indexing."""
        doc = load_document(self.passage.file)
        located = _block_of(doc, self.start, self.end) if doc else None
        return located[0].text if located else self.text


@lru_cache(maxsize=256)
def _load(path: str, mtime: float) -> Document | None:
    p = Path(path)
    raw = read_file(p, p.parent, max_bytes=1 << 40)
    return build_document(raw) if raw else None


def load_document(path: str) -> Document | None:
    """The cleaned document at `path` (cached while the file is unchanged), or None if unreadable."""
    try:
        return _load(path, Path(path).stat().st_mtime)
    except OSError:
        log.warning("article %s is no longer readable: run `rag index` to refresh the index", path)
        return None


def _block_of(doc: Document, start: int, end: int) -> tuple[MappedText, int, int] | None:
    """The block holding original [start, end), and the slice of its characters that maps inside it
    (a block's spans run in reading order, so both ends are binary searches)."""
    for block in doc.blocks:
        if block.starts and block.starts[0] <= start and block.ends[-1] >= end:
            return block, bisect_left(block.starts, start), bisect_right(block.ends, end)
    return None


def passage_sentences(passage: Passage) -> list[SourceSentence]:
    """The sentences of one passage with exact original spans ([] if the file changed since indexing)."""
    doc = load_document(passage.file)
    located = _block_of(doc, passage.start, passage.end) if doc else None
    if located is None:
        log.warning("%s changed since it was indexed: run `rag index`", passage.source)
        return []
    block, a, b = located
    earlier = sentence_spans(block.text[:a])
    before = block.text[earlier[-1][0]:earlier[-1][1]] if earlier else ""
    out = []
    for s, e in sentence_spans(block.text[a:b]):
        start, end = block.span(a + s, a + e)
        text = block.text[a + s:a + e]
        out.append(SourceSentence(passage.source, text, doc.original[start:end], start, end, passage, before))
        before = text
    return out


def candidate_sentences(passages: list[Passage]) -> list[SourceSentence]:
    """Sentences of all passages, deduplicated by span (overlapping chunks share sentences)."""
    seen, out = set(), []
    for p in passages:
        for sentence in passage_sentences(p):
            if sentence.key not in seen:
                seen.add(sentence.key)
                out.append(sentence)
    return out


def preceding(candidates: list[SourceSentence]) -> dict[tuple[str, int, int], SourceSentence]:
    """Each candidate's sentence just before it in the same article, when that is a candidate too
    (overlapping passages share sentences, so adjacency is by offsets, not by passage)."""
    by_end = {(c.source, c.end): c for c in candidates}
    out = {}
    for c in candidates:
        for gap in range(4):  # sentences are separated by up to 3 characters of whitespace
            if (c.source, c.start - gap) in by_end:
                out[c.key] = by_end[(c.source, c.start - gap)]
                break
    return out
