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
from index.precision import fastest
from rag.reader.combiner import Combiner

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class ReaderMissing(RagError):
    """The reader's weights are missing or do not match their recorded SHA-256."""


READER_FIX = "restore it with `git checkout -- rag/reader/weights` (or retrain: `rag train-reader`)"


def read_card(folder: Path, fix: str = READER_FIX) -> dict:
    """reader.json of a weights folder (recipe, SHA-256, temperature, validation figures); `fix`: what
    the error says to do when it is missing."""
    path = folder / "reader.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReaderMissing(f"the card {path} is missing or unreadable: {fix}") from exc


def verified_layers(weights: Path, expected: str | None, what: str, error: type[RagError], fix: str) -> dict:
    """The layers a MiniLM model's weights file stores (`what`: whose), as float32 tensors, checked
    against the SHA-256 its card records (`expected`); `error` naming `fix` when missing or altered."""
    from safetensors.torch import load_file

    digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
    if digest != expected:
        raise error(f"{what} {weights} are missing or corrupt (SHA-256 {digest}, expected {expected}): {fix}")
    return {k: v.float() for k, v in load_file(str(weights)).items()}


def load_trained(folder: Path, card: dict | None = None, fix: str = READER_FIX) -> dict:
    """The trained layers of a weights folder as float32 tensors, checked against the card's SHA-256."""
    card = card if card is not None else read_card(folder, fix)
    return verified_layers(folder / "reader.safetensors", card.get("weights_sha256"), "the weights",
                           ReaderMissing, fix)


class Reader:
    """Scores (question, sentence) pairs with calibrated probabilities; load once, score many times."""

    def __init__(self, folder: Path = WEIGHTS_DIR, threads: int = 1, fix: str = READER_FIX, fast: bool = False):
        self.folder = Path(folder)
        self.fix = fix  # what an error says to do when the weights are missing or altered
        self.fast = fast  # bfloat16 where the CPU has it (`index.precision.fastest`)
        self.card = read_card(self.folder, fix)
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

        from rag.reader.model import build_network

        torch.set_num_threads(self.threads)
        network = build_network(packaged_model_path())
        trained = load_trained(self.folder, self.card, self.fix)
        missing = set(trained) - set(network.state_dict())
        if missing:
            raise ReaderMissing(f"the weights in {self.folder} do not fit the base model "
                                f"({sorted(missing)[:3]}): {self.fix}")
        network.load_state_dict(trained, strict=False)
        log.info("reader loaded from %s", self.folder)
        return fastest(network.eval()) if self.fast else network.eval()

    @cached_property
    def combiner(self) -> Combiner:
        """The combiner fitted on this reader's scores (`rag.reader.combiner`), from the same folder."""
        try:
            return Combiner.load(self.folder)
        except (OSError, ValueError, KeyError) as exc:
            raise ReaderMissing(f"the reader's combiner {self.folder / 'combiner.json'} is missing or does not fit "
                                f"({exc}): restore it with `git checkout -- rag/reader/weights` (or refit: "
                                "`rag fit-combiner`)") from exc

    def logits(self, question: str, seconds: list[str]) -> list[float]:
        """The temperature-scaled logit of P(the sentence states the answer) for each second segment
        (`model.second_segment`)."""
        from rag.reader.model import predict_logits

        if not seconds:
            return []
        return [z / self.temperature for z in predict_logits(self.network, self.tokenizer, [question] * len(seconds), seconds)]

    def probabilities(self, question: str, seconds: list[str]) -> list[float]:
        """P(the sentence states the answer) for each second segment."""
        return [1 / (1 + math.exp(-z)) for z in self.logits(question, seconds)]
