"""Training and validation pairs for the reader from SQuAD-format question sets, split by article.

Every question of a paragraph becomes pairs (question, sentence, label): label 1 for the sentence
holding the answer, 0 for the others. Unanswerable SQuAD 2.0 questions were written to look
answerable from their paragraph, and the sentence holding their `plausible_answers` is the hardest
negative there is: it teaches the reader to refuse near misses. Sentences are split with the
product's own splitter, so the reader trains on the sentences it will be shown.

Articles, never questions, are held out: a question about a held-out article was never seen in
any form. The held-out articles are fixed by `is_held_out`, the same in every run.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from index.sentences import sentence_spans
from rag.reader.model import CONTEXT_SEPARATOR, second_segment

HELD_OUT_PERCENT = 17  # about 5 of the 30 SQuAD 2.0 articles and 8 of the 48 SQuADShifts ones
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Pair:
    """One reader input and its label."""

    question: str
    second: str  # `second_segment(sentence, previous, title)`
    label: float
    qid: str


@dataclass
class SquadQuestion:
    """A question with every sentence of its paragraph, and which of them hold the answer."""

    qid: str
    dataset: str  # the file it came from, e.g. "squad2-30"
    article: str
    text: str
    seconds: list[str]
    sentences: list[str]
    answer_at: set[int]  # indices of sentences holding the answer (empty: unanswerable)
    plausible_at: set[int]  # for unanswerable questions, sentences holding the plausible answer
    elsewhere: list[str] = field(default_factory=list)  # second segments of the article's other paragraphs
    answers: list[str] = field(default_factory=list)  # answer texts (a sentence elsewhere holding one is no negative)
    mined: list[str] = field(default_factory=list)  # second segments of other candidates retrieval puts first (news)


def is_held_out(article: str) -> bool:
    """Whether an article belongs to validation: a stable hash of its title, not a random draw."""
    return int(hashlib.sha256(article.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def _sentences_touching(spans: list[tuple[int, int]], answers: list[dict]) -> set[int]:
    hits = set()
    for a in answers:
        start, end = a["answer_start"], a["answer_start"] + len(a["text"])
        hits |= {i for i, (s, e) in enumerate(spans) if s < end and start < e}
    return hits


def read_questions(path: Path) -> list[SquadQuestion]:
    """Every question of a SQuAD-format file, with its paragraph split into sentences and the
    article's other paragraphs' sentences beside it (what retrieval puts next to the right one)."""
    return squad_questions(json.loads(path.read_text(encoding="utf-8")), path.stem)


def squad_questions(squad: dict, dataset: str) -> list[SquadQuestion]:
    """Every question of a parsed SQuAD-format object (`read_questions`), labelled as from `dataset`."""
    out = []
    for article in squad["data"]:
        title = article["title"]
        paragraphs, asked = [], []
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = sentence_spans(context)
            sentences = [context[a:b] for a, b in spans]
            seconds = [second_segment(s, sentences[i - 1] if i else "", title) for i, s in enumerate(sentences)]
            paragraphs.append(seconds)
            for qa in paragraph["qas"]:
                impossible = qa.get("is_impossible", False)
                answer_at = set() if impossible else _sentences_touching(spans, qa["answers"])
                plausible_at = _sentences_touching(spans, qa.get("plausible_answers", [])) if impossible else set()
                if impossible or answer_at:
                    asked.append(SquadQuestion(qa["id"], dataset, title, qa["question"], seconds, sentences, answer_at,
                                          plausible_at, answers=[a["text"] for a in qa["answers"]]))
        for q in asked:
            q.elsewhere = [s for seconds in paragraphs if seconds is not q.seconds for s in seconds]
        out += asked
    return out


def _overlap(question: str, sentence: str) -> int:
    wanted = {w for w in _WORD.findall(question.lower()) if len(w) > 3}
    return len(wanted & set(_WORD.findall(sentence.lower())))


def _elsewhere_negative(q: SquadQuestion) -> str | None:
    """The sentence of another paragraph sharing most words with the question and holding no answer text:
    the distractor retrieval brings beside the right passage."""
    answers = [a.lower() for a in q.answers]
    fair = [s for s in q.elsewhere if not any(a in s.lower() for a in answers)]
    return max(fair, key=lambda s: _overlap(q.text, s.split(CONTEXT_SEPARATOR)[0]), default=None)


def training_pairs(questions: list[SquadQuestion], negatives: int, rng: random.Random, mined: int = 0) -> list[Pair]:
    """Per question: its answer sentence(s) as positives; as negatives the best-matching sentence of another
    paragraph (`_elsewhere_negative`), the plausible-answer sentence (unanswerable ones), the other sentence
    of the paragraph sharing most words with the question, and random others, `negatives` in all; and the
    first `mined` of its mined negatives (other stories' sentences retrieval puts first)."""
    pairs = []
    for q in questions:
        pairs += [Pair(q.text, second, 0.0, q.qid) for second in q.mined[:mined]]
        distractor = _elsewhere_negative(q) if negatives else None
        if distractor:
            pairs.append(Pair(q.text, distractor, 0.0, q.qid))
        pairs += [Pair(q.text, q.seconds[i], 1.0, q.qid) for i in sorted(q.answer_at)]
        others = [i for i in range(len(q.sentences)) if i not in q.answer_at]
        budget = negatives - bool(distractor)
        chosen = [i for i in sorted(q.plausible_at) if i in others][:budget]
        rest = sorted((i for i in others if i not in chosen), key=lambda i: -_overlap(q.text, q.sentences[i]))
        if rest and len(chosen) < budget:
            chosen.append(rest.pop(0))
        rng.shuffle(rest)
        chosen += rest[:max(budget - len(chosen), 0)]
        pairs += [Pair(q.text, q.seconds[i], 0.0, q.qid) for i in chosen]
    return pairs


def split(questions: list[SquadQuestion]) -> tuple[list[SquadQuestion], list[SquadQuestion]]:
    """(training, held-out) questions, by article."""
    train = [q for q in questions if not is_held_out(q.article)]
    held = [q for q in questions if is_held_out(q.article)]
    return train, held
