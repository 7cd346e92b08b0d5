"""The reader's figures on held-out articles, the gold paragraph given: every sentence of the
paragraph is scored, the best one is the reader's pick, its probability the answerability.

- `answer_sentence_accuracy`: answerable questions whose best sentence holds the answer.
- `auroc`: how well the best probability separates answerable from unanswerable questions
  (SQuAD 2.0 only; SQuADShifts has no unanswerable questions).
- `temperature`: the logit scale that minimises the log-loss of all scored pairs, so that one
  probability threshold means the same thing across corpora.
"""

from __future__ import annotations

import math
from collections import defaultdict

from rag.eval.metrics import auroc
from rag.reader.data import SquadQuestion
from rag.reader.model import predict_logits

TEMPERATURES = [0.5 + 0.05 * i for i in range(71)]  # 0.5 .. 4.0


def fit_temperature(logits: list[float], labels: list[float]) -> float:
    """The temperature T (grid search) minimising the mean log-loss of sigmoid(logit / T)."""
    def loss(t: float) -> float:
        total = 0.0
        for z, y in zip(logits, labels):
            p = min(max(1 / (1 + math.exp(-z / t)), 1e-7), 1 - 1e-7)
            total -= y * math.log(p) + (1 - y) * math.log(1 - p)
        return total / max(len(logits), 1)
    return min(TEMPERATURES, key=loss)


def on_questions(network, tokenizer, questions: list[SquadQuestion], progress: bool = True) -> dict:
    """Figures per dataset and overall for the held-out questions (see the module docstring)."""
    from tqdm import tqdm

    logits, labels = [], []
    best: dict[str, list[tuple[bool, bool, float]]] = defaultdict(list)  # dataset -> (answerable, right, max logit)
    for q in tqdm(questions, desc="validate reader", unit="q", disable=not progress):
        scores = predict_logits(network, tokenizer, [q.text] * len(q.seconds), q.seconds)
        top = max(range(len(scores)), key=scores.__getitem__)
        best[q.dataset].append((bool(q.answer_at), top in q.answer_at, scores[top]))
        logits += scores
        labels += [float(i in q.answer_at) for i in range(len(scores))]
    temperature = fit_temperature(logits, labels)
    figures: dict = {"temperature": round(temperature, 2)}
    for dataset, rows in sorted(best.items()):
        answerable = [r for r in rows if r[0]]
        figures[dataset] = {
            "questions": len(rows), "unanswerable": len(rows) - len(answerable),
            "answer_sentence_accuracy": round(sum(r[1] for r in answerable) / max(len(answerable), 1), 4),
            "auroc": round(auroc([r[2] for r in answerable], [r[2] for r in rows if not r[0]]), 4)
            if len(answerable) < len(rows) else None,
        }
    return figures
