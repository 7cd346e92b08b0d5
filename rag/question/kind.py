"""What kind of answer a question asks for, and whether a sentence supplies one.

Classic factoid QA checks a candidate against the question's expected answer type (TREC-era
systems; Watson's "lexical answer type"): "who" wants a person, "which militia" a group, "where"
a place, "how many" a number, "when" a time. The candidate must also bring something the question
does not already say: a sentence that merely restates the question's premise ("a senior official
told the paper...") names no new person and so cannot answer "what is the official's name?".
This is what separates on-topic unanswerable questions from answerable ones, where word overlap
and embedding similarity cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.question.focus import counted_nouns, phrase_after, reacting_party, reactions, varieties, variety_noun
from rag.text import bare_words, content_stems, quantity_near, words

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
_YEAR = r"\b(19|20)\d\d\b"
_MONTH_OR_YEAR = re.compile(rf"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|{_YEAR}", re.I)

_TIME_WORDS = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march april may "
                        "june july august september october november december yesterday today week month year ago "
                        "earlier later morning evening night".split())
ROLES = frozenset("minister leader official president secretary spokesman spokesperson commander adviser advisor "
                  "premier chief envoy ambassador head cleric general chairman speaker mp lawmaker".split())
_ROLE_STEMS = frozenset(content_stems(" ".join(ROLES)))
ROLE_PATTERN = re.compile(rf"\b({'|'.join(sorted(ROLES))})\b", re.I)
_TITLE_GAP = re.compile(r"(\s+[A-Z][\w.'’-]*){0,3}\s*")  # capitalised words between a title and a name
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
LABELS = {"person": {"PERSON"}, "group": {"ORG"}, "place": {"GPE", "LOC", "FAC"}}  # NORP ("Qatari") is an adjective


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


def new_answers(kind: str | None, text: str, question: str) -> set[str]:
    """What `text` offers as an answer of that kind that the question does not already name.

    For a person, a name or a role ("the prime minister"); for a group or place, a named entity;
    for a quantity, a number counting a word of the question; for a time, a day or date; for a
    date, a month or year; for a variety or a reaction, see `rag.question.focus`. An empty set means the
    sentence cannot answer; for kind None any sentence may ({""}).
    """
    if kind is None:
        return {""}
    if kind == "quantity":
        return {"#"} if quantity_near(text, counted_nouns(question) or set(content_stems(question))) else set()
    if kind == "variety":
        return varieties(text, question)
    if kind == "reaction":
        return reactions(text, question)
    if kind == "time":
        return {"@"} if _states_time(text) else set()
    if kind == "date":
        return {"@"} if _MONTH_OR_YEAR.search(text) else set()
    from rag.nlp import entities

    found = {e.text for e in entities(text) if e.label in LABELS[kind] and not e.attributive
             and not names(e.text, question)}
    return found | _bare_roles(text, question) if kind == "person" else found


def names(entity: str, question: str) -> bool:
    """True when the question already names this entity: the whole name is in it, or its last
    word (a surname, "Council") is a word of one of the question's own named entities, so
    "Mohammed Shia al-Sudani" is named by "Sudani" but "Iraq's News Agency" is not by "Iraq"."""
    from rag.nlp import entities

    entity_words = words(entity)
    phrase = " ".join(w for w in entity_words if w != "the")
    if phrase and f" {phrase} " in f" {' '.join(words(question))} ":
        return True
    head = _bare_name(entity_words[-1]) if entity_words else ""
    return any(head == _bare_name(w) for e in entities(question) for w in words(e.text))


def _bare_name(word: str) -> str:
    return word.removesuffix("'s").removeprefix("al-")


def _bare_roles(text: str, question: str) -> set[str]:
    """Roles standing for a person ("the prime minister supervises..."), not titles before a name
    ("Foreign Minister Gideon Sa'ar"). None when the question names a role itself: "Who is Iraq's
    foreign minister?" wants a name, and "an Iraqi official" is no answer to it."""
    from rag.nlp import entities

    if set(content_stems(question)) & _ROLE_STEMS:
        return set()
    person_starts = [e.start for e in entities(text) if e.label == "PERSON"]
    found = set()
    for m in ROLE_PATTERN.finditer(text):
        titled = any(_TITLE_GAP.fullmatch(text[m.end():at]) for at in person_starts if at >= m.end())
        if not titled:
            found.add(m.group().lower())
    return found


def _states_time(text: str) -> bool:
    return bool(_TIME_WORDS & set(bare_words(text))) or bool(re.search(_YEAR, text))
