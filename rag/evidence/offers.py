"""What a sentence offers as an answer of the kind the question asks for (`rag.question.kind`),
that the question does not already say (`rag.question.focus`), by the check that the kind's entry in
`rag.kinds` names.

For a person, a name or a role ("the prime minister"); for a group or place, a named entity; for a
quantity, a number counting a word of the question; for a time, a day or date; for a date, a month
or year; for a variety, a word the sentence puts before the classified noun; for a reaction, a
clause whose subject is the reacting party. An empty set means the sentence cannot answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.evidence.sentences import SourceSentence
from rag.kinds import KINDS, ROLE_PATTERN, ROLE_STEMS, Kind
from rag.question.focus import NOUN_TAGS, PHRASE_TAGS, Focus, bare_name, stem
from rag.text import bare_words, content_stems, quantity_near, words

_TITLE_GAP = re.compile(r"(\s+[A-Z][\w.'’-]*){0,3}\s*")  # capitalised words between a title and a name
_MODIFIER_TAGS = {"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "VBN"}
_PRONOUNS = frozenset("he she they it we".split())
LEAD_LOOKBACK = 2  # news sets the day once: "On Monday, X said... The same day, Y urged..."; two sentences
# back: `bench.ablate` (right of 444, 345 as shipped): 0 gives 344, 1 343, 3 345


def offers(kind: str | None, text: str, focus: Focus) -> set[str]:
    """What `text` offers as an answer of that kind that the question (its `focus`) does not already
    name; for kind None any sentence may ({""})."""
    if kind is None:
        return {""}
    entry = KINDS.get(kind)
    if entry is None:
        raise ValueError(f"no such kind of answer: {kind!r}")
    return _CHECKS[entry.check](entry, text, focus)


def offers_or_lead(kind: str | None, sentence: SourceSentence, before: dict[tuple[str, int, int], SourceSentence],
                   focus: Focus) -> tuple[set[str], SourceSentence | None]:
    """What the sentence offers (`offers`), and, when it does not state it itself and the kind's entry
    has `lead` (a time, a date), what the nearest of the LEAD_LOOKBACK sentences before it offers, with
    that sentence: news sets the day once ("On Monday, X said... The same day, Y urged..."). `before`
    maps a sentence to the one before it (`rag.evidence.sentences.preceding`)."""
    candidate = sentence
    for step in range(1 + LEAD_LOOKBACK):
        if candidate is None:
            break
        if found := offers(kind, candidate.text, focus):
            return found, candidate if step else None
        if not KINDS[kind].lead:
            break
        candidate = before.get(candidate.key)
    return set(), None


def _named(kind: Kind, text: str, focus: Focus) -> set[str]:
    """The named entities with the kind's labels in the text that the question does not name, and,
    for a kind that roles stand for (a person), the roles standing for one."""
    from rag.nlp import entities

    found = {e.text for e in entities(text) if e.label in kind.labels and not e.attributive
             and not names(e.text, focus)}
    return found | _bare_roles(text, focus) if kind.roles else found


def _shown(kind: Kind, text: str, focus: Focus) -> set[str]:
    """The kind's mark when the text shows one of its words or its pattern (a day, a month, a year)."""
    shown = kind.show_words & set(bare_words(text)) or (kind.shows and kind.shows.search(text))
    return {kind.mark} if shown else set()


def _counted(kind: Kind, text: str, focus: Focus) -> set[str]:
    """The kind's mark when a number in the text counts what the question counts."""
    return {kind.mark} if quantity_near(text, focus.counted) else set()


def names(entity: str, focus: Focus) -> bool:
    """True when the question already names this entity: the whole name is in it, or its last
    word (a surname, "Council") is a word of one of the question's own named entities, so
    "Mohammed Shia al-Sudani" is named by "Sudani" but "Iraq's News Agency" is not by "Iraq"."""
    entity_words = words(entity)
    phrase = " ".join(w for w in entity_words if w != "the")
    if phrase and f" {phrase} " in focus.spoken:
        return True
    head = bare_name(entity_words[-1]) if entity_words else ""
    return head in focus.named


def _bare_roles(text: str, focus: Focus) -> set[str]:
    """Roles standing for a person ("the prime minister supervises..."), not titles before a name
    ("Foreign Minister Gideon Sa'ar"). None when the question names a role itself: "Who is Iraq's
    foreign minister?" wants a name, and "an Iraqi official" is no answer to it."""
    from rag.nlp import entities

    if focus.stems & ROLE_STEMS:
        return set()
    person_starts = [e.start for e in entities(text) if e.label == "PERSON"]
    found = set()
    for m in ROLE_PATTERN.finditer(text):
        titled = any(_TITLE_GAP.fullmatch(text[m.end():at]) for at in person_starts if at >= m.end())
        if not titled:
            found.add(m.group().lower())
    return found


def varieties(text: str, focus: Focus) -> set[str]:
    """Words the text puts before the classified noun that the question does not already say
    ("ballistic missiles", "rocket and drone strikes"). {""} when the noun is not in the text at
    all: a paraphrase may still answer, and the other checks decide."""
    from rag.nlp import tagged

    noun = focus.classified
    tokens = tagged(text)
    places = [i for i, (w, t) in enumerate(tokens) if t in NOUN_TAGS and stem(w) == noun]
    if noun is None or not places:
        return {""}
    found = set()
    for i in places:
        j = i - 1
        while j >= 0 and tokens[j][1] in PHRASE_TAGS:
            word, tag = tokens[j]
            if tag in _MODIFIER_TAGS and stem(word) and stem(word) not in focus.stems:
                found.add(word)
            j -= 1
    return found


def same_name(a: str, b: str) -> bool:
    """'iran' and 'iranian', 'iraq' and 'iraqi': one stem starts the other (at least four letters)."""
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= 4 and long.startswith(short))


def reactions(text: str, focus: Focus) -> set[str]:
    """The text's clauses whose subject is the reacting party (or a pronoun that may stand for it).
    {""} when the question asks for no reaction."""
    from rag.nlp import subjects

    if not focus.party:
        return {""}
    found = set()
    for subject in subjects(text):
        stems = content_stems(subject)
        if subject.lower() in _PRONOUNS or any(same_name(p, s) for p in focus.party for s in stems):
            found.add(subject)
    return found


_CHECKS: dict[str, Callable[[Kind, str, Focus], set[str]]] = {
    "named": _named, "shown": _shown, "counted": _counted,
    "variety": lambda kind, text, focus: varieties(text, focus),
    "reaction": lambda kind, text, focus: reactions(text, focus),
}  # the checks a kind's entry in `rag.kinds` names
