"""The `rag` command: index, search, ask, chat, eval, serve.

Only argparse is imported at start-up so `rag --help` answers at once; each command imports the
heavy libraries it needs. Errors a user can act on print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger("rag")


def _settings(args: argparse.Namespace):
    from index.settings import Settings

    overrides = {key: value for key, value in (("top_k", getattr(args, "k", None)),
                                               ("retrieval", getattr(args, "method", None))) if value}
    return Settings(**overrides)


def cmd_index(args: argparse.Namespace) -> int:
    """Build or update the index over a folder of articles."""
    from index.build import build_index

    settings = _settings(args)
    report = build_index(settings, args.source, progress=not args.quiet, rebuild=args.rebuild)
    print(f"indexed {report.files} files into {report.chunks} chunks "
          f"({report.added} embedded, {report.removed} removed, {len(report.skipped)} skipped)")
    for name in report.skipped:
        print(f"  skipped {name}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Print the passages that best answer a question."""
    from rag.retrieve import Filters, Retriever, check_question

    settings = _settings(args)
    question = check_question(args.question, settings)
    filters = Filters(args.from_source or None, args.after, args.before)
    passages = Retriever(settings).search(question, filters=filters)
    if args.json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return 0
    for rank, p in enumerate(passages, 1):
        header = " | ".join(x for x in (p.title, p.publisher, p.date) if x)
        print(f"[{rank}] {p.source} [{p.start}:{p.end}] score={p.score:.4f}\n    {header}\n    {p.text}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="rag", description="Cited answers over a folder of news articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index (or update the index of) a folder of articles")
    p.add_argument("--source", type=Path, help="folder of .txt/.md/.html files (default: RAG_CORPUS_DIR or seeds/)")
    p.add_argument("--rebuild", action="store_true", help="drop the index for these settings and build it anew")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="show the passages that best answer a question")
    p.add_argument("question")
    p.add_argument("--k", type=int, help="number of passages (default: RAG_TOP_K or 5)")
    p.add_argument("--method", choices=["hybrid", "dense", "bm25"], help="retrieval method (default hybrid)")
    p.add_argument("--from-source", action="append", metavar="FILE", help="only this article (repeatable)")
    p.add_argument("--after", metavar="YYYY-MM-DD", help="only articles dated on or after")
    p.add_argument("--before", metavar="YYYY-MM-DD", help="only articles dated on or before")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="rag: %(message)s")
    from index.errors import RagError

    try:
        return args.func(args)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
