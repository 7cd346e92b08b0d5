"""What the UI loads once and shares between sessions: the retriever, the generators, the assistants,
and the conversations its API clients hold."""

from __future__ import annotations

import threading

from index.embed import Embedder
from index.settings import Settings
from rag.pipeline import Assistant
from rag.conversation import Conversations
from rag.llm.generate import make_generator
from rag.evidence.retrieve import Retriever


class Services:
    """Lazily built assistants per generator mode; `reload` after the corpus changes."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = Embedder(settings)
        self.lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._generators: dict[str, object] = {}
        self._assistants: dict[str, Assistant] = {}
        self.conversations = Conversations(settings.conversations_kept)

    @property
    def retriever(self) -> Retriever:
        with self.lock:
            if self._retriever is None:
                self._retriever = Retriever(self.settings, embedder=self.embedder)
            return self._retriever

    def assistant(self, mode: str) -> Assistant:
        """The assistant for a generator mode (the model is loaded on first use, then kept)."""
        retriever = self.retriever
        with self.lock:
            if mode not in self._assistants:
                if mode not in self._generators:
                    self._generators[mode] = make_generator(self.settings, mode)
                self._assistants[mode] = Assistant(self.settings, retriever=retriever,
                                                   generator=self._generators[mode], mode=mode)
            return self._assistants[mode]

    def warm_up(self, mode: str) -> None:
        """Load the index, the embedding model (the retriever embeds one query) and the generator
        now, so the first question does not pay for them."""
        self.assistant(mode)

    def reload(self) -> None:
        """Drop the retriever and assistants so the next question sees the new index."""
        with self.lock:
            self._retriever = None
            self._assistants.clear()

    def articles(self) -> list[list]:
        """[source, title, publisher, date, chunks, sentences addressed to an AI] per indexed article."""
        retriever = self.retriever
        addressed = retriever.store.addressed_per_source()
        rows: dict[str, list] = {}
        for meta in retriever.bm25.metas:
            source = meta["source"]
            row = rows.setdefault(source, [source, meta.get("title", ""), meta.get("publisher", ""),
                                           meta.get("date", ""), 0, addressed.get(source, 0)])
            row[4] += 1
        return sorted(rows.values())
