"""`rag eval` in openai mode with no remote service: llama.cpp's OpenAI-compatible HTTP server
(xllamacpp, already a dependency) serves the packaged model on loopback, as a user's Ollama or
llama.cpp server would, and the evaluation talks to it over HTTP.

`python -m bench.openai_local [--qa FILE...] [--out DIR]` (default: eval/conversations.jsonl into
eval/out/openai). With the packaged 0.5B model the answers are those of local mode give or take
sampling; what this measures is the openai path itself: the HTTP client, streaming, timeouts.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import argparse
import socket
from pathlib import Path

from index.settings import Settings
from rag.pipeline import evaluate_sets
from rag.llm.model_file import model_file


def serve(settings: Settings):
    """Start the endpoint; returns (base_url, server), the server object keeping it alive."""
    import xllamacpp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params = xllamacpp.CommonParams()
    params.model.path = str(model_file(settings))
    params.n_ctx, params.port, params.warmup, params.verbosity = settings.llm.context, port, False, 0
    params.cpuparams.n_threads = settings.llm.threads
    server = xllamacpp.Server(params)
    return f"{server.listening_address}/v1", server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.openai_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--qa", type=Path, nargs="+", default=[Path("eval/conversations.jsonl")])
    parser.add_argument("--out", type=Path, default=Path("eval/out/openai"))
    args = parser.parse_args()
    settings = Settings()
    url, server = serve(settings)
    settings = settings.changed(llm={"openai_base_url": url, "openai_model": "qwen"})
    evaluate_sets(settings, args.qa, settings.index.corpus_dir, args.out, ["openai"])
    print((args.out / "report.md").read_text())
    del server


if __name__ == "__main__":
    main()
