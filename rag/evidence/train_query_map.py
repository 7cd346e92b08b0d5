"""`rag train-query-map`: learn the query map (`rag.evidence.query_map`) from the labelled news questions.

A copy of the embedding model is fine-tuned as the question's encoder, its word embeddings frozen;
the sentences keep the packaged model's stored vectors. Per answerable question of the reader's
training split (`rag.reader.news.split`), its vector should lie nearer its evidence sentence than
its article's other sentences and the other questions' evidence in the batch (softmax cross-entropy
over those similarities, temperature `tau`). The fit and dev splits (articles never trained on)
measure it: the evidence sentence's rank among its article's sentences by similarity to the
question, through the packaged model and through the map. ~5 minutes to embed the ~16,000
sentences, then ~1 minute an epoch (2 cores).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.embed import Embedder, mean_pool
from index.sentences import split_sentences
from index.settings import Settings
from rag.evidence.query_map import CARD_FILE, FROZEN, WEIGHTS_FILE, QueryMap
from rag.reader import news

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """What `rag train-query-map` does. One recipe was tried (session 23), watched epoch by epoch on
    the fit split (200 answerable questions): evidence first 0.695 / 0.685 / 0.68 and top 3 0.89 /
    0.905 / 0.915 after epochs 1 / 2 / 3 (the linear map it replaced: 0.56 / 0.775). Temperature
    0.05 is the linear map's, chosen on the fit split against 0.02 and 0.1."""

    epochs: int = 3
    learning_rate: float = 3e-5
    warmup: int = 30  # batches of linearly rising learning rate, then a linear decay to 0
    batch_size: int = 32
    tau: float = 0.05
    max_tokens: int = 64  # a question's wordpieces read in training
    # The stored layers are this share of the tuned ones plus the rest of the packaged model's (weight-
    # space ensembling, WiSE-FT). On the fit split, evidence first / top 3: 1.0 0.68 / 0.915, 0.85
    # 0.69 / 0.90, 0.7 0.665 / 0.895; averaging the two models' question vectors instead (0.7 tuned)
    # 0.645 / 0.875. At 1.0 the dense search for "Abu Hussein al-Hamidawi statement" over the seeds
    # no longer found the article naming him (tests/test_retrieve.py); at 0.85 it does.
    mix: float = 0.85
    seed: int = 13
    limit: int | None = None  # only the first N training questions (a smoke test)


@dataclass
class Example:
    question: str
    vector: list[float]  # through the packaged model
    evidence: list[list[float]]  # the article's sentences that overlap an evidence quote
    others: list[list[float]]  # the article's other sentences


def examples(questions: list[dict], articles: dict[str, dict], vectors: dict[str, list[float]]) -> list[Example]:
    """Per question whose evidence its article's sentences hold: its vector, theirs, the others'."""
    out = []
    for q in questions:
        sentences = split_sentences(articles[q["article_id"]]["text"])
        hit = [s for s in sentences if any(e in s or s in e for e in q["evidence"])]
        if hit:
            out.append(Example(q["question"], vectors[q["question"]], [vectors[s] for s in hit],
                               [vectors[s] for s in sentences if s not in hit]))
    return out


def embedded(questions: list[dict], articles: dict[str, dict], embedder: Embedder, progress: bool) -> dict:
    """Text -> embedding by the packaged model, for the questions and every sentence of their articles."""
    texts = {q["question"] for q in questions}
    texts |= {s for q in questions for s in split_sentences(articles[q["article_id"]]["text"])}
    texts = sorted(texts)
    log.info("embedding %d questions and sentences", len(texts))
    return dict(zip(texts, embedder.embed(texts, progress=progress)))


def _fit(training: list[Example], recipe: Recipe, embedder: Embedder, progress: bool):
    """The tuned model: the embedding model's copy trained on `training`."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    model = copy.deepcopy(embedder.model).train()
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not name.startswith(FROZEN)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=recipe.learning_rate)
    steps = recipe.epochs * -(-len(training) // recipe.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / recipe.warmup) * max(0.0, 1 - step / steps))
    with tqdm(total=steps, desc="query map", disable=not progress) as bar:
        for _ in range(recipe.epochs):
            order = list(training)
            rng.shuffle(order)
            for start in range(0, len(order), recipe.batch_size):
                loss = _loss(model, order[start:start + recipe.batch_size], embedder, recipe)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                bar.update()
    return model.eval()


def _loss(model, batch: list[Example], embedder: Embedder, recipe: Recipe):
    """Mean cross-entropy of each question's evidence against the batch's other evidence and its
    article's other sentences."""
    import torch

    features = embedder.tokenizer([e.question for e in batch], padding=True, truncation=True,
                                  max_length=recipe.max_tokens, return_tensors="pt")
    q = torch.nn.functional.normalize(mean_pool(model(**features).last_hidden_state, features["attention_mask"]),
                                      dim=-1)
    firsts = torch.tensor([e.evidence[0] for e in batch])
    loss = 0.0
    for i, e in enumerate(batch):  # the batch's evidence (its own at i), then its article's others
        candidates = torch.cat([firsts, torch.tensor(e.others).reshape(-1, firsts.shape[1])])
        logits = (candidates @ q[i] / recipe.tau)[None]
        loss = loss + torch.nn.functional.cross_entropy(logits, torch.tensor([i])) / len(batch)
    return loss


def ranks(held: list[Example], vectors: list) -> dict:
    """Evidence first / in the top 3 among its article's sentences, by similarity to the question's
    vector (`vectors`, one per example)."""
    places = []
    for e, q in zip(held, vectors):
        q = np.asarray(q, dtype=np.float32)
        best = max(float(np.dot(v, q)) for v in e.evidence)
        places.append(sum(float(np.dot(v, q)) > best for v in e.others))
    return {"questions": len(places), "first": round(float(np.mean([r < 1 for r in places])), 4),
            "top3": round(float(np.mean([r < 3 for r in places])), 4)}


def train(out: Path, recipe: Recipe = Recipe(), settings: Settings | None = None, progress: bool = True) -> dict:
    """Train the map on the training split, write `query_map.safetensors` (the layers, mixed, fp16)
    and its card into `out`, and measure the written map on the fit and dev splits; returns the card."""
    from safetensors.torch import save_file

    articles = news.read_articles()
    split = news.split(articles)
    train_q = [q for q in split.train if q["answerable"]][:recipe.limit]
    held = {"fit": [q for q in split.fit if q["answerable"]], "dev": [q for q in split.dev if q["answerable"]]}
    if recipe.limit:
        held = {name: qs[:recipe.limit] for name, qs in held.items()}
    embedder = Embedder(settings or Settings())
    vectors = embedded(train_q + held["fit"] + held["dev"], articles, embedder, progress)
    training = examples(train_q, articles, vectors)
    model = _fit(training, recipe, embedder, progress)
    packaged = embedder.model.state_dict()
    layers = {k: (recipe.mix * v + (1 - recipe.mix) * packaged[k]).half().contiguous()
              for k, v in model.state_dict().items() if not k.startswith(FROZEN)}
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    save_file(layers, str(weights))
    card = {"weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), "recipe": asdict(recipe),
            "training_questions": len(training),
            "data_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                            for p in [news.SHARED_QUESTIONS, *news.written_files()]}}
    written = QueryMap(embedder, layers, card)  # the stored fp16 layers, as `QueryMap.load` reads them back
    card["validation"] = {}
    for name, qs in held.items():
        held_examples = examples(qs, articles, vectors)
        card["validation"][name] = {"unmapped": ranks(held_examples, [e.vector for e in held_examples]),
                                    "mapped": ranks(held_examples, [written.vector(e.question) for e in held_examples])}
    (out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log.info("query map: %s", card["validation"])
    return card
