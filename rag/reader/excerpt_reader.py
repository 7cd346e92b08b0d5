"""The excerpt reader: does the chosen sentence, read with its neighbours, state the answer?

A linear probe (logistic regression) on one hidden state of the packaged Qwen2.5 0.5B model (the
local generator's GGUF, read through transformers): the state at the prompt's last token, for a
prompt giving the article's title, the *excerpt* (the candidate sentence with the one before and the
one after it in its paragraph) and the question, and asking whether the excerpt states the answer
(`rag.prompts.EXCERPT_READER_USER`). The layers above the probed one are never run.

The MiniLM reader reads one sentence in 96 tokens; on-topic unanswerable news questions (the right
event without the asked detail, one fact changed) look answerable to it. This model is twenty times
its size and reads the excerpt whole (measured with the gold paragraph, BBC dev: AUROC 0.86 against
the reader's 0.71; README). It reads the combiner's best two candidates: its logits choose between
them (the combiner's rerank) and feed its answerability head (`rag.reader.combiner`). It runs in
bfloat16 where the CPU has the instructions (`index.precision`). The base model is dequantized once and its first layers kept as a
safetensors folder (`RAG_MODEL_CACHE`, ~/.cache/rag), so later loads take seconds.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from index.embed import offline
from index.errors import RagError
from index.precision import fastest
from index.sentences import sentence_spans
from index.settings import Settings
from rag.llm.model_file import sha256_of
from rag.prompts import EXCERPT_READER_USER
from rag.reader.combiner import sigmoid
from rag.reader.score import WEIGHTS_DIR

log = logging.getLogger(__name__)

FILE = "excerpt_reader.json"
CARD = "excerpt_reader-card.json"  # the probe's SHA-256 and validation figures, from `rag train-excerpt-reader`
WEIGHTS_FILE = "model.safetensors"  # the cached base model


class ExcerptReaderMissing(RagError):
    """The excerpt reader's probe or its base model cannot be loaded."""


@dataclass
class Probe:
    """The probe's weights over the standardised hidden state of `layer`, and what measured them."""

    layer: int
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    figures: dict = field(default_factory=dict)

    def logit(self, state: list[float]) -> float:
        """The probe's logit of P(the excerpt states the answer) for one hidden state."""
        return self.bias + sum(w * (x - m) / s for w, x, m, s in zip(self.weights, state, self.mean, self.scale))

    def save(self, folder: Path) -> None:
        """Write excerpt_reader.json into `folder`."""
        (folder / FILE).write_text(json.dumps(asdict(self)) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Probe:
        """The probe of a weights folder, checked against its card's SHA-256 when there is a card;
        ExcerptReaderMissing naming the fix when it is absent, unreadable or altered."""
        path = folder / FILE
        fix = "restore it with `git checkout -- rag/reader/weights` (or retrain: `rag train-excerpt-reader`)"
        try:
            probe = cls(**json.loads(path.read_text(encoding="utf-8")))
            card = folder / CARD
            expected = json.loads(card.read_text(encoding="utf-8"))["sha256"] if card.is_file() else None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ExcerptReaderMissing(f"the excerpt reader {path} is missing or unreadable ({exc}): {fix}") from exc
        if expected is not None and sha256_of(path) != expected:
            raise ExcerptReaderMissing(f"the excerpt reader {path} does not match the SHA-256 in {CARD}: {fix}")
        return probe


def excerpt(sentences: list[str], at: int) -> str:
    """Sentence `at` with the one before and the one after it, on one line: what the excerpt reader reads."""
    return " ".join(s.strip() for s in sentences[max(0, at - 1):at + 2])


def excerpt_in(paragraph: str, sentence: str) -> str:
    """The excerpt around `sentence` in `paragraph` (its text cleaned as the index cleans it), or the
    sentence alone when it cannot be found there."""
    spans = sentence_spans(paragraph)
    flat = [" ".join(paragraph[a:b].split()) for a, b in spans]
    target = " ".join(sentence.split())
    at = next((i for i, s in enumerate(flat) if s and (s in target or target in s)), None)
    return excerpt(flat, at) if at is not None else target


class ExcerptReader:
    """The probe and the base model's first layers; load once, score many excerpts (from several
    threads at once: inference only reads the model)."""

    def __init__(self, settings: Settings, folder: Path = WEIGHTS_DIR, threads: int | None = None,
                 probe: Probe | None = None, exact: bool = False):
        self.settings = settings
        self.probe = probe or Probe.load(Path(folder))
        self.threads = threads or settings.index.torch_threads
        self.exact = exact  # float32 whatever the CPU (training: the committed probe's states are float32)
        self._lock = threading.Lock()

    @cached_property
    def _model(self):
        import torch

        torch.set_num_threads(self.threads)  # process-wide, as the reader sets it
        tokenizer, model = load_base(self.settings, self.probe.layer)
        # bfloat16 on 40 BBC dev excerpts, 1 thread, idle machine (2026-12-07): 0.96 -> 0.41 s an excerpt,
        # logits correlated 0.990 with float32's (mean absolute difference 0.24)
        return tokenizer, model if self.exact else fastest(model)

    @property
    def precision(self) -> str:
        """The dtype the base model runs in ("float32" or "bfloat16"), loading it if need be."""
        with self._lock:
            _, model = self._model
        return str(next(model.parameters()).dtype).removeprefix("torch.")

    def load(self) -> None:
        """Load the base model now (dequantizing and caching it the first time)."""
        with self._lock:
            self._model  # noqa: B018

    def state(self, question: str, title: str, text: str) -> list[float]:
        """The hidden state the probe reads, for one (question, title, excerpt)."""
        import torch

        with self._lock:  # loaded once, by whichever thread asks first
            tokenizer, model = self._model
        user = EXCERPT_READER_USER.format(title=title.replace("_", " "), excerpt=text, question=question)
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                               add_generation_prompt=True)
        with torch.inference_mode():
            hidden = model(**tokenizer(prompt, return_tensors="pt"), output_hidden_states=True).hidden_states
        return hidden[self.probe.layer][0, -1].float().tolist()

    def logit(self, question: str, title: str, text: str) -> float:
        """The excerpt reader's logit that the excerpt states the answer to the question."""
        return self.probe.logit(self.state(question, title, text))

    def probability(self, question: str, title: str, text: str) -> float:
        """P(the excerpt states the answer)."""
        return sigmoid(self.logit(question, title, text))


def load_base(settings: Settings, layers: int):
    """(tokenizer, the packaged model's decoder truncated to `layers`), from the cached folder when
    there is one, else dequantized from the verified GGUF (~50 s on 2 cores) and cached."""
    offline()
    from transformers import AutoModel, AutoTokenizer

    from rag.llm.model_file import PACKAGED_NAME, PACKAGED_SHA256, ModelUnavailable, assemble

    cached = settings.answer.model_cache / f"excerpt-reader-base-{PACKAGED_SHA256[:12]}-{layers}"
    if (cached / WEIGHTS_FILE).is_file():
        try:
            return _load_cached(cached)
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("the excerpt reader's cached base model %s is unreadable (%s): rebuilding it", cached, exc)
    try:
        gguf = assemble(settings.index.data_dir / "models" / PACKAGED_NAME)
    except ModelUnavailable as exc:
        raise ExcerptReaderMissing(f"the excerpt reader needs the packaged local model: {exc}") from None
    log.info("dequantizing the excerpt reader's base model from %s (once; ~50 s)", gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModel.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    model.layers = model.layers[:layers]
    model.config.num_hidden_layers = layers
    model.config.layer_types = model.config.layer_types[:layers] if getattr(model.config, "layer_types", None) else None
    _save(tokenizer, model, cached)
    return tokenizer, _unnormed(model)


def _load_cached(folder: Path):
    """(tokenizer, model) from a folder `_save` wrote (~5 s)."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(folder), local_files_only=True, dtype="float32")
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True), _unnormed(model)


def _unnormed(model):
    """The model without its final norm, so that the last hidden state is the probed layer's own output
    as a deeper model passes it on (transformers applies the norm to the last state it returns)."""
    import torch

    model.norm = torch.nn.Identity()
    return model.eval()


def _save(tokenizer, model, folder: Path) -> None:
    """Write the truncated model to `folder` atomically (a half-written folder is never read). Its own
    safetensors, since transformers will not save a model it read from a GGUF."""
    import os
    import shutil
    import tempfile

    from safetensors.torch import save_file

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".tmp"))
    try:
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(json.dumps(config), encoding="utf-8")
        tokenizer.save_pretrained(str(tmp))
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp / WEIGHTS_FILE))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError as exc:
        log.warning("could not cache the excerpt reader's base model in %s (%s): it will be dequantized again "
                    "next time", folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)
