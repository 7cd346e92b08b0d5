"""BBC QA benchmark: the reader's dev split of labelled news questions asked against all 2,225 BBC articles.

`python -m bench.bbc_qa [--workdir DIR] [--local N] [--split dev|heldout|train] [--limit N] [--out FILE]`

The corpus is `bench.bbc`'s (one Markdown file per article) and is indexed incrementally in
`--workdir` (default `.rag/bbc`, shared with `rag fit-combiner`; the first build takes ~5-10 minutes on 2 cores, later runs
reuse it). The questions are the dev split of `rag.reader.news` (whole articles the reader never
trains on; `--split heldout`: the 600 held-out questions nothing is tuned on, `eval/bbcqa/heldout-*`), each asked against the whole corpus, never against its own article, with default
settings and `rag eval`'s scoring (`rag.eval.evaluate`). Reported overall and per kind:

- the passage holding the evidence sentence among the top 5 (answerable questions);
- accuracy: the answer span lies inside the answer (answerable) / refused (unanswerable);
- citations on the evidence sentence (answered questions);
- unanswerable refused, answerable refused, answerability AUROC;
- p50/p95 latency; answers that repeat a sentence.

Extractive on every question; `--local N` also asks the local model a sample of N questions.
Targets (issue 26): top-5 >= 0.95 for every kind, accuracy >= 0.80 with no kind below 0.6,
unanswerable refused >= 0.6 with answerable refused <= 0.05, AUROC >= 0.80.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import argparse
import json
import logging
import random
from collections import defaultdict
from pathlib import Path

from index.settings import Settings
from rag.eval import metrics
from rag.pipeline import evaluate, news_corpus
from rag.reader import news

log = logging.getLogger("bench.bbc_qa")
ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"top5": 0.95, "accuracy": 0.80, "kind_accuracy": 0.6, "unanswerable_refused": 0.6,
           "answerable_refused": 0.05, "auroc": 0.80}


def question_set(work: Path, which: str, limit: int | None, seed: int = 13) -> Path:
    """The split's questions in `rag eval`'s format, written to `work/<which>.jsonl`."""
    articles = news.read_articles()
    questions = getattr(news.split(articles), which)
    if limit:
        questions = random.Random(seed).sample(questions, min(limit, len(questions)))
    path = work / f"{which}-{limit}.jsonl" if limit else work / f"{which}.jsonl"
    path.write_text("".join(json.dumps(news.as_eval_item(q), ensure_ascii=False) + "\n" for q in questions))
    return path


def repeats_a_sentence(row: dict) -> bool:
    """Whether an answer holds the same sentence twice."""
    texts = [" ".join(s["text"].split()) for s in row.get("sentences", [])]
    return len(texts) != len(set(texts))


def figures(rows: list[dict]) -> dict:
    """Overall and per-kind figures from `rag eval`'s results rows."""
    out = {"all": _figures(rows)}
    kinds: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        kinds[row["scores"]["kind"]].append(row)
    out |= {kind: _figures(kinds[kind]) for kind in news.KINDS if kinds[kind]}
    return out


def _figures(rows: list[dict]) -> dict:
    scores = [r["scores"] for r in rows]
    ans = [s for s in scores if s["answerable"]]
    una = [s for s in scores if not s["answerable"]]
    answered = [s for s in ans if not s["refused"]]
    latency = [s["latency_ms"] for s in scores]
    fig = {"questions": len(rows)}
    if ans:
        fig |= {"top5": metrics.mean([s["hit_rank"] is not None and s["hit_rank"] <= 5 for s in ans]),
                "accuracy": metrics.mean([s["correct"] for s in ans]),
                "cites_evidence": metrics.mean([bool(s["cites_gold"]) for s in answered]),
                "answerable_refused": metrics.mean([s["refused"] for s in ans])}
    if una:
        fig["unanswerable_refused"] = metrics.mean([s["refused"] for s in una])
    if ans and una:
        fig["auroc"] = round(metrics.auroc([s["answerability"] for s in ans], [s["answerability"] for s in una]), 4)
    fig |= {"p50_ms": round(metrics.percentile(latency, 50), 1), "p95_ms": round(metrics.percentile(latency, 95), 1),
            "repeats": sum(repeats_a_sentence(r) for r in rows)}
    return fig


def run(settings: Settings, qa: Path, out: Path, mode: str) -> dict:
    """Ask every question of `qa` in `mode`; the figures of its results."""

    evaluate(settings, qa, settings.index.corpus_dir, out, [mode])
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return figures(rows)


COLUMNS = ["questions", "top5", "accuracy", "cites_evidence", "unanswerable_refused", "answerable_refused", "auroc",
           "p50_ms", "p95_ms", "repeats"]


def table(title: str, fig: dict) -> str:
    """Markdown: a row per kind, a column per figure."""
    lines = [f"### {title}", "", "| kind | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for kind, f in fig.items():
        lines.append(f"| {kind} | " + " | ".join(str(f.get(c, "")) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the index, ask the split, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.bbc_qa", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".rag" / "bbc",
                        help="corpus, index and results (kept between runs; default .rag/bbc, as `rag fit-combiner`)")
    parser.add_argument("--split", choices=("dev", "heldout", "train"), default="dev",
                        help="which questions (default dev; heldout: the larger set nothing is tuned on)")
    parser.add_argument("--limit", type=int, help="a random sample of N questions of the split")
    parser.add_argument("--local", type=int, default=0, help="also ask the local model a sample of N questions")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args.workdir.mkdir(parents=True, exist_ok=True)
    settings = news_corpus(args.workdir).changed(answer={"mode": "extractive"})
    results = {"extractive": run(settings, question_set(args.workdir, args.split, args.limit),
                                 args.workdir / "extractive", "extractive")}
    if args.local:
        sample = question_set(args.workdir, args.split, args.local)
        results["local"] = run(settings, sample, args.workdir / "local", "local")
    for mode, fig in results.items():
        print(table(f"{args.split} split, {mode}", fig), end="\n\n")
    if args.out:
        args.out.write_text(json.dumps({"targets": TARGETS, "figures": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
