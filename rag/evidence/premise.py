"""The question's premise against a candidate's article: how many of the named things and numbers
the question mentions (spaCy entities) its article never does.

A question with one fact changed ("... its debt relief deal with Kenya?" of an article about
Tanzania) reads like an answerable one to the reader, which sees one sentence; the whole article
does not name the changed fact. The count is a feature of the combiner (`rag.reader.combiner`), which
weighs it against the answerable questions that name something their article spells differently.
"""

from __future__ import annotations

from rag.nlp import entities
from rag.text import bare_words

_SKIPPED = {"ORDINAL"}  # "the first", "second": said in words the article need not use
_FILLER = {"the", "a", "an", "of", "and", "mr", "mrs", "ms", "dr", "st"}
_ASKING = {"what", "which", "when", "how", "who", "whose", "whom"}  # "what day": the slot asked for, not a premise
# Endings that make a people or a language of a place ("Iranian" of "Iran", "Western" of "West"), so
# the article naming the place mentions them
_DEMONYM_ENDINGS = ("n", "an", "ian", "ns", "ans", "ians", "ern", "i", "is", "ese", "ish")
CAP = 2  # counted up to: a third unmentioned entity says nothing the second did not


def mentioned(entity: str, words: set[str]) -> bool:
    """Whether an article (its set of lower-case words, apostrophes dropped) mentions an entity: every
    number in it, and at least one of its other words ("Mr Brown" is mentioned by "Gordon Brown",
    "Iranian" by "Iran")."""
    tokens = [w for w in _plain(bare_words(entity)) if w not in _FILLER]
    numbers = [w for w in tokens if any(c.isdigit() for c in w)]
    names = [w for w in tokens if w not in numbers]
    return all(n in words for n in numbers) and (not names or any(_named(n, words) for n in names))


def _named(word: str, words: set[str]) -> bool:
    """Whether the article's words hold this word of a name, or the place it is the people of."""
    return word in words or any(word.endswith(e) and word[:-len(e)] in words for e in _DEMONYM_ENDINGS
                                if len(word) - len(e) >= 4)


def _plain(words: list[str]) -> list[str]:
    """The words with apostrophes dropped ("Kata'ib" and "Kataib" are one name)."""
    return [w.replace("'", "") for w in words]


def premises(question: str) -> list[str]:
    """The named things and numbers the question takes as given: its entities but ordinals, numbers
    said in words ("the two factions": how many it asks about) and the slot it asks for ("what day")."""
    return [e.text for e in entities(question) if e.label not in _SKIPPED
            and not (e.label == "CARDINAL" and not any(c.isdigit() for c in e.text))
            and not _ASKING & set(bare_words(e.text))]


def unmentioned(question: str, article: str) -> int:
    """How many of the question's premises (up to CAP) the article never mentions."""
    words = set(_plain(bare_words(article)))
    return min(sum(not mentioned(p, words) for p in premises(question)), CAP)
