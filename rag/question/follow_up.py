"""Follow-up questions: deciding from the question and the conversation whether a question leans on
earlier turns, and rewriting one that does into a question that stands alone.

A question is a follow-up only when there is a conversation and the question's grammar (`shape`, read
from spaCy's parse at the end of this module) or its topic ties it to it: a pronoun or demonstrative
with nothing in the question to stand for ("What did he demand?", "Who made that decision?"), a
fragment ("And in 2024?", "Why?"), an opening conjunction ("And who attended?"), no noun at all
("Who said so?"), or, for a question that names nothing itself, a content word shared with the last
turn ("Who else attended?").
Anything else, however short or however many "the"s it holds, is retrieved as it is, so a change
of topic never drags the last turn along.

A follow-up is rewritten deterministically, in every mode: its person pronouns are replaced with
the person the conversation last named, and when that leaves nothing open (`closed`) the result is
the standalone question; otherwise retrieval and ranking read it with the questions it leans on
and the last answer (`Standalone`). The local model's rewrite was measured and removed: on
eval/conversations_dev.jsonl in local mode it answered 0.31 of the follow-ups (0.33 with its
rewrites checked to be questions that keep every content word and bring in one from the
conversation), against 0.38 without it, and it cost 0.6 s a turn. A 0.5B model answers instead
of rewriting, keeps the pronoun, or turns "those measures" into "the measures".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from rag.conversation import Conversation, plain
from rag.nlp import annotate, entities
from rag.text import content_stems

log = logging.getLogger(__name__)

_COUNTS = {"CARDINAL", "ORDINAL"}  # entity labels that are not names

# Longest retrieval query a follow-up with its topic and last answer makes. `bench.ablate` (right of 444
# studied questions, 345 as shipped): 200 gives 346, 600 344.
MAX_STANDALONE_CHARS = 400
HISTORY_TURNS = 3  # the turns searched for the person a pronoun stands for (`bench.ablate`: 1 and 5 answer the same)


@dataclass(frozen=True)
class Standalone:
    """A question made to stand alone. `question` is the question with what it could resolve put in
    (the turn's question as the next turns read it); a follow-up left open also carries `topic`, the
    earlier questions it leans on, and `said`, the last answer.

    Retrieval searches all three (`query`): what an "it" stands for is often in the last answer.
    Ranking compares sentences with the question and its topic (`reading`), not with the last
    answer, which would pull the same sentence back, and looks for the words the user typed
    (`wording`; an article goes on with "He also called for...", not with the name), or, in a
    question with none ("Why?", "To whom?"), its topic's. Each choice was measured on
    eval/conversations_dev.jsonl (extractive, follow-up accuracy): the last answer in the query 0.46
    vs 0.40 without; the typed words 0.48, the resolved question's 0.46, with the topic's too 0.42."""

    question: str
    topic: str = ""
    said: str = ""
    typed: str = ""  # the question as the user typed it, when `question` resolved something in it

    @property
    def reading(self) -> str:
        """The resolved question with its topic in brackets (what the answer stages read)."""
        return f"{self.question} ({self.topic})" if self.topic else self.question

    @property
    def wording(self) -> str:
        """The words the user typed, unless they carry no content word of their own ("And him?")."""
        own = self.typed or self.question
        return own if content_stems(own) or not self.topic else self.reading

    @property
    def query(self) -> str:
        """What retrieval searches for: the question, its topic and what the last answer said."""
        return f"{self.question} ({self.topic} {self.said})"[:MAX_STANDALONE_CHARS] if self.topic else self.question


def is_follow_up(question: str, conversation: Conversation | None) -> bool:
    """True when the question leans on the conversation (see the module docstring)."""
    if conversation is None or conversation.last is None:
        return False
    grammar = shape(question)
    if grammar.references or grammar.fragment or grammar.continues or not grammar.nouns:
        return True
    last = conversation.last
    return not grammar.names and bool(set(content_stems(question)) & set(content_stems(
        f"{conversation.resolved[-1]} {'' if last.refused else plain(last)}")))


def standalone(question: str, conversation: Conversation | None) -> Standalone:
    """The question made to stand alone (itself when it is not a follow-up)."""
    if not is_follow_up(question, conversation):
        return Standalone(question)
    resolved = name_people(question, conversation)
    if resolved and closed(resolved):
        log.info("follow-up resolved as %r", resolved)
        return Standalone(resolved, typed=question)
    last = conversation.last
    return Standalone(resolved or question, topic(conversation), "" if last.refused else plain(last), question)


def topic(conversation: Conversation) -> str:
    """What the conversation is about, for a follow-up that cannot be rewritten: its questions back
    to the last one that stood alone."""
    opened = next((i for i in range(len(conversation.resolved) - 1, -1, -1) if closed(conversation.resolved[i])), 0)
    return " ".join(conversation.resolved[opened:])


def closed(question: str) -> bool:
    """The question can be read alone: no open reference, not a fragment, no opening conjunction, a noun."""
    grammar = shape(question)
    return not (grammar.references or grammar.fragment or grammar.continues) and bool(grammar.nouns)


def name_people(question: str, conversation: Conversation) -> str | None:
    """The question with its open person pronouns ("he", "his", "her") replaced by the person the
    conversation last named ("What did he demand?" after "...? Abu Hussein al-Hamidawi." -> "What did
    Abu Hussein al-Hamidawi demand?"); None when it has none or the conversation names nobody."""
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
    turns = list(zip(conversation.answers, conversation.resolved))[-HISTORY_TURNS:]
    for answer, asked in reversed(turns):
        for text in (plain(answer), asked):
            if people := [e.text for e in entities(text) if e.label == "PERSON"]:
                return people[0]
    return None


@dataclass(frozen=True)
class Reference:
    """A word that stands for something named before the text: a third-person pronoun ("he",
    "its", "them") or a demonstrative ("that issue", "there", "then")."""

    text: str
    start: int
    end: int
    person: bool  # he, she, him, her, his, hers
    possessive: bool  # his, her, its, their


@dataclass(frozen=True)
class Shape:
    """What a question's grammar says about whether it leans on what was said before it."""

    references: tuple[Reference, ...]  # those with nothing earlier in the text to stand for
    fragment: bool  # no verb at all: "And in 2024?", "Why?", "What about Syria?"
    continues: bool  # opens with a conjunction: "And who attended?"
    names: tuple[str, ...]  # its proper nouns and named entities: the things it names itself
    nouns: tuple[str, ...]  # its nouns, proper or common


@lru_cache(maxsize=1024)
def shape(text: str) -> Shape:
    """The grammar of a question (cached): its open references, whether it is a fragment or a
    continuation, and the names it carries. A third-person pronoun is not open when a noun of the
    text can be what it stands for (`_bound`): "What did the minister say he would do?", "Iraq
    closed its airspace"; nor is the "it" of "Is it true that ...".
    """
    doc = annotate(text, parse=True)
    references = []
    for t in doc:
        pron_type, person = t.morph.get("PronType"), t.morph.get("Person")
        third_person = "Prs" in pron_type and "3" in person and not _expletive(t)
        if not (third_person or "Dem" in pron_type) or (third_person and _bound(t)):
            continue
        gender = t.morph.get("Gender")
        references.append(Reference(t.text, t.idx, t.idx + len(t.text), third_person and bool(gender)
                                    and "Neut" not in gender, "Yes" in t.morph.get("Poss")))
    words = [t for t in doc if not t.is_punct]
    return Shape(tuple(references), fragment=bool(words) and not any(t.pos_ in ("VERB", "AUX") for t in words),
                 continues=bool(words) and words[0].pos_ == "CCONJ",
                 names=tuple(dict.fromkeys([t.text for t in doc if t.pos_ == "PROPN"] +
                                           [e.text for e in doc.ents if e.label_ not in _COUNTS])),
                 nouns=tuple(t.text for t in doc if t.pos_ in ("NOUN", "PROPN")))


def _bound(pronoun) -> bool:
    """A noun before the pronoun, of the same number, can be what it stands for: for a possessive,
    any such noun ("Iraq closed its airspace"); otherwise one outside the pronoun's own clause,
    since a plain pronoun never stands for its own clause's subject or object ("What did the
    minister say he would do?" but not "Did Israel say anything about it?")."""
    number = pronoun.morph.get("Number")
    clause = next((a for a in pronoun.ancestors if a.pos_ in ("VERB", "AUX")), None)
    own = {t.i for t in clause.subtree} if clause is not None and "Yes" not in pronoun.morph.get("Poss") else set()
    return any(t.pos_ in ("NOUN", "PROPN") and t.i not in own and (not number or t.morph.get("Number") == number
                                                                  or t.pos_ == "PROPN")
               for t in pronoun.doc[:pronoun.i])


def _expletive(token) -> bool:
    """The "it" of "Is it true that ..." / "Was it reported that ...": it stands for the clause after it."""
    return token.lower_ == "it" and any(c.dep_ in ("ccomp", "xcomp", "acomp") for c in token.head.children)
