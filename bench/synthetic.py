"""Synthetic scale curve: insert and query cost of our Chroma store and BM25 index at 10^5 and 10^6 chunks.

`python -m bench.synthetic [--sizes 100000 1000000] [--words 120] [--queries 100] [--batch 64] [--chroma-server]
[--workdir DIR] [--out FILE]`

Each size N runs in its own child process (so its peak memory is its own) into a fresh data dir, laid out
exactly as a build leaves it, then read through our real `Retriever`:

- N synthetic chunks, 5 per synthetic article: a random unit 384-d float32 vector (seeded) and a text of
  `--words` words drawn Zipf-wise (p(rank r) ~ 1/r) from the BBC articles' own vocabulary, ranked by their
  frequency there, with a title and the metadata a real chunk carries (`Chunk.metadata`'s fields) and a
  sha1-like id. They are upserted into the chunk collection our `Store(settings, create=True)` opens for
  the settings, `--batch` rows a call (default `index.build.BATCH`, what a build writes per step);
- `BM25Index.build` over the same chunks (title-prefixed, as `search_text` makes them), saved to
  `index.build.bm25_dir(settings)`, and the store stamped with its fingerprint;
- reported: text generation (not product work), insert time and rows/s, BM25 build and save, on-disk size,
  the time to open a `Retriever` (it loads the whole BM25 cache), then `Retriever.search` latency p50/p95
  per method (hybrid, dense, bm25: our real fusion, `rag.evidence.retrieve.rrf` inside `search`) over distinct
  queries, each asked once by one method so the query-embedding cache never hits (queries: 4 to 8 words
  drawn the same way from the vocabulary without its 100 commonest words), and, apart, `Store.query` alone
  with precomputed query embeddings (what the dense half costs without embedding the question).

Not measured here: the sentences collection stays empty, whereas a real build also writes every chunk's
sentences (about 5 a chunk) with their vectors, so the insert time is the chunks' share only. Random
vectors make HNSW's graph as hard as it gets; real embeddings cluster. `--chroma-server` runs each size
against its own real `chroma run` server. One torch thread.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import argparse
import contextlib
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from bench.bbc import (BBC, METHODS, ROOT, WARM, chroma_server, clocked, disk_usage, maxrss_mb, peak_rss_mb,
                       read_bbc, summary, timed, write_figures)
from bench.retrieval import warm_imports
from index.bm25 import BM25Index
from index.build import BATCH, bm25_dir
from index.chunk import search_text
from index.embed import Embedder
from index.settings import AnswerSettings, IndexSettings, Settings
from index.store import Store

log = logging.getLogger("bench.synthetic")
DIM = 384  # all-MiniLM-L6-v2's vectors
PER_ARTICLE = 5  # synthetic chunks per synthetic article (one title, one source)
COMMON = 100  # commonest words left out of queries (mostly stopwords, which BM25 drops anyway)


def vocabulary(path: Path) -> list[str]:
    """The words of the BBC articles (lower-cased), commonest first."""
    counts = Counter(w for r in read_bbc(path, None) for w in re.findall(r"[a-z]+(?:'[a-z]+)?", r["text"].lower()))
    return [w for w, _ in counts.most_common()]


class Zipf:
    """Draws words from a ranked vocabulary with p(rank r) ~ 1/r."""

    def __init__(self, words: list[str], rng: np.random.Generator, skip: int = 0):
        self.words = np.asarray(words[skip:], dtype=object)
        weights = 1.0 / np.arange(1 + skip, len(words) + 1)
        self.p, self.rng = weights / weights.sum(), rng

    def texts(self, n: int, length: int) -> list[str]:
        """`n` texts of `length` words each."""
        out = []
        for i in range(0, n, 10_000):
            rows = self.rng.choice(len(self.words), size=(min(10_000, n - i), length), p=self.p)
            out += [" ".join(row) for row in self.words[rows]]
        return out


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random unit vectors, float32."""
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def chunk_meta(i: int, title: str) -> dict:
    """Metadata shaped like `Chunk.metadata()` for synthetic chunk `i`."""
    article, index = divmod(i, PER_ARTICLE)
    source = f"synthetic/{article:07d}.txt"
    return {"source": source, "path": f"/{source}", "file_sha256": "", "start": index * 700,
            "end": index * 700 + 690, "chunk_index": index, "title": title, "publisher": "Synthetic",
            "date": "", "date_int": 0, "dateline": ""}


def corpus(words: list[str], n: int, length: int, seed: int) -> tuple[list[str], list[str], list[dict]]:
    """Ids, texts and metadata of `n` synthetic chunks."""
    zipf = Zipf(words, np.random.default_rng(seed))
    texts, titles = zipf.texts(n, length), zipf.texts(-(-n // PER_ARTICLE), 6)
    ids = [hashlib.sha1(f"synthetic-{seed}-{i}".encode()).hexdigest()[:20] for i in range(n)]
    return ids, texts, [chunk_meta(i, titles[i // PER_ARTICLE]) for i in range(n)]


def insert(store: Store, ids: list[str], texts: list[str], metas: list[dict], batch: int, seed: int) -> dict:
    """Upsert the chunks with random unit vectors, `batch` rows a call: seconds in upsert calls, and in all."""
    rng, upsert_s, t0 = np.random.default_rng(seed + 1), 0.0, time.perf_counter()
    for i in range(0, len(ids), batch):
        sl = slice(i, i + batch)
        seconds, _ = timed(store.collection.upsert, ids=ids[sl], embeddings=unit_vectors(rng, len(ids[sl])),
                           documents=texts[sl], metadatas=metas[sl])
        upsert_s += seconds
        if (i // batch) % max(1, 50_000 // batch) == 0:
            log.info("inserted %d/%d rows, %.0f s in upsert", i, len(ids), upsert_s)
    return {"upsert_s": upsert_s, "insert_s": time.perf_counter() - t0, "rows_per_s": len(ids) / upsert_s}


def write_bm25(store: Store, settings: Settings, ids: list[str], texts: list[str], metas: list[dict]) -> dict:
    """Build and save the BM25 cache as a build does, and stamp the store: seconds of each step."""
    build_s, index = timed(BM25Index.build, ids, texts, metas,
                           [search_text(m["title"], t, settings) for t, m in zip(texts, metas)])
    save_s, _ = timed(index.save, bm25_dir(settings))
    store.set_stamp(index.fingerprint)
    return {"bm25_build_s": build_s, "bm25_save_s": save_s}


def distinct_queries(words: list[str], n: int, seed: int) -> list[str]:
    """`n` distinct queries of 4 to 8 words drawn Zipf-wise from the vocabulary less its `COMMON` commonest."""
    zipf, lengths, out = Zipf(words, np.random.default_rng(seed), skip=COMMON), np.random.default_rng(seed + 1), {}
    while len(out) < n:
        out.setdefault(zipf.texts(1, int(lengths.integers(4, 9)))[0] + "?", None)
    return list(out)


def query_latency(settings: Settings, embedder: Embedder, queries: list[str], n: int) -> dict:
    """Open a Retriever, then time `search` per method (interleaved) and `Store.query` alone."""
    from rag.pipeline import Retriever

    open_s, retriever = timed(Retriever, settings, embedder=embedder)
    per_method = {m: queries[i::len(METHODS) + 1][:n + WARM] for i, m in enumerate(METHODS)}
    vectors = embedder.embed(queries[len(METHODS)::len(METHODS) + 1][:n + WARM])
    fns = {m: lambda q, m=m: retriever.search(q, method=m) for m in METHODS}
    fns["store_query"] = lambda v: retriever.store.query(v, settings.retrieval.candidates, None)
    inputs = per_method | {"store_query": vectors}
    warm = {name: [clocked(fns[name], x)[0] for x in xs[:WARM]] for name, xs in inputs.items()}
    wall: dict[str, list[float]] = {name: [] for name in inputs}
    cpu: dict[str, list[float]] = {name: [] for name in inputs}
    for i in range(WARM, n + WARM):
        for name, xs in inputs.items():
            w, c, _ = clocked(fns[name], xs[i])
            wall[name].append(w)
            cpu[name].append(c)
    return {"retriever_open_s": open_s,
            "query": {name: summary(wall[name], cpu[name]) | {"warmup_ms": warm[name]} for name in inputs}}


def child_size(spec: dict) -> dict:
    """Run in a fresh process: one size, end to end; its figures."""
    torch.set_num_threads(1)
    settings = Settings(index=IndexSettings(data_dir=Path(spec["data_dir"]), chroma_url=spec["chroma_url"],
                                            torch_threads=1), answer=AnswerSettings(mode="extractive"))
    n, seed = spec["size"], spec["seed"]
    imports_s, embedder = warm_imports(), Embedder(settings)
    embedder.model  # noqa: B018 -- loaded here, not in a timed step
    words = vocabulary(Path(spec["jsonl"]))
    gen_s, (ids, texts, metas) = timed(corpus, words, n, spec["words"], seed)
    store = Store(settings, create=True)
    fig = {"size": n, "vocabulary": len(words), "imports_s": imports_s, "generate_s": gen_s}
    fig |= insert(store, ids, texts, metas, spec["batch"], seed)
    fig |= write_bm25(store, settings, ids, texts, metas)
    del ids, texts, metas
    queries = distinct_queries(words, (len(METHODS) + 1) * (spec["queries"] + WARM), seed + 2)
    fig |= query_latency(settings, embedder, queries, spec["queries"])
    fig["disk"] = disk_usage(settings.index.data_dir)
    fig["maxrss_peak_mb"] = maxrss_mb()
    return fig


def run_size(args: argparse.Namespace, size: int, work: Path) -> dict:
    """One size in a child process (`python -m bench.synthetic --child SPEC`), with its own server if asked."""
    spec = {"size": size, "data_dir": str(work / f"n{size}"), "chroma_url": None, "seed": args.seed,
            "words": args.words, "batch": args.batch, "queries": args.queries, "jsonl": str(args.jsonl)}
    with contextlib.ExitStack() as stack:
        proc = None
        if args.chroma_server:
            spec["chroma_url"], proc = stack.enter_context(chroma_server(work / f"n{size}-server"))
        done = subprocess.run([sys.executable, "-m", "bench.synthetic", "--child", json.dumps(spec)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, check=True)
        fig = json.loads(done.stdout.strip().splitlines()[-1])
        if proc:
            fig["server_peak_rss_mb"] = peak_rss_mb(proc.pid)
            fig["server_disk"] = disk_usage(work / f"n{size}-server")
    if not args.workdir:  # a temporary folder: free the disk before the next size
        for path in (work / f"n{size}", work / f"n{size}-server"):
            shutil.rmtree(path, ignore_errors=True)
    return fig


def table(figs: list[dict], mode: str) -> str:
    """One block of lines per size."""
    lines = [f"synthetic bench, {mode} mode (times in s, latency in ms)"]
    for f in figs:
        disk = (f["disk"]["allocated_bytes"] + f.get("server_disk", {}).get("allocated_bytes", 0)) / 2**20
        lines += [f"N={f['size']:,}: insert {f['insert_s']:.1f} s ({f['rows_per_s']:.0f} rows/s in upsert), "
                  f"BM25 build {f['bm25_build_s']:.1f} + save {f['bm25_save_s']:.1f} s, on disk {disk:.0f} MiB, "
                  f"peak RSS {f['maxrss_peak_mb']:.0f} MiB"
                  + (f", server peak RSS {f['server_peak_rss_mb']:.0f} MiB" if f.get("server_peak_rss_mb") else ""),
                  f"  Retriever open {f['retriever_open_s']:.1f} s; text generation {f['generate_s']:.1f} s "
                  "(not product work)",
                  f"  {'latency':<13}{'p50':>8}{'p95':>8}{'mean':>8}{'max':>8}{'CPU p50':>9}{'CPU p95':>9}{'n':>5}"]
        for name, s in f["query"].items():
            lines.append(f"  {name:<13}{s['p50_ms']:8.1f}{s['p95_ms']:8.1f}{s['mean_ms']:8.1f}{s['max_ms']:8.1f}"
                         f"{s['cpu_p50_ms']:9.1f}{s['cpu_p95_ms']:9.1f}{s['n']:5d}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run each size (or, internally, one child), print the table, write JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="chunks per run")
    parser.add_argument("--words", type=int, default=120, help="words per synthetic chunk (120, ~ a BBC chunk)")
    parser.add_argument("--queries", type=int, default=100, help="timed queries per method and size (100)")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"rows per upsert (default {BATCH}, as a build)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--jsonl", type=Path, default=BBC, help="where the vocabulary comes from")
    parser.add_argument("--chroma-server", action="store_true", help="against a real `chroma run` server")
    parser.add_argument("--workdir", type=Path, help="keep the data dirs here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.child:
        print(json.dumps(child_size(json.loads(args.child))))
        return 0
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-synthetic-")))
        if args.workdir and any(args.workdir.glob("n*")):
            parser.error(f"{args.workdir} already holds data dirs (n*): give an empty or new --workdir")
        figs = [run_size(args, size, work) for size in args.sizes]
    mode = "server" if args.chroma_server else "embedded"
    print(table(figs, mode))
    if args.out:
        write_figures(args.out, args, "child", mode=mode, figures=figs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
