"""Benchmark retrieval through the llama-index retriever (rag.llamaindex.RagRetriever) against `Retriever.search`.

`python -m bench.llamaindex [--corpus DIR] [--repeat N] [--out FILE]`. Builds the index into a temporary
data dir, then times both on the same distinct questions (every question of eval/qa.jsonl), interleaved and
alternating which goes first. Each question is embedded afresh, as a new user question is (the embedder's
cache of recent questions is bypassed); a second pass with every embedding already cached shows the
adapter's overhead against only Chroma, BM25 and fusion. One torch thread.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from index.build import build_index
from index.embed import Embedder
from index.settings import IndexSettings, Settings
from rag.llamaindex import RagRetriever
from rag.pipeline import Retriever

log = logging.getLogger("bench.llamaindex")
TARGET = 1.1  # the goal: p50 through llama-index within 1.1x of Retriever.search
QA = Path(__file__).resolve().parent.parent / "eval" / "qa.jsonl"


class FreshEmbedder(Embedder):
    """Our Embedder without its memory of recent questions: every query is embedded, as a new one is."""

    def embed_query(self, text: str) -> list[float]:
        """One query's embedding, computed now."""
        return self.embed([text])[0]


def questions() -> list[str]:
    """The distinct questions of the evaluation set, in file order."""
    lines = [json.loads(line)["question"] for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(lines))


def timed(fn, *args) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def time_queries(fns: dict[str, Callable[[str], object]], qs: list[str], repeat: int) -> dict[str, dict]:
    """p50/p95 ms per function: 3 warm-up questions each, then `repeat` passes over `qs`, the functions
    interleaved per question (background load hits both alike) and their order alternating."""
    [fn(q) for q in qs[:3] for fn in fns.values()]
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i, q in enumerate(qs * repeat):
        for name in names if i % 2 else names[::-1]:
            samples[name].append(timed(fns[name], q)[0] * 1000)
    return {n: {"p50_ms": float(np.median(s)), "p95_ms": float(np.percentile(s, 95)), "n": len(s)}
            for n, s in samples.items()}


def same_results(retriever: Retriever, adapter: RagRetriever, qs: list[str]) -> bool:
    """Whether the adapter returns exactly the passages (ids and scores) that `search` does."""
    return all([(n.node.node_id, n.score) for n in adapter.retrieve(q)]
               == [(p.id, p.score) for p in retriever.search(q)] for q in qs)


def table(fresh: dict, cached: dict) -> str:
    """The figures as a fixed-width text table, with PASS/MISS on the target line."""
    rows = [("p50, question embedded (ms)", fresh, "p50_ms", True),
            ("p95, question embedded (ms)", fresh, "p95_ms", False),
            ("p50, embedding cached (ms)", cached, "p50_ms", False)]
    lines = [f"{'metric':<29}{'search':>9}{'llama-index':>13}{'ratio':>8}"]
    for name, figures, key, target in rows:
        a, b = figures["search"][key], figures["llamaindex"][key]
        mark = f"  {'PASS' if b / a <= TARGET else 'MISS'} (target <= {TARGET}x)" if target else ""
        lines.append(f"{name:<29}{a:>9.2f}{b:>13.2f}{b / a:>7.2f}x{mark}")
    lines.append(f"{fresh['search']['n']} timed calls each; overhead at p50 "
                 f"{fresh['llamaindex']['p50_ms'] - fresh['search']['p50_ms']:+.2f} ms (embedded), "
                 f"{cached['llamaindex']['p50_ms'] - cached['search']['p50_ms']:+.2f} ms (cached)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the index, time both ways, print the table and optionally write JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.llamaindex", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("seeds"), help="folder of articles (default seeds/)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the question list (default 3)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    torch.set_num_threads(1)
    qs = questions()
    with tempfile.TemporaryDirectory(prefix="bench-llamaindex-") as data_dir:
        settings = Settings(index=IndexSettings(data_dir=Path(data_dir), corpus_dir=args.corpus, torch_threads=1))
        build_index(settings, embedder=Embedder(settings), progress=False)
        fresh_retriever, cached_retriever = Retriever(settings, FreshEmbedder(settings)), Retriever(settings)
        fresh_adapter, cached_adapter = RagRetriever(fresh_retriever), RagRetriever(cached_retriever)
        assert same_results(fresh_retriever, fresh_adapter, qs), "the adapter returned other passages than search"
        fresh = time_queries({"search": fresh_retriever.search, "llamaindex": fresh_adapter.retrieve}, qs, args.repeat)
        [cached_retriever.embedder.embed_query(q) for q in qs[-32:]]  # the cache holds the 32 most recent
        cached = time_queries({"search": cached_retriever.search, "llamaindex": cached_adapter.retrieve}, qs[-32:],
                              args.repeat)
    print(table(fresh, cached))
    if args.out:
        args.out.write_text(json.dumps({
            "corpus": str(args.corpus), "repeat": args.repeat, "questions": len(qs), "target_ratio": TARGET,
            "embedded": fresh, "cached": cached,
            "p50_ratio": fresh["llamaindex"]["p50_ms"] / fresh["search"]["p50_ms"]}, indent=2))
        log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
