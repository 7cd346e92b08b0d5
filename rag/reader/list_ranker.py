"""The list ranker: chooses the answer among the learned ranker's best candidates (`RAG_LIST_RANKER`,
on by default with `RAG_RANKER=learned`).

The learned ranker's combiner (`rag.reader.combiner`) weighs cheap signals, and most of its misses
on BBC dev pick a sibling of the evidence sentence in the same article: the one sharing the most
words with the question rather than the one holding what is asked. The list ranker is the news
reader (`rag.reader.model`) fine-tuned on the combiner's own candidate lists, a softmax over each
question's candidates and a "none" slot (`rag.reader.list_train`). It reads the combiner's `reads`
best candidates as the reader reads a sentence (`model.second_segment`), and the answer is the one
with the highest combined logit plus `stack_weight` times its logit; both numbers are on its card,
chosen on the fit split (questions it never trained on). It does not touch the answerability: the
head still reads the combiner's best candidate. It runs in bfloat16 where the CPU has it
(`index.precision`).

The weights folder is a reader's (reader.safetensors and reader.json, `rag.reader.score`), its card
adding "reads" and "stack_weight".
"""

from __future__ import annotations

from pathlib import Path
from rag.reader.combiner import Combiner, logit
from rag.reader.score import Reader, ReaderMissing


def stacked_choice(combiner: Combiner, rows: list[list[float]], logits: dict[int, float], weight: float) -> int:
    """The index, among the candidates the list ranker read (`logits`: its logit per index into `rows`,
    the combiner's features), with the highest combined logit plus `weight` times the list ranker's."""
    return max(logits, key=lambda i: logit(combiner.probability(rows[i])) + weight * logits[i])


class ListRanker:
    """The list ranker's weights and stacking, loaded once; `choose` per question."""

    def __init__(self, folder: Path, threads: int = 1, fix: str = "retrain it with `rag train-list-ranker`",
                 fast: bool = True):
        self.reader = Reader(folder, threads, fix, fast)
        try:
            self.reads = int(self.reader.card["reads"])
            self.weight = float(self.reader.card["stack_weight"])
            if self.reads < 1:
                raise ValueError(f"reads {self.reads}: it must read at least one candidate")
        except (KeyError, TypeError, ValueError) as exc:
            raise ReaderMissing(f"the list ranker's card {folder / 'reader.json'} has no usable reads or "
                                f"stack_weight ({exc}): {fix}") from exc

    def load(self) -> None:
        """Load the network now (not in the first question's timing)."""
        self.reader.network  # noqa: B018

    def choose(self, question: str, combiner: Combiner, rows: list[list[float]], seconds: list[str]) -> int:
        """The index of the answer among candidates described by the combiner's features (`rows`, at
        least one) and read as `seconds` (`model.second_segment`)."""
        shortlist = combiner.shortlist(rows, self.reads)
        logits = dict(zip(shortlist, self.reader.logits(question, [seconds[i] for i in shortlist])))
        return stacked_choice(combiner, rows, logits, self.weight)
