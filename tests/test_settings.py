"""Settings grouped by concern still read the same RAG_* variables, and copies change only what they name."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from index.settings import IndexSettings, Settings


def test_each_group_reads_its_rag_variables(monkeypatch):
    for name, value in {"RAG_TOP_K": "7", "RAG_RETRIEVAL": "bm25", "RAG_GENERATOR": "extractive",
                        "RAG_DATA_DIR": "/tmp/elsewhere", "RAG_LLM_THREADS": "3", "RAG_LLM_EVIDENCE_SENTENCES": "0",
                        "RAG_REFUSAL_THRESHOLD": "0.3", "RAG_CONVERSATIONS_KEPT": "5", "RAG_OPENAI_MODEL": "m",
                        "RAG_LLM_TIMEOUT_S": "9"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("METHOD", "dense")  # a field's own name is no variable
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.method, s.answer.mode) == (7, "bm25", "extractive")
    assert s.index.data_dir == Path("/tmp/elsewhere") and s.answer.refusal_threshold == 0.3
    assert (s.llm.threads, s.llm.evidence_sentences, s.llm.openai_model, s.llm.timeout_s) == (3, 0, "m", 9.0)
    assert s.serve.conversations_kept == 5


def test_unset_variables_give_the_defaults(monkeypatch):
    for name in ("RAG_TOP_K", "RAG_RETRIEVAL", "RAG_GENERATOR", "RAG_CHUNK_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.method, s.answer.mode, s.index.chunk_tokens) == (5, "hybrid", "local", 160)


def test_a_group_given_in_code_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_CORPUS_DIR", "/tmp/nowhere")
    monkeypatch.setenv("RAG_TOP_K", "9")
    s = Settings(index=IndexSettings(corpus_dir=tmp_path))
    assert s.index.corpus_dir == tmp_path and s.retrieval.top_k == 9


def test_changed_copies_and_checks():
    s = Settings()
    t = s.changed(retrieval={"top_k": 3, "method": "dense"}, index={"corpus_dir": "elsewhere"})
    assert (t.retrieval.top_k, t.retrieval.method, t.index.corpus_dir) == (3, "dense", Path("elsewhere"))
    assert (s.retrieval.top_k, s.index.corpus_dir) != (3, Path("elsewhere")) and t.llm == s.llm
    with pytest.raises(ValidationError):
        s.changed(retrieval={"top_k": 0})
    assert t.index.collection_name() == s.index.collection_name()  # what is stored did not change
    assert s.changed(index={"chunk_tokens": 100}).index.collection_name() != s.index.collection_name()


def test_a_flat_field_is_an_error_not_a_silent_default():
    with pytest.raises(ValidationError, match="corpus_dir"):
        Settings(corpus_dir=Path("elsewhere"))


def test_the_cli_offers_the_settings_methods_and_modes():
    from index import settings
    from rag import cli

    assert (cli.METHODS, cli.MODES) == (settings.METHODS, settings.MODES)
