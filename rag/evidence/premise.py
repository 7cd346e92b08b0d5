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
CAP = 2  # counted up to: a third unmentioned entity says nothing the second did not


def mentioned(entity: str, words: set[str]) -> bool:
    """Whether an article (its set of lower-case words) mentions an entity: every number in it, and
    at least one of its other words ("Mr Brown" is mentioned by "Gordon Brown")."""
    tokens = [w for w in bare_words(entity) if w not in _FILLER]
    numbers = [w for w in tokens if any(c.isdigit() for c in w)]
    names = [w for w in tokens if w not in numbers]
    return all(n in words for n in numbers) and (not names or any(n in words for n in names))


def unmentioned(question: str, article: str) -> int:
    """How many of the question's entities (up to CAP) the article never mentions."""
    words = set(bare_words(article))
    missing = sum(not mentioned(e.text, words) for e in entities(question) if e.label not in _SKIPPED)
    return min(missing, CAP)
