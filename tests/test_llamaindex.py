"""The llama-index face (rag.llamaindex): nodes with exact spans, engines whose source nodes are the
verified citations, follow-ups in the chat engine, llama-index's own index over our Chroma collection,
and the README's program run offline."""

import ast
import asyncio
import os
import subprocess
import sys

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.schema import TextNode

from index.mapped import normalize_text
from rag.pipeline import Assistant
from rag.llamaindex import (RagChatEngine, RagQueryEngine, RagRetriever, chroma_vector_store, embed_model)
from rag.evidence.retrieve import Filters

from conftest import ROOT, SEEDS

# The README's example (the README must carry it verbatim once it mentions rag.llamaindex).
README_PROGRAM = '''\
from index.settings import Settings
from rag.llamaindex import query_engine

engine = query_engine(Settings())  # the same index and RAG_* settings as `rag ask`
for hit in engine.as_retriever(k=3).retrieve("Who leads Kataib Sayyid al-Shuhada?"):
    print(hit.node.node_id, *(hit.metadata[key] for key in ("source", "start", "end")))
response = engine.query("Who is the secretary-general of Kataib Hezbollah?")
print(response)  # the verified answer with its [n] markers, or the refusal
for node in response.source_nodes:  # one per [n]: the exact span of the article it quotes
    print(*(node.metadata[key] for key in ("citation", "source", "start", "end")), repr(node.text))
'''

# Run before the program: any connection or name lookup off this machine fails.
OFFLINE = '''\
import socket
LOCAL = ("127.0.0.1", "::1", "localhost", None)
def _refuse():
    raise OSError("network disabled by the test")
_connect, _lookup = socket.socket.connect, socket.getaddrinfo
def _local_connect(sock, address):
    return _connect(sock, address) if sock.family == socket.AF_UNIX or address[0] in LOCAL else _refuse()
def _local_lookup(host, *args, **kwargs):
    return _lookup(host, *args, **kwargs) if host in LOCAL else _refuse()
socket.socket.connect, socket.getaddrinfo = _local_connect, _local_lookup
'''

SECRETARY = "Who is the secretary-general of Kataib Hezbollah?"
FOLLOW_UP = "What did he call for regarding the embassy?"


@pytest.fixture(scope="module")
def assistant(seed_settings, retriever):
    return Assistant(seed_settings, retriever=retriever, mode="extractive")


def original(source: str) -> str:
    return (SEEDS / source).read_text(encoding="utf-8")


def assert_nodes_are_citations(nodes, answer):
    """One node per citation, in order, each carrying its span exactly."""
    assert [n.node.node_id for n in nodes] == [f"{c.source}:{c.start}-{c.end}" for c in answer.citations]
    for n, c in zip(nodes, answer.citations):
        m = n.metadata
        assert (m["citation"], m["source"], m["start"], m["end"], m["verdict"]) == (c.id, c.source, c.start, c.end,
                                                                                   c.verdict)
        assert (m["title"], m["publisher"], m["date"], n.score) == (c.title, c.publisher, c.date, c.score)
        assert n.text == c.quote == original(c.source)[m["start"]:m["end"]]


def test_retriever_nodes_are_our_passages_with_metadata_and_exact_offsets(retriever):
    question = "Gulan Media security measures"
    passages = retriever.search(question, k=5)
    nodes = RagRetriever(retriever, k=5).retrieve(question)
    assert [n.node.node_id for n in nodes] == [p.id for p in passages]
    assert [n.score for n in nodes] == [p.score for p in passages]
    for n, p in zip(nodes, passages):
        assert isinstance(n.node, TextNode) and n.text == p.text
        assert {k: n.metadata[k] for k in ("source", "title", "publisher", "date", "start", "end")} == \
            p.model_dump(include={"source", "title", "publisher", "date", "start", "end"})
        assert (n.node.start_char_idx, n.node.end_char_idx) == (p.start, p.end)
        assert normalize_text(original(p.source)[p.start:p.end]) == normalize_text(n.text)
    gulan = next(n for n in nodes if n.metadata["source"].startswith("002"))
    assert gulan.metadata["publisher"] == "Gulan Media" and gulan.metadata["date"] == "2023-12-17"


def test_retriever_applies_filters(retriever):
    only = Filters(sources=["001_6a6cacd864d4e7cd.txt"])
    nodes = RagRetriever(retriever, k=5, filters=only).retrieve("militias attacks")
    assert nodes and {n.metadata["source"] for n in nodes} == {"001_6a6cacd864d4e7cd.txt"}


def test_query_engine_gives_the_verified_answer_and_exactly_its_citations(assistant):
    direct = assistant.ask(SECRETARY)
    response = RagQueryEngine(assistant=assistant).query(SECRETARY)
    assert not direct.refused and "al-Hamidawi" in direct.answer
    assert response.response == direct.answer and str(response) == direct.answer
    assert response.metadata["answer"]["citations"] == [c.model_dump() for c in direct.citations]
    assert response.metadata["answer"]["answer"] == direct.answer
    assert_nodes_are_citations(response.source_nodes, direct)
    assert all(f"[{n.metadata['citation']}]" in response.response for n in response.source_nodes)


def test_a_refusal_has_no_source_nodes(assistant):
    response = RagQueryEngine(assistant=assistant).query("Who won the 2022 football World Cup?")
    assert response.response.startswith("The articles do not answer this question.")
    assert response.source_nodes == [] and response.metadata["answer"]["refused"]
    assert response.metadata["answer"]["passages"]  # the related reading travels in the metadata


def test_chat_engine_answers_a_follow_up_with_the_history(assistant):
    chat = RagChatEngine(assistant)
    first = chat.chat(SECRETARY)
    assert "al-Hamidawi" in first.response and first.source_nodes
    follow = chat.chat(FOLLOW_UP)
    assert "closure of the US embassy" in follow.response
    answer = chat.conversation.last
    assert follow.response == answer.answer and answer.standalone_question != FOLLOW_UP
    assert_nodes_are_citations(follow.source_nodes, answer)
    first_numbers = {n.node.node_id: n.metadata["citation"] for n in first.source_nodes}
    assert all(first_numbers.get(n.node.node_id, n.metadata["citation"]) == n.metadata["citation"]
               for n in follow.source_nodes)  # a span keeps its [n] across turns
    assert [(m.role, m.content) for m in chat.chat_history] == [
        (MessageRole.USER, SECRETARY), (MessageRole.ASSISTANT, first.response),
        (MessageRole.USER, FOLLOW_UP), (MessageRole.ASSISTANT, follow.response)]
    chat.reset()
    assert chat.chat_history == []


def test_chat_engine_takes_a_history_and_streams_the_verified_answer(assistant):
    chat = RagChatEngine(assistant)
    history = [ChatMessage(role=MessageRole.USER, content=SECRETARY),
               ChatMessage(role=MessageRole.ASSISTANT, content="The secretary-general is Abu Hussein al-Hamidawi.")]
    streamed = chat.stream_chat(FOLLOW_UP, chat_history=history)
    text = "".join(streamed.response_gen)
    assert "closure of the US embassy" in text and text == chat.conversation.last.answer
    assert_nodes_are_citations(streamed.source_nodes, chat.conversation.last)
    assert len(chat.chat_history) == 4

    async def stream_again():
        response = await chat.astream_chat(FOLLOW_UP)
        return "".join([piece async for piece in response.async_response_gen()])

    assert asyncio.run(stream_again()) == chat.conversation.last.answer


def test_vector_store_index_over_our_collection_retrieves_our_chunks(seed_settings, retriever, embedder):
    question = "Who leads Kataib Sayyid al-Shuhada?"
    store = chroma_vector_store(seed_settings)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed_model(seed_settings, embedder))
    nodes = index.as_retriever(similarity_top_k=5).retrieve(question)
    assert [n.node.node_id for n in nodes] == list(retriever.dense(question, 5, Filters()))
    for n in nodes:
        meta = n.metadata
        text = retriever.bm25.texts[retriever.position[n.node.node_id]]
        assert n.text == text and {"source", "title", "publisher", "date", "start", "end"} <= set(meta)
        assert normalize_text(original(meta["source"])[meta["start"]:meta["end"]]) == normalize_text(text)
    count = store.client.count()
    with pytest.raises(PermissionError):
        index.insert_nodes([TextNode(text="planted", embedding=[0.0] * 384)])
    with pytest.raises(PermissionError):
        store.delete_nodes([nodes[0].node.node_id])
    assert store.client.count() == count


def test_the_readme_program_runs_offline(seed_settings, assistant, retriever, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if "rag.llamaindex" in readme:
        assert README_PROGRAM in readme
    env = {**os.environ, "RAG_DATA_DIR": str(seed_settings.index.data_dir), "RAG_CORPUS_DIR": str(SEEDS),
           "RAG_GENERATOR": "extractive", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", OFFLINE + README_PROGRAM], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    hits = [line.split() for line in lines[:3]]
    assert [h[0] for h in hits] == [p.id for p in retriever.search("Who leads Kataib Sayyid al-Shuhada?", k=3)]
    answer = assistant.ask(SECRETARY)
    assert lines[3] == answer.answer and "al-Hamidawi" in lines[3]
    cited = [line.split(" ", 4) for line in lines[4:]]
    assert [int(c[0]) for c in cited] == [c.id for c in answer.citations]
    for number, source, start, end, quote in cited:
        assert ast.literal_eval(quote) == original(source)[int(start):int(end)]


def test_the_command_line_does_not_import_llama_index():
    code = "import sys, rag.cli, rag.pipeline; assert not [m for m in sys.modules if m.startswith('llama_index')]"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120).returncode == 0
