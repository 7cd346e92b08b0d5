"""Conversations: history, follow-up rewriting, and citation numbers stable across turns."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from rag import prompts
from rag.text import words

log = logging.getLogger(__name__)

FOLLOW_UP_CUES = frozenset("he she they him her his hers their theirs them it its this that these those there "
                           "the group the official the minister".split())
MAX_STANDALONE_CHARS = 400
_PERSONAL_PRONOUN = re.compile(r"\b(he|him|his|she)\b", re.I)


@dataclass
class Conversation:
    """One user's conversation; the [n] number of a span is fixed at its first citation."""

    turns: list[tuple[str, str]] = field(default_factory=list)  # (question, answer text without markers)
    numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def number(self, key: tuple[str, int, int]) -> int:
        """The citation number of a span, assigned on first appearance."""
        if key not in self.numbers:
            self.numbers[key] = len(self.numbers) + 1
        return self.numbers[key]

    def add(self, question: str, answer: str) -> None:
        """Record a finished turn."""
        self.turns.append((question, re.sub(r"\s*\[\d+\]", "", answer)))


def looks_like_follow_up(question: str) -> bool:
    """True for a question that leans on the conversation ("what did he demand?")."""
    ws = words(question)
    return len(ws) <= 4 or bool(FOLLOW_UP_CUES & set(ws))


def heuristic_standalone(question: str, conversation: Conversation) -> str:
    """The question followed by the previous question and answer, for retrieval to lean on."""
    last_q, last_a = conversation.turns[-1]
    return f"{question} ({last_q} {last_a})"[:MAX_STANDALONE_CHARS]


def resolve_person(question: str, conversation: Conversation) -> str | None:
    """The question with its first he/him/his/she replaced by the person the last turn named
    ("What did he demand?" after "...? Abu Hussein al-Hamidawi." -> "What did Abu Hussein
    al-Hamidawi demand?"); None when there is no such pronoun or no person to put in its place."""
    from rag.nlp import entities

    pronoun = _PERSONAL_PRONOUN.search(question)
    last_q, last_a = conversation.turns[-1]
    people = [e.text for text in (last_a, last_q) for e in entities(text) if e.label == "PERSON"]
    if not pronoun or not people:
        return None
    name = people[0] + ("'s" if pronoun.group().lower() == "his" else "")
    return question[:pronoun.start()] + name + question[pronoun.end():]


def condense(question: str, conversation: Conversation | None, generator=None) -> str:
    """A standalone version of a follow-up question (the question itself when it needs none): the
    person a pronoun stands for put in its place; else the model's rewrite; else the question with
    the last turn appended."""
    if not conversation or not conversation.turns or not looks_like_follow_up(question):
        return question
    if resolved := resolve_person(question, conversation):
        return resolved
    if generator is None:
        return heuristic_standalone(question, conversation)
    history = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in conversation.turns[-3:])
    messages = [{"role": "system", "content": prompts.CONDENSE_SYSTEM},
                {"role": "user", "content": prompts.CONDENSE_USER.format(history=history, question=question)}]
    rewritten = generator.complete(messages, max_tokens=60).strip().split("\n")[0]
    if (not rewritten or len(rewritten) > MAX_STANDALONE_CHARS or prompts.NOT_IN_CORPUS in rewritten
            or FOLLOW_UP_CUES & set(words(rewritten))):  # a small model often keeps the pronoun
        return heuristic_standalone(question, conversation)
    log.info("follow-up rewritten as %r", rewritten)
    return rewritten
