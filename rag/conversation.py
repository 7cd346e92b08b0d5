"""Conversations: the answers given so far, citation numbers stable across turns, and the server's
conversations kept by id for its API clients."""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable

from index.errors import RagError
from rag.concurrency import TurnLock
from rag.schema import Answer


@dataclass
class Conversation:
    """One user's conversation; the [n] number of a span is fixed at its first citation.

    `resolved` holds, per turn, the question with what it referred to resolved ("What did Abu Hussein
    al-Hamidawi demand?" for "What did he demand?"), for the next follow-up to lean on."""

    answers: list[Answer] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    lock: TurnLock = field(default_factory=TurnLock, repr=False, compare=False)  # its turns, in order

    def number(self, key: tuple[str, int, int]) -> int:
        """The citation number of a span, assigned on first appearance."""
        if key not in self.numbers:
            self.numbers[key] = len(self.numbers) + 1
        return self.numbers[key]

    def add(self, answer: Answer, resolved: str | None = None) -> None:
        """Record a finished turn (with its question resolved, when it was a follow-up)."""
        self.answers.append(answer)
        self.resolved.append(resolved or answer.question)

    def add_exchange(self, question: str, answer: str) -> None:
        """Record a turn given as text (a history handed in by an evaluation set or a client)."""
        self.add(Answer(question=question, standalone_question=question, answer=answer, refused=False))

    @classmethod
    def from_turns(cls, turns: Iterable[tuple[str, str]]) -> Conversation:
        """A conversation holding a history given as (role, text) turns: each "user" turn with the
        "assistant" turn after it (other roles, and a question left unanswered, are skipped)."""
        conversation, question = cls(), None
        for role, text in turns:
            if role == "user":
                question = text
            elif role == "assistant" and question is not None:
                conversation.add_exchange(question, text)
                question = None
        return conversation

    @property
    def last(self) -> Answer | None:
        """The latest answer, if any."""
        return self.answers[-1] if self.answers else None


def plain(answer: Answer) -> str:
    """An answer's text without its [n] markers, as the next turn reads it."""
    return re.sub(r"\s*\[(\d+|unsupported)\]", "", answer.answer)


class Conversations:
    """The conversations a server keeps for its API clients, each under an unguessable id; past
    `limit`, the least recently used is dropped (its client gets a message saying to start anew)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._kept: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conversation_id: str | None) -> Conversation:
        """The conversation with this id, or a new one when the id is empty."""
        with self._lock:
            if not conversation_id:
                conversation = Conversation()
                self._kept[conversation.id] = conversation
                while len(self._kept) > self.limit:
                    self._kept.popitem(last=False)
                return conversation
            if conversation_id not in self._kept:
                raise RagError(f"no conversation {conversation_id[:40]!r} is kept here (unknown, or dropped after "
                               f"{self.limit} newer ones): send no conversation_id to start a new conversation")
            self._kept.move_to_end(conversation_id)
            return self._kept[conversation_id]
