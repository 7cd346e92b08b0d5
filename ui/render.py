"""HTML for the chat UI: answers with clickable [n] markers, the sources panel, highlighted articles.

Everything that comes from an article or a user is escaped here, so HTML or script inside an
article is shown as text and never runs. Articles are shown as their kept blocks in the original
characters, so the highlighted text is exactly the citation's quote.
"""

from __future__ import annotations

import html

from rag.pipeline import article_blocks
from rag.schema import Answer, Citation, Passage

CSS = """
.refusal { border-left: 4px solid #b45309; background: #fffbeb; padding: 6px 10px; color: #78350f; }
.unsupported { text-decoration: underline wavy #dc2626; color: #991b1b; }
.cite-link { font-weight: 600; text-decoration: none; }
.article { white-space: pre-wrap; border: 1px solid #ddd; padding: 10px; max-height: 420px; overflow-y: auto; }
.article mark { background: #fde68a; }
.source-meta { color: #555; font-size: 0.9em; }
"""

# Clicking a [n] marker (in the chat or the sources panel) opens that citation's article view and
# scrolls the highlighted span into view. Delegated, so it works for messages added later.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#cite-"]');
    if (!link) return;
    event.preventDefault();
    const id = link.getAttribute('href').slice(1);
    document.querySelectorAll('.article-view').forEach((el) => { el.hidden = el.id !== id; });
    const view = document.getElementById(id);
    if (!view) return;
    view.hidden = false;
    const mark = view.querySelector('mark');
    (mark || view).scrollIntoView({block: 'center'});
  });
}
"""


def cite_link(n: int) -> str:
    """A clickable [n] marker."""
    return f'<a class="cite-link" href="#cite-{n}">[{n}]</a>'


def answer_html(answer: Answer) -> str:
    """The answer for the chat: escaped text, clickable markers, refusals and unsupported sentences styled."""
    if answer.refused:
        return f'<div class="refusal">{html.escape(answer.answer)}</div>'
    parts = []
    for sentence in answer.sentences:
        text = html.escape(sentence.text)
        if sentence.verdict == "unsupported":
            parts.append(f'<span class="unsupported" title="not supported by the articles">{text}</span>')
        else:
            parts.append(text + " " + "".join(cite_link(n) for n in sentence.citations))
    note = ""
    if answer.drafted_by and answer.drafted_by != answer.mode:
        note = (f"<div class=\"source-meta\">The {html.escape(answer.mode)} model's draft did not answer or was "
                "not fully supported by the articles; these are the articles' own sentences.</div>")
    return " ".join(parts) + note


def article_html(citation: Citation) -> str:
    """The cleaned article (kept blocks, original characters) with the cited span in <mark>."""
    kept = article_blocks(citation.file)
    if kept is None:
        return "<p>The article is no longer readable: re-index the corpus.</p>"
    blocks = []
    for start, text in kept:
        end = start + len(text)
        if start <= citation.start and citation.end <= end:
            a, b = citation.start - start, citation.end - start
            blocks.append(html.escape(text[:a]) + "<mark>" + html.escape(text[a:b]) + "</mark>" + html.escape(text[b:]))
        else:
            blocks.append(html.escape(text))
    return "\n\n".join(blocks)


def _meta_line(title: str, publisher: str, date: str, source: str) -> str:
    parts = [f"<b>{html.escape(title or source)}</b>"] + [html.escape(x) for x in (publisher, date) if x]
    return " · ".join(parts) + f' <span class="source-meta">({html.escape(source)})</span>'


def citation_html(c: Citation) -> str:
    """One entry of the sources panel, with its hidden article view."""
    verdict = "" if c.supported else f" <i>({c.verdict})</i>"
    return (f'<div class="citation" id="entry-{c.id}">{cite_link(c.id)} {_meta_line(c.title, c.publisher, c.date, c.source)}'
            f'{verdict}<br>“{html.escape(c.quote)}”</div>'
            f'<div class="article-view" id="cite-{c.id}" hidden><div class="source-meta">{html.escape(c.source)} · '
            f'characters {c.start}–{c.end}</div><div class="article">{article_html(c)}</div></div>')


def passage_html(p: Passage) -> str:
    """An 'also retrieved' passage."""
    return f'<div class="passage">{_meta_line(p.title, p.publisher, p.date, p.source)}<br>{html.escape(p.text)}</div>'


def sources_html(citations: list[Citation], answer: Answer | None, show_retrieved: bool) -> str:
    """The sources panel: every citation of the conversation, then this answer's other passages, folded."""
    if not citations and answer is None:
        return "<p>Sources appear here. Click a [n] marker to read the article with the quote highlighted.</p>"
    parts = ["<h4>Sources cited</h4>"] + [citation_html(c) for c in citations]
    if answer is not None and show_retrieved:
        others = answer.also_retrieved() if not answer.refused else answer.passages
        title = "Related reading" if answer.refused else "Also retrieved"
        parts.append(f"<details><summary>{title} ({len(others)})</summary>"
                     + "".join(passage_html(p) for p in others) + "</details>")
    return "\n".join(parts)
