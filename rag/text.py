"""Word-level helpers shared by the question readers, sentence ranking and offers, alignment, the support
rule and the metrics.

Everything compares normalised, lower-cased, stemmed content words, so "attacks" in an answer
matches "attack" in a source and curly quotes never matter.
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.mapped import normalize_text

STOPWORDS = frozenset("""
a an and are as at be been being but by can could did do does for from had has have he her hers him his how i if in
into is it its itself me more most my no nor not of on or our out over own said says she so some such than that the
their them then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your about after again against all also any because before between both during each
few further here just once only other s same should t both according told tell tells saying
""".split())
_WORD = re.compile(r"[\w']+")
SMALL_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS = frozenset(SMALL_NUMBERS.keys() - {"zero"}) | frozenset(
    "hundred hundreds thousand thousands million millions dozen dozens first second third".split())
_DATE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}\b|\b\d{4}-\d{2}-\d{2}\b", re.I)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words of normalised text (apostrophes kept inside words)."""
    return list(_words(text))


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    """`words`, cached: ranking asks for the same candidate sentences' words many times a question."""
    return tuple(w.strip("'") for w in _WORD.findall(normalize_text(text).lower()) if w.strip("'"))


def bare_words(text: str) -> list[str]:
    """Words with a possessive 's dropped ("Monday's" -> "monday")."""
    return [w[:-2] if w.endswith("'s") else w for w in words(text)]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (stopwords dropped), in order."""
    return list(_content_stems(text))


@lru_cache(maxsize=1 << 16)
def _content_stems(text: str) -> tuple[str, ...]:
    """`content_stems`, cached like `_words`."""
    return tuple(_stemmer().stemWords([w for w in bare_words(text) if w and w not in STOPWORDS]))


def quantity_near(text: str, stems: set[str], window: int = 3) -> bool:
    """True when a number (not part of a date) stands within `window` words before one of `stems`
    ("two Israeli missiles" for a question about missiles)."""
    tokens = words(_DATE.sub(" ", text))
    token_stems = _stemmer().stemWords(tokens)
    for i, token in enumerate(tokens):
        if token[0].isdigit() or token in _NUMBER_WORDS:
            if stems & set(token_stems[i + 1:i + 1 + window]):
                return True
    return False


def names_and_numbers(text: str) -> set[str]:
    """Numbers and capitalised names (not sentence-initial) as lower-cased words: what must not be invented."""
    norm = normalize_text(text)
    found = set(re.findall(r"\b\d[\d,.]*\b", norm))
    for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z'’-]+", norm):
        found.add(m.group().lower().rstrip("'"))
    return {e for e in found if e not in STOPWORDS}


def one_line(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis: a sentence quoted in a report."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"
