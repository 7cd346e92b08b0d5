"""`rag serve` as a user runs it: a real subprocess on the seed index, spoken to over HTTP.

It opens its port at once and says it is loading (/healthz 503), answers a question asked that
early once it is warm, says ready (200, with the index's counts, and one "ready" log line), answers
the same question in the same shape through its plain JSON route (POST /api/ask; an empty question
is a 400 saying why), and on SIGTERM finishes the answer in flight and exits 0.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx

from conftest import ROOT, SEEDS, free_port

QUESTION = "Who leads Kata'ib Sayyid al-Shuhada?"


def post(url: str, question: str) -> str:
    """Queue a question on the `ask` API; its event id."""
    posted = httpx.post(f"{url}gradio_api/call/ask", json={"data": [question, "extractive", 5, ""]}, timeout=30,
                        trust_env=False)
    posted.raise_for_status()
    return posted.json()["event_id"]


def result(url: str, event_id: str) -> dict:
    """The answer of a queued question (waits for it)."""
    body = httpx.get(f"{url}gradio_api/call/ask/{event_id}", timeout=120, trust_env=False).text
    data = [line[len("data:"):].strip() for line in body.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])[0]


def first_health(url: str, proc: subprocess.Popen, timeout: float = 120) -> httpx.Response:
    """The first /healthz response once the port is open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            return httpx.get(f"{url}healthz", timeout=5, trust_env=False)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("rag serve never opened its port")


def test_serve_warms_before_ready_answers_early_questions_and_stops_gracefully(seed_settings):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {"RAG_DATA_DIR": str(seed_settings.index.data_dir), "RAG_CORPUS_DIR": str(SEEDS),
           "RAG_GENERATOR": "extractive", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        health = first_health(url, proc)
        assert health.status_code == 503 and health.json()["status"] == "loading"
        early: dict = {}
        asker = threading.Thread(target=lambda: early.update(result(url, post(url, QUESTION))))
        asker.start()
        while (health := httpx.get(f"{url}healthz", timeout=5, trust_env=False)).status_code == 503:
            time.sleep(0.1)
        assert health.status_code == 200
        assert health.json()["status"] == "ready" and health.json()["articles"] == 5 and health.json()["chunks"] > 5
        asker.join(120)
        assert "error" not in early and "al-Walaei" in early["answer"]

        plain = httpx.post(f"{url}api/ask", json={"question": QUESTION}, timeout=60, trust_env=False)
        assert plain.status_code == 200 and "al-Walaei" in plain.json()["answer"]
        assert set(plain.json()) == set(early) and plain.json()["citations"] == early["citations"]
        empty = httpx.post(f"{url}api/ask", json={"question": "   "}, timeout=60, trust_env=False)
        assert empty.status_code == 400 and empty.json()["error"]
        for body in (b"{not json", b'{"mode": "extractive"}', b'{"question": "Who?", "k": "many"}'):
            bad = httpx.post(f"{url}api/ask", content=body, headers={"content-type": "application/json"}, timeout=60,
                             trust_env=False)
            assert bad.status_code == 400 and "send JSON like" in bad.json()["error"]

        in_flight = post(url, QUESTION)
        proc.send_signal(signal.SIGTERM)
        answer = result(url, in_flight)
        assert "al-Walaei" in answer["answer"]
        assert proc.wait(60) == 0
        log = proc.stdout.read()
        assert log.count(f"ready: {url}") == 1 and "Traceback" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_warm_up_annotates_the_sentences_of_an_index_that_fits_the_caches():
    from rag import nlp

    sentences = [f"The council in Basra voted on plan {i} after the governor spoke." for i in range(3)]
    assert nlp.prepare(sentences)
    hits = nlp.subjects.cache_info().hits
    assert nlp.subjects(sentences[1]) and nlp.subjects.cache_info().hits == hits + 1  # answered from the cache
    assert not nlp.prepare(["Too many to keep."] * (nlp.CACHED + 1))
