"""Read title, publisher, publication date and dateline from what an article's text states.

Only the header zone (the lines before the first long paragraph) is searched for dates, and
photo captions are ignored, so a date inside a caption or a site's "today" banner is not taken
for the publication date. Fields the text does not state stay None.
"""

from __future__ import annotations

import re
from datetime import datetime

from index.clean import is_boilerplate
from index.models import DocMeta

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(?:(?P<m1>{_MONTHS})\.? (?P<d1>\d{{1,2}}),? (?P<y1>\d{{4}})"
    rf"|(?P<d2>\d{{1,2}}) (?P<m2>{_MONTHS}),? (?P<y2>\d{{4}})"
    rf"|(?P<iso>\d{{4}}-\d{{2}}-\d{{2}}))\b"
)
_BYLINE = re.compile(rf"^(?P<pub>[A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){{0,4}}) (?P<date>(?:{_MONTHS}) \d{{1,2}}, \d{{4}})\b")
_SISTER = re.compile(r"\b(?P<pub>(?:The )?[A-Z][\w-]*(?: [A-Z][\w-]*){0,3})'s sister (?:publication|site|newspaper)")
_DATELINE = re.compile(r"^(?P<place>[A-Z][A-Z.'-]{2,}(?: [A-Z][A-Z.'-]+)*(?:, [A-Z][\w.'-]*(?: [A-Z][\w.'-]*)*)?)"
                       r"\s*(?:\([^)]{1,40}\)\s*)?[-–—]\s")
LONG_PARAGRAPH = 120  # characters; the header zone ends at the first such line (set by hand on the seeds' headers)


def parse_date(text: str) -> str | None:
    """First date in `text` as YYYY-MM-DD, or None."""
    m = _DATE.search(text)
    if not m:
        return None
    if m["iso"]:
        return m["iso"]
    month, day, year = (m["m1"], m["d1"], m["y1"]) if m["m1"] else (m["m2"], m["d2"], m["y2"])
    try:
        return datetime.strptime(f"{month} {day} {year}", "%B %d %Y").date().isoformat()
    except ValueError:
        return None


def header_zone(lines: list[str]) -> list[str]:
    """Non-blank, non-boilerplate lines before the first long paragraph."""
    zone = []
    for line in lines:
        if len(line) >= LONG_PARAGRAPH:
            break
        if line and not is_boilerplate(line):
            zone.append(line)
    return zone


def find_title(zone: list[str], publisher: str | None) -> str | None:
    """The first header line that reads like a headline."""
    for line in zone:
        words = line.split()
        if 4 <= len(words) <= 30 and not line.endswith(".") and line != publisher and not _BYLINE.match(line):
            return line
    return None


def find_publisher(zone: list[str], body: str) -> str | None:
    """A byline's outlet, a short masthead line before the headline, or 'X's sister publication'."""
    for line in zone:
        if m := _BYLINE.match(line):
            return m["pub"]
    for line in zone[:2]:
        words = line.split()
        if 1 < len(words) <= 5 and all(w[0].isupper() for w in words) and not re.search(r"\d", line):
            return line
    m = _SISTER.search(body)
    return m["pub"] if m else None


def find_date(zone: list[str]) -> str | None:
    """A byline's date first, then any date in the header zone outside captions."""
    for line in zone:
        if m := _BYLINE.match(line):
            return parse_date(m["date"])
    for line in zone:
        if "credit" not in line.lower() and (date := parse_date(line)):
            return date
    return None


def find_dateline(lines: list[str]) -> str | None:
    """'ERBIL, Kurdistan Region' from a first paragraph that opens 'ERBIL, Kurdistan Region - '."""
    for line in lines:
        if len(line) >= LONG_PARAGRAPH:
            m = _DATELINE.match(line)
            return m["place"] if m else None
    return None


def extract_metadata(lines: list[str], declared: DocMeta) -> DocMeta:
    """Metadata from normalised lines; fields the file format declared take precedence."""
    zone = header_zone(lines)
    publisher = declared.publisher or find_publisher(zone, "\n".join(lines))
    return DocMeta(
        title=declared.title or find_title(zone, publisher),
        publisher=publisher,
        date=parse_date(declared.date) if declared.date else find_date(zone),
        dateline=find_dateline(lines),
    )
