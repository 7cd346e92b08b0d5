"""Errors a user can act on: each message says what went wrong and which command fixes it."""

from __future__ import annotations

import hashlib
from pathlib import Path


class RagError(Exception):
    """Base of every error the CLI and UI show as one clear message instead of a traceback."""


class IndexMissing(RagError):
    """No index has been built for the current settings."""


class IndexStale(RagError):
    """Part of the index (the BM25 cache) is missing or does not match the rest."""


class IndexCorrupt(RagError):
    """The index exists but cannot be read."""


class StoreUnavailable(RagError):
    """The Chroma server cannot be reached."""


class ModelMissing(RagError):
    """A packaged model is not installed."""


class BadQuestion(RagError):
    """The request cannot be answered as sent: the question is empty or too long, or it asks for a
    generator mode that does not exist or a number of passages out of range."""


def detector_file(path: Path, sha256: str | None, reading: str) -> bytes:
    """The bytes of one of the planted-text detector's weights files, checked against the SHA-256
    addressed.json records for it; ModelMissing naming the fix when unreadable or altered."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelMissing(f"the detector's {reading} {path} cannot be read ({exc.strerror}): restore it with "
                           "git checkout index/guard_data, or retrain it with rag train-addressed") from exc
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        raise ModelMissing(f"the detector's {reading} {path} does not match the SHA-256 addressed.json records: "
                           "restore both with git checkout index/guard_data")
    return raw
