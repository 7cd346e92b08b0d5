"""What kind of answer a question asks for.

Classic factoid QA checks a candidate against the question's expected answer type (TREC-era
systems; Watson's "lexical answer type"): "who" wants a person, "which militia" a group, "where"
a place, "how many" a number, "when" a time. The candidate must also bring something the question
does not already say: a sentence that merely restates the question's premise ("a senior official
told the paper...") names no new person and so cannot answer "what is the official's name?".
This is what separates on-topic unanswerable questions from answerable ones, where word overlap
and embedding similarity cannot. The kinds, and what in a question asks for each, are the entries
of `rag.kinds`; whether a sentence supplies such an answer is the evidence stage's check
(`rag.evidence.offers`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.kinds import KINDS
from rag.question.focus import phrase_after, reading
from rag.text import content_stems

_NAME_OF = re.compile(r"\b(?:what(?:'s| is| was| are| were) )?the names? of\b", re.I)
_COUNT_Q = re.compile(r"\b(?:name|which|what|who are|list)\s+(?:the\s+)?(two|three|four)\b", re.I)
_COUNT = {"two": 2, "three": 3, "four": 4}
_WH_WORD = re.compile(r"\b(?:which|what|name)\b", re.I)
_NOUN_PHRASE_TAGS = {"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH", "CD", "DT", "VBN"}


@dataclass(frozen=True)
class AnswerType:
    """The expected answer: its kind (None when any sentence may answer) and how many are wanted."""

    kind: str | None
    count: int = 1


def expected(question: str) -> AnswerType:
    """The answer type a question asks for (`rag.kinds`: by its pattern, else the head noun after
    which/what, else a reading of the question), and how many when it names a number."""
    kind = _asked_by(question) or _head_kind(question) or _asked_when(question)
    return AnswerType(kind, _count(question) if kind is None or KINDS[kind].counted else 1)


def _asked_by(question: str) -> str | None:
    """'How many troops...' -> quantity: the first kind whose question pattern matches."""
    return next((k.name for k in KINDS.values() if k.asked_by and k.asked_by.search(question)), None)


def _head_kind(question: str) -> str | None:
    """'Which Israeli foreign minister wrote...' -> person: the kind of the head noun (the last
    noun) of the phrase after which/what/name, by part-of-speech tags."""
    phrase = phrase_after(_NAME_OF.sub("which", question), _WH_WORD, _NOUN_PHRASE_TAGS)
    nouns = [w for w, t in phrase if t.startswith("NN")]
    head = content_stems(nouns[-1]) if nouns else []
    return next((k.name for k in KINDS.values() if head and head[-1] in k.head_nouns), None)


def _asked_when(question: str) -> str | None:
    """'What type of missiles...' -> variety: the first kind whose reading of the question finds something."""
    return next((k.name for k in KINDS.values() if k.asked_when and reading(question, k.asked_when)), None)


def _count(question: str) -> int:
    """How many answers "name the two..." asks for (1 when it names no number)."""
    counted = _COUNT_Q.search(question)
    return _COUNT[counted.group(1).lower()] if counted else 1
