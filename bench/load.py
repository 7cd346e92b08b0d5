"""Load: N concurrent API clients asking different questions for D seconds against `rag serve` (issue 13).

`python -m bench.load [--clients 20] [--seconds 60] [--mode extractive] [--data-dir DIR | --corpus seeds]
[--questions-per-client 6] [--conversations-per-client 2] [--out FILE]`.

Builds an index of the corpus into a temporary RAG_DATA_DIR (or serves an existing `--data-dir` as it is),
starts `rag serve` on a free port with RAG_GENERATOR=--mode, and waits until it answers. Every question
the clients will send is first asked alone, serially, for a reference answer (standalone questions in a
new conversation each; each conversation replayed turn by turn in a fresh one). Then N clients run at
once, each in its own thread with its own HTTP client: half hold conversations (eval/conversations*.jsonl,
their own conversation_id, follow-ups), half ask standalone questions (eval/qa*.jsonl); each client
cycles over its own list, disjoint from the others'. Every response is checked:

* error: an HTTP status other than 200, a transport exception or timeout, a Gradio `error` event, or an
  answer carrying an `error` field (the API returns RagErrors that way);
* cross-talk: its `question` is not the one sent; its `conversation_id` is not the client's own (a
  follow-up) or is one already handed out (a new conversation); or its answer (everything but
  `timings_ms` and `conversation_id`) differs from the reference. The API does not expose how many
  turns the server holds, so the turn count is checked through the answer: a follow-up's resolved
  `standalone_question`, its text and its citation numbers (assigned per conversation, in order of first
  citation) depend on the turns before it, and must equal turn i of the serial replay.

Reports requests, errors, cross-talk, throughput, client latency p50/p95/max and the server's per-answer
`timings_ms` p50/p95, prints them and writes them as JSON with `--out`; exits 1 on any error or
cross-talk. The server is stopped at the end, whatever happens (Ctrl-C and SIGTERM included).

The clients speak plain httpx to Gradio's REST route (POST /gradio_api/call/ask, then GET the event's
result stream) rather than gradio_client: one `httpx.Client` per thread with explicit timeouts and no
proxy from the environment, HTTP statuses and Gradio error events seen as they are, no background
threads or config fetches inside the client that would blur what is measured or hide a failure;
with `--transport json`, to the server's own `POST /api/ask` (one request, one JSON answer).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

log = logging.getLogger("bench.load")
ROOT = Path(__file__).resolve().parent.parent
VOLATILE = ("timings_ms", "conversation_id")  # what may differ between two askings of the same question
SAMPLES = 10  # error and cross-talk examples kept for the report


class ApiError(Exception):
    """A request that failed: HTTP status, transport, Gradio error event, or an answer with `error`."""


# --- the questions ---------------------------------------------------------------------------------


def _jsonl(path: Path) -> list[dict]:
    """The objects of a JSONL file, skipping blank lines."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_conversations(eval_dir: Path) -> list[list[str]]:
    """The turns' questions of every conversation in eval/conversations*.jsonl."""
    return [[t["question"] for t in c["turns"]]
            for path in sorted(eval_dir.glob("conversations*.jsonl")) for c in _jsonl(path)]


def load_questions(eval_dir: Path, exclude: set[str]) -> list[str]:
    """The distinct questions of eval/qa*.jsonl, in file order, less those in `exclude`."""
    seen, out = set(exclude), []
    for path in sorted(eval_dir.glob("qa*.jsonl")):
        for item in _jsonl(path):
            if item["question"] not in seen:
                seen.add(item["question"])
                out.append(item["question"])
    return out


def deal(items: list, clients: int, each: int) -> list[list]:
    """`each` items per client, round-robin, no item given twice; refuses when there are too few."""
    if clients and len(items) < clients * each:
        raise SystemExit(f"bench.load: {len(items)} items for {clients} clients x {each}: lower the per-client count")
    return [items[i:clients * each:clients] for i in range(clients)]


# --- the server --------------------------------------------------------------------------------------


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, mode: str) -> dict[str, str]:
    """The environment `rag index` and `rag serve` run with: offline, quiet, one thread, our data dir and mode."""
    env = dict(os.environ, RAG_DATA_DIR=str(data_dir), RAG_GENERATOR=mode)
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                       ("TOKENIZERS_PARALLELISM", "false"), ("OMP_NUM_THREADS", "1"),
                       ("ANONYMIZED_TELEMETRY", "False"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        env.setdefault(key, value)
    return env


def build_index(corpus: Path, env: dict[str, str]) -> None:
    """`rag index --quiet` over the corpus into env's RAG_DATA_DIR."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag", "index", "--quiet", "--source", str(corpus)], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"bench.load: rag index failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    log.info("%s (%.1f s)", done.stdout.strip().splitlines()[0], time.perf_counter() - t0)


class Server:
    """`rag serve` on a free port, its output in a log file; a context manager that always stops it."""

    def __init__(self, env: dict[str, str], log_path: Path, startup_s: float):
        self.env, self.log_path, self.startup_s = env, log_path, startup_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.ready_s = 0.0

    def __enter__(self) -> "Server":
        with self.log_path.open("wb") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(self.port)],
                                         env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)  # no terminal Ctrl-C
        log.info("rag serve (pid %d) on %s, log %s", self.proc.pid, self.url, self.log_path)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_ready(self) -> None:
        """Poll /healthz until it says ready (200); fail if the server exits or takes too long."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < self.startup_s:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench.load: rag serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                health = httpx.get(f"{self.url}/healthz", timeout=5, trust_env=False)
                if health.status_code == 200:
                    self.ready_s = time.perf_counter() - t0
                    log.info("ready in %.1f s: %s", self.ready_s, health.json())
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"bench.load: rag serve not ready after {self.startup_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) if it still runs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        log.info("rag serve stopped")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's output."""
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def tracebacks(self) -> int:
        """How many Python tracebacks the server has printed."""
        return self.log_path.read_text(errors="replace").count("Traceback (most recent call last)")


# --- one client --------------------------------------------------------------------------------------


def last_event(body: str) -> tuple[str, str]:
    """(event, data) of the last non-heartbeat event of a Gradio SSE body."""
    found = ("", "")
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("event") and fields["event"] != "heartbeat":
            found = (fields["event"], fields.get("data", ""))
    return found


class ApiClient:
    """One client's own HTTP connection to the `ask` endpoint: Gradio's (`transport="gradio"`) or the
    server's plain JSON one (`"json"`, POST /api/ask)."""

    def __init__(self, url: str, mode: str, k: int, timeout_s: float, transport: str = "gradio"):
        self.http = httpx.Client(base_url=url, timeout=timeout_s, trust_env=False)
        self.mode, self.k, self.transport = mode, k, transport

    def ask(self, question: str, conversation_id: str = "") -> tuple[float, dict]:
        """(seconds, answer) for one question; ApiError on any failure."""
        if self.transport == "json":
            return self._ask_json(question, conversation_id)
        t0 = time.perf_counter()
        try:
            posted = self.http.post("/gradio_api/call/ask",
                                    json={"data": [question, self.mode, self.k, conversation_id]})
            if posted.status_code != 200:
                raise ApiError(f"POST HTTP {posted.status_code}: {posted.text[:200]}")
            result = self.http.get(f"/gradio_api/call/ask/{posted.json()['event_id']}")
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ApiError(f"{type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - t0
        if result.status_code != 200:
            raise ApiError(f"GET HTTP {result.status_code}: {result.text[:200]}")
        event, data = last_event(result.text)
        if event != "complete":
            raise ApiError(f"Gradio event {event or 'none'}: {data[:200]}")
        answer = json.loads(data)[0]
        if not isinstance(answer, dict) or answer.get("error"):
            raise ApiError(f"answer error: {str(answer.get('error') if isinstance(answer, dict) else answer)[:200]}")
        return seconds, answer

    def _ask_json(self, question: str, conversation_id: str) -> tuple[float, dict]:
        t0 = time.perf_counter()
        try:
            posted = self.http.post("/api/ask", json={"question": question, "mode": self.mode, "k": self.k,
                                                      "conversation_id": conversation_id})
            answer = posted.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiError(f"{type(exc).__name__}: {exc}") from exc
        if posted.status_code != 200 or not isinstance(answer, dict) or answer.get("error"):
            raise ApiError(f"POST /api/ask HTTP {posted.status_code}: {posted.text[:200]}")
        return time.perf_counter() - t0, answer

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def comparable(answer: dict) -> dict:
    """An answer without what legitimately differs between two askings (timings, conversation id)."""
    return {key: value for key, value in answer.items() if key not in VOLATILE}


def differing(got: dict, want: dict) -> list[str]:
    """Names of the fields that differ between two comparable answers."""
    return sorted(key for key in set(got) | set(want) if got.get(key) != want.get(key))


# --- references, asked alone before the load --------------------------------------------------------


@dataclass
class Plan:
    """What each client asks: standalone question lists and conversation lists, one per client."""

    standalone: list[list[str]]
    conversations: list[list[list[str]]]
    local: list[list[str]] = field(default_factory=list)  # standalone questions asked in local mode


@dataclass
class References:
    """What every question gets asked alone, serially: {question: answer} standalone (and in local
    mode), {turns: [answer per turn]} replayed; the conversation ids handed out; the seconds of each
    serial standalone answer, the first one (the first after "ready") included."""

    alone: dict = field(default_factory=dict)
    local: dict = field(default_factory=dict)
    replayed: dict = field(default_factory=dict)
    ids: set = field(default_factory=set)
    seconds: list[float] = field(default_factory=list)
    first_again: float = 0.0  # the first question asked once more after all the others: its warm time


def references(url: str, args: argparse.Namespace, plan: Plan) -> References:
    """Ask every planned question alone, serially, for the answer it must get under load."""
    ask = functools.partial(ApiClient, url, k=args.k, timeout_s=args.timeout, transport=args.transport)
    client, local, refs = ask(args.mode), ask("local"), References()
    t0 = time.perf_counter()
    try:
        for question in itertools.chain.from_iterable(plan.standalone):
            seconds, answer = client.ask(question)
            if not refs.seconds:
                log.info("first answer after ready in %.2f s", seconds)
            refs.seconds.append(seconds)
            refs.alone[question] = comparable(answer)
            refs.ids.add(answer["conversation_id"])
        if refs.seconds:
            refs.first_again = client.ask(plan.standalone[0][0])[0]
        for question in itertools.chain.from_iterable(plan.local):
            answer = local.ask(question)[1]
            refs.local[question] = comparable(answer)
            refs.ids.add(answer["conversation_id"])
        for turns in itertools.chain.from_iterable(plan.conversations):
            cid, answers = "", []
            for question in turns:
                answer = client.ask(question, cid)[1]
                cid = answer["conversation_id"]
                answers.append(comparable(answer))
            refs.replayed[tuple(turns)] = answers
            refs.ids.add(cid)
    except ApiError as exc:
        raise SystemExit(f"bench.load: a reference question failed before the load: {exc}") from exc
    finally:
        client.close()
        local.close()
    n = len(refs.alone) + len(refs.local) + sum(len(t) for t in refs.replayed)
    log.info("references: %d answers asked serially in %.1f s", n, time.perf_counter() - t0)
    return refs


# --- the load ----------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw, shared between their threads under one lock."""

    seen_ids: set[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"standalone": [], "conversation": [],
                                                                       "local": []})
    timings: dict[str, list[float]] = field(default_factory=dict)
    per_client: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cross_talk: list[str] = field(default_factory=list)
    last_done: float = 0.0

    def new_id(self, conversation_id: str | None) -> bool:
        """Record a conversation id handed out for a new conversation; False if it was handed out before."""
        with self.lock:
            fresh = bool(conversation_id) and conversation_id not in self.seen_ids
            self.seen_ids.add(conversation_id or "")
            return fresh

    def record(self, who: str, kind: str, seconds: float, answer: dict | None, problem: str | None,
               error: str | None) -> None:
        """One finished request: its latency and server timings, or its error, and any cross-talk."""
        with self.lock:
            self.per_client[who] = self.per_client.get(who, 0) + 1
            self.last_done = time.perf_counter()
            if error:
                self.errors.append(f"{who}: {error}")
                return
            self.latencies[kind].append(seconds)
            for key, ms in (answer.get("timings_ms") or {}).items():
                self.timings.setdefault(key, []).append(ms)
            if problem:
                self.cross_talk.append(f"{who}: {problem}")


def check(answer: dict, question: str, want: dict, sent_id: str, tally: Tally) -> str | None:
    """What is wrong with a response, as cross-talk, or None: question echo, conversation id, reference."""
    if answer.get("question") != question:
        return f"asked {question!r}, got the answer to {answer.get('question')!r}"
    got_id = answer.get("conversation_id")
    if sent_id and got_id != sent_id:
        return f"sent conversation {sent_id}, got {got_id}"
    if not sent_id and not tally.new_id(got_id):
        return f"new conversation given an id already handed out: {got_id}"
    if (fields := differing(comparable(answer), want)):
        return f"{question!r}: {', '.join(fields)} differ from the serial reference"
    return None


def ask_checked(client: ApiClient, who: str, kind: str, question: str, want: dict, sent_id: str,
                tally: Tally) -> dict | None:
    """Ask, check and record one request; the answer, or None when it failed."""
    try:
        seconds, answer = client.ask(question, sent_id)
    except ApiError as exc:
        tally.record(who, kind, 0.0, None, None, f"{question!r}: {exc}")
        return None
    tally.record(who, kind, seconds, answer, check(answer, question, want, sent_id, tally), None)
    return answer


def standalone_client(who: str, client: ApiClient, questions: list[str], alone: dict, tally: Tally,
                      deadline: float, kind: str = "standalone") -> None:
    """Ask the client's questions, each in a new conversation, cycling until the deadline."""
    for question in itertools.cycle(questions):
        if time.perf_counter() >= deadline:
            return
        ask_checked(client, who, kind, question, alone[question], "", tally)


def conversation_client(who: str, client: ApiClient, conversations: list[list[str]], replayed: dict,
                        tally: Tally, deadline: float) -> None:
    """Hold the client's conversations turn by turn under its own id, a new one each time, until the deadline."""
    for turns in itertools.cycle(conversations):
        cid = ""
        for question, want in zip(turns, replayed[tuple(turns)]):
            if time.perf_counter() >= deadline:
                return
            answer = ask_checked(client, who, "conversation", question, want, cid, tally)
            if answer is None:  # the server's state is unknown now: start the next conversation
                break
            cid = cid or answer.get("conversation_id") or ""


def run_load(url: str, args: argparse.Namespace, plan: Plan, refs: References, tally: Tally) -> float:
    """Run every client in its own thread for `args.seconds`; the seconds from start to the last answer."""
    local = functools.partial(standalone_client, kind="local")
    jobs = [(f"s{i}", standalone_client, qs, refs.alone, args.mode) for i, qs in enumerate(plan.standalone)] + \
           [(f"c{i}", conversation_client, cs, refs.replayed, args.mode) for i, cs in enumerate(plan.conversations)] + \
           [(f"l{i}", local, qs, refs.local, "local") for i, qs in enumerate(plan.local)]
    clients = [ApiClient(url, mode, args.k, args.timeout, args.transport) for *_, mode in jobs]
    start = time.perf_counter()
    deadline = start + args.seconds
    threads = [threading.Thread(target=fn, args=(who, client, items, wanted, tally, deadline), name=who, daemon=True)
               for (who, fn, items, wanted, _), client in zip(jobs, clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for client in clients:
        client.close()
    return max(tally.last_done, deadline) - start


# --- the report --------------------------------------------------------------------------------------


def pct(values: list[float], scale: float = 1.0) -> dict[str, float | None]:
    """p50, p95 and max of a list, scaled and rounded; None when empty."""
    if not values:
        return {"p50": None, "p95": None, "max": None}
    a = np.asarray(values) * scale
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "max": round(float(a.max()), 1)}


def summarize(args: argparse.Namespace, plan: Plan, refs: References, tally: Tally, elapsed: float,
              tracebacks: int, ready_s: float) -> dict:
    """The figures of the run, as written to --out. `latency_ms` is the `--mode` clients' (not the
    local ones'); `first_answer_ms` is the first serial answer after "ready", `serial_p50_ms` the
    p50 of the others, `first_question_warm_ms` the same first question asked again once the others
    were (what the first answer would cost had nothing been cold)."""
    all_s = tally.latencies["standalone"] + tally.latencies["conversation"]
    requests = len(all_s) + len(tally.latencies["local"]) + len(tally.errors)
    counts = list(tally.per_client.values()) or [0]
    first, serial = refs.seconds[0] * 1000, float(np.percentile(refs.seconds[1:] or refs.seconds, 50)) * 1000
    return {
        "mode": args.mode, "clients": args.clients, "standalone_clients": len(plan.standalone),
        "conversation_clients": len(plan.conversations), "local_clients": len(plan.local),
        "ready_s": round(ready_s, 1), "first_answer_ms": round(first, 1), "serial_p50_ms": round(serial, 1),
        "first_over_serial_p50": round(first / serial, 2), "first_question_warm_ms": round(refs.first_again * 1000, 1),
        "first_over_its_warm": round(first / (refs.first_again * 1000), 2) if refs.first_again else None,
        "seconds": args.seconds, "elapsed_s": round(elapsed, 1),
        "requests": requests, "errors": len(tally.errors), "cross_talk": len(tally.cross_talk),
        "server_tracebacks": tracebacks, "throughput_rps": round(requests / elapsed, 2) if elapsed else 0.0,
        "latency_ms": pct(all_s, 1000),
        "latency_ms_by_kind": {kind: pct(v, 1000) for kind, v in tally.latencies.items()},
        "requests_per_client": {"min": min(counts), "max": max(counts)},
        "server_timings_ms": {key: {k: v for k, v in pct(v).items() if k != "max"}
                              for key, v in sorted(tally.timings.items())},
        "error_samples": tally.errors[:SAMPLES], "cross_talk_samples": tally.cross_talk[:SAMPLES],
    }


def table(report: dict) -> str:
    """The figures as a few readable lines."""
    lat, rpc = report["latency_ms"], report["requests_per_client"]
    lines = [f"{report['clients']} clients ({report['conversation_clients']} in conversations) for "
             f"{report['seconds']} s, mode {report['mode']}, beside {report['local_clients']} local-mode clients",
             f"ready after {report['ready_s']} s; first answer {report['first_answer_ms']} ms = "
             f"{report['first_over_serial_p50']} x the serial p50 ({report['serial_p50_ms']} ms), "
             f"{report['first_over_its_warm']} x the same question asked warm ({report['first_question_warm_ms']} ms)",
             f"requests {report['requests']}  errors {report['errors']}  cross-talk {report['cross_talk']}  "
             f"server tracebacks {report['server_tracebacks']}",
             f"throughput {report['throughput_rps']} req/s  (per client {rpc['min']}..{rpc['max']} requests)",
             f"latency ms  p50 {lat['p50']}  p95 {lat['p95']}  max {lat['max']}"]
    if report["local_clients"]:
        local = report["latency_ms_by_kind"]["local"]
        lines.append(f"local-mode latency ms  p50 {local['p50']}  p95 {local['p95']}  max {local['max']}")
    lines += [f"server {key} ms  p50 {v['p50']}  p95 {v['p95']}" for key, v in report["server_timings_ms"].items()]
    lines += [f"  error: {e}" for e in report["error_samples"]]
    lines += [f"  cross-talk: {c}" for c in report["cross_talk_samples"]]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------------


def make_plan(args: argparse.Namespace) -> Plan:
    """Deal disjoint question lists to the standalone and local clients, and conversations to the others."""
    n_conv, n_alone = args.clients // 2, args.clients - args.clients // 2
    conversations = load_conversations(args.eval_dir)
    asked_in_conversations = {q for turns in conversations for q in turns}
    questions = deal(load_questions(args.eval_dir, asked_in_conversations), n_alone + args.local_clients,
                     args.questions_per_client)
    return Plan(standalone=questions[:n_alone], local=questions[n_alone:],
                conversations=deal(conversations, n_conv, args.conversations_per_client))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients, half in conversations (20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients ask (60)")
    parser.add_argument("--mode", default="extractive", choices=["local", "openai", "extractive"],
                        help="generator: RAG_GENERATOR of the server and the mode every request asks for")
    parser.add_argument("--local-clients", type=int, default=0,
                        help="more clients beside them asking standalone questions in local mode (0); the server's "
                        "default mode is then local, so that it is warm")
    parser.add_argument("--k", type=int, default=5, help="passages per answer (5)")
    parser.add_argument("--transport", choices=["gradio", "json"], default="gradio",
                        help="Gradio's /ask API (POST, then the result stream) or the server's POST /api/ask")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds", help="articles to index (seeds/)")
    parser.add_argument("--data-dir", type=Path, help="serve this existing index instead of building one")
    parser.add_argument("--eval-dir", type=Path, default=ROOT / "eval", help="where the question files are")
    parser.add_argument("--questions-per-client", type=int, default=6, help="standalone client's list (6)")
    parser.add_argument("--conversations-per-client", type=int, default=2, help="conversation client's list (2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take (300)")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait for the server")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.local_clients < 0:
        parser.error("--clients must be >= 1, --local-clients >= 0 and --seconds > 0")
    return args


def _sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks, which stop the server


def main(argv: list[str] | None = None) -> int:
    """Build, serve, take references, load, report; 1 on any error or cross-talk."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    signal.signal(signal.SIGTERM, _sigterm)
    plan = make_plan(args)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        env = server_env(data_dir, "local" if args.local_clients else args.mode)
        if not args.data_dir:
            build_index(args.corpus, env)
        with Server(env, Path(tmp) / "serve.log", args.startup_timeout) as server:
            refs = references(server.url, args, plan)
            tally = Tally(seen_ids=refs.ids)
            log.info("load: %d clients (and %d local) for %.0f s", args.clients, args.local_clients, args.seconds)
            elapsed = run_load(server.url, args, plan, refs, tally)
            tracebacks = server.tracebacks()
            if tracebacks:
                log.warning("server output ends:\n%s", server.log_tail())
    report = summarize(args, plan, refs, tally, elapsed, tracebacks, server.ready_s)
    print(table(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
        log.info("wrote %s", args.out)
    return 1 if report["errors"] or report["cross_talk"] or tracebacks else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # the server is already stopped: the with-blocks have unwound
        log.warning("interrupted")
        raise SystemExit(130)
