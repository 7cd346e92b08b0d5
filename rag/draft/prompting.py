"""What a model is shown: the question and the evidence, fenced as data.

By default the model reads the best-ranked source sentences grouped by article
(`RAG_LLM_EVIDENCE_SENTENCES`), each with the sentences it takes its "he" or its day from; with 0
it reads the whole passages. Sentences addressed to an AI are withheld, and angle brackets become
look-alikes so no article text can close the fence it sits in. The prompts themselves are in
`rag.prompts`.
"""

from __future__ import annotations

from index.sentences import sentence_spans
from rag import prompts
from rag.evidence.planted import is_instruction_like
from rag.evidence.rank import Ranked
from rag.evidence.sentences import SourceSentence
from rag.schema import Passage


def declined(text: str) -> bool:
    """The model wrote nothing, or said the passages do not answer (`prompts.NOT_IN_CORPUS`)."""
    return prompts.NOT_IN_CORPUS in text or not text.strip()


def messages(question: str, evidence: str) -> list[dict]:
    """The chat messages that ask a model to answer `question` from `evidence` (a block below)."""
    return [{"role": "system", "content": prompts.ANSWER_SYSTEM},
            {"role": "user", "content": prompts.ANSWER_USER.format(passages=evidence, question=question)}]


def model_view(text: str, addressed: set[str] = frozenset()) -> str:
    """Passage text as the model sees it: sentences addressed to an AI (marked by the index, or
    instruction-like) are withheld, and angle brackets become look-alikes so no article text can
    close the <data> or <passage> fence it sits in."""
    shown = ("[text withheld: it addresses an AI]" if s in addressed or is_instruction_like(s) else s
             for s in (text[a:b] for a, b in sentence_spans(text)))
    return fenced(" ".join(shown))


def fenced(text: str) -> str:
    """Article text with its angle brackets as look-alikes (‹ ›), so it cannot close a fence."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def _numbered(parts: list[tuple[str | None, str, str]]) -> str:
    """(title, source, text) parts as the model's numbered passages."""
    return "\n\n".join(prompts.PASSAGE.format(n=i, title=title or "untitled", source=source, text=text)
                       for i, (title, source, text) in enumerate(parts, 1))


def passages_block(passages: list[Passage], addressed: set[str] = frozenset()) -> str:
    """The passages as the model sees them."""
    return _numbered([(p.title, p.source, model_view(p.text, addressed)) for p in passages])


def sentences_block(ranked: list[Ranked], n: int) -> str:
    """The n best-ranked sentences (with the sentences they take their day or their "he" from) as the model sees
    them: grouped by article (the best sentence's first), in article order, with "..." where text
    was left out."""
    chosen = {s.key: s for r in ranked[:n] for s in _context_of(r) + [r.sentence]}
    by_source: dict[str, list[SourceSentence]] = {s.source: [] for s in chosen.values()}
    for s in sorted(chosen.values(), key=lambda s: s.key):
        by_source[s.source].append(s)
    return _numbered([(group[0].passage.title, source, fenced(_with_gaps(group)))
                      for source, group in by_source.items()])


def _context_of(r: Ranked) -> list[SourceSentence]:
    """What the model needs before a sentence: the one before it when that says who its "He" is
    (`Ranked.antecedent`), and the sentence its time comes from."""
    return [s for s in (r.antecedent, r.lead) if s]


def _with_gaps(sentences: list[SourceSentence]) -> str:
    """One article's chosen sentences joined, "..." marking each place where text was skipped."""
    parts = [sentences[0].text]
    for before, s in zip(sentences, sentences[1:]):
        parts.append(("" if s.start - before.end <= 3 else "... ") + s.text)
    return " ".join(parts)
