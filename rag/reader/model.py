"""What the reader reads and what it is: one input format and one network, for training and answering alike.

The reader is all-MiniLM-L6-v2 (the packaged embedding model) with a one-logit classification
head, read as a cross-encoder over "[CLS] question [SEP] sentence [SEP] title: sentence before [SEP]".
The sentence comes first so that truncation drops context, never the sentence; the sentence
before is there for "He said..." and "The group..." whose subject only it names.
Only the upper layers and the head are trained (embeddings and the lowest layers stay as packaged),
so the committed weights are those layers alone, laid over the packaged model at load time.
"""

from __future__ import annotations

from pathlib import Path

MAX_TOKENS = 96  # question + sentence + context; 96 keeps ~76 pairs/s on 2 cores (shared/notes/reader.md)
FROZEN_LAYERS = 2  # encoder layers 0-1 and the embeddings keep the packaged weights
CONTEXT_SEPARATOR = " [SEP] "


def second_segment(sentence: str, previous: str = "", title: str = "") -> str:
    """The text paired with the question: the sentence, then its title and the sentence before it."""
    context = ": ".join(part for part in (title.replace("_", " ").strip(), previous.strip()) if part)
    return f"{sentence.strip()}{CONTEXT_SEPARATOR}{context}" if context else sentence.strip()


def build_network(base: Path):
    """The packaged MiniLM with a fresh one-logit head (transformers' BertForSequenceClassification)."""
    from index.embed import offline

    offline()
    from transformers import AutoModelForSequenceClassification, logging as hf_logging

    hf_logging.set_verbosity_error()  # the head is new by design; its "newly initialized" warning is noise
    return AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1, local_files_only=True)


def trained_names(network) -> list[str]:
    """Names of the parameters that training changes (and the weights file holds)."""
    frozen = ("bert.embeddings.",) + tuple(f"bert.encoder.layer.{i}." for i in range(FROZEN_LAYERS))
    return [name for name, _ in network.named_parameters() if not name.startswith(frozen)]


def save_trained(network, path: Path) -> None:
    """Write the layers training changed (`trained_names`) to `path` in fp16 safetensors: the weights
    file a reader-shaped model commits, laid over the packaged MiniLM at load."""
    import torch
    from safetensors.torch import save_file

    names = set(trained_names(network))
    save_file({k: v.to(dtype=torch.float16).contiguous() for k, v in network.state_dict().items() if k in names},
              str(path))


def encode(tokenizer, questions: list[str], seconds: list[str]):
    """Tokenized pairs, padded to the longest in the batch, the longer segment (the context, at its end) truncated first."""
    return tokenizer(questions, seconds, truncation="longest_first", max_length=MAX_TOKENS, padding=True,
                     return_tensors="pt")


def predict_logits(network, tokenizer, questions: list[str], seconds: list[str], batch_size: int = 32) -> list[float]:
    """The network's logit for each (question, second segment) pair, in order."""
    import torch

    out: list[float] = []
    with torch.inference_mode():
        for i in range(0, len(questions), batch_size):
            inputs = encode(tokenizer, questions[i:i + batch_size], seconds[i:i + batch_size])
            out += network(**inputs).logits.squeeze(-1).float().tolist()
    return out
