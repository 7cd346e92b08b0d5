"""Scale benchmark over a real corpus: the 2,225 BBC News articles (issue 13, "Thousands of articles").

`python -m bench.bbc [--limit N] [--chroma-server] [--workdir DIR] [--questions N] [--answers N] [--out FILE]`

The bench turns `../shared/data/bbc/bbc_news.jsonl` into a folder of articles (one Markdown file per
record: `publisher: BBC News` front matter and the title as a `# heading`, which our loader reads exactly;
`--format txt` writes a masthead .txt instead, whose title detection misses titles under 4 words), then:

- cold build: `build_index` in a fresh child process (imports and model load timed apart), whose
  `ru_maxrss` is the peak memory reported (the whole process: imports + model + build); chunks/s and
  sentences/s of the build; the time spent in the embedding model's `encode`; on-disk size of the data dir (and of
  the server's folder with `--chroma-server`);
- bare chunk embedding of the same chunks (`chunk_document` + `embed_text`: title-prefixed) with a bare
  SentenceTransformer, batch 32, model load timed apart: the floor a build is compared with;
- a no-op re-index (nothing changed) and a one-article re-index (one file's text changed), in process;
- query latency of `Retriever.search` per method (hybrid, dense, bm25) and extractive answer latency of
  `Assistant.ask`, over distinct questions made from the articles (titles, named things, claims): each
  question is asked once, by one method, so the Embedder's query cache never hits. A few warm-up
  questions per method, and the first answer, are timed apart.

`--chroma-server` runs the same against a real `chroma run` server started on a free port (stopped at the
end). One torch thread (the build and its bare baseline: `--build-threads`). Targets: build <= 10 min for the 2,225 articles (with `--limit`, judged on
a linear extrapolation) and <= 1.3x bare chunk embedding; hybrid query p95 <= 50 ms; answer p50 <= 0.3 s.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import argparse
import contextlib
import json
import logging
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from bench.retrieval import timed, warm_imports
from index.build import build_index, load_documents
from index.chunk import chunk_document, embed_text
from index.embed import Embedder, packaged_model_path
from index.models import Chunk
from index.sentences import split_sentences
from index.settings import METHODS, AnswerSettings, IndexSettings, Settings
from index.store import Store
from rag.reader.news import write_corpus

log = logging.getLogger("bench.bbc")
ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "bbc" / "bbc_news.jsonl"
FULL_SIZE = 2225  # articles in the BBC set: the build target is stated for all of them
WARM = 3  # warm-up questions per method, timed apart
TARGETS = {"build_s": 600.0, "build_vs_bare": 1.3, "hybrid_p95_ms": 50.0, "answer_p50_s": 0.3}
EDIT = "\n\nThis closing paragraph was added by the benchmark to time a one-article re-index.\n"


def count_encode(embedder: Embedder) -> dict:
    """Wrap the embedder's two embedding methods so that the returned dict adds up the seconds and texts of every
    call, whichever of them the build uses."""
    totals = {"s": 0.0, "texts": 0, "calls": 0}

    def counting(method):
        def counted(texts, *args, **kwargs):
            seconds, result = timed(method, texts, *args, **kwargs)
            totals["s"], totals["calls"], totals["texts"] = totals["s"] + seconds, totals["calls"] + 1, \
                totals["texts"] + len(texts)
            return result
        return counted

    embedder.embed, embedder.embed_with_sums = counting(embedder.embed), counting(embedder.embed_with_sums)
    return totals


def read_bbc(path: Path, limit: int | None) -> list[dict]:
    """The first `limit` records (all when None) of the BBC jsonl."""
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return records[:limit] if limit else records


def disk_usage(path: Path) -> dict[str, int]:
    """Allocated bytes (as `du` counts) and apparent bytes of everything under `path`."""
    allocated = apparent = 0
    for p in path.rglob("*") if path.exists() else []:
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            allocated, apparent = allocated + st.st_blocks * 512, apparent + st.st_size
    return {"allocated_bytes": allocated, "apparent_bytes": apparent}


def free_port() -> int:
    """An unused port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chroma_server(path: Path, timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real `chroma run` server on a free port storing into `path`: (url, process); stopped on exit."""
    port, chroma = free_port(), Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"`chroma run` did not start on port {port}") from None
                time.sleep(0.2)
        log.info("chroma server pid %d at http://127.0.0.1:%d, path %s", proc.pid, port, path)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a running process in MiB, or None when unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(m.group(1)) / 1024 if m else None


def maxrss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build(spec: dict) -> dict:
    """Run in a fresh process: imports, model load, then a cold `build_index`; the figures."""
    threads = spec.pop("threads", 1)
    torch.set_num_threads(threads)
    settings = Settings(index=IndexSettings(**spec, torch_threads=threads), answer=AnswerSettings(mode="extractive"))
    imports_s, embedder = warm_imports(), Embedder(settings)
    load_s, _ = timed(lambda: (embedder.model, embedder.tokenizer))
    encoded, rss_loaded, cpu0 = count_encode(embedder), maxrss_mb(), time.process_time()
    build_s, report = timed(build_index, settings, embedder=embedder, progress=False)
    cpu_s = time.process_time() - cpu0
    return {"imports_s": imports_s, "model_load_s": load_s, "build_s": build_s, "build_cpu_s": cpu_s,
            "embed_s": encoded["s"], "texts_embedded": encoded["texts"],
            "files": report.files, "skipped": len(report.skipped), "chunks": report.chunks, "added": report.added,
            "maxrss_after_load_mb": rss_loaded, "maxrss_peak_mb": maxrss_mb()}


def cold_build(settings: Settings, threads: int) -> dict:
    """`child_build` in a child process (`python -m bench.bbc --child-build SPEC`), so its peak memory is its own."""
    spec = {"corpus_dir": str(settings.index.corpus_dir), "data_dir": str(settings.index.data_dir),
            "chroma_url": settings.index.chroma_url, "threads": threads}
    done = subprocess.run([sys.executable, "-m", "bench.bbc", "--child-build", json.dumps(spec)], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    log.info("cold build: %d files, %d chunks in %.1fs (embedding %.1fs), peak RSS %.0f MiB", figures["files"],
             figures["chunks"], figures["build_s"], figures["embed_s"], figures["maxrss_peak_mb"])
    return figures


def corpus_chunks(settings: Settings, folder: Path, embedder: Embedder) -> tuple[list[Chunk], dict]:
    """The chunks a build makes of `folder`, with the time taken to load and to chunk them."""
    load_s, (docs, _) = timed(load_documents, folder, settings)
    chunk_s, chunks = timed(lambda: [c for d in docs for c in chunk_document(d, settings, embedder.wordpieces,
                                                                              embedder.max_tokens)])
    sentences = [s for c in chunks for s in split_sentences(c.text)]
    return chunks, {"load_s": load_s, "chunk_s": chunk_s, "sentences": len(sentences),
                    "distinct_sentences": len(set(sentences))}


def bare_embedding(texts: list[str], threads: int) -> dict:
    """Seconds for a bare SentenceTransformer (batch 32, `threads` torch threads, as the build) to embed
    `texts`; its load timed apart."""
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    load_s, model = timed(SentenceTransformer, str(packaged_model_path()), device="cpu", local_files_only=True)
    cpu0 = time.process_time()
    embed_s, _ = timed(model.encode, texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    torch.set_num_threads(1)
    log.info("bare chunk embedding: %d texts in %.1fs (%.1f/s)", len(texts), embed_s, len(texts) / embed_s)
    return {"model_load_s": load_s, "embed_s": embed_s, "cpu_s": time.process_time() - cpu0, "texts": len(texts),
            "chunks_per_s": len(texts) / embed_s}


def reindex(settings: Settings, folder: Path, embedder: Embedder, edited: Path) -> dict:
    """A no-op re-index, then a one-article re-index after appending a paragraph to `edited`: times and counts."""
    out = {}
    for name in ("noop", "one_article"):
        if name == "one_article":
            edited.write_text(edited.read_text(encoding="utf-8") + EDIT, encoding="utf-8")
        seconds, report = timed(build_index, settings, folder, embedder=embedder, progress=False)
        out[name] = {"s": seconds, "files": report.files, "chunks": report.chunks, "added": report.added,
                     "removed": report.removed}
        log.info("%s re-index: %.2fs, %d added, %d removed", name, seconds, report.added, report.removed)
    open_s, store = timed(Store, settings)
    out["store_parts_s"] = {"open": open_s, "ids": timed(store.ids)[0],
                            "addressed_per_source": timed(store.addressed_per_source)[0]}
    return out


# --- questions -----------------------------------------------------------------------------------------

_NAME = re.compile(r"(?<=[a-z,;] )((?:[A-Z][a-z]+|[A-Z]{2,})(?: (?:[A-Z][a-z]+|[A-Z]{2,})){1,3})\b")
_LEAD = re.compile(r"^(?:But|And|So|However|Yet|Also|Now|Still),? ")
_LOWER_FIRST = {"The", "A", "An", "It", "This", "That", "These", "Those", "He", "She", "They", "Its", "Their",
                "His", "Her", "There", "In", "On", "At", "For", "Some", "Many", "Most", "Last", "One"}


def _sentences(record: dict) -> list[str]:
    return [s for s in split_sentences(record["text"]) if 8 <= len(s.split()) <= 40]


def title_question(record: dict, rng: random.Random) -> str | None:
    """A question naming the article's headline."""
    templates = ("What is behind the report '{}'?", "What happened: {}?", "What are the details of '{}'?")
    return rng.choice(templates).format(record["title"].strip())


def name_question(record: dict, rng: random.Random) -> str | None:
    """A question about a multi-word name found inside one of the article's sentences."""
    names = [m.group(1) for s in _sentences(record) for m in _NAME.finditer(s)]
    if not names:
        return None
    templates = ("What did {} do?", "What was said about {}?", "What is the news about {}?", "Who or what is {}?")
    return rng.choice(templates).format(rng.choice(names))


def claim_question(record: dict, rng: random.Random) -> str | None:
    """One of the article's sentences (cut to at most 16 words) asked back as 'Is it true that ...?'."""
    sentences = _sentences(record)
    if not sentences:
        return None
    words = _LEAD.sub("", rng.choice(sentences).replace('"', "")).split()[:16]
    words[-1] = words[-1].rstrip(".,;:!?'")
    if words[0] in _LOWER_FIRST:
        words[0] = words[0].lower()
    return f"Is it true that {' '.join(words)}?"


def make_questions(records: list[dict], n: int, seed: int = 13) -> list[str]:
    """`n` distinct questions (case-insensitively) in random order, a third each of title, name and claim
    questions over shuffled articles; raises ValueError when the articles cannot yield that many."""
    rng, kinds = random.Random(seed), (title_question, name_question, claim_question)
    seen, out, order = {"warm up"}, [], list(range(len(records)))  # "warm up": what Retriever embeds at start
    for _ in range(60):
        rng.shuffle(order)
        for i in order:
            q = kinds[len(out) % len(kinds)](records[i], rng)
            if q and q.casefold() not in seen:
                seen.add(q.casefold())
                out.append(q)
                if len(out) == n:
                    rng.shuffle(out)  # kinds cycle in order: shuffled, each method gets a mix of them
                    return out
    raise ValueError(f"only {len(out)} distinct questions from {len(records)} articles; {n} wanted")


# --- latency -------------------------------------------------------------------------------------------

def clocked(fn, *args, **kwargs) -> tuple[float, float, object]:
    """(wall ms, this process's CPU ms, result) of one call: CPU time shows what background load hides."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def summary(wall_ms: list[float], cpu_ms: list[float]) -> dict:
    """p50/p95/mean/max wall ms, p50/p95 CPU ms, and count."""
    a, c = np.asarray(wall_ms), np.asarray(cpu_ms)
    return {"p50_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95)), "mean_ms": float(a.mean()),
            "max_ms": float(a.max()), "cpu_p50_ms": float(np.median(c)), "cpu_p95_ms": float(np.percentile(c, 95)),
            "n": len(a)}


def time_queries(retriever, questions: dict[str, list[str]]) -> dict:
    """Per method: the first `WARM` questions timed apart, then one `search` per remaining question,
    methods interleaved so background load hits each alike."""
    warm = {m: [clocked(retriever.search, q, method=m)[0] for q in qs[:WARM]] for m, qs in questions.items()}
    wall: dict[str, list[float]] = {m: [] for m in questions}
    cpu: dict[str, list[float]] = {m: [] for m in questions}
    for i in range(WARM, min(len(qs) for qs in questions.values())):
        for method, qs in questions.items():
            w, c, _ = clocked(retriever.search, qs[i], method=method)
            wall[method].append(w)
            cpu[method].append(c)
    return {m: summary(wall[m], cpu[m]) | {"warmup_ms": warm[m]} for m in questions}


def time_answers(assistant, questions: list[str]) -> dict:
    """Extractive `ask` latency over `questions[1:]` (the first is a warm-up, timed apart), refusals counted."""
    first_ms = clocked(assistant.ask, questions[0])[0]
    wall, cpu, refused, retrieve = [], [], 0, []
    for q in questions[1:]:
        w, c, answer = clocked(assistant.ask, q)
        wall.append(w)
        cpu.append(c)
        refused += answer.refused
        retrieve.append(answer.timings_ms.get("retrieve", 0.0))
    return summary(wall, cpu) | {"first_ms": first_ms, "refused": refused,
                                 "retrieve_p50_ms": float(np.median(retrieve))}


# --- the run -------------------------------------------------------------------------------------------

def measure(args: argparse.Namespace, work: Path, chroma_url: str | None) -> dict:
    """Write the corpus, build, re-index and query it; every figure as one dict."""
    records = read_bbc(args.jsonl, args.limit)
    corpus = work / "corpus"
    paths = write_corpus(records, corpus, args.format)
    settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=work / "data", chroma_url=chroma_url,
                                            torch_threads=1), answer=AnswerSettings(mode="extractive"))
    fig: dict = {"articles": len(records), "format": args.format, "mode": "server" if chroma_url else "embedded"}
    fig["build_threads"] = args.build_threads
    fig["build"] = cold_build(settings, args.build_threads)
    fig["disk"] = {"data_dir": disk_usage(settings.index.data_dir)} | ({"server": disk_usage(work / "server")}
                                                                if chroma_url else {})
    embedder = Embedder(settings)
    fig["model_load_s"] = timed(lambda: (embedder.model, embedder.tokenizer))[0]
    chunks, fig["chunking"] = corpus_chunks(settings, corpus, embedder)
    fig["bare"] = bare_embedding([embed_text(c, settings) for c in chunks], args.build_threads)
    fig["reindex"] = reindex(settings, corpus, embedder, paths[0])
    questions = make_questions(records, len(METHODS) * (args.questions + WARM) + args.answers + 1)
    per_method = {m: questions[i::len(METHODS)][:args.questions + WARM] for i, m in enumerate(METHODS)}
    fig["retriever_open_s"], retriever = timed(_retriever, settings, embedder)
    fig["query"] = time_queries(retriever, per_method)
    fig["assistant_open_s"], assistant = timed(_assistant, settings, retriever)
    encoded = count_encode(embedder)  # from here on: what answering asks of the embedding model
    fig["answer"] = time_answers(assistant, questions[len(METHODS) * (args.questions + WARM):])
    fig["answer"]["encode_calls_per_answer"] = encoded["calls"] / (fig["answer"]["n"] + 1)
    fig["answer"]["encode_s_per_answer"] = encoded["s"] / (fig["answer"]["n"] + 1)
    fig["maxrss_parent_mb"] = maxrss_mb()
    return fig


def _retriever(settings: Settings, embedder: Embedder):
    from rag.pipeline import Retriever

    return Retriever(settings, embedder=embedder)


def _assistant(settings: Settings, retriever):
    from rag.pipeline import Assistant

    return Assistant(settings, retriever=retriever, mode="extractive")


def judge(fig: dict) -> list[tuple[str, float, str, bool]]:
    """(target, figure, unit, met) for the issue's four targets."""
    build, scale = fig["build"]["build_s"], FULL_SIZE / fig["articles"]
    bare = f"; bare chunk embedding alone: {fig['bare']['embed_s'] * scale:.0f} s"
    return [(f"build <= {TARGETS['build_s']:.0f} s for {FULL_SIZE} articles"
             + (f" (x{scale:.1f} extrapolated{bare})" if scale > 1 else f"{bare}"), build * scale, "s",
             build * scale <= TARGETS["build_s"]),
            (f"build <= {TARGETS['build_vs_bare']}x bare chunk embedding", build / fig["bare"]["embed_s"], "x",
             build / fig["bare"]["embed_s"] <= TARGETS["build_vs_bare"]),
            (f"hybrid query p95 <= {TARGETS['hybrid_p95_ms']:.0f} ms", fig["query"]["hybrid"]["p95_ms"], "ms",
             fig["query"]["hybrid"]["p95_ms"] <= TARGETS["hybrid_p95_ms"]),
            (f"extractive answer p50 <= {TARGETS['answer_p50_s']} s", fig["answer"]["p50_ms"] / 1000, "s",
             fig["answer"]["p50_ms"] / 1000 <= TARGETS["answer_p50_s"])]


def _build_lines(fig: dict) -> list[str]:
    """Build, memory, disk and re-index lines of the table."""
    b, bare, ch, ri = fig["build"], fig["bare"], fig["chunking"], fig["reindex"]
    disk = sum(d["allocated_bytes"] for d in fig["disk"].values()) / 2**20
    parts = ri["store_parts_s"]
    lines = [f"BBC bench, {fig['mode']} mode: {fig['articles']} articles ({fig['format']}), {b['chunks']} chunks, "
             f"{ch['sentences']} sentences ({ch['distinct_sentences']} distinct)",
             f"{'':<22}{'wall s':>8}{'CPU s':>8}{'chunks/s':>10}{'sent./s':>9}",
             f"{'cold build':<22}{b['build_s']:8.1f}{b['build_cpu_s']:8.1f}{b['chunks'] / b['build_s']:10.1f}"
             f"{ch['sentences'] / b['build_s']:9.1f}   model.encode {b['embed_s']:.1f} s, "
             f"{b['texts_embedded']} texts",
             f"{'bare chunk embedding':<22}{bare['embed_s']:8.1f}{bare['cpu_s']:8.1f}{bare['chunks_per_s']:10.1f}"
             f"{'':9}   build/bare: wall {b['build_s'] / bare['embed_s']:.2f}x, "
             f"CPU {b['build_cpu_s'] / bare['cpu_s']:.2f}x",
             f"  measured apart: loading files {ch['load_s']:.1f} s, chunking {ch['chunk_s']:.1f} s",
             f"peak RSS of the build process {b['maxrss_peak_mb']:.0f} MiB (after imports + model load "
             f"{b['maxrss_after_load_mb']:.0f} MiB); on disk {disk:.1f} MiB ("
             + ", ".join(f"{k} {v['allocated_bytes'] / 2**20:.1f}" for k, v in fig["disk"].items()) + ")"]
    if fig.get("server_peak_rss_mb"):
        lines.append(f"chroma server peak RSS {fig['server_peak_rss_mb']:.0f} MiB")
    lines += [f"re-index no-op {ri['noop']['s']:.2f} s (+{ri['noop']['added']} -{ri['noop']['removed']}); "
              f"one article {ri['one_article']['s']:.2f} s (+{ri['one_article']['added']} "
              f"-{ri['one_article']['removed']} chunks); store open {parts['open']:.2f} s, ids {parts['ids']:.2f} s, "
              f"addressed_per_source {parts['addressed_per_source']:.2f} s"]
    return lines


def _latency_lines(fig: dict) -> list[str]:
    """Query and answer latency lines of the table."""
    lines = [f"{'latency (ms)':<20}{'p50':>8}{'p95':>8}{'mean':>8}{'max':>8}{'CPU p50':>9}{'CPU p95':>9}{'n':>5}"
             "   warm-up"]
    for name, s in list(fig["query"].items()) + [("answer extractive", fig["answer"])]:
        extra = ", ".join(f"{w:.0f}" for w in s["warmup_ms"]) if "warmup_ms" in s else f"{s['first_ms']:.0f}"
        lines.append(f"{name:<20}{s['p50_ms']:8.1f}{s['p95_ms']:8.1f}{s['mean_ms']:8.1f}{s['max_ms']:8.1f}"
                     f"{s['cpu_p50_ms']:9.1f}{s['cpu_p95_ms']:9.1f}{s['n']:5d}   {extra}")
    b, bare, ans = fig["build"], fig["bare"], fig["answer"]
    lines.extend([f"answers refused {ans['refused']}/{ans['n']}, retrieval p50 inside an answer "
                 f"{ans['retrieve_p50_ms']:.1f} ms, model.encode {ans['encode_calls_per_answer']:.1f} calls and "
                 f"{ans['encode_s_per_answer'] * 1000:.0f} ms an answer",
                 f"not timed above: imports {b['imports_s']:.1f} s, model load "
                 f"{b['model_load_s']:.1f} s (bare {bare['model_load_s']:.1f} s), Retriever open "
                 f"{fig['retriever_open_s']:.1f} s, Assistant open {fig['assistant_open_s']:.1f} s"])
    return lines


def table(fig: dict) -> str:
    """The figures as fixed-width text, targets last with PASS/MISS."""
    targets = [f"{'PASS' if met else 'MISS'}  {name}: {value:.2f} {unit}" for name, value, unit, met in judge(fig)]
    return "\n".join(_build_lines(fig) + _latency_lines(fig) + targets)


@contextlib.contextmanager
def workdir(path: Path | None) -> Iterator[Path]:
    """`path` with its corpus/, data/ and server/ cleared (kept afterwards), or a temporary folder."""
    if path is None:
        with tempfile.TemporaryDirectory(prefix="bench-bbc-") as tmp:
            yield Path(tmp)
        return
    for sub in ("corpus", "data", "server"):
        shutil.rmtree(path / sub, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    yield path


def write_figures(path: Path, args: argparse.Namespace, internal: str, **figures) -> None:
    """The run's arguments (all but the `internal` one) and its figures as JSON at `path`."""
    path.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items() if k != internal}, **figures},
                               indent=2))
    log.info("wrote %s", path)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the bench (or, internally, the child build), print the table, write JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.bbc", description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", type=Path, default=BBC, help=f"the BBC jsonl (default {BBC})")
    parser.add_argument("--limit", type=int, help="only the first N articles (for development; default all)")
    parser.add_argument("--format", choices=("md", "txt"), default="md", help="article files to write (default md)")
    parser.add_argument("--chroma-server", action="store_true", help="run against a real `chroma run` server")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here (default: a temporary folder)")
    parser.add_argument("--questions", type=int, default=200, help="timed questions per retrieval method (200)")
    parser.add_argument("--answers", type=int, default=100, help="timed extractive answers (100)")
    parser.add_argument("--build-threads", type=int, default=1, help="torch threads for the build and the bare "
                        "embedding it is compared with (default 1; 2 = both cores, as `RAG_TORCH_THREADS=2 rag index`)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--child-build", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    torch.set_num_threads(1)
    if args.child_build:
        print(json.dumps(child_build(json.loads(args.child_build))))
        return 0
    with workdir(args.workdir) as work:
        if args.chroma_server:
            with chroma_server(work / "server") as (url, proc):
                fig = measure(args, work, url)
                fig["server_peak_rss_mb"] = peak_rss_mb(proc.pid)
        else:
            fig = measure(args, work, None)
    print(table(fig))
    if args.out:
        write_figures(args.out, args, "child_build", targets=TARGETS, figures=fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
