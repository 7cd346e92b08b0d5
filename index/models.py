"""Plain data that crosses module boundaries on the ingest side: documents and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.mapped import MappedText


@dataclass
class DocMeta:
    """Metadata stated in an article's text (None where the text does not say)."""

    title: str | None = None
    publisher: str | None = None
    date: str | None = None  # ISO 8601, YYYY-MM-DD
    dateline: str | None = None


@dataclass
class Document:
    """One article: its original text, cleaned blocks and metadata.

    `blocks` are the cleaned pieces of text that are contiguous in the original file (a line
    removed as boilerplate ends a block), so any span inside one block maps back to one
    contiguous span of `original`.
    """

    source: str  # file name relative to the corpus folder
    path: str  # absolute path of the file
    sha256: str  # of the file's bytes
    original: str  # decoded file text; every offset points into it
    blocks: list[MappedText] = field(default_factory=list)
    meta: DocMeta = field(default_factory=DocMeta)

    @property
    def clean_text(self) -> str:
        """The cleaned article, blocks separated by blank lines."""
        return "\n\n".join(b.text for b in self.blocks)


@dataclass
class Chunk:
    """A retrievable passage: cleaned text plus its exact span in the original file."""

    id: str
    source: str
    text: str
    start: int
    end: int
    index: int  # position within its document
    meta: DocMeta
    file_sha256: str
    path: str

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for Chroma (no None values: Chroma rejects them)."""
        m = self.meta
        return {
            "source": self.source, "path": self.path, "file_sha256": self.file_sha256,
            "start": self.start, "end": self.end, "chunk_index": self.index,
            "title": m.title or "", "publisher": m.publisher or "", "date": m.date or "",
            "date_int": int(m.date.replace("-", "")) if m.date else 0, "dateline": m.dateline or "",
        }

