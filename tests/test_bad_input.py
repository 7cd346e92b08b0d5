"""Bad input never crashes and never loses data: each case gets one clear message."""

import logging
import shutil
import sys

import pytest

from index.build import build_index
from index.errors import BadQuestion, IndexCorrupt, IndexMissing, StoreUnavailable
from index.settings import IndexSettings, LlmSettings, Settings
from rag.evidence.retrieve import Retriever
from rag.llm.generate import make_generator
from rag.question.read import check_question

from conftest import SEEDS, run_cli


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question_is_refused(question):
    with pytest.raises(BadQuestion, match="empty"):
        check_question(question, Settings())


def test_huge_question_is_refused(retriever):
    with pytest.raises(BadQuestion, match="limit"):
        retriever.search("why " * 5000)


@pytest.mark.parametrize("k", [-1, 51, 10**6])
def test_passages_out_of_range_are_refused(retriever, k):
    with pytest.raises(BadQuestion, match="ask for 1 to 50"):
        retriever.search("Who leads Kataib Hezbollah?", k=k)


def test_unknown_generator_mode_names_the_modes():
    with pytest.raises(BadQuestion, match="no generator mode 'foo': choose one of local, openai, extractive"):
        make_generator(Settings(), "foo")


def test_bad_files_are_skipped_or_decoded_with_a_warning(tmp_path, embedder, caplog):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / "003_6832a546bc2cb8c9.txt", corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_text("   \n\n  ")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (corpus / "latin1.txt").write_bytes("Caf\xe9 owners in Mosul said the caf\xe9 reopened on Tuesday.".encode("latin-1"))
    (corpus / "image.png").write_bytes(b"\x89PNG\r\n")
    settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=tmp_path / "data"))
    with caplog.at_level(logging.WARNING):
        report = build_index(settings, embedder=embedder, progress=False)
    assert sorted(report.skipped) == ["binary.txt", "blank.md", "empty.txt"]
    assert report.files == 2
    messages = caplog.text
    assert "binary.txt" in messages and "empty.txt" in messages and "latin1.txt is not valid UTF-8" in messages
    hit = Retriever(settings, embedder=embedder).search("When did the café in Mosul reopen?", k=1)[0]
    assert hit.source == "latin1.txt" and "café" in hit.text


def test_missing_index_names_the_fix(tmp_path):
    with pytest.raises(IndexMissing, match="rag index"):
        Retriever(Settings(index=IndexSettings(data_dir=tmp_path / "nothing")))


def test_corrupt_index_names_the_fix_and_rebuild_recovers(tmp_path, embedder):
    settings = Settings(index=IndexSettings(corpus_dir=SEEDS, data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    (tmp_path / "data" / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorrupt, match="rag index --rebuild"):
        Retriever(settings, embedder=embedder)
    report = build_index(settings, embedder=embedder, progress=False, rebuild=True)
    assert report.added == report.chunks > 0
    assert Retriever(settings, embedder=embedder).search("Kataib Hezbollah", k=1)


def test_unreachable_server_is_a_clear_message():
    with pytest.raises(StoreUnavailable, match="cannot reach the Chroma server at http://127.0.0.1:9"):
        Retriever(Settings(index=IndexSettings(chroma_url="http://127.0.0.1:9")))


def test_cli_reports_errors_in_one_line(tmp_path):
    empty = run_cli("search", "   ")
    assert empty.returncode == 2 and "question is empty" in empty.stderr and "Traceback" not in empty.stderr
    missing = run_cli("search", "who?", env={"RAG_DATA_DIR": str(tmp_path / "none")})
    assert missing.returncode == 2 and "run `rag index`" in missing.stderr and "Traceback" not in missing.stderr
    server = run_cli("search", "who?", env={"RAG_CHROMA_URL": "http://127.0.0.1:9"})
    assert server.returncode == 2 and "cannot reach the Chroma server" in server.stderr


def test_help_imports_no_heavy_library():
    import subprocess

    code = "import sys, rag.cli; rag.cli.build_parser().format_help(); " \
           "print(sorted(m for m in ('torch', 'chromadb', 'sentence_transformers', 'gradio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unreachable_llm_endpoint_is_a_clear_message(seed_settings, retriever):
    from rag.pipeline import Assistant
    from rag.llm.generate import GeneratorUnavailable

    with pytest.raises(GeneratorUnavailable, match="RAG_OPENAI_BASE_URL"):
        Assistant(seed_settings, retriever=retriever, mode="openai")
    settings = seed_settings.changed(llm={"openai_base_url": "http://127.0.0.1:9/v1", "timeout_s": 5})
    assistant = Assistant(settings, retriever=retriever, mode="openai")
    with pytest.raises(GeneratorUnavailable, match="cannot reach the LLM endpoint at http://127.0.0.1:9/v1"):
        assistant.ask("Who leads Kata'ib Sayyid al-Shuhada?")


def test_wrong_or_missing_model_file_is_refused(tmp_path):
    from rag.llm.model_file import ModelUnavailable, model_file

    with pytest.raises(ModelUnavailable, match="does not exist"):
        model_file(Settings(llm=LlmSettings(gguf_path=tmp_path / "missing.gguf")))
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF not really")
    with pytest.raises(ModelUnavailable, match="does not match RAG_GGUF_SHA256"):
        model_file(Settings(llm=LlmSettings(gguf_path=fake, gguf_sha256="0" * 64)))


def test_missing_spacy_model_names_the_fix(monkeypatch):
    from rag import nlp

    monkeypatch.setattr(nlp, "MODEL_PACKAGE", "no_such_spacy_model_package")
    nlp._pipeline.cache_clear()
    try:
        with pytest.raises(nlp.PipelineUnavailable, match="run scripts/setup"):
            nlp.entities("A sentence no earlier test has tagged, from Basra.")
    finally:
        nlp._pipeline.cache_clear()


def test_entities_from_the_recogniser_alone_are_the_whole_pipelines():
    from rag import nlp

    texts = ["Mr Blair met Gordon Brown in Downing Street on Monday to discuss the £4.3bn plan.",
             "Shares in BMW fell 3% in Frankfurt after the US-led talks with the World Trade Organisation.",
             "The Iraqi National Alliance (INA) said 12 people died in Basra, according to Reuters.",
             "", "\x00\ufffd (()) ---"]
    full = nlp._pipeline()
    for text in texts:
        whole = [(e.text, e.label_, e.start_char) for e in full(text).ents]
        assert [(e.text, e.label_, e.start_char) for e in nlp.recognised(text).ents] == whole


def test_entity_checks_take_empty_and_odd_text():
    from rag.evidence.offers import offers
    from rag.question.focus import focus
    from rag.question.kind import expected

    assert expected("").kind is None and expected("???").kind is None
    assert offers("person", "", focus("Who?", "person")) == set()
    assert offers("group", "\x00\ufffd (()) ---", focus("Which group?", "group")) == set()


def test_relation_checks_and_pronoun_resolution_take_empty_and_odd_text():
    from rag.draft.prompting import sentences_block
    from rag.conversation import Conversation
    from rag.question.follow_up import standalone
    from rag.evidence.offers import reactions, varieties
    from rag.question.focus import counted_nouns, focus, variety_noun

    odd = "\x00\ufffd (()) ---"
    assert counted_nouns("") == frozenset() and counted_nouns("How many?") == frozenset()
    assert variety_noun("") is None and variety_noun("What kind of?") is None
    missiles, iran = focus("What type of missiles?", "variety"), focus("How did Iran respond?", "reaction")
    assert varieties("", missiles) == {""} and varieties(odd, missiles) == {""}
    assert reactions("", iran) == set() and reactions(odd, iran) == set()
    assert reactions(odd, focus("", "reaction")) == {""}
    assert sentences_block([], 8) == ""
    conversation = Conversation()
    conversation.add_exchange("", "")
    assert standalone("What did he say?", conversation).query == "What did he say?"  # an empty turn adds nothing
    assert standalone(odd, conversation).query == odd
    long_question = "What did he say about " + "the war " * 200 + "?"
    conversation.add_exchange("Who is Iraq's Defence Minister?", "Thabit al-Abbasi.")
    assert standalone(long_question, conversation).question.startswith("What did Thabit al-Abbasi say about the war")


def test_back_references_take_empty_and_odd_text():
    from rag.draft.extractive import with_context
    from rag.evidence.rank import back_reference

    assert back_reference("") is None and back_reference("\x00\ufffd (()) ---") is None
    assert back_reference("He added that the talks continue.") == "He"
    assert with_context([], []) == []


def test_train_addressed_without_an_index_where_named_says_what_to_give(tmp_path):
    out = tmp_path / "addressed.json"
    done = run_cli("train-addressed", "--bbc-index", str(tmp_path / "no-index"), "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no embedded index" in done.stderr and "--bbc-index" in done.stderr and not out.exists()
