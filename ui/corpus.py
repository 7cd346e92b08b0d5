"""The corpus tab's actions: add uploaded articles, remove one, re-index; inputs checked first."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from index.build import build_index
from index.load import SUPPORTED_SUFFIXES
from ui.services import Services

MAX_UPLOAD_BYTES = 2_000_000


class Refused(ValueError):
    """An upload or removal that is not allowed, with the reason to show."""


def safe_name(name: str) -> str:
    """A plain file name for an upload (no folders, no odd characters), or Refused."""
    base = re.sub(r"[^\w.-]", "_", Path(name).name).lstrip(".")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise Refused(f"{Path(name).name}: only {', '.join(SUPPORTED_SUFFIXES)} files can be added")
    return base


def add_files(services: Services, paths: list[str]) -> list[str]:
    """Copy checked uploads into the corpus folder; returns the names added."""
    corpus = Path(services.settings.corpus_dir)
    checked = []
    for path in paths:
        name = safe_name(path)
        if Path(path).stat().st_size > MAX_UPLOAD_BYTES:
            raise Refused(f"{Path(path).name} is over the {MAX_UPLOAD_BYTES // 1_000_000} MB upload limit")
        checked.append((path, name))
    for path, name in checked:
        shutil.copyfile(path, corpus / name)
    return [name for _, name in checked]


def remove_file(services: Services, source: str) -> None:
    """Delete one article file from the corpus folder (only files inside it)."""
    corpus = Path(services.settings.corpus_dir).resolve()
    target = (corpus / source).resolve()
    if corpus not in target.parents or not target.is_file():
        raise Refused(f"{source} is not an article in the corpus")
    target.unlink()


def reindex(services: Services) -> str:
    """Bring the index up to date with the corpus folder and reload the assistants."""
    report = build_index(services.settings, embedder=services.embedder, progress=True)
    services.reload()
    skipped = f"; skipped {', '.join(report.skipped)}" if report.skipped else ""
    flagged = (f" {len(report.addressed)} carry sentences addressed to an AI, kept but never used as evidence: "
               f"{', '.join(report.addressed)}." if report.addressed else "")
    return (f"Indexed {report.files} articles ({report.chunks} chunks, {report.added} new, {report.removed} removed)"
            f"{skipped}.{flagged}")
