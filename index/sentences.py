"""Sentence boundaries as character spans, for chunking and for aligning answers to sources.

A small rule-based splitter: news prose is regular, the rules are deterministic and fast, and
every span is exact, which model-based splitters that rewrite whitespace cannot promise.
"""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "lt", "gen", "col", "maj", "capt", "sgt", "st", "jr", "sr", "prof", "gov",
    "sen", "rep", "rev", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
}
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n+")
_NEXT_START = re.compile(r"\s*[\"'(\[]?[A-Z0-9]")


_WORD_WINDOW = 64  # characters looked back for the word before a dot: any longer word is no abbreviation


def _is_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"([\w.]+)$", text[max(0, dot - _WORD_WINDOW):dot])
    if not word:
        return False
    w = word.group(1).lower().rstrip(".")
    return w in ABBREVIATIONS or (len(w) == 1 and w.isalpha())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence in `text`, whitespace excluded; newlines always split."""
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group().startswith("\n"):
            cut = m.start()
        elif _NEXT_START.match(text, m.end()) and not (text[m.start()] == "." and _is_abbreviation(text, m.start())):
            cut = m.end()
        else:
            continue
        spans.append((start, cut))
        start = m.end() if m.group().startswith("\n") else cut
    spans.append((start, len(text)))
    return [s for s in (_strip(text, a, b) for a, b in spans) if s]


def _strip(text: str, a: int, b: int) -> tuple[int, int] | None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if b > a else None


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` as strings."""
    return [text[a:b] for a, b in sentence_spans(text)]
