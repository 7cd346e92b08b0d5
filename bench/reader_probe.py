"""A cheap probe of a change to the reader's training: a few hundred batches from a trained reader,
then the reader alone on the BBC dev split with the gold article (`rag.reader.validate`).

`python -m bench.reader_probe [--batches 300] [--init rag/reader/weights]`

A full news stage is ~75 minutes on 2 cores; this is ~15. It continues from `--init` on the news
stage's pairs (`rag.reader.train.Recipe`'s defaults: the same questions, mined negatives and premise
swaps), the batches shuffled, a 30-batch warm-up then a linear decay to 0, and prints the answer
sentence ranked first and the AUROC of the best probability on the dev split. Run it once as it is
(the control) and once with the change to `rag.reader.data.training_pairs` or the model: only the
difference between the two says what the change is worth (session 18: 300 batches from r4 moved
the control itself from 0.844 / 0.714 to 0.831 / 0.732).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WARMUP = 30  # batches


def probe(batches: int, init: Path, seed: int = 5) -> dict:
    """Train `batches` batches from the reader in `init` and return its dev figures."""
    from index.embed import offline, packaged_model_path

    offline()
    import torch
    from transformers import AutoTokenizer

    from rag.reader import train, validate
    from rag.reader.model import build_network
    from rag.reader.score import load_trained

    recipe = train.Recipe(init=str(init), epochs=1)
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(recipe.threads)
    questions, held = train.training_questions(recipe)
    batched = train.epoch_batches(questions, recipe)
    random.Random(seed).shuffle(batched)
    base = packaged_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    network = build_network(base)
    network.load_state_dict(load_trained(init), strict=False)
    optimizer = train.optimizer_for(network, recipe)
    network.train()
    for step, batch in enumerate(batched[:batches]):
        for group in optimizer.param_groups:
            group["lr"] = recipe.learning_rate * min(1.0, (step + 1) / WARMUP) * (1 - step / batches)
        train.train_step(network, tokenizer, batch, optimizer)
    dev = [q for q in held if q.dataset == "bbcqa-dev"]
    return validate.on_questions(network.eval(), tokenizer, dev, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--init", type=Path, default=Path("rag/reader/weights"))
    args = parser.parse_args()
    print(json.dumps(probe(args.batches, args.init), indent=2))


if __name__ == "__main__":
    main()
