"""Split documents into sentence-aware chunks sized by the embedding model's tokenizer.

Chunks never cross a block (so `original[start:end]` is the chunk, up to normalisation), never
exceed the model's limit with the embedded title prefix, and overlap by whole sentences. Ids
hash the source, the file's content and the span, so a rebuild yields the same ids.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from typing import Callable

from index.mapped import MappedText
from index.models import Chunk, Document
from index.sentences import sentence_spans
from index.settings import Settings

SPECIAL_TOKENS = 2  # [CLS] and [SEP]


def search_text(title: str | None, text: str, settings: Settings) -> str:
    """What gets embedded and matched: the title as a prefix (when enabled), then the passage."""
    if settings.index.embed_title and title and not text.startswith(title):
        return f"{title}\n{text}"
    return text


def embed_text(chunk: Chunk, settings: Settings) -> str:
    """`search_text` of a chunk."""
    return search_text(chunk.meta.title, chunk.text, settings)


def chunk_id(doc: Document, start: int, end: int, text: str, fingerprint: str) -> str:
    """Stable id from source, file content, span, text, metadata and the index settings: whatever
    changes what is stored or embedded changes the id, so a re-index replaces it."""
    m = doc.meta
    key = "\x00".join([doc.source, doc.sha256, str(start), str(end), text, fingerprint,
                        *(x or "" for x in (m.title, m.publisher, m.date, m.dateline))])
    return hashlib.sha1(key.encode()).hexdigest()[:20]


class Wordpieces:
    """How many of the model's wordpieces lie within any span of one text, from a single
    tokenization of the whole text: wordpieces never cross whitespace, so a span cut at whitespace
    holds exactly the wordpieces its text has on its own."""

    def __init__(self, text: str, spans: Callable[[str], list[tuple[int, int]]]):
        pieces = spans(text)
        self.starts = [a for a, _ in pieces]
        self.ends = [b for _, b in pieces]

    def __call__(self, start: int, end: int) -> int:
        """Wordpieces within text[start:end]."""
        return max(0, bisect_right(self.ends, end) - bisect_left(self.starts, start))


def _split_long(text: str, a: int, b: int, budget: int, count: Wordpieces) -> list[tuple[int, int]]:
    """Cut an over-long sentence at word boundaries into pieces of at most `budget` wordpieces."""
    pieces, start, end = [], a, a
    for word_end in [i for i in range(a + 1, b + 1) if i == b or text[i].isspace()]:
        if end > start and count(start, word_end) > budget:
            pieces.append((start, end))
            start = end + 1 if text[end:end + 1].isspace() else end
        end = word_end
    pieces.append((start, b))
    return [(s, e) for s, e in pieces if e > s]


def pack(text: str, budget: int, overlap: int, count: Wordpieces) -> list[tuple[int, int]]:
    """Greedy sentence packing: [start, end) spans of `text`, each within `budget` wordpieces.

    Sentence counts are summed (wordpieces do not cross spaces), then each span is counted once
    more as a whole and shortened if the sum was optimistic.
    """
    units = []
    for a, b in sentence_spans(text):
        units += [(a, b)] if count(a, b) <= budget else _split_long(text, a, b, budget, count)
    sizes = [count(a, b) for a, b in units]
    spans, first = [], 0
    while first < len(units):
        last, total = first, sizes[first]
        while last + 1 < len(units) and total + sizes[last + 1] <= budget:
            last += 1
            total += sizes[last]
        while last > first and count(units[first][0], units[last][1]) > budget:
            last -= 1
        spans.append((units[first][0], units[last][1]))
        if last + 1 >= len(units):
            break
        first = max(first + 1, last + 1 - overlap)
    return spans


def chunk_document(doc: Document, settings: Settings, spans: Callable[[str], list[tuple[int, int]]],
                   max_tokens: int) -> list[Chunk]:
    """All chunks of a document, in reading order; `spans` gives the [start, end) of each of a
    text's wordpieces (`Embedder.wordpieces`)."""
    title_tokens = len(spans(doc.meta.title)) + 1 if settings.index.embed_title and doc.meta.title else 0
    budget = min(settings.index.chunk_tokens, max_tokens - SPECIAL_TOKENS - title_tokens)
    fingerprint, chunks = settings.index.fingerprint(), []
    for block in doc.blocks:
        for a, b in pack(block.text, budget, settings.index.chunk_overlap_sentences, Wordpieces(block.text, spans)):
            chunks.append(_make_chunk(doc, block, a, b, len(chunks), fingerprint))
    return chunks


def _make_chunk(doc: Document, block: MappedText, a: int, b: int, index: int, fingerprint: str) -> Chunk:
    text = block.text[a:b]
    start, end = block.span(a, b)
    return Chunk(chunk_id(doc, start, end, text, fingerprint), doc.source, text, start, end, index,
                 doc.meta, doc.sha256, doc.path)
