"""Build a `Document` from a decoded file: extract, clean, read metadata."""

from __future__ import annotations

from pathlib import Path

from index.clean import clean_lines, to_blocks
from index.extract import extract
from index.load import RawFile
from index.metadata import extract_metadata
from index.models import Document


def build_document(raw: RawFile) -> Document:
    """Cleaned blocks and metadata for one file; offsets stay in `raw.text`."""
    lines, declared = extract(raw.text, Path(raw.source).suffix)
    cleaned = clean_lines(lines)
    kept = [line.text for line in cleaned if line is not None]
    meta = extract_metadata(kept, declared)
    return Document(raw.source, str(raw.path), raw.sha256, raw.text, to_blocks(cleaned), meta)
