"""Follow-up questions: deciding from the question and the conversation whether a question leans on
earlier turns, and rewriting one that does into a question that stands alone.

A question is a follow-up only when there is a conversation and the question's grammar or its
topic ties it to it (`rag.nlp.shape`): a pronoun or demonstrative with nothing in the question to
stand for ("What did he demand?", "Who made that decision?"), a fragment ("And in 2024?", "Why?"),
an opening conjunction ("And who attended?"), no noun at all ("Who said so?"), or, for a question
that names nothing itself, a content word shared with the last turn ("Who else attended?"). Anything else, however short or
however many "the"s it holds, is retrieved as it is, so a change of topic never drags the last
turn along.

A follow-up is rewritten: a person pronoun is replaced with the person the conversation last named;
else the model (when there is one) rewrites it, and the rewrite is used only if it keeps every
content word of the question and leaves no reference open; else retrieval searches the question
with what the conversation is about after it (`topic`), while ranking reads the question itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rag import prompts
from rag.chat import Conversation, plain
from rag.text import content_stems

log = logging.getLogger(__name__)

MAX_STANDALONE_CHARS = 400
HISTORY_TURNS = 3  # the turns the model reads, and those searched for the person a pronoun stands for


@dataclass(frozen=True)
class Standalone:
    """A question made to stand alone: `question` is what ranking, the answer type and the model
    read; `query` is what retrieval searches (the question, or the question with the last turn)."""

    question: str
    query: str


def is_follow_up(question: str, conversation: Conversation | None) -> bool:
    """True when the question leans on the conversation (see the module docstring)."""
    from rag.nlp import shape

    if conversation is None or conversation.last is None:
        return False
    grammar = shape(question)
    if grammar.references or grammar.fragment or grammar.continues or not grammar.nouns:
        return True
    return not grammar.names and bool(set(content_stems(question)) & set(content_stems(
        f"{conversation.asked[-1]} {plain(conversation.last)}")))


def standalone(question: str, conversation: Conversation | None, generator=None) -> Standalone:
    """The question made to stand alone (itself when it is not a follow-up)."""
    if not is_follow_up(question, conversation):
        return Standalone(question, question)
    resolved = name_people(question, conversation)
    if resolved and closed(resolved):
        log.info("follow-up resolved as %r", resolved)
        return Standalone(resolved, resolved)
    if generator is not None and (rewritten := model_rewrite(question, conversation, generator)):
        return Standalone(rewritten, rewritten)
    asked = resolved or question
    return Standalone(asked, f"{asked} ({topic(conversation)})"[:MAX_STANDALONE_CHARS])


def topic(conversation: Conversation) -> str:
    """What the conversation is about, for a follow-up that cannot be rewritten: the questions back
    to the last one that stood alone, and the last answer."""
    opened = next((i for i in range(len(conversation.asked) - 1, -1, -1) if closed(conversation.asked[i])), 0)
    return " ".join(conversation.asked[opened:] + [plain(conversation.last)])


def closed(question: str) -> bool:
    """The question can be read alone: no open reference, not a fragment, no opening conjunction."""
    from rag.nlp import shape

    grammar = shape(question)
    return not (grammar.references or grammar.fragment or grammar.continues)


def name_people(question: str, conversation: Conversation) -> str | None:
    """The question with its open person pronouns ("he", "his", "her") replaced by the person the
    conversation last named ("What did he demand?" after "...? Abu Hussein al-Hamidawi." -> "What did
    Abu Hussein al-Hamidawi demand?"); None when it has none or the conversation names nobody."""
    from rag.nlp import shape

    pronouns = [r for r in shape(question).references if r.person]
    person = _last_person(conversation)
    if not pronouns or not person:
        return None
    for r in reversed(pronouns):  # from the end, so earlier offsets stay valid
        name = person + ("'s" if r.possessive else "")
        question = question[:r.start] + name + question[r.end:]
    return question


def _last_person(conversation: Conversation) -> str | None:
    """The person named most recently: in the last answer, then the last question, then earlier turns."""
    from rag.nlp import entities

    for answer in reversed(conversation.answers[-HISTORY_TURNS:]):
        for text in (plain(answer), answer.standalone_question or answer.question):
            if people := [e.text for e in entities(text) if e.label == "PERSON"]:
                return people[0]
    return None


def model_rewrite(question: str, conversation: Conversation, generator) -> str | None:
    """The model's standalone version of the question, or None when it drops a content word of the
    question, leaves a reference open, or is empty or too long (a 0.5B model often keeps the pronoun)."""
    history = "\n".join(f"User: {a.question}\nAssistant: {plain(a)}" for a in conversation.answers[-HISTORY_TURNS:])
    messages = [{"role": "system", "content": prompts.CONDENSE_SYSTEM},
                {"role": "user", "content": prompts.CONDENSE_USER.format(history=history, question=question)}]
    rewritten = generator.complete(messages, max_tokens=60).strip().split("\n")[0].strip()
    kept = set(content_stems(question)) <= set(content_stems(rewritten))
    if not rewritten or len(rewritten) > MAX_STANDALONE_CHARS or prompts.NOT_IN_CORPUS in rewritten \
            or not kept or not closed(rewritten):
        log.info("the model's rewrite %r was not used", rewritten)
        return None
    log.info("follow-up rewritten as %r", rewritten)
    return rewritten
