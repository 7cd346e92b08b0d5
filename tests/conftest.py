"""Shared fixtures: real parts only (the packaged embedding model, a real Chroma, the seed corpus)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from index.embed import Embedder  # noqa: E402
from index.settings import IndexSettings, Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
OUT = ROOT / "tests" / "out"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """One loaded embedding model for the whole session."""
    e = Embedder(Settings())
    e.model  # noqa: B018  (load now, not inside a timed step)
    return e


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory, embedder) -> Settings:
    """Settings whose data dir holds a fresh index of the seeds."""
    from index.build import build_index

    settings = Settings(index=IndexSettings(corpus_dir=SEEDS, data_dir=tmp_path_factory.mktemp("seed-index")))
    build_index(settings, embedder=embedder, progress=False)
    return settings


@pytest.fixture(scope="session")
def retriever(seed_settings, embedder):
    """A retriever over the seed index."""
    from rag.evidence.retrieve import Retriever

    return Retriever(seed_settings, embedder=embedder)


def free_port() -> int:
    """An unused port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, env: dict | None = None, timeout: int = 300, stdin: str | None = None
            ) -> subprocess.CompletedProcess:
    """Run `python -m rag ARGS` in a subprocess, as a user would (typing `stdin`, if given)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout, input=stdin)
