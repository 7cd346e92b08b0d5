"""The reader's measure through the whole pipeline: held-out SQuAD 2.0 articles as a corpus.

`python -m bench.squad_heldout [--mode extractive] [--limit N] [--out DIR]`. The SQuAD 2.0 articles
the reader never trained on (`rag.reader.data.is_held_out`) are written as one article file each
(title line, then the paragraphs), indexed into a data folder of their own, and every question is
asked through retrieval, ranking, refusal and citation, as a user would ask it. Gold evidence is
the paragraph sentence holding the answer; answer aliases are SQuAD's answer texts.
Prints accuracy (alias match, refusals count as wrong), answers citing the gold sentence, the
answerability AUROC (answerable vs unanswerable), refusal rates and latency.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import argparse
import json
import random
import re
from pathlib import Path

from index.build import build_index
from index.sentences import sentence_spans
from index.settings import AnswerSettings, IndexSettings, Settings
from rag.pipeline import evaluate
from rag.reader.data import is_held_out
from rag.reader.train import DEFAULT_DATA

SQUAD2 = DEFAULT_DATA[0]


def _file_name(title: str) -> str:
    return re.sub(r"\W+", "_", title).strip("_") + ".txt"


def write_corpus(squad: Path, corpus: Path, qa: Path, limit: int | None, seed: int = 13) -> int:
    """Write the held-out articles and their questions (shuffled, the first `limit`); the question count."""
    corpus.mkdir(parents=True, exist_ok=True)
    items = []
    for article in json.loads(squad.read_text(encoding="utf-8"))["data"]:
        if not is_held_out(article["title"]):
            continue
        name, title = _file_name(article["title"]), article["title"].replace("_", " ")
        (corpus / name).write_text(title + "\n\n" + "\n\n".join(p["context"] for p in article["paragraphs"]) + "\n",
                                   encoding="utf-8")
        for paragraph in article["paragraphs"]:
            items += [_item(qa_, paragraph["context"], name) for qa_ in paragraph["qas"]]
    random.Random(seed).shuffle(items)
    items = items[:limit] if limit else items
    qa.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return len(items)


def _item(qa: dict, context: str, source: str) -> dict:
    if qa.get("is_impossible"):
        return {"id": qa["id"], "kind": "unanswerable", "question": qa["question"], "answer": "",
                "answer_aliases": [], "evidence": [], "answerable": False}
    first = qa["answers"][0]
    at = first["answer_start"]
    sentence = next((context[a:b] for a, b in sentence_spans(context) if a <= at < b), first["text"])
    return {"id": qa["id"], "kind": "fact", "question": qa["question"], "answer": first["text"],
            "answer_aliases": sorted({a["text"] for a in qa["answers"]}),
            "evidence": [{"source": source, "quote": sentence}], "answerable": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="extractive", help="generator: extractive (default), local or openai")
    parser.add_argument("--limit", type=int, help="ask only N questions (a random, seeded sample)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/squad_heldout"))
    args = parser.parse_args()
    corpus, qa = args.out / "corpus", args.out / "qa.jsonl"
    n = write_corpus(SQUAD2, corpus, qa, args.limit)
    settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=args.out / "data"), answer=AnswerSettings(mode=args.mode))
    build_index(settings, corpus, progress=True)
    summary = evaluate(settings, qa, corpus, args.out / args.mode, [args.mode])[args.mode]
    keys = ["questions", "accuracy", "citations_on_gold", "answerability_auroc", "refusal_recall", "false_refusals",
            "recall@k", "latency_p50_ms", "latency_p95_ms"]
    print(json.dumps({"asked": n, **{k: summary.get(k) for k in keys}}, indent=2))


if __name__ == "__main__":
    main()
