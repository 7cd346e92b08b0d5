"""`python -m ui [--host H] [--port P]`: serve the chat UI (what `rag serve` runs)."""

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Gradio rebuilds the summary behind its /monitoring page (a pandas table of up to 10,000 past events)
# after every event unless told to every N; nothing here reads it, and under 20 API clients it was 5%
# of the server's busy time (py-spy, 2026-12-07), more as events accumulate.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")

from rag.pipeline import Settings  # noqa: E402
from ui.server import serve  # noqa: E402

parser = argparse.ArgumentParser(prog="rag serve", description="Serve the chat UI.")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=7860)
args = parser.parse_args()
logging.basicConfig(level=logging.WARNING, format="rag: %(message)s")
serve(Settings(), args.host, args.port)
