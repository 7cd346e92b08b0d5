"""Time the chat UI as a person sees it: page load -> first streamed token -> complete cited answer.

Launches the app in-process over the seed index with the chosen generator and drives Debian's
Chromium through Playwright. Usage: `python -m bench.ui [--mode local] [--question "..."]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from index.settings import AnswerSettings, Settings  # noqa: E402

QUESTION = "Which countries oppose Israeli attacks against Iraq?"
FIRST_TEXT = "() => { const m = document.querySelectorAll('#chat .message'); return m.length > 1 && m[m.length - 1].innerText.trim().length > 0; }"


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(mode: str, question: str) -> dict:
    """Seconds from navigation to the first streamed text and to the first [n] marker."""
    from playwright.sync_api import sync_playwright

    from ui.server import serve

    port = free_port()
    server = serve(Settings(answer=AnswerSettings(generator=mode)), port=port, block=False)
    server.library.ready.wait()  # as a server that has said "ready" is
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", question)
        page.click("#ask")
        page.wait_for_function(FIRST_TEXT, timeout=300_000)
        first = time.perf_counter() - start
        page.wait_for_selector('#chat a[href^="#cite-"], #chat .refusal', timeout=300_000)
        done = time.perf_counter() - start
        browser.close()
    server.close()
    return {"mode": mode, "page_load_to_first_token_s": round(first, 2), "page_load_to_cited_answer_s": round(done, 2)}


def main() -> None:
    """Print the timings as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="local", choices=["local", "openai", "extractive"])
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args()
    print(json.dumps(measure(args.mode, args.question)))


if __name__ == "__main__":
    main()
