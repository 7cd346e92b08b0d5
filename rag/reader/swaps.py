"""Premise swaps: unanswerable training pairs made from answerable news questions by changing one fact.

A false-premise question carries one fact the article does not hold ("Why did the Tories propose
scrapping seven units?" where the article says six), and its nearest sentence shares nearly every
word with it. The written sets hold one such question per article, too few for the reader to learn
to check a question's facts against a sentence. So, per answerable news question, a named entity or
number that the question shares with its evidence sentence is replaced by another of the same kind
(spaCy's label) from the same article that the evidence and its context do not mention; the evidence
becomes a negative for the changed question, beside the unchanged pair as a positive. The reader
learns the check from these contrasts; no rule makes it at answer time.
"""

from __future__ import annotations

import random

from rag.nlp import entities
from rag.reader.data import Pair, SquadQuestion
from rag.reader.model import CONTEXT_SEPARATOR

SWAPPED_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW",
                            "DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"})


def _article_entities(q: SquadQuestion) -> dict[str, set[str]]:
    """The named entities of every sentence of the question's article, by label."""
    found: dict[str, set[str]] = {}
    for sentence in q.sentences + [s.split(CONTEXT_SEPARATOR)[0] for s in q.elsewhere]:
        for e in entities(sentence):
            found.setdefault(e.label, set()).add(e.text)
    return found


def swapped(q: SquadQuestion, article: dict[str, set[str]], rng: random.Random) -> Pair | None:
    """One negative pair: the question with one of its facts changed, against its evidence sentence; None
    when the question shares no entity with its evidence, or the article offers no other of that kind."""
    first = min(q.answer_at)
    evidence = " ".join(q.seconds[i] for i in sorted(q.answer_at))
    shared = [e for e in entities(q.text) if e.label in SWAPPED_LABELS and e.text in evidence]
    rng.shuffle(shared)
    for e in shared:
        others = sorted(t for t in article.get(e.label, ()) if t not in evidence and t.lower() not in q.text.lower())
        if others:
            before, other = q.text[:e.start], rng.choice(others)
            if before.lower().endswith("the ") and other.lower().startswith("the "):
                other = other[4:]  # "the The Electoral Commission"
            text = before + other + q.text[e.start + len(e.text):]
            return Pair(text, q.seconds[first], 0.0, f"{q.qid}~swap")
    return None


def premise_swaps(questions: list[SquadQuestion], seed: int) -> list[Pair]:
    """A swapped negative (`swapped`) for every answerable news question that allows one."""
    rng, by_article, pairs = random.Random(seed), {}, []
    for q in questions:
        if not q.answer_at or not q.dataset.startswith("bbcqa"):
            continue
        if q.article not in by_article:
            by_article[q.article] = _article_entities(q)
        pair = swapped(q, by_article[q.article], rng)
        if pair:
            pairs.append(pair)
    return pairs
