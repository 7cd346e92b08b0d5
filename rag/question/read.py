"""The question as the rest of the trip reads it: checked, made to stand alone in its conversation
(`rag.question.follow_up`), with the kind of answer it asks for (`rag.question.kind`) and what a
sentence must speak to in order to give one (`rag.question.focus`). Read once, before retrieval."""

from __future__ import annotations

from dataclasses import dataclass

from index.errors import BadQuestion
from index.settings import Settings
from rag.conversation import Conversation
from rag.question.focus import Focus, focus
from rag.question.follow_up import Standalone, standalone
from rag.question.kind import AnswerType, expected


@dataclass(frozen=True)
class Question:
    """One question, read."""

    asked: str  # as the user asked it (stripped)
    alone: Standalone  # made to stand alone: what retrieval searches and ranking reads
    expected: AnswerType  # the kind of answer it asks for, and how many
    focus: Focus  # what a sentence must speak to, read from the words ranking looks for (`Standalone.wording`)


def check_question(question: str, settings: Settings) -> str:
    """The stripped question, or BadQuestion when it is empty or too long."""
    q = (question or "").strip()
    if not q:
        raise BadQuestion("the question is empty: type a question about the articles")
    if len(q) > settings.retrieval.max_question_chars:
        raise BadQuestion(f"the question has {len(q)} characters; the limit is {settings.retrieval.max_question_chars} "
                          "(RAG_MAX_QUESTION_CHARS): shorten it")
    return q


def read(question: str, conversation: Conversation | None, settings: Settings) -> Question:
    """Check the question and read it in its conversation."""
    question = check_question(question, settings)
    alone = standalone(question, conversation)
    wanted = expected(question)
    return Question(question, alone, wanted, focus(alone.wording, wanted.kind))
