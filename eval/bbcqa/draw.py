"""Draw the BBC articles for the next batches of written news questions, so every batch is reproducible.

An article may be drawn when its text is 1,200-4,500 characters, it is not in `reserved.txt`, and
neither it nor any article sharing its text is already asked about (the shared `train.jsonl` or any
`written-*.jsonl` or `heldout-*.jsonl` here). Writes one `batch-NN.ids` file per batch of 25, for the writer of that batch.

    .venv/bin/python eval/bbcqa/draw.py --seed 28 --batches 10 --first 10 --out /tmp/batches
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

from rag.reader import news


def drawable(articles: list[dict]) -> list[str]:
    """Ids of the articles no question set uses yet, one per distinct text, in corpus order."""
    key = {a["id"]: news.text_key(a["text"]) for a in articles}
    reserved = set((news.SHARED_DATA / "bbcqa" / "reserved.txt").read_text(encoding="utf-8").split())
    asked = [q["article_id"] for path in [news.SHARED_QUESTIONS, *news.written_files(), *news.heldout_files()]
             for q in news.read_lines(path)]
    used = {key[i] for i in asked} | {key[i] for i in reserved if i in key}
    ids, seen = [], set()
    for a in articles:
        if 1200 <= len(a["text"]) <= 4500 and key[a["id"]] not in used | seen:
            ids.append(a["id"])
            seen.add(key[a["id"]])
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--batches", type=int, required=True)
    parser.add_argument("--first", type=int, required=True, help="number of the first batch")
    parser.add_argument("--per-batch", type=int, default=25)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    ids = drawable(news.read_lines(news.BBC))
    print(f"{len(ids)} articles can be drawn")
    drawn = random.Random(args.seed).sample(ids, args.batches * args.per_batch)
    args.out.mkdir(parents=True, exist_ok=True)
    for b in range(args.batches):
        part = drawn[b * args.per_batch:(b + 1) * args.per_batch]
        (args.out / f"batch-{args.first + b:02d}.ids").write_text("\n".join(part) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
