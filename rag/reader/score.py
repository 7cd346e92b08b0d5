"""The trained reader as the product uses it: loaded offline from the committed weights, checked by
SHA-256, and asked for the probability that each candidate sentence states the answer.

The weights file holds only the layers training changed (see `rag.reader.model`); they are laid
over the packaged MiniLM. A missing or corrupt weights file is one clear error naming the fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from functools import cached_property
from pathlib import Path

from index.embed import offline, packaged_model_path
from index.errors import RagError

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class ReaderMissing(RagError):
    """The reader's weights are missing or do not match their recorded SHA-256."""


def read_card(folder: Path) -> dict:
    """reader.json of a weights folder (recipe, SHA-256, temperature, validation figures)."""
    path = folder / "reader.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReaderMissing(f"the reader's card {path} is missing or unreadable: restore it with "
                            "`git checkout -- rag/reader/weights` (or retrain: `rag train-reader`)") from exc


class Reader:
    """Scores (question, sentence) pairs with calibrated probabilities; load once, score many times."""

    def __init__(self, folder: Path = WEIGHTS_DIR, threads: int = 1):
        self.folder = Path(folder)
        self.card = read_card(self.folder)
        self.threads = threads
        self.temperature = float(self.card.get("temperature", 1.0))

    @cached_property
    def tokenizer(self):
        offline()
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(packaged_model_path()), local_files_only=True)

    @cached_property
    def network(self):
        import torch
        from safetensors.torch import load_file

        from rag.reader.model import build_network

        weights = self.folder / "reader.safetensors"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
        if digest != self.card.get("weights_sha256"):
            raise ReaderMissing(f"the reader's weights {weights} are missing or corrupt (SHA-256 {digest}, expected "
                                f"{self.card.get('weights_sha256')}): restore them with "
                                "`git checkout -- rag/reader/weights` (or retrain: `rag train-reader`)")
        torch.set_num_threads(self.threads)
        network = build_network(packaged_model_path())
        trained = {k: v.float() for k, v in load_file(str(weights)).items()}
        missing = set(trained) - set(network.state_dict())
        if missing:
            raise ReaderMissing(f"the reader's weights {weights} do not fit the base model ({sorted(missing)[:3]}): "
                                "retrain with `rag train-reader`")
        network.load_state_dict(trained, strict=False)
        log.info("reader loaded from %s", weights)
        return network.eval()

    def probabilities(self, question: str, seconds: list[str]) -> list[float]:
        """P(the sentence states the answer) for each second segment (`model.second_segment`)."""
        from rag.reader.model import predict_logits

        if not seconds:
            return []
        logits = predict_logits(self.network, self.tokenizer, [question] * len(seconds), seconds)
        return [1 / (1 + math.exp(-z / self.temperature)) for z in logits]
