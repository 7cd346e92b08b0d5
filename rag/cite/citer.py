"""Cite a draft: split it into sentences, hold back any that would steer the reader, align each of
the others to the source sentences that support it (`rag.cite.align`), judge it (`rag.cite.verify`)
and number its citations for the conversation (`rag.cite.markers`). When a model's draft declined,
has nothing the articles fully support, or offers no answer of the kind asked for, the extractive
answer is cited in its place (`Citer.cite_draft`).

Citations come from alignment, never from the model, so they work the same with a 0.5B model, a
remote one or none at all.
"""

from __future__ import annotations

import logging
import re

from index.addressed import AddressedDetector
from index.embed import Embedder
from index.sentences import sentence_spans
from rag.cite.align import choose_citations, rank_support
from rag.cite.markers import citation
from rag.cite.verify import judge
from rag.conversation import Conversation
from rag.draft.extractive import extractive_text
from rag.draft.prompting import declined
from rag.evidence.gather import Gathered
from rag.evidence.offers import offers
from rag.evidence.sentences import SourceSentence
from rag.llm.generate import Generator
from rag.question.focus import focus
from rag.schema import AnswerSentence, Citation

log = logging.getLogger(__name__)

# A link or a piped download in a draft: what planted text asks a model to pass on, never an answer.
_LINK_OR_COMMAND = re.compile(r"https?://|\bwww\.\w|\b(curl|wget|iwr|powershell)\b", re.I)


class Citer:
    """Cites drafts against candidate sentences; `support_model`, when given, is asked yes/no about
    sentences the cheap check leaves in doubt (`rag.cite.verify.judge`)."""

    def __init__(self, embedder: Embedder, support_model: Generator | None = None):
        self.embedder = embedder
        self.support_model = support_model
        self.detector = AddressedDetector()  # drafts that carry an order to an AI are never shown
        self.detector.weights  # noqa: B018 -- loaded here rather than in the first question's timing

    def cite_draft(self, text: str, found: Gathered, conversation: Conversation, mode: str, by_model: bool
                   ) -> tuple[str, list[AnswerSentence], list[Citation]]:
        """(drafted_by, sentences, citations) of the draft `mode` wrote; when a model's draft (`by_model`)
        declined, or has nothing the articles fully support, or offers no answer of the kind asked for,
        of the extractive answer instead, since the evidence check has already found an answer. Small
        models decline answerable questions (13 of 72 for the 0.5B) and garble others ("Qasim al-Araji
        said specifically supervises that issue the top official" is only partial; "Which outlet
        reported...?" got a draft naming no outlet): the source sentences are then the better answer."""
        sentences, citations = ([], []) if declined(text) else self.cite(text, found.candidates, found.vectors,
                                                                          conversation)
        kind = found.question.expected.kind
        if not by_model or (any(s.verdict == "supported" for s in sentences)
                            and offers(kind, text, focus(found.question.alone.reading, kind))):
            return mode, sentences, citations
        log.info("the %s draft declined, was not supported or did not answer; answering from the source sentences",
                 mode)
        text = extractive_text(found.ranked, found.question.expected)
        return "extractive", *self.cite(text, found.candidates, found.vectors, conversation)

    def cite(self, text: str, candidates: list[SourceSentence], vectors: list[list[float]],
             conversation: Conversation) -> tuple[list[AnswerSentence], list[Citation]]:
        """Split the draft into sentences, align and judge each, number the citations."""
        drafts = [text[a:b] for a, b in sentence_spans(text)]
        known = {c.text: v for c, v in zip(candidates, vectors)}
        sentence_vectors = self._vectors(drafts, known)
        steering = self._steering(drafts, sentence_vectors, known)
        sentences, citations = [], {}
        for draft, vector, steers in zip(drafts, sentence_vectors, steering):
            if steers or _LINK_OR_COMMAND.search(draft):
                log.warning("a draft sentence with a link, a command or an order to an AI is not shown: %r", draft)
                continue
            chosen = choose_citations(draft, rank_support(draft, vector, candidates, vectors))
            verdict, recall = judge(draft, [c.source.text for c in chosen], self.support_model)
            ids = []
            if verdict != "unsupported":
                for alignment in chosen:
                    cite = citation(conversation.number(alignment.source.key), alignment, verdict)
                    citations.setdefault(cite.id, cite)
                    ids.append(cite.id)
            sentences.append(AnswerSentence(text=draft, citations=ids, verdict=verdict, support=round(recall, 3)))
        return sentences, sorted(citations.values(), key=lambda c: c.id)

    def _steering(self, drafts: list[str], vectors: list[list[float]], candidates: dict[str, list[float]]
                  ) -> list[bool]:
        """Which draft sentences are addressed to an AI, whole or in a clause (`index.addressed`). A
        candidate's own text was checked when it was indexed (a flagged one is never a candidate; the
        candidates are the index's own sentences: 2,777 of 2,777 for 150 seed questions), so only
        the sentences a model wrote are checked now."""
        written = [i for i, d in enumerate(drafts) if d not in candidates]
        marks = self.detector.marks([drafts[i] for i in written], [vectors[i] for i in written], self.embedder.embed)
        steering = [False] * len(drafts)
        for i, mark in zip(written, marks):
            steering[i] = mark.held_back
        return steering

    def _vectors(self, drafts: list[str], candidates: dict[str, list[float]]) -> list[list[float]]:
        """The drafts' embeddings: a draft sentence that is a candidate's own text (every sentence of
        an extractive answer) has its vector already (`candidates`: text -> vector); only the others
        are embedded."""
        missing = list(dict.fromkeys(d for d in drafts if d not in candidates))
        embedded = dict(zip(missing, self.embedder.embed(missing) if missing else []))
        return [candidates[d] if d in candidates else embedded[d] for d in drafts]
