"""The kinds of answer a question may ask for, one entry each: what in a question asks for it and how a
refusal names it.

`rag.question.kind.expected` reads a question against these entries in three rounds, the first round
that finds a kind deciding: each kind's question pattern (`asked_by`: "how many", "when", "who"), then
the head noun of the phrase after which/what (`head_nouns`: "which militia"), then each kind's reading
of the question (`asked_when`: "what type of missiles" has a noun to classify). Within a round the
order of KINDS decides, so it is the order of precedence: a quantity before a date before a time.

To add a kind, add its entry to KINDS where its precedence puts it, with what asks for it (a pattern,
head nouns, or a reading: a `rag.question.focus.Focus` field whose reading of the question is
non-empty when it asks for the kind), whether "name the two..." asks for that many (`counted`), and
the refusal wording (`asked_for`). A new reading of the question belongs in `rag.question.focus`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import content_stems


def _stems(nouns: str) -> frozenset[str]:
    """The stems of space-separated nouns."""
    return frozenset(content_stems(nouns))


ROLES = frozenset("minister leader official president secretary spokesman spokesperson commander adviser advisor "
                  "premier chief envoy ambassador head cleric general chairman speaker mp lawmaker".split())
ROLE_STEMS = _stems(" ".join(ROLES))
ROLE_PATTERN = re.compile(rf"\b({'|'.join(sorted(ROLES))})\b", re.I)


@dataclass(frozen=True)
class Kind:
    """One kind of answer: what asks for it and how a refusal names it."""

    name: str
    asked_for: str  # the refusal's wording: "no retrieved sentence states <asked_for>"
    asked_by: re.Pattern | None = None  # a question pattern that asks for it
    head_nouns: frozenset[str] = frozenset()  # stems of the head nouns after which/what that ask for it
    asked_when: str | None = None  # a Focus field whose reading of the question, when non-empty, asks for it
    counted: bool = False  # "name the two..." asks for that many


KINDS = {kind.name: kind for kind in (
    Kind("quantity", "the number asked for",
         asked_by=re.compile(r"\bhow (many|much|large|big|long|far|old)\b|\bwhat (number|percentage|amount)\b", re.I)),
    Kind("date", "the date asked for", asked_by=re.compile(r"\b(what|which) date\b", re.I)),
    Kind("time", "when",
         asked_by=re.compile(r"^\W*when\b|\bwhat (day|date|year|month|time)\b|\bwhich (day|date|year|month)\b"
                             r"|\bon what day\b", re.I)),
    Kind("person", "the person asked for", asked_by=re.compile(r"^\W*(who|whom|whose)\b", re.I),
         head_nouns=_stems(" ".join(ROLES) + " person man woman politician figure"), counted=True),
    Kind("group", "the group asked for",
         head_nouns=_stems("group groups militia militias faction factions organisation organization party movement "
                           "newspaper paper outlet agency coalition network publication broadcaster channel ministry "
                           "body alliance"), counted=True),
    Kind("place", "the place asked for",
         asked_by=re.compile(r"^\W*where\b|\bin which (country|city|town|governorate|province|region)\b", re.I),
         head_nouns=_stems("country countries city town governorate province region airbase base capital area "
                           "village district"), counted=True),
    Kind("variety", "the kind asked for", asked_when="classified"),
    Kind("reaction", "how that party responded", asked_when="party", counted=True),
)}
