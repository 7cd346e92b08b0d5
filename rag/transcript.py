"""Exporting a conversation, with every answer's citations and quotes: JSON (the `Transcript` shape,
each turn the `rag ask --json` answer) and Markdown (for reading and sharing). Used by
`rag chat --save FILE` and the UI's export buttons."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rag.conversation import Conversation
from rag.schema import Answer, Citation, Transcript


def transcript(conversation: Conversation) -> Transcript:
    """The conversation as one JSON-ready object."""
    exported = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Transcript(conversation_id=conversation.id, exported=exported, turns=conversation.answers)


def to_json(conversation: Conversation) -> str:
    """The conversation as indented JSON."""
    return transcript(conversation).model_dump_json(indent=2) + "\n"


def to_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question, its answer with [n] markers, and the quotes."""
    t = transcript(conversation)
    lines = [f"# Conversation {t.conversation_id}", "",
             f"Exported {t.exported}. Each [n] is a verbatim quote of the article named after it; "
             "the numbers hold for the whole conversation.", ""]
    for i, answer in enumerate(t.turns, 1):
        lines += _turn(i, answer)
    return "\n".join(lines)


def _turn(i: int, answer: Answer) -> list[str]:
    lines = [f"## {i}. {_inline(answer.question)}", ""]
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines += [f"*Searched as:* {_inline(answer.standalone_question)}", ""]
    lines += [_inline(answer.answer), ""]
    if answer.refused and answer.refusal_reason:
        lines += [f"*Why no answer:* {_inline(answer.refusal_reason)}", ""]
    lines += [_source(c) for c in answer.citations]
    return lines + ([""] if answer.citations else [])


def _source(c: Citation) -> str:
    where = ", ".join(x for x in (c.publisher, c.date) if x)
    title = f"*{_inline(c.title)}*" + (f", {where}" if where else "")
    return f"- [{c.id}] \"{_inline(c.quote)}\" ({c.verdict}) - {title}. `{c.source}` characters {c.start}-{c.end}"


def _inline(text: str) -> str:
    """Text on one Markdown line, with the characters that would start markup or a link escaped."""
    text = " ".join(text.split())
    for ch in "\\`*_<>#|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("](", "]\\(")  # never a live Markdown link


def save(conversation: Conversation, path: Path) -> Path:
    """Write the conversation to `path`: JSON for a .json name, Markdown otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = to_json(conversation) if path.suffix.lower() == ".json" else to_markdown(conversation)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a crash mid-write never leaves a half-written transcript
    return path
