"""What kind of answer a question asks for.

Classic factoid QA checks a candidate against the question's expected answer type (TREC-era
systems; Watson's "lexical answer type"): "who" wants a person, "which militia" a group, "where"
a place, "how many" a number, "when" a time. The candidate must also bring something the question
does not already say: a sentence that merely restates the question's premise ("a senior official
told the paper...") names no new person and so cannot answer "what is the official's name?".
This is what separates on-topic unanswerable questions from answerable ones, where word overlap
and embedding similarity cannot. Whether a sentence supplies such an answer is the evidence
stage's check (`rag.evidence.offers`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.question.focus import phrase_after, reacting_party, variety_noun
from rag.text import content_stems

_QUANTITY_Q = re.compile(r"\bhow (many|much|large|big|long|far|old)\b|\bwhat (number|percentage|amount)\b", re.I)
_TIME_Q = re.compile(r"^\W*when\b|\bwhat (day|date|year|month|time)\b|\bwhich (day|date|year|month)\b|\bon what day\b",
                     re.I)
_WHO_Q = re.compile(r"^\W*(who|whom|whose)\b", re.I)
_NAME_OF = re.compile(r"\b(?:what(?:'s| is| was| are| were) )?the names? of\b", re.I)
_WHERE_Q = re.compile(r"^\W*where\b|\bin which (country|city|town|governorate|province|region)\b", re.I)
_DATE_Q = re.compile(r"\b(what|which) date\b", re.I)
_COUNT_Q = re.compile(r"\b(?:name|which|what|who are|list)\s+(?:the\s+)?(two|three|four)\b", re.I)
_COUNT = {"two": 2, "three": 3, "four": 4}
_WH_WORD = re.compile(r"\b(?:which|what|name)\b", re.I)
_NOUN_PHRASE_TAGS = {"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH", "CD", "DT", "VBN"}

ROLES = frozenset("minister leader official president secretary spokesman spokesperson commander adviser advisor "
                  "premier chief envoy ambassador head cleric general chairman speaker mp lawmaker".split())
ROLE_STEMS = frozenset(content_stems(" ".join(ROLES)))
ROLE_PATTERN = re.compile(rf"\b({'|'.join(sorted(ROLES))})\b", re.I)
_HEAD_NOUN_WORDS = {
    "person": ROLES | {"person", "man", "woman", "politician", "figure"},
    "group": frozenset("group groups militia militias faction factions organisation organization party movement "
                       "newspaper paper outlet agency coalition network publication broadcaster channel ministry "
                       "body alliance".split()),
    "place": frozenset("country countries city town governorate province region airbase base capital area village "
                       "district".split()),
}
_HEAD_NOUNS = {kind: frozenset(content_stems(" ".join(nouns))) for kind, nouns in _HEAD_NOUN_WORDS.items()}
ASKED_FOR = {"person": "the person asked for", "group": "the group asked for", "place": "the place asked for",
             "quantity": "the number asked for", "time": "when", "date": "the date asked for",
             "variety": "the kind asked for", "reaction": "how that party responded"}  # for refusal reasons


@dataclass(frozen=True)
class AnswerType:
    """The expected answer: its kind (None when any sentence may answer) and how many are wanted."""

    kind: str | None
    count: int = 1


def expected(question: str) -> AnswerType:
    """The answer type a question asks for, from its wh-word or the noun after which/what."""
    counted = _COUNT_Q.search(question)
    count = _COUNT[counted.group(1).lower()] if counted else 1
    if _QUANTITY_Q.search(question):
        return AnswerType("quantity")
    if _DATE_Q.search(question):
        return AnswerType("date")
    if _TIME_Q.search(question):
        return AnswerType("time")
    if _WHO_Q.search(question):
        return AnswerType("person", count)
    if _WHERE_Q.search(question):
        return AnswerType("place", count)
    if kind := _head_kind(question):
        return AnswerType(kind, count)
    if variety_noun(question):
        return AnswerType("variety")
    return AnswerType("reaction" if reacting_party(question) else None, count)


def _head_kind(question: str) -> str | None:
    """'Which Israeli foreign minister wrote...' -> person: the kind of the head noun (the last
    noun) of the phrase after which/what/name, by part-of-speech tags."""
    phrase = phrase_after(_NAME_OF.sub("which", question), _WH_WORD, _NOUN_PHRASE_TAGS)
    nouns = [w for w, t in phrase if t.startswith("NN")]
    head = content_stems(nouns[-1]) if nouns else []
    return next((kind for kind, stems in _HEAD_NOUNS.items() if head and head[-1] in stems), None)
