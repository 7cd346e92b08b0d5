"""A question's grammar, read from spaCy's parse (`rag.nlp`): which third-person pronouns or
demonstratives it leaves open, whether it is a fragment or opens with a conjunction, and the names and
nouns it carries. `rag.question.follow_up` decides from it whether a question leans on the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rag.nlp import annotate

_COUNTS = {"CARDINAL", "ORDINAL"}


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
