"""The kinds of answer a question may ask for, one entry each: what in a question asks for it, what in a
sentence offers it, and how a refusal names it.

`rag.question.kind.expected` reads a question against these entries in three rounds, the first round
that finds a kind deciding: each kind's question pattern (`asked_by`: "how many", "when", "who"), then
the head noun of the phrase after which/what (`head_nouns`: "which militia"), then each kind's reading
of the question (`asked_when`: "what type of missiles" has a noun to classify). Within a round the
order of KINDS decides, so it is the order of precedence: a quantity before a date before a time.
`rag.question.focus.focus` reads from the question the `Focus` fields the kind's entry names (`reads`),
and `rag.evidence.offers.offers` checks a sentence with the entry's `check`: "named" (a named entity
with one of its `labels` that the question does not name, or, with `roles`, a role word standing for
a person), "shown" (the sentence shows its pattern or one of its words), "counted" (a number counts a
noun of the question), "variety" or "reaction" (their own checks there).

To add a kind, add its entry to KINDS where its precedence puts it, with what asks for it (a pattern,
head nouns, or a reading: a `Focus` field whose reading of the question is non-empty when it asks for
the kind), whether "name the two..." asks for that many (`counted`), what offers it (a check and the
labels, pattern or words it needs, the Focus fields it reads, whether an earlier sentence may state it
for a later one: `lead`), and the refusal wording (`asked_for`). A new reading of the question belongs
in `rag.question.focus`, a new check in `rag.evidence.offers`.
"""

from __future__ import annotations

import re
from dataclasses import KW_ONLY, dataclass
from typing import Literal

from rag.text import content_stems


def _stems(nouns: str) -> frozenset[str]:
    """The stems of space-separated nouns."""
    return frozenset(content_stems(nouns))


ROLES = frozenset("minister leader official president secretary spokesman spokesperson commander adviser advisor "
                  "premier chief envoy ambassador head cleric general chairman speaker mp lawmaker".split())
ROLE_STEMS = _stems(" ".join(ROLES))
ROLE_PATTERN = re.compile(rf"\b({'|'.join(sorted(ROLES))})\b", re.I)
_YEAR = r"\b(19|20)\d\d\b"


@dataclass(frozen=True)
class Kind:
    """One kind of answer: what asks for it, what offers it, and how a refusal names it."""

    name: str
    _: KW_ONLY
    asked_for: str  # the refusal's wording: "no retrieved sentence states <asked_for>"
    check: Literal["named", "shown", "counted", "variety", "reaction"]  # how a sentence offers it
    asked_by: re.Pattern | None = None  # a question pattern that asks for it
    head_nouns: frozenset[str] = frozenset()  # stems of the head nouns after which/what that ask for it
    asked_when: str | None = None  # a Focus field whose reading of the question, when non-empty, asks for it
    counted: bool = False  # "name the two..." asks for that many
    reads: tuple[str, ...] = ()  # the Focus fields its check reads from the question
    labels: frozenset[str] = frozenset()  # named: the entity labels of a name that offers it
    roles: bool = False  # named: a role word not titling a name offers it too ("the prime minister said")
    shows: re.Pattern | None = None  # shown: a pattern that offers it...
    show_words: frozenset[str] = frozenset()  # ...or one of these words (a possessive 's dropped)
    mark: str = ""  # shown, counted: what the offer is recorded as (the check finds no words)
    lead: bool = False  # the sentences just before may state it for this one: news sets the day once


_NAMED = ("spoken", "named")  # the Focus fields the named check reads
KINDS = {kind.name: kind for kind in (
    Kind("quantity", asked_for="the number asked for",
         asked_by=re.compile(r"\bhow (many|much|large|big|long|far|old)\b|\bwhat (number|percentage|amount)\b", re.I),
         check="counted", reads=("counted",), mark="#"),
    Kind("date", asked_for="the date asked for",
         asked_by=re.compile(r"\b(what|which) date\b", re.I),
         check="shown", shows=re.compile(rf"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|{_YEAR}", re.I),
         mark="@", lead=True),
    Kind("time", asked_for="when",
         asked_by=re.compile(r"^\W*when\b|\bwhat (day|date|year|month|time)\b|\bwhich (day|date|year|month)\b"
                             r"|\bon what day\b", re.I),
         check="shown", shows=re.compile(_YEAR),
         show_words=frozenset("monday tuesday wednesday thursday friday saturday sunday january february march april "
                              "may june july august september october november december yesterday today week month "
                              "year ago earlier later morning evening night".split()),
         mark="@", lead=True),
    Kind("person", asked_for="the person asked for",
         asked_by=re.compile(r"^\W*(who|whom|whose)\b", re.I),
         head_nouns=_stems(" ".join(ROLES) + " person man woman politician figure"), counted=True,
         check="named", reads=_NAMED, labels=frozenset({"PERSON"}), roles=True),
    Kind("group", asked_for="the group asked for",
         head_nouns=_stems("group groups militia militias faction factions organisation organization party movement "
                           "newspaper paper outlet agency coalition network publication broadcaster channel ministry "
                           "body alliance"), counted=True,
         check="named", reads=_NAMED, labels=frozenset({"ORG"})),
    Kind("place", asked_for="the place asked for",
         asked_by=re.compile(r"^\W*where\b|\bin which (country|city|town|governorate|province|region)\b", re.I),
         head_nouns=_stems("country countries city town governorate province region airbase base capital area "
                           "village district"), counted=True,
         check="named", reads=_NAMED, labels=frozenset({"GPE", "LOC", "FAC"})),  # not NORP: "Qatari" is an adjective
    Kind("variety", asked_for="the kind asked for",
         asked_when="classified",
         check="variety", reads=("classified",)),
    Kind("reaction", asked_for="how that party responded",
         asked_when="party", counted=True,
         check="reaction", reads=("party",)),
)}
