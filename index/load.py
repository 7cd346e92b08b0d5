"""Find article files in a folder and decode them safely.

Bad files never stop an index build: binary, empty, oversized or unreadable files are skipped
and non-UTF-8 text is decoded with a fallback; each case is logged with the file's name.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


@dataclass
class RawFile:
    """A decoded file ready for extraction."""

    source: str
    path: Path
    text: str
    sha256: str


def list_files(folder: Path) -> list[Path]:
    """Supported files below `folder`, sorted so builds are deterministic."""
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} does not exist: pass --source DIR or set RAG_CORPUS_DIR")
    files = (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return sorted(p for p in files if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def decode(data: bytes, name: str) -> str | None:
    """Bytes to text: UTF-8 (BOM allowed), else cp1252, else Latin-1; None for binary data."""
    if b"\x00" in data[:8192]:
        log.warning("skipping %s: it looks binary (NUL bytes)", name)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        log.warning("%s is not valid UTF-8: decoded as %s; re-save it as UTF-8 if characters look wrong", name, encoding)
        return text
    return None  # unreachable: Latin-1 decodes any bytes


def read_file(path: Path, folder: Path, max_bytes: int) -> RawFile | None:
    """Read and decode one file, or log why it is skipped and return None."""
    source = path.relative_to(folder).as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.warning("skipping %s: cannot read it (%s)", source, exc)
        return None
    if len(data) > max_bytes:
        log.warning("skipping %s: %d bytes is over the %d-byte limit (RAG_MAX_FILE_BYTES)", source, len(data), max_bytes)
        return None
    text = decode(data, source)
    if text is None:
        return None
    if not text.strip():
        log.warning("skipping %s: it is empty", source)
        return None
    return RawFile(source, path.resolve(), text, hashlib.sha256(data).hexdigest())
