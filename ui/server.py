"""The web server behind `rag serve`: the Gradio app and `/healthz` on one uvicorn server, warm
before it says "ready", many clients answered at once, and a stop that lets answers finish.

* The port opens at once; `/healthz` answers 503 `{"status": "loading"}` while the index and the
  models load and one question is answered in each mode served by default (`Library.warm_up`), then
  one through the API itself; then 200 with the index's article and chunk counts, and one "ready"
  line with the URL is logged. A question asked earlier waits and is answered; the page says that
  it is loading.
* `POST /api/ask` takes `{"question", "mode", "k", "conversation_id"}` and returns the Answer JSON
  in one response, without Gradio's queue and result stream (the page and Gradio's `/ask` API stay).
* Gradio's queue lets every request through; `Library` decides who answers now
  (`RAG_SERVE_CONCURRENCY` lanes, local-model answers one at a time beside them).
* SIGTERM or Ctrl-C: /healthz says "stopping" (503), the answers in flight get up to
  `RAG_SERVE_SHUTDOWN_GRACE_S` seconds to finish, the port closes, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rag.pipeline import Library, Settings
from ui import render
from ui.app import build_app, make_api

log = logging.getLogger(__name__)

FLUSH_S = 2.0  # after the last answer, seconds its response has to reach the client before connections close


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, stopped the library's way: on SIGTERM or Ctrl-C (or `Server.close`) the
    answers asked finish (up to `grace` seconds, `Library.stop`) before the port closes and the
    responses get `FLUSH_S` to go out; then it returns, so the process exits 0, instead of raising
    the signal again. A second signal stops at once."""

    def __init__(self, config: uvicorn.Config, library: Library, grace: float):
        super().__init__(config)
        self.library, self.grace = library, grace
        self.stopping = False

    def handle_exit(self, sig: int, frame) -> None:
        if self.stopping:
            self.should_exit = self.force_exit = True
            return
        self.stopping = True
        threading.Thread(target=self._drain, name="drain", daemon=True).start()

    def _drain(self) -> None:
        if not self.library.stop(self.grace):
            log.warning("stopping with answers unfinished after %.0f s", self.grace)
        # Browsers hold a heartbeat stream open for as long as the page is; its end is cancelled
        # after the short wait below, and that is no error worth a traceback.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        self.should_exit = True


class AskRequest(BaseModel):
    """The body of `POST /api/ask`: the `ask` API's inputs, by name."""

    question: str
    mode: str = "extractive"
    k: int = 5
    conversation_id: str = ""


ASK_BODY = '{"question": "...", "mode": "extractive", "k": 5, "conversation_id": ""}'


async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A body `POST /api/ask` cannot read (not JSON, a field missing or of the wrong type): 400 in the
    API's own error shape, saying what is wrong and what to send."""
    wrong = "; ".join(f"{'.'.join(p for p in e['loc'][1:] if isinstance(p, str)) or 'body'}: {e['msg']}"
                      for e in exc.errors())
    return JSONResponse({"error": f"the request cannot be read ({wrong}): send JSON like {ASK_BODY}"}, status_code=400)


class Server:
    """One running server: its URL, its `Library`, and `close()`."""

    def __init__(self, settings: Settings, host: str, port: int):
        self.url = f"http://{host}:{port}/"
        self.blocks = build_app(settings)
        self.library: Library = self.blocks.library
        self.blocks.queue(default_concurrency_limit=None)  # the library's lanes bound the answers, not the queue
        app = FastAPI()
        app.add_api_route("/healthz", self.healthz, methods=["GET"])
        self._ask = make_api(self.library)
        app.add_api_route("/api/ask", self.api_ask, methods=["POST"])
        app.add_exception_handler(RequestValidationError, malformed)
        app = gr.mount_gradio_app(app, self.blocks, path="/", css=render.CSS, js=render.JS, show_error=True)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=FLUSH_S)
        self.uvicorn = _Uvicorn(config, self.library, settings.serve.shutdown_grace_s)
        modes = ["extractive", settings.answer.mode]
        self.warm = threading.Event()  # set once the library is warm and one question went through the API
        self._warming = threading.Thread(target=self._warm, args=(modes,), name="warm-up", daemon=True)

    def healthz(self) -> JSONResponse:
        """503 while loading, 200 when an answer pays for no loading; JSON from `Library.health`."""
        health = self.library.health()
        if health["status"] == "ready" and not self.warm.is_set():
            health["status"] = "loading"
        return JSONResponse(health, status_code=200 if health["status"] == "ready" else 503)

    def api_ask(self, request: AskRequest) -> JSONResponse:
        """The `ask` API as one plain JSON POST, without Gradio's queue and result stream: the same
        Answer JSON, or 400 with `{"error": ...}` saying what to do."""
        answer = self._ask(request.question, request.mode, request.k, request.conversation_id)
        return JSONResponse(answer, status_code=400 if "error" in answer else 200)

    def _warm(self, modes: list[str]) -> None:
        """The library warm, then one question through the API itself: the server's own first
        request costs about a second more than the next ones (measured 2026-12-06, seeds)."""
        self.library.warm_up(modes)
        while not self.uvicorn.started and not self.uvicorn.should_exit:
            threading.Event().wait(0.05)
        if self.library.sample_question:
            try:
                event = httpx.post(f"{self.url}gradio_api/call/ask", timeout=60, trust_env=False,
                                   json={"data": [self.library.sample_question, "extractive", 5, ""]})
                httpx.get(f"{self.url}gradio_api/call/ask/{event.json()['event_id']}", timeout=120, trust_env=False)
            except (httpx.HTTPError, ValueError, KeyError) as exc:  # the server answers all the same
                log.warning("the warm-up question through the API failed: %s", exc)
        self.warm.set()
        log.warning("ready: %s", self.url)  # WARNING: the one line `rag serve` prints at its default level

    def run(self) -> None:
        """Serve until SIGTERM or Ctrl-C (or `close`), warming up meanwhile; returns after the stop."""
        self._warming.start()
        log.warning("loading the index and the models; %s answers once ready", self.url)
        self.uvicorn.run()

    def start(self) -> "Server":
        """Serve from a background thread (tests, benchmarks); returns once the port is open."""
        thread = threading.Thread(target=self.run, name="uvicorn", daemon=True)
        thread.start()
        while not self.uvicorn.started:
            if not thread.is_alive():
                raise RuntimeError(f"the server on {self.url} did not start: see the log above")
            threading.Event().wait(0.05)
        self._thread = thread
        return self

    def close(self) -> None:
        """Stop as SIGTERM does: the answers in flight finish first."""
        self.uvicorn.handle_exit(signal.SIGTERM, None)
        self._thread.join(timeout=self.uvicorn.grace + FLUSH_S + 10)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> Server:
    """Start the server: in the foreground until it is stopped (`rag serve`), or in the background
    (`block=False`, as tests do), returned once the port is open (not yet ready: `library.ready`)."""
    server = Server(settings, host, port)
    if not block:
        return server.start()
    server.run()
    return server
