"""Turn a decoded file into mapped lines of text, per format, plus any metadata the format declares.

Plain text gives its lines; Markdown its lines without front matter and heading marks (front
matter fields become metadata); HTML its visible text, block by block, with entities decoded and
every character still pointing at its place in the HTML source.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from index.mapped import MappedText
from index.models import DocMeta

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_MD_PREFIX = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+)")


def text_lines(original: str, start: int = 0) -> list[MappedText]:
    """Every line of `original[start:]` as a one-to-one mapped slice (newlines dropped)."""
    lines, pos = [], start
    for raw in original[start:].splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        lines.append(MappedText.from_original(original, pos, pos + len(body)))
        pos += len(raw)
    return lines


def extract_markdown(original: str) -> tuple[list[MappedText], DocMeta]:
    """Lines of a Markdown file; `title`, `publisher`/`source` and `date` front matter (else the first
    `# heading` as title) become metadata."""
    meta, start = DocMeta(), 0
    match = _FRONT_MATTER.match(original)
    if match:
        fields = dict(_front_matter_fields(match.group(1)))
        meta = DocMeta(title=fields.get("title"), publisher=fields.get("publisher") or fields.get("source"),
                       date=fields.get("date"))
        start = match.end()
    lines = []
    for line in text_lines(original, start):
        prefix = _MD_PREFIX.match(line.text)
        lines.append(line.slice(prefix.end(), len(line)) if prefix else line)
        if prefix and prefix.group().strip() == "#" and meta.title is None:
            meta.title = lines[-1].text.strip()  # the first level-1 heading
    return lines, meta


def _front_matter_fields(block: str):
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            yield key.strip().lower(), _unquoted(value.strip())


def _unquoted(value: str) -> str:
    """A YAML scalar without its enclosing quotes; quotes inside it, or at one end only, stay
    ("Users 'lose patience'" keeps its closing quote)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


class _HTMLText(HTMLParser):
    """Collects visible text runs with source offsets; block tags start new lines."""

    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "article", "section",
             "blockquote", "figcaption", "title", "td", "th", "header", "footer", "ul", "ol", "pre", "hr"}
    HIDDEN = {"script", "style", "noscript", "template", "svg", "head", "nav", "iframe", "form", "button"}

    def __init__(self, source: str):
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", source)]
        self.lines: list[list[MappedText]] = [[]]
        self.hidden = 0
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self.in_title = False

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _emit(self, text: str, raw_len: int) -> None:
        if self.in_title:
            self.title.append(text)
        if self.hidden:
            return
        start = self._offset()
        if len(text) == raw_len:
            self.lines[-1].append(MappedText.from_original(self.source, start, start + raw_len))
        else:  # an entity: every decoded character points at the whole entity
            self.lines[-1].append(MappedText(text, [start] * len(text), [start + raw_len] * len(text)))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or "").lower()
            if key and attrs.get("content"):
                self.meta[key] = attrs["content"]
        self.in_title = self.in_title or tag == "title"
        if tag in self.HIDDEN:
            self.hidden += 1
        if tag in self.BLOCK:
            self.lines.append([])

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self.BLOCK:
            self.lines.append([])

    def handle_data(self, data):
        self._emit(data, len(data))

    def handle_entityref(self, name):
        raw = f"&{name};" if self.source.startswith(f"&{name};", self._offset()) else f"&{name}"
        self._emit(unescape(raw), len(raw))

    def handle_charref(self, name):
        raw = f"&#{name};" if self.source.startswith(f"&#{name};", self._offset()) else f"&#{name}"
        self._emit(unescape(raw), len(raw))


def extract_html(original: str) -> tuple[list[MappedText], DocMeta]:
    """Visible text of an HTML page as lines; <title> and common <meta> tags become metadata."""
    parser = _HTMLText(original)
    parser.feed(original)
    parser.close()
    lines = []
    for runs in parser.lines:
        joined = MappedText.join(runs, sep="") if runs else None
        lines.extend(text_lines_of(joined) if joined else [])
    m = parser.meta
    meta = DocMeta(
        title=m.get("og:title") or ("".join(parser.title).strip() or None),
        publisher=m.get("og:site_name") or m.get("publisher"),
        date=(m.get("article:published_time") or m.get("date") or m.get("pubdate") or "")[:10] or None,
    )
    return lines, meta


def text_lines_of(mapped: MappedText) -> list[MappedText]:
    """Split a mapped text on its own newlines (HTML text nodes can hold several)."""
    out, pos = [], 0
    for m in re.finditer(r"\r?\n", mapped.text):
        out.append(mapped.slice(pos, m.start()))
        pos = m.end()
    out.append(mapped.slice(pos, len(mapped)))
    return out


def extract(original: str, suffix: str) -> tuple[list[MappedText], DocMeta]:
    """Lines and declared metadata for a file of the given suffix."""
    suffix = suffix.lower()
    if suffix in (".html", ".htm"):
        return extract_html(original)
    if suffix in (".md", ".markdown"):
        return extract_markdown(original)
    return text_lines(original), DocMeta()
