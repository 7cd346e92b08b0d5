"""The excerpt student: the excerpt reader's judgement at the MiniLM reader's cost.

A MiniLM cross-encoder over (question, "excerpt [SEP] title"), the excerpt being the candidate
sentence with the one before and the one after it in its paragraph (`rag.reader.excerpt_reader.excerpt`).
It was trained from the news reader (`rag.reader.score`) on the excerpt reader's training excerpts,
its targets half the labels and half the excerpt reader's probabilities (distillation,
`rag.reader.excerpt_student_train`). The excerpt reader reads ~0.4 s an excerpt through 14 layers of a
0.5B model; this reads one in ~25 ms (bfloat16 where the CPU has it, `index.precision`). The learned ranker's answerability head weighs its logit for
the best candidate (`rag.reader.combiner`, `rag.reader.fit.stack_student`); model card:
rag/evidence/weights/README.md.

Only the layers training changed are stored (fp16), laid over the packaged MiniLM at load time;
their SHA-256 is checked at every load.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import cached_property
from pathlib import Path

from index.embed import offline, packaged_model_path
from index.errors import RagError
from index.precision import fastest

log = logging.getLogger(__name__)

WEIGHTS = "excerpt_student.safetensors"
CARD = "excerpt_student.json"  # SHA-256 of the weights, recipe, validation figures
MAX_TOKENS = 160  # question + excerpt + title; most excerpts fit (three sentences, ~90 wordpieces)


class ExcerptStudentMissing(RagError):
    """The excerpt student's weights are missing or do not match their recorded SHA-256."""


def second_segment(title: str, excerpt: str) -> str:
    """The text paired with the question: the excerpt, then its title (truncation drops the title first)."""
    return f"{excerpt.strip()} [SEP] {title.replace('_', ' ').strip()}"


def load_layers(folder: Path) -> dict:
    """The stored layers of `folder` as float32 tensors, checked against its card's SHA-256."""
    from rag.reader.score import verified_layers

    fix = ("restore them with `git checkout -- rag/evidence/weights` (or retrain: `rag train-excerpt-student`), "
           "or set RAG_RANKER=rules")
    try:
        expected = json.loads((folder / CARD).read_text(encoding="utf-8"))["weights_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExcerptStudentMissing(f"the excerpt student's card {folder / CARD} is missing or unreadable "
                                    f"({exc}): {fix}") from exc
    return verified_layers(folder / WEIGHTS, expected, "the excerpt student's weights", ExcerptStudentMissing, fix)


class ExcerptStudent:
    """Loaded once, judges many excerpts (from several threads: inference only reads the model)."""

    def __init__(self, folder: Path, threads: int = 1):
        self.folder = Path(folder)
        self.threads = threads
        self.layers = load_layers(self.folder)  # checked now: a bad file fails at start, not mid-question
        self._lock = threading.Lock()

    @cached_property
    def _model(self):
        import torch
        from transformers import AutoTokenizer

        from rag.reader.model import build_network

        offline()
        torch.set_num_threads(self.threads)
        tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_path()), local_files_only=True)
        network = build_network(packaged_model_path())
        network.load_state_dict(self.layers, strict=False)
        log.info("excerpt student loaded from %s", self.folder)
        # bfloat16 on 80 BBC dev excerpts, 1 thread (2026-12-07): 37.6 -> 24.3 ms an excerpt, logits correlated
        # 1.000 with float32's (mean absolute difference 0.014); dynamic int8: 22.8 ms, 0.94 (not kept)
        return tokenizer, fastest(network.eval())

    def load(self) -> None:
        """Build the model now (not in a question's timing)."""
        with self._lock:
            self._model  # noqa: B018

    def logits(self, question: str, excerpts: list[tuple[str, str]]) -> list[float]:
        """Its logit that each (title, excerpt) states the answer to `question`."""
        import torch

        if not excerpts:
            return []
        self.load()
        tokenizer, network = self._model
        inputs = tokenizer([question] * len(excerpts), [second_segment(t, e) for t, e in excerpts],
                           truncation="longest_first", max_length=MAX_TOKENS, padding=True, return_tensors="pt")
        with torch.inference_mode():
            return network(**inputs).logits.squeeze(-1).float().tolist()

    def logit(self, question: str, title: str, excerpt: str) -> float:
        """Its logit that the excerpt (of the article titled `title`) states the answer: the
        excerpt reader's signature (`rag.reader.excerpt_reader.ExcerptReader.logit`)."""
        return self.logits(question, [(title, excerpt)])[0]
