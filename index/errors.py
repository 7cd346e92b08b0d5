"""Errors a user can act on: each message says what went wrong and which command fixes it."""


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
