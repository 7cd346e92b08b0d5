"""`rag train-excerpt-student`: distil the excerpt reader into the excerpt student (`rag.reader.excerpt_student`).

The pairs are the excerpt reader's own training excerpts (`rag.reader.excerpt_train`): per question of
the news training split, the excerpt around its evidence (or the careless reader's pick) and the most
similar excerpt of another article (weight 0.5), each with the excerpt reader's logit as a soft label,
read from the states `rag train-excerpt-reader` cached (no model of 0.5B parameters is run here); and
per answerable question, an excerpt of its paragraph at least two sentences from the evidence (label
0 only, weight 0.5), so the student also tells sentences of one story apart. Target: half the label,
half the excerpt reader's probability (`SOFT`). Binary cross-entropy from the news reader's weights,
embeddings and layers 0-1 frozen; resumable from its checkpoint.

Validated on the dev split as the excerpt reader is (`excerpt_train.validate`): the excerpt around the
sentence the reader scores best in the gold paragraph, answerable against unanswerable (AUROC), and
against the dev questions' other-article excerpts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from pathlib import Path

from index.errors import RagError
from index.settings import Settings
from rag.reader import news
from rag.reader.excerpt_reader import Probe, excerpt
from rag.reader.excerpt_student import CARD, MAX_TOKENS, WEIGHTS, second_segment
from rag.reader.excerpt_train import ELSEWHERE_WEIGHT, LAYER, centre, dev_excerpts, dev_figures, elsewhere, pool_excerpts
from rag.reader.score import WEIGHTS_DIR as READER_DIR, load_trained
from rag.reader.train import load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)

# Chosen once (2026-12-07, session 25; dev gold-paragraph AUROC after 1 / 2 epochs 0.751 / 0.767, the
# excerpt reader 0.824, the news reader's weights before training 0.703). Not swept.
SOFT = 0.5  # share of the excerpt reader's probability in the target
EPOCHS, BATCH, LEARNING_RATE, WARMUP, SEED = 2, 16, 3e-5, 0.05, 13
FAR_WEIGHT = 0.5  # the same paragraph's excerpt away from the evidence


def teacher_logits(probe: Probe, states_file: Path) -> list[float]:
    """The excerpt reader's logit for each cached state (one row per excerpt)."""
    import numpy as np

    states = np.load(states_file)
    return ((((states - np.array(probe.mean)) / np.array(probe.scale)) @ np.array(probe.weights)) + probe.bias).tolist()


def training_pairs(train: list, others: list, own_t: list[float], other_t: list[float]) -> list[tuple]:
    """(question, second segment, label, excerpt reader's logit or None, weight) per training excerpt."""
    rng = random.Random(SEED)
    pairs = []
    for q, e, a, b in zip(train, others, own_t, other_t):
        pairs.append((q.text, second_segment(q.article, excerpt(q.sentences, centre(q))), float(bool(q.answer_at)), a, 1.0))
        pairs.append((q.text, second_segment(e.title, excerpt(e.sentences, e.at)), 0.0, b, ELSEWHERE_WEIGHT))
        far = [i for i in range(len(q.sentences)) if all(abs(i - j) >= 2 for j in q.answer_at)]
        if q.answer_at and far:
            pairs.append((q.text, second_segment(q.article, excerpt(q.sentences, rng.choice(far))), 0.0, None, FAR_WEIGHT))
    return pairs


def target(label: float, teacher: float | None) -> float:
    """Half the label, half the excerpt reader's probability (the label alone where it did not read)."""
    return label if teacher is None else (1 - SOFT) * label + SOFT / (1 + math.exp(-teacher))


def train_excerpt_student(settings: Settings, out: Path, states: Path, limit: int | None = None,
                          epochs: int = EPOCHS, progress: bool = True) -> dict:
    """Train into `out` (weights, card, checkpoint) from the excerpt reader's states in `states`
    (`rag train-excerpt-reader --workdir`, with the same `limit`); returns the card."""
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    from index.embed import offline, packaged_model_path
    from rag.reader.model import build_network, trained_names

    names = [f"excerpt-{n}-{LAYER}.npy" for n in ("train", "elsewhere")]
    if not all((states / n).is_file() for n in names):
        raise RagError(f"no excerpt reader states in {states}: run `rag train-excerpt-reader --workdir "
                       f"{states}` first (~70 min; it caches them)")
    articles = news.read_articles()
    split = news.split(articles)
    train = news.reader_questions(split.train, articles)[:limit]
    kept_out = {news.text_key(articles[a]["text"]) for a in {q["article_id"] for q in split.dev + split.fit}
                | news.reserved_ids() if a in articles}
    pool = pool_excerpts(articles, kept_out)
    probe = Probe.load(READER_DIR)
    pairs = training_pairs(train, elsewhere(train, pool), *(teacher_logits(probe, states / n)[:len(train)] for n in names))

    torch.manual_seed(SEED)
    torch.set_num_threads(settings.index.torch_threads)
    offline()
    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_path()), local_files_only=True)
    network = build_network(packaged_model_path())
    network.load_state_dict(load_trained(READER_DIR), strict=False)
    trained = set(trained_names(network))
    for name, p in network.named_parameters():
        p.requires_grad = name in trained
    optimizer = torch.optim.AdamW([p for n, p in network.named_parameters() if n in trained], lr=LEARNING_RATE)
    per_epoch = math.ceil(len(pairs) / BATCH)
    total = per_epoch * epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1, (s + 1) / (WARMUP * total)) * max(0.0, (total - s) / total))
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.pt"
    start = load_checkpoint(checkpoint, network, optimizer, schedule)
    for step in tqdm(range(start, total), desc="excerpt student", unit="batch", disable=not progress,
                     initial=start, total=total):
        epoch, at = divmod(step, per_epoch)
        order = list(range(len(pairs)))
        random.Random(SEED + epoch).shuffle(order)
        batch = [pairs[i] for i in order[at * BATCH:(at + 1) * BATCH]]
        network.train()
        inputs = tokenizer([b[0] for b in batch], [b[1] for b in batch], truncation="longest_first",
                           max_length=MAX_TOKENS, padding=True, return_tensors="pt")
        weights = torch.tensor([b[4] for b in batch])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            network(**inputs).logits.squeeze(-1), torch.tensor([target(b[2], b[3]) for b in batch]), reduction="none")
        ((loss * weights).sum() / weights.sum()).backward()
        torch.nn.utils.clip_grad_norm_([p for p in network.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if (step + 1) % 200 == 0 or step + 1 == total:
            save_checkpoint(checkpoint, network, optimizer, schedule, step + 1)
    return _finish(network, tokenizer, split, articles, pool, out, limit, settings, len(pairs), epochs)


def _finish(network, tokenizer, split, articles, pool, out: Path, limit, settings: Settings, pairs: int,
            epochs: int) -> dict:
    """Write the changed layers (fp16) and the card with the dev figures."""
    import torch

    from rag.reader.model import save_trained

    network.eval()
    save_trained(network, out / WEIGHTS)
    dev = news.reader_questions(split.dev, articles, "bbcqa-dev")[:limit]

    def logits(judged: list[tuple[str, str]]) -> list[float]:
        with torch.inference_mode():
            inputs = tokenizer([q.text for q in dev], [second_segment(t, e) for t, e in judged], truncation="longest_first",
                               max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            return network(**inputs).logits.squeeze(-1).float().tolist()

    gold, other = dev_excerpts(dev, pool, settings)
    card = {"weights_sha256": hashlib.sha256((out / WEIGHTS).read_bytes()).hexdigest(),
            "recipe": {"soft": SOFT, "epochs": epochs, "batch": BATCH, "learning_rate": LEARNING_RATE,
                       "warmup": WARMUP, "seed": SEED, "max_tokens": MAX_TOKENS, "pairs": pairs,
                       "init": "rag/reader/weights (the news reader)", "teacher": "rag/reader/weights/excerpt_reader.json"},
            **dev_figures(dev, logits(gold), logits(other))}
    (out / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log.info("excerpt student trained: %s", card)
    return card
