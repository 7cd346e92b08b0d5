"""Remove what scrapers leave behind and group the remaining lines into blocks.

A block is a run of kept lines with no removed line between them, so a span inside a block is
one contiguous span of the original file (blank lines are only whitespace).
"""

from __future__ import annotations

import re

from index.mapped import MappedText

_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"

# Whole lines (after normalisation, case-insensitive) that are never article content.
BOILERPLATE_LINES = [re.compile(p, re.I) for p in (
    r"breadcrumbs?", r"menu(-control|-toggle)?", r"(skip to|jump to) (main )?content", r"navigation",
    r"advertisement|advert|sponsored( content)?", r"[×✕✖x]", r"e-?mail:?", r"(share|print|tweet|copy link)( this( article)?)?:?",
    r"(facebook|twitter|x|whatsapp|linkedin|telegram|reddit)", r"read (more|also|next):?.{0,80}",
    r"(subscribe|sign up|register)\b.{0,60}\b(newsletter|updates|alerts)\b.{0,40}", r"stay updated with the latest news!?",
    r"\(?(photo )?credits?: [^)]*\)?", r"[•·\-–]?\s*(" + _WEEKDAY + r",?\s*)?\d{1,2} " + _MONTH + r" \d{4}",
    r"[•·\-–]?\s*(" + _WEEKDAY + r",?\s*)?" + _MONTH + r" \d{1,2},? \d{4}",
)]

# Repeated captions and teasers are dropped; both values were set by hand on the seeds' scraper
# leftovers (no measurement chose them; tests/test_clean.py holds the cases).
MIN_DUPLICATE_CHARS = 25  # shorter repeated lines ("Iraq", "Continuing attacks") are kept
DUPLICATE_WINDOW = 40  # lines either side searched for a containing line


def is_boilerplate(line: str) -> bool:
    """True for navigation, ads, share/sign-up prompts, credits and date banners."""
    return any(p.fullmatch(line) for p in BOILERPLATE_LINES)


def find_duplicates(lines: list[str]) -> set[int]:
    """Indexes of lines that repeat another line, or are contained in a longer nearby one."""
    seen: dict[str, int] = {}
    drop: set[int] = set()
    for i, line in enumerate(lines):
        key = line.casefold()
        if len(key) < MIN_DUPLICATE_CHARS:
            continue
        if key in seen:
            drop.add(i)
            continue
        seen[key] = i
        window = lines[max(0, i - DUPLICATE_WINDOW): i + DUPLICATE_WINDOW + 1]
        if any(len(other) > len(line) and key in other.casefold() for other in window):
            drop.add(i)
    return drop


def clean_lines(lines: list[MappedText]) -> list[MappedText | None]:
    """Normalised lines; blank lines become "" and removed lines become None."""
    normal = [line.normalized() for line in lines]
    texts = [n.text for n in normal]
    drop = {i for i, t in enumerate(texts) if t and is_boilerplate(t)}
    drop |= find_duplicates([t if i not in drop else "" for i, t in enumerate(texts)])
    return [None if i in drop else n for i, n in enumerate(normal)]


def to_blocks(cleaned: list[MappedText | None]) -> list[MappedText]:
    """Group kept lines into blocks; a removed line closes the current block."""
    blocks, current = [], []
    for line in cleaned + [None]:
        if line is None:
            if current:
                blocks.append(MappedText.join(current, sep="\n"))
            current = []
        elif line.text:
            current.append(line)
    return blocks
