"""The llama-index face of the product: our retrieval, cited answers and conversations as llama-index parts.

What: `RagRetriever` (a `BaseRetriever` over the library's `Retriever`), `RagQueryEngine` and
`RagChatEngine` (over its `Assistant`, `rag.pipeline`), `RagEmbedding` (a `BaseEmbedding` over our packaged
embedder) and `chroma_vector_store` (a read-only `ChromaVectorStore` over our chunk collection), each
made from `Settings` by `retriever`, `query_engine`, `chat_engine`, `embed_model`.

Why: code written against llama-index can use the product without learning its API, and gets what
the product guarantees rather than a re-implementation: every node carries its article's source,
title, publisher, date and exact character span; an engine's `source_nodes` are exactly the
answer's verified citations (the text of each is `original[start:end]`); a refusal has none. The
answer is ours (retrieval, generation, alignment, verification); llama-index only carries it, so no
llama-index LLM, prompt or synthesizer is involved and nothing is downloaded.

Importing this module costs llama-index's import time (seconds): nothing on the `rag` command's or
the UI's start-up path imports it.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import Response
from llama_index.core.chat_engine.types import AgentChatResponse, BaseChatEngine, StreamingAgentChatResponse
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import PrivateAttr

from rag.pipeline import Assistant, Conversation, Embedder, Filters, Retriever, Settings, Store
from rag.schema import Answer, Citation, Passage

# Metadata an LLM reading a node's content (MetadataMode.LLM / EMBED) does not need to see.
_HIDDEN = ["start", "end", "citation", "verdict", "file"]


def passage_node(passage: Passage) -> NodeWithScore:
    """A retrieved passage as a scored node: id = our chunk id, text = the chunk's (cleaned) text,
    metadata = source, title, publisher, date, dateline and its span [start:end] in the article."""
    meta = passage.model_dump(include={"source", "title", "publisher", "date", "dateline", "start", "end"})
    node = TextNode(id_=passage.id, text=passage.text, metadata=meta, start_char_idx=passage.start,
                    end_char_idx=passage.end, excluded_llm_metadata_keys=_HIDDEN,
                    excluded_embed_metadata_keys=_HIDDEN)
    return NodeWithScore(node=node, score=passage.score)


def citation_node(citation: Citation) -> NodeWithScore:
    """A citation as a scored node: text = the quoted span, exactly `original[start:end]`; id = the span
    (`source:start-end`), the same across answers; score = the alignment score."""
    meta = citation.model_dump(include={"source", "title", "publisher", "date", "start", "end", "verdict", "file"})
    node = TextNode(id_=f"{citation.source}:{citation.start}-{citation.end}", text=citation.quote,
                    metadata={**meta, "citation": citation.id}, start_char_idx=citation.start,
                    end_char_idx=citation.end, excluded_llm_metadata_keys=_HIDDEN,
                    excluded_embed_metadata_keys=_HIDDEN)
    return NodeWithScore(node=node, score=citation.score)


def cited_nodes(answer: Answer) -> list[NodeWithScore]:
    """One node per citation of the answer, in [n] order; none for a refusal."""
    return [citation_node(c) for c in answer.citations]


class RagRetriever(BaseRetriever):
    """Our hybrid retrieval as a llama-index retriever: `retrieve(question)` gives the passages of
    `Retriever.search` as nodes (see `passage_node`), best first, scored by fused rank."""

    def __init__(self, retriever: Retriever, k: int | None = None, filters: Filters | None = None,
                 method: str | None = None):
        super().__init__()
        self.retriever, self.k, self.filters, self.method = retriever, k, filters, method

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self.retriever.search(query_bundle.query_str, k=self.k, filters=self.filters, method=self.method)
        return [passage_node(p) for p in passages]


class RagQueryEngine(CustomQueryEngine):
    """Our cited answers as a llama-index query engine: `query(question)` gives a `Response` whose
    text is the verified answer with its [n] markers (or the refusal), whose `source_nodes` are its
    citations (see `citation_node`) and whose `metadata["answer"]` is the whole Answer as a dict.
    Each query stands alone; `RagChatEngine` keeps a conversation."""

    assistant: Assistant

    def custom_query(self, query_str: str) -> Response:
        """Answer one question."""
        return answer_response(self.assistant.ask(query_str))

    def as_retriever(self, k: int | None = None, filters: Filters | None = None) -> RagRetriever:
        """A retriever over the same loaded index and model."""
        return RagRetriever(self.assistant.retriever, k=k, filters=filters)


def answer_response(answer: Answer) -> Response:
    """An Answer as a llama-index Response."""
    return Response(response=answer.answer, source_nodes=cited_nodes(answer),
                    metadata={"answer": answer.model_dump(mode="json")})


class RagChatEngine(BaseChatEngine):
    """Our conversations as a llama-index chat engine: follow-ups are resolved with the history
    ("What did he call for?") and [n] numbers hold across turns, as in `rag chat`.

    A `chat_history` passed to a call replaces the conversation with those user/assistant turns (as
    text: their citations are not known, so numbering starts afresh). Streaming yields the final,
    verified answer as one piece: the draft a model streams is not what is finally shown (markers,
    [unsupported] marks, or the extractive answer in its place)."""

    def __init__(self, assistant: Assistant, conversation: Conversation | None = None):
        self.assistant = assistant
        self.conversation = conversation if conversation is not None else Conversation()

    def chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        """Answer the next turn of the conversation."""
        if chat_history is not None:
            self.conversation = conversation_from(chat_history)
        with self.conversation.lock:
            answer = self.assistant.ask(message, self.conversation)
        return AgentChatResponse(response=answer.answer, source_nodes=cited_nodes(answer),
                                 metadata={"answer": answer.model_dump(mode="json")})

    def stream_chat(self, message: str, chat_history: list[ChatMessage] | None = None
                    ) -> StreamingAgentChatResponse:
        """`chat`, its verified answer streamed as one piece."""
        done = self.chat(message, chat_history)
        piece = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=done.response),
                             delta=done.response)
        return StreamingAgentChatResponse(response=done.response, chat_stream=iter([piece]),
                                          source_nodes=done.source_nodes, is_writing_to_memory=False)

    async def achat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        """`chat` (answering is CPU-bound and runs in the caller's thread)."""
        return self.chat(message, chat_history)

    async def astream_chat(self, message: str, chat_history: list[ChatMessage] | None = None
                           ) -> StreamingAgentChatResponse:
        """`stream_chat`, whose response also streams with `async_response_gen`."""
        streaming = self.stream_chat(message, chat_history)
        streaming.achat_stream = _async_iter(list(streaming.chat_stream or []))
        return streaming

    def reset(self) -> None:
        """Start a new conversation."""
        self.conversation = Conversation()

    @property
    def chat_history(self) -> list[ChatMessage]:
        """The conversation so far: per turn, the question asked and the answer given (with markers)."""
        return [message for answer in self.conversation.answers for message in (
            ChatMessage(role=MessageRole.USER, content=answer.question),
            ChatMessage(role=MessageRole.ASSISTANT, content=answer.answer))]


def conversation_from(history: list[ChatMessage]) -> Conversation:
    """A conversation holding the user/assistant turns of a llama-index chat history, as text."""
    return Conversation.from_turns((message.role.value, message.content or "") for message in history)


async def _async_iter(items: list[Any]):
    for item in items:
        yield item


class RagEmbedding(BaseEmbedding):
    """Our packaged all-MiniLM-L6-v2 as a llama-index embedding model (unit vectors, offline).

    Queries embed exactly as our dense retrieval embeds them (the query map serves only the
    answer sentences' ranking, `rag.evidence.retrieve.Retriever.dense`). Stored chunks were embedded
    with their article's title in front (`index.chunk.search_text`), which `get_text_embedding`
    cannot know: it embeds the text as given."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any):
        super().__init__(model_name=str(embedder.path.name), **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        """The name llama-index serialises this class under."""
        return "RagEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_query(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts)


class ReadOnlyChromaVectorStore(ChromaVectorStore):
    """`ChromaVectorStore` over our chunk collection that refuses writes: the index is built by
    `rag index` alone (it keeps each chunk's sentences, the BM25 cache and its own bookkeeping in
    step, and embeds chunks with their title), so a node inserted or deleted through llama-index
    would leave the index inconsistent."""

    def add(self, nodes: Any, **kwargs: Any) -> list[str]:
        """Refused: run `rag index` to add articles."""
        raise PermissionError("this vector store is read-only: add articles to the corpus and run `rag index`")

    def delete(self, ref_doc_id: str, **kwargs: Any) -> None:
        """Refused: run `rag index` after removing the article."""
        raise PermissionError("this vector store is read-only: remove the article and run `rag index`")

    def delete_nodes(self, node_ids: Any = None, filters: Any = None, **kwargs: Any) -> None:
        """Refused, as `delete`."""
        self.delete("")

    def clear(self) -> None:
        """Refused, as `delete`."""
        self.delete("")


def chroma_vector_store(settings: Settings) -> ReadOnlyChromaVectorStore:
    """A read-only llama-index vector store over our existing chunk collection (embedded or
    `RAG_CHROMA_URL`). Our stored metadata has no `_node_content`, so llama-index reads it by its
    legacy path: node id = chunk id, metadata = our flat fields (source, title, start, end, ...)."""
    return ReadOnlyChromaVectorStore(chroma_collection=Store(settings).collection)


def embed_model(settings: Settings, embedder: Embedder | None = None) -> RagEmbedding:
    """The embedding model to hand llama-index with `chroma_vector_store`, so queries embed like ours."""
    return RagEmbedding(embedder or Embedder(settings))


def retriever(settings: Settings, k: int | None = None, filters: Filters | None = None,
              method: str | None = None) -> RagRetriever:
    """A llama-index retriever over the index these settings name."""
    return RagRetriever(Retriever(settings), k=k, filters=filters, method=method)


def query_engine(settings: Settings, mode: str | None = None) -> RagQueryEngine:
    """A llama-index query engine answering with `mode` (default: the settings' mode, RAG_GENERATOR)."""
    return RagQueryEngine(assistant=Assistant(settings, mode=mode))


def chat_engine(settings: Settings, mode: str | None = None) -> RagChatEngine:
    """A llama-index chat engine holding one conversation, answering with `mode`."""
    return RagChatEngine(Assistant(settings, mode=mode))
