"""The corpus folder's articles, added and removed with their inputs checked first: a plain file
name of a supported kind, within the upload limit, and never a path outside the folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from index.load import SUPPORTED_SUFFIXES

MAX_UPLOAD_BYTES = 2_000_000


class UploadRefused(ValueError):
    """An upload or removal that is not allowed, with the reason to show."""


def safe_name(name: str) -> str:
    """A plain file name for an upload (no folders, no odd characters), or UploadRefused."""
    base = re.sub(r"[^\w.-]", "_", Path(name).name).lstrip(".")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UploadRefused(f"{Path(name).name}: only {', '.join(SUPPORTED_SUFFIXES)} files can be added")
    return base


def add_files(corpus_dir: Path, paths: list[str]) -> list[str]:
    """Copy checked uploads into the corpus folder; returns the names added."""
    corpus = Path(corpus_dir)
    checked = []
    for path in paths:
        name = safe_name(path)
        if Path(path).stat().st_size > MAX_UPLOAD_BYTES:
            raise UploadRefused(f"{Path(path).name} is over the {MAX_UPLOAD_BYTES // 1_000_000} MB upload limit")
        checked.append((path, name))
    for path, name in checked:
        shutil.copyfile(path, corpus / name)
    return [name for _, name in checked]


def remove_file(corpus_dir: Path, source: str) -> None:
    """Delete one article file from the corpus folder (only files inside it)."""
    corpus = Path(corpus_dir).resolve()
    target = (corpus / source).resolve()
    if corpus not in target.parents or not target.is_file():
        raise UploadRefused(f"{source} is not an article in the corpus")
    target.unlink()
