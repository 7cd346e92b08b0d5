"""Generators behind one interface: `local` (llama.cpp in-process) and `openai` (any compatible endpoint).

The `extractive` mode has no generator at all (see `rag.draft.extractive`). Both generators take chat
messages and yield text pieces as they come; `complete` joins them.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from typing import Callable, Iterator, Protocol, TypeVar

from index.errors import BadQuestion, RagError
from index.settings import MODES, Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class GeneratorUnavailable(RagError):
    """The language model cannot be reached or loaded."""


class Generator(Protocol):
    """What the answer pipeline needs from a language model."""

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        """Yield the reply's text as it is generated."""

    def complete(self, messages: list[dict], max_tokens: int) -> str:
        """The whole reply."""


class _Completes:
    def complete(self, messages: list[dict], max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens)).strip()


class LocalGenerator(_Completes):
    """A GGUF model run by llama.cpp (xllamacpp) in this process, greedy decoding."""

    def __init__(self, settings: Settings):
        import xllamacpp

        from rag.llm.model_file import model_file

        params = xllamacpp.CommonParams()
        params.model.path = str(model_file(settings))
        params.n_ctx = settings.llm.context
        params.n_parallel = 1
        params.cpuparams.n_threads = settings.llm.threads
        params.cpuparams_batch.n_threads = settings.llm.threads
        params.warmup = False
        params.verbosity = 0  # llama.cpp logs every request otherwise
        self.server = _built_lowered(lambda: xllamacpp.Server(params), settings.llm.nice)
        self.lock = threading.Lock()  # one generation at a time on a 2-core machine

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        pieces: queue.Queue = queue.Queue()
        request = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True}

        def run() -> None:
            try:
                with self.lock:
                    self.server.handle_chat_completions(request, lambda chunk: pieces.put(_delta(chunk)))
            except Exception as exc:  # surfaced to the reader below
                pieces.put(exc)
            pieces.put(None)

        threading.Thread(target=run, daemon=True).start()
        while (piece := pieces.get()) is not None:
            if isinstance(piece, Exception):
                raise GeneratorUnavailable(f"the local model failed: {piece}") from piece
            if piece:
                yield piece


def _built_lowered(build: Callable[[], T], nice: int) -> T:
    """`build()` run in a thread of its own whose scheduling priority is lowered by `nice`. On Linux
    each thread has its own nice value and the threads it starts inherit it: llama.cpp's compute
    threads, started with its server, then give way to the answers the rest of the process runs,
    while this process's own threads keep their priority (raising it back would need privileges)."""
    made: dict = {}

    def run() -> None:
        if nice and sys.platform.startswith("linux"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
            except OSError as exc:
                log.warning("the local model keeps the process's priority: %s", exc)
        try:
            made["value"] = build()
        except BaseException as exc:  # re-raised in the caller's thread
            made["error"] = exc

    worker = threading.Thread(target=run, name="local-model-load")
    worker.start()
    worker.join()
    if "error" in made:
        raise made["error"]
    return made["value"]


def _delta(chunk: dict) -> str:
    if "error" in chunk:
        return ""
    choices = chunk.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


class OpenAIGenerator(_Completes):
    """Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, a llama.cpp server)."""

    def __init__(self, settings: Settings):
        import openai

        if not settings.llm.openai_base_url:
            raise GeneratorUnavailable("mode openai needs RAG_OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1)")
        self.client = openai.OpenAI(base_url=settings.llm.openai_base_url, api_key=settings.llm.openai_api_key,
                                    timeout=settings.llm.timeout_s, max_retries=1)
        self.model = settings.llm.openai_model
        self.url = settings.llm.openai_base_url

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        import openai

        try:
            for event in self.client.chat.completions.create(model=self.model, messages=messages, stream=True,
                                                             max_tokens=max_tokens, temperature=0):
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content
        except openai.APIConnectionError:
            raise GeneratorUnavailable(f"cannot reach the LLM endpoint at {self.url}: start it or fix "
                                       "RAG_OPENAI_BASE_URL, or use --mode extractive") from None
        except openai.APIStatusError as exc:
            raise GeneratorUnavailable(f"the LLM endpoint at {self.url} answered {exc.status_code}: {exc.message}") from None


def make_generator(settings: Settings, mode: str | None = None) -> Generator | None:
    """The generator for `mode` (default: the settings'); None for extractive."""
    mode = mode or settings.answer.mode
    if mode not in MODES:
        raise BadQuestion(f"there is no generator mode {mode!r}: choose one of {', '.join(MODES)}")
    if mode == "extractive":
        return None
    return LocalGenerator(settings) if mode == "local" else OpenAIGenerator(settings)
