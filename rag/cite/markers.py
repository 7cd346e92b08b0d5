"""The cited answer's text and its citations: [n] markers placed in each sentence, unsupported
sentences marked or dropped, and each supporting span made a `Citation` under its conversation number."""

from __future__ import annotations

from rag.cite.align import Alignment
from rag.schema import AnswerSentence, Citation, Verdict


def with_markers(sentence: str, ids: list[int]) -> str:
    """'... in Baghdad [1][2].': markers go before the closing punctuation."""
    marks = "".join(f"[{i}]" for i in ids)
    if not marks:
        return sentence
    cut = len(sentence.rstrip('.!?"\''))
    return f"{sentence[:cut]} {marks}{sentence[cut:]}" if cut else f"{sentence} {marks}"


def answer_text(sentences: list[AnswerSentence], drop_unsupported: bool) -> str:
    """The answer text: cited sentences with markers; unsupported ones marked or dropped."""
    parts = []
    for s in sentences:
        if s.verdict == "unsupported":
            if not drop_unsupported:
                parts.append(f"{s.text} [unsupported]")
        else:
            parts.append(with_markers(s.text, s.citations))
    return " ".join(parts)


def citation(number: int, alignment: Alignment, verdict: Verdict) -> Citation:
    """The citation [number] of a supporting span."""
    s, p = alignment.source, alignment.source.passage
    return Citation(id=number, source=s.source, title=p.title, publisher=p.publisher, date=p.date, quote=s.quote,
                    start=s.start, end=s.end, score=round(alignment.score, 4), supported=verdict == "supported",
                    verdict=verdict, file=p.file)
