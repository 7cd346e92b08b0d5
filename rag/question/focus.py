"""What a question asks about a thing it names, and what a sentence must speak to in order to answer it.

Three question shapes name their topic in full and ask for one relation to it, so a sentence can
share every word with the question and still not answer it:
- "How many drone attacks...?" counts attacks: "hundreds of drones" does not count them.
- "What type of missiles...?" asks for a variety: "two Israeli missiles" names none.
- "How did the Council respond to the letter?" asks what the Council did: a sentence about the
  letter, where the Council is only its addressee, does not say.
Each check finds the focus in the question (by part-of-speech tags or a pattern); when the question
has no such focus, the check does not apply. `focus` gathers, for the kind of answer asked for,
everything the evidence stage's check of a sentence (`rag.evidence.offers`) needs from the question:
the fields the kind's entry in `rag.kinds` reads, each read by `reading`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.kinds import KINDS
from rag.text import content_stems, words

_HOW_MANY = re.compile(r"\bhow (?:many|much)\b", re.I)
_VARIETY_Q = re.compile(r"\bwhat (?:types?|kinds?|sorts?|forms?) of\b", re.I)
_REACTION_Q = re.compile(
    r"\bhow (?:did|does|do|has|have|had|will|would|is|are|was|were) (?P<party>.+?) (?:respond|react|reply|retaliat)"
    r"|\bwhat (?:was|is|were|are|has been) (?P<owner>.+?)['’]s? (?:response|reaction|reply)\b", re.I)
NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
PHRASE_TAGS = NOUN_TAGS | {"JJ", "JJR", "JJS", "HYPH", "VBN", "CC", ","}


@dataclass(frozen=True)
class Focus:
    """What a sentence must speak to, read from the question for the kind of answer it asks for."""

    stems: frozenset[str]  # the question's content stems
    counted: frozenset[str] = frozenset()  # quantity: the stems a number must count
    classified: str | None = None  # variety: the stem of the noun a "what type of" classifies
    party: frozenset[str] = frozenset()  # reaction: the stems of the party a "how did X respond" asks about
    spoken: str = ""  # person, group, place: the question's words, " "-joined and padded, to find a name said in full
    named: frozenset[str] = frozenset()  # ...and the bare words of its named entities, to find a name said in part


@lru_cache(maxsize=1024)
def focus(question: str, kind: str | None) -> Focus:
    """What a sentence answering `question` with an answer of `kind` must speak to: the question's
    stems, and the fields that the kind's entry in `rag.kinds` reads."""
    fields = KINDS[kind].reads if kind in KINDS else ()
    return Focus(frozenset(content_stems(question)), **{field: reading(question, field) for field in fields})


def bare_name(word: str) -> str:
    """A name's word without a possessive or an "al-" ("al-Sudani's" -> "Sudani")."""
    return word.removesuffix("'s").removeprefix("al-")


def stem(word: str) -> str:
    """The stem of a word ("" for a stopword)."""
    stems = content_stems(word)
    return stems[-1] if stems else ""


def phrase_after(question: str, pattern: re.Pattern, tags: set[str]) -> list[tuple[str, str]]:
    """The (word, tag) run of tokens with those tags right after the pattern's first match, from
    the question's cached tagging ("what type of [Israeli missiles] fell")."""
    from rag.nlp import tagged

    match = pattern.search(question)
    if not match:
        return []
    wanted = match.group().lower().split()
    tokens = tagged(question)
    lowered = [w.lower() for w, _ in tokens]
    starts = [i for i in range(len(tokens)) if lowered[i:i + len(wanted)] == wanted]
    phrase = []
    for word, tag in tokens[starts[0] + len(wanted):] if starts else []:
        if tag not in tags:
            break
        phrase.append((word, tag))
    return phrase


@lru_cache(maxsize=1024)
def counted_nouns(question: str) -> frozenset[str]:
    """Stems of the nouns a "how many" question counts: the head of each conjunct, so "drone attacks"
    counts attacks and "drones and ballistic missiles" counts both. Empty when there is none."""
    phrase = phrase_after(question, _HOW_MANY, PHRASE_TAGS)
    heads = [w for i, (w, t) in enumerate(phrase)
             if t in NOUN_TAGS and (i + 1 == len(phrase) or phrase[i + 1][1] not in NOUN_TAGS | {"HYPH"})]
    return frozenset(filter(None, map(stem, heads)))


@lru_cache(maxsize=1024)
def variety_noun(question: str) -> str | None:
    """The stem of the noun a "what type/kind/sort of" question classifies ("missiles"), else None."""
    nouns = [w for w, t in phrase_after(question, _VARIETY_Q, PHRASE_TAGS) if t in NOUN_TAGS]
    return (stem(nouns[-1]) or None) if nouns else None


@lru_cache(maxsize=1024)
def reacting_party(question: str) -> frozenset[str]:
    """Stems of the party a "how did X respond/react" question asks about, else empty."""
    match = _REACTION_Q.search(question)
    if not match:
        return frozenset()
    return frozenset(content_stems(match.group("party") or match.group("owner")))


def _counted(question: str) -> frozenset[str]:
    """The stems a number must count: the counted nouns, else all of the question's stems."""
    return counted_nouns(question) or frozenset(content_stems(question))


def _spoken(question: str) -> str:
    """The question's words, " "-joined and padded, to find a name said in full."""
    return f" {' '.join(words(question))} "


def _named(question: str) -> frozenset[str]:
    """The bare words of the question's named entities, to find a name said in part."""
    from rag.nlp import entities

    return frozenset(bare_name(w) for e in entities(question) for w in words(e.text))


_READINGS = {"counted": _counted, "classified": variety_noun, "party": reacting_party, "spoken": _spoken,
             "named": _named}


def reading(question: str, field: str) -> object:
    """One `Focus` field read from the question ("classified": the noun a "what type of" classifies),
    for `focus`, and for `rag.question.kind` to tell whether the question asks for a kind."""
    return _READINGS[field](question)
