"""The store: incremental rebuilds (chunks, sentences and BM25), a real `chroma run` server, a build
killed with SIGKILL, and a read side that never writes."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import index.bm25
import index.build
from index.bm25 import BM25Index
from index.build import bm25_dir, build_index
from index.errors import IndexStale
from index.sentences import split_sentences
from index.settings import IndexSettings, Settings
from index.store import Store
from rag.evidence.retrieve import Retriever

from conftest import ROOT, SEEDS, free_port
from test_retrieve import QUESTIONS


def copy_seeds(dest: Path, copies: int = 1) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        for p in SEEDS.glob("*.txt"):
            shutil.copy(p, dest / (p.name if i == 0 else f"copy{i}_{p.name}"))
    return dest


def test_incremental_rebuild_touches_only_changed_files(tmp_path, embedder):
    corpus = copy_seeds(tmp_path / "corpus")
    settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=tmp_path / "data"))
    first = build_index(settings, embedder=embedder, progress=False)
    again = build_index(settings, embedder=embedder, progress=False)
    assert (again.added, again.removed, again.chunks) == (0, 0, first.chunks)

    changed = corpus / "001_6a6cacd864d4e7cd.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA new closing paragraph was added.\n", encoding="utf-8")
    (corpus / "002_59b7a95f42f1832c.txt").unlink()
    report = build_index(settings, embedder=embedder, progress=False)
    store = Store(settings)
    sources = {m["source"] for m in store.collection.get(include=["metadatas"])["metadatas"]}
    assert "002_59b7a95f42f1832c.txt" not in sources
    assert 0 < report.added < first.chunks / 2 and report.removed > report.added - 2
    assert len(store.ids()) == report.chunks
    _sentences_match_chunks(store)
    assert Retriever(settings, embedder=embedder).search("A new closing paragraph was added", k=1)[0].source.startswith("001")


def test_an_update_reads_and_tokenizes_only_the_changed_article_and_equals_a_clean_build(tmp_path, embedder,
                                                                                         monkeypatch):
    corpus = copy_seeds(tmp_path / "corpus")
    settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    changed = corpus / "003_6832a546bc2cb8c9.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("drones", "unmanned aircraft"), encoding="utf-8")
    tokenized, tokenize = [], index.bm25.tokenize
    monkeypatch.setattr(index.bm25, "tokenize", lambda texts: tokenized.append(len(texts)) or tokenize(texts))
    read, build_document = [], index.build.build_document
    monkeypatch.setattr(index.build, "build_document", lambda raw: read.append(raw.source) or build_document(raw))
    report = build_index(settings, embedder=embedder, progress=False)
    assert read == [changed.name]  # the unchanged articles' chunk ids come from the BM25 cache
    assert tokenized == [report.added] and 0 < report.added < report.chunks / 2
    clean = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=tmp_path / "clean"))
    build_index(clean, embedder=embedder, progress=False)
    updated, fresh = BM25Index.load(bm25_dir(settings)), BM25Index.load(bm25_dir(clean))
    assert sorted(updated.ids) == sorted(fresh.ids)
    for question in ("unmanned aircraft Iraq", "drones", "Kataib Hezbollah threat US bases", "Erbil airport"):
        assert [(updated.ids[i], round(s, 4)) for i, s in updated.search(question, 10)] == \
            [(fresh.ids[i], round(s, 4)) for i, s in fresh.search(question, 10)], question


def test_an_unreadable_bm25_cache_names_the_fix_and_the_next_build_repairs_it(tmp_path, embedder):
    settings = Settings(index=IndexSettings(corpus_dir=SEEDS, data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    (bm25_dir(settings) / "records.json").write_text("{not json")
    with pytest.raises(IndexStale, match="run `rag index`"):
        Retriever(settings, embedder=embedder)
    assert build_index(settings, embedder=embedder, progress=False).added == 0
    assert Retriever(settings, embedder=embedder).search("Kataib Hezbollah", k=1)


def test_reading_never_writes_a_missing_bm25_cache_names_the_fix(tmp_path, embedder):
    settings = Settings(index=IndexSettings(corpus_dir=SEEDS, data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    shutil.rmtree(bm25_dir(settings))
    with pytest.raises(IndexStale, match="run `rag index`"):
        Retriever(settings, embedder=embedder)
    assert not bm25_dir(settings).exists()
    assert build_index(settings, embedder=embedder, progress=False).added == 0
    assert Retriever(settings, embedder=embedder).search("Kataib Hezbollah", k=1)



@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1, stopped after the test."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path",
                             str(tmp_path / "server")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_chroma_server_index_and_retrieve(chroma_server, tmp_path, embedder):
    settings = Settings(index=IndexSettings(corpus_dir=SEEDS, data_dir=tmp_path / "local", chroma_url=chroma_server))
    report = build_index(settings, embedder=embedder, progress=False)
    assert report.chunks > 20 and report.added == report.chunks
    assert not (tmp_path / "local" / "chroma").exists()  # nothing embedded locally
    retriever = Retriever(settings, embedder=embedder)
    for question, source, phrase in QUESTIONS[:10]:
        assert any(h.source.startswith(source) for h in retriever.search(question, k=3)), question
    assert build_index(settings, embedder=embedder, progress=False).added == 0
    _sentences_match_chunks(Store(settings))


def _state(settings: Settings) -> tuple[list[str], int, list[str]]:
    store = Store(settings)
    return sorted(store.ids()), store.collection.count(), sorted(store.sentences.get(include=[])["ids"])


def _sentences_match_chunks(store: Store) -> None:
    """The sentence collection holds exactly the sentences of the chunks present, nothing orphaned."""
    chunks = store.collection.get(include=["documents"])
    wanted = sorted((i, s) for i, text in zip(chunks["ids"], chunks["documents"]) for s in split_sentences(text))
    stored = store.sentences.get(include=["documents", "metadatas"])
    assert sorted((m["chunk_id"], s) for m, s in zip(stored["metadatas"], stored["documents"])) == wanted


def test_sigkill_during_build_then_rebuild_equals_clean_build(tmp_path, embedder):
    corpus = copy_seeds(tmp_path / "corpus", copies=4)
    clean = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=tmp_path / "clean"))
    build_index(clean, embedder=embedder, progress=False)
    expected = _state(clean)

    data = tmp_path / "killed"
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_CORPUS_DIR": str(corpus)}
    # Kill points: inside the first batch, just after a batch was written, after the last batch.
    for marker, delay in (("embedding", 0.3), ("64/", 0.05), ("100%", 0.0)):
        proc = subprocess.Popen([sys.executable, "-m", "rag", "index"], cwd=ROOT, env=env,
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        _wait_for(proc, marker)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=data))
    report = build_index(killed, embedder=embedder, progress=False)
    assert report.added < report.chunks  # the killed runs had written part of the index
    assert _state(killed) == expected
    _sentences_match_chunks(Store(killed))
    retriever = Retriever(killed, embedder=embedder)
    assert len(retriever.bm25.ids) == expected[1]


def _wait_for(proc: subprocess.Popen, marker: str) -> None:
    """Read the build's progress output until `marker` (or its end, if it finished first)."""
    buffer = ""
    while marker not in buffer:
        ch = proc.stderr.read(1)
        if not ch:
            return
        buffer += ch
