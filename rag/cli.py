"""The `rag` command: index, search, ask, chat, eval, serve, train-reader, mine-negatives, fit-combiner,
train-excerpt-reader, train-excerpt-student, train-addressed,
train-query-map.

Only argparse is imported at start-up so `rag --help` answers at once; each command imports the
heavy libraries it needs. Errors a user can act on print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger("rag")
# the settings' METHODS and MODES, written out so that `rag --help` imports nothing (a test checks they match)
METHODS = ("hybrid", "dense", "bm25")
MODES = ("local", "openai", "extractive")


def _settings(args: argparse.Namespace):
    from rag.pipeline import Settings

    overrides = {key: value for key, value in (("top_k", getattr(args, "k", None)),
                                               ("method", getattr(args, "method", None))) if value}
    return Settings().changed(retrieval=overrides) if overrides else Settings()


def _loaded(make):
    """`make()` (models and libraries loading) with the cyclic garbage collector paused, then all it built frozen out
    of later collections: loading allocates ~500k long-lived objects, and collecting them during loading and again
    at exit cost ~2 s of a cold `rag ask` (measured 2026-12-03 on the 2-core machine)."""
    gc.disable()
    try:
        return make()
    finally:
        gc.freeze()
        gc.enable()


def cmd_index(args: argparse.Namespace) -> int:
    """Build or update the index over a folder of articles."""
    from rag.pipeline import build_index, one_line

    settings = _settings(args)
    report = build_index(settings, args.source, progress=not args.quiet, rebuild=args.rebuild)
    print(f"indexed {report.files} files into {report.chunks} chunks "
          f"({report.added} embedded, {report.removed} removed, {len(report.skipped)} skipped)")
    for name in report.skipped:
        print(f"  skipped {name}")
    if report.addressed:
        print(f"{len(report.addressed)} articles carry sentences addressed to an AI, kept in the index but never "
              f"used as evidence (p: the detector's probability, flagged from {report.threshold:.2f}):")
        for source, n in report.addressed.items():
            print(f"  {source}: {n} sentence{'s' if n > 1 else ''}")
            for text, p in report.flagged.get(source, []):
                print(f"    p={p:.2f} {one_line(text, 160)!r}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Print the passages that best answer a question."""
    from rag.pipeline import Filters, Library, check_question

    settings = _settings(args)
    question = check_question(args.question, settings)
    filters = Filters(args.from_source or None, args.after, args.before)
    passages = Library(settings).search(question, filters=filters)
    if args.json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return 0
    for rank, p in enumerate(passages, 1):
        header = " | ".join(x for x in (p.title, p.publisher, p.date) if x)
        print(f"[{rank}] {p.source} [{p.start}:{p.end}] score={p.score:.4f}\n    {header}\n    {p.text}\n")
    return 0


def _questions(path: Path):
    """`{"id", "question"}` objects from a JSONL file, skipping blank lines."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            item = json.loads(line)
            yield str(item.get("id", n)), item["question"]


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or every line of a JSONL file (models loaded once)."""
    from rag.pipeline import Assistant, RagError

    settings = _settings(args)
    if not args.questions and not args.question:
        raise SystemExit("rag ask: give a question or --questions FILE.jsonl")
    assistant = _loaded(lambda: Assistant(settings, mode=args.mode))
    if args.questions:
        for qid, question in _questions(args.questions):
            try:
                print(assistant.ask(question, qid=qid).model_dump_json(), flush=True)
            except RagError as exc:
                print(json.dumps({"id": qid, "question": question, "error": str(exc)}), flush=True)
        return 0
    if args.json:
        print(assistant.ask(args.question).model_dump_json(indent=2))
        return 0
    _print_streamed(assistant, args.question, None)
    return 0


def _print_streamed(assistant, question: str, conversation) -> None:
    """Stream the draft, then print the final cited answer and its sources."""
    from rag.schema import Answer

    for item in assistant.ask_stream(question, conversation):
        if isinstance(item, Answer):
            print("\r" + " " * 20 + "\n" + item.answer + "\n")
            for c in item.citations:
                where = " | ".join(x for x in (c.title, c.publisher, c.date) if x)
                print(f"  [{c.id}] {c.source} [{c.start}:{c.end}] {c.verdict}: \"{c.quote}\"\n       {where}")
            if item.refused:
                for p in item.passages[:3]:
                    print(f"  related: {p.source} [{p.start}:{p.end}] {p.text[:120]}...")
        else:
            print(item, end="", flush=True, file=sys.stderr)


def cmd_chat(args: argparse.Namespace) -> int:
    """An interactive conversation in the terminal; follow-ups are resolved with the history."""
    from rag.pipeline import Assistant, Conversation, RagError, save_transcript

    assistant, conversation = _loaded(lambda: Assistant(_settings(args), mode=args.mode)), Conversation()
    print("Ask about the articles (empty line or Ctrl-D to quit)." +
          (f" The conversation is saved to {args.save} after each answer." if args.save else ""))
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            _print_streamed(assistant, question, conversation)
        except RagError as exc:
            print(f"rag: {exc}", file=sys.stderr)
            continue
        if args.save:
            try:
                save_transcript(conversation, args.save)
            except OSError as exc:
                print(f"rag: could not save the conversation to {args.save} ({exc.strerror}): give --save a "
                      "writable path", file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the evaluation set and write results, summary, report and plots."""
    from rag.pipeline import EVAL_CONFIGS, evaluate_sets

    settings = _settings(args)
    if args.corpus:
        settings = settings.changed(index={"corpus_dir": args.corpus})
    configs = args.compare.split(",") if args.compare else [args.mode or settings.answer.mode]
    unknown = [c for c in configs if c not in EVAL_CONFIGS]
    if unknown:
        raise SystemExit(f"rag eval: unknown configuration {unknown}; choose from {sorted(EVAL_CONFIGS)}")
    evaluate_sets(settings, args.qa, settings.index.corpus_dir, args.out, configs)
    print((args.out / "report.md").read_text())
    return 0


def cmd_train_reader(args: argparse.Namespace) -> int:
    """Train the reader (see rag.reader.train); writes weights, card and checkpoint to --out."""
    from rag.pipeline import train_reader

    choices = {key: value for key, value in vars(args).items() if key not in ("out", "quiet", "func")}
    card = train_reader(args.out, progress=not args.quiet, **choices)
    print(json.dumps(card["validation"], indent=2))
    return 0


def cmd_train_excerpt_reader(args: argparse.Namespace) -> int:
    """Train the excerpt reader's probe (see rag.reader.excerpt_train); writes excerpt_reader.json to --out."""
    from rag.pipeline import train_excerpt_reader

    print(json.dumps(train_excerpt_reader(args.out, args.workdir, limit=args.limit, threads=args.threads,
                                          progress=not args.quiet), indent=2))
    return 0


def cmd_train_excerpt_student(args: argparse.Namespace) -> int:
    """Distil the excerpt reader into the excerpt student (see rag.reader.excerpt_student_train); writes
    excerpt_student.safetensors and its card to --out."""
    from rag.pipeline import train_excerpt_student

    print(json.dumps(train_excerpt_student(args.out, args.states, limit=args.limit, progress=not args.quiet), indent=2))
    return 0


def cmd_fit_combiner(args: argparse.Namespace) -> int:
    """Fit the reader's combiner, or with --cheap the learned ranker's, over the BBC corpus (see rag.reader.fit);
    writes combiner.json into the reader's folder (rag/evidence/weights with --cheap)."""
    from rag.evidence.query_map import WEIGHTS_DIR as EVIDENCE_WEIGHTS
    from rag.pipeline import fit_combiner
    from rag.reader.score import WEIGHTS_DIR as READER_WEIGHTS

    folder = args.reader or (EVIDENCE_WEIGHTS if args.cheap else READER_WEIGHTS)
    print(json.dumps(fit_combiner(folder, args.workdir, progress=not args.quiet, rows=args.rows, cheap=args.cheap,
                                  student=not args.no_student), indent=2))
    return 0


def cmd_train_list_ranker(args: argparse.Namespace) -> int:
    """Train the list ranker over the BBC corpus (see rag.reader.list_train); writes its weights and card to --out."""
    from rag.pipeline import train_list_ranker

    card = train_list_ranker(args.out, args.workdir, limit=args.limit, epochs=args.epochs, progress=not args.quiet,
                             restack=args.restack)
    print(json.dumps(card["validation"], indent=2))
    return 0


def cmd_mine_negatives(args: argparse.Namespace) -> int:
    """Mine the reader's hard negatives over the BBC corpus (see rag.reader.fit.mine_negatives)."""
    from rag.pipeline import mine_negatives

    print(f"{mine_negatives(args.workdir, args.out, progress=not args.quiet)} questions -> {args.out}")
    return 0


def cmd_train_addressed(args: argparse.Namespace) -> int:
    """Train the addressed-to-AI detector (see index.train_addressed); writes its weights."""
    from rag.pipeline import train_addressed

    print(json.dumps(train_addressed(args.out, args.bbc_index, third_only=args.third_only), indent=2))
    return 0


def cmd_train_query_map(args: argparse.Namespace) -> int:
    """Train the query map (see rag.evidence.train_query_map); writes its weights and card to --out."""
    from rag.pipeline import train_query_map

    print(json.dumps(train_query_map(args.out, args.limit, progress=not args.quiet)["validation"], indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the UI in this process's place (`python -m ui`): the query side never imports the UI."""
    import os

    os.execv(sys.executable, [sys.executable, "-m", "ui", "--host", args.host, "--port", str(args.port)])
    return 0  # not reached


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
    p.add_argument("--method", choices=METHODS, help="retrieval method (default hybrid)")
    p.add_argument("--from-source", action="append", metavar="FILE", help="only this article (repeatable)")
    p.add_argument("--after", metavar="YYYY-MM-DD", help="only articles dated on or after")
    p.add_argument("--before", metavar="YYYY-MM-DD", help="only articles dated on or before")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with verified citations")
    p.add_argument("question", nargs="?")
    p.add_argument("--mode", choices=MODES, help="generator (default: RAG_GENERATOR or local)")
    p.add_argument("--questions", type=Path, metavar="FILE.jsonl", help='answer every {"id", "question"} line')
    p.add_argument("--k", type=int, help="passages to retrieve")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive conversation in the terminal")
    p.add_argument("--mode", choices=MODES, help="generator (default: RAG_GENERATOR or local)")
    p.add_argument("--k", type=int, help="passages to retrieve")
    p.add_argument("--save", type=Path, metavar="FILE", help="save the conversation with its citations after each "
                   "answer: JSON for a .json name, Markdown otherwise")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="evaluate on a Q&A set: retrieval, answers, citations, refusals")
    p.add_argument("--qa", type=Path, nargs="+", default=[Path("eval/qa.jsonl")],
                   help="Q&A files, single questions or conversations (default eval/qa.jsonl); several are "
                        "reported side by side")
    p.add_argument("--corpus", type=Path, help="folder the evidence quotes come from (default: the corpus)")
    p.add_argument("--mode", choices=MODES, help="generator (default: RAG_GENERATOR or local)")
    p.add_argument("--compare", help="comma-separated configurations, e.g. hybrid,dense,bm25 or extractive,local")
    p.add_argument("--out", type=Path, default=Path("eval/out"), help="output folder (default eval/out)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train-reader", help="train the answer-sentence reader on news questions and SQuAD")
    p.add_argument("--out", type=Path, default=Path(".rag/reader"),
                   help="folder for weights, card and checkpoint (default .rag/reader; the product reads "
                        "rag/reader/weights)")
    p.add_argument("--stage", choices=("news", "squad"), default="news",
                   help="news (default: the committed reader, from the SQuAD stage) or squad (its first stage)")
    p.add_argument("--data", nargs="+", help="SQuAD-format files (default: the stage's, from ../shared/data)")
    p.add_argument("--seed", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--learning-rate", dest="learning_rate", type=float)
    p.add_argument("--negatives", type=int, help="negative sentences per question")
    p.add_argument("--limit", type=int, help="only the first N training and held-out questions (a smoke test)")
    p.add_argument("--checkpoint-every", dest="checkpoint_every", type=int, help="steps between checkpoints")
    p.add_argument("--device", help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, help="torch threads (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("train-excerpt-reader", help="train the excerpt reader, which judges whether the chosen "
                       "sentence with its neighbours answers the question, on news questions")
    p.add_argument("--out", type=Path, default=Path(".rag/excerpt-reader"),
                   help="folder for excerpt_reader.json and its card (default .rag/excerpt-reader; the product "
                        "reads rag/reader/weights)")
    p.add_argument("--workdir", type=Path, default=Path(".rag/excerpt-states"),
                   help="where the model states are cached, so an interrupted run resumes (default .rag/excerpt-states)")
    p.add_argument("--limit", type=int, help="only the first N training and dev questions (a smoke test)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_excerpt_reader)

    p = sub.add_parser("train-excerpt-student", help="distil the excerpt reader into the excerpt student, which the "
                       "learned ranker reads (from the states train-excerpt-reader cached; ~25 minutes)")
    p.add_argument("--out", type=Path, default=Path(".rag/excerpt-student"),
                   help="folder for the weights, their card and the checkpoint (default .rag/excerpt-student; the "
                        "product reads rag/evidence/weights)")
    p.add_argument("--states", type=Path, default=Path(".rag/excerpt-states"),
                   help="the excerpt reader's cached states (train-excerpt-reader --workdir; default .rag/excerpt-states)")
    p.add_argument("--limit", type=int, help="only the first N training and dev questions (a smoke test)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_excerpt_student)

    p = sub.add_parser("mine-negatives", help="find the reader's hard negatives by asking its training questions "
                       "against the BBC corpus")
    p.add_argument("--workdir", type=Path, default=Path(".rag/bbc"), help="the BBC corpus and index (default .rag/bbc)")
    p.add_argument("--out", type=Path, default=Path(".rag/bbc/negatives.jsonl"),
                   help="JSONL written (default .rag/bbc/negatives.jsonl, which `rag train-reader` reads)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_mine_negatives)

    p = sub.add_parser("fit-combiner", help="fit the combiner that turns the reader's scores (or with --cheap the cheap signals alone) into answers and refusals")
    p.add_argument("--reader", type=Path, help="the reader's folder; combiner.json is written into it (default "
                   "rag/reader/weights, or rag/evidence/weights with --cheap)")
    p.add_argument("--cheap", action="store_true", help="fit the combiner of the cheap signals alone, no reader "
                   "(RAG_RANKER=learned, the default ranker; ~27 minutes, or seconds with --rows)")
    p.add_argument("--workdir", type=Path, default=Path(".rag/bbc"),
                   help="where the BBC corpus is written and indexed (default .rag/bbc, shared with bench.bbc_qa)")
    p.add_argument("--rows", type=Path, help="refit from the rows an earlier fit kept (WORKDIR/combiner_rows.json) "
                   "without asking again: for the same reader with fewer features or another excerpt reader (only "
                   "its logits are asked anew)")
    p.add_argument("--no-student", action="store_true", help="with --cheap: a head without the excerpt student "
                   "(by default it weighs the student found in the output folder; ~1 minute more)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_fit_combiner)

    p = sub.add_parser("train-list-ranker", help="train the list ranker, which chooses the learned ranker's answer "
                       "among its best candidates (~8 minutes asking the BBC corpus, then ~38 minutes training)")
    p.add_argument("--out", type=Path, default=Path(".rag/list-ranker"),
                   help="folder for the weights, their card and the checkpoint (default .rag/list-ranker; the product "
                        "reads rag/evidence/weights/list_ranker)")
    p.add_argument("--workdir", type=Path, default=Path(".rag/bbc"),
                   help="the BBC corpus and index, and the lists kept (default .rag/bbc, shared with bench.bbc_qa)")
    p.add_argument("--epochs", type=int, help="epochs over the training lists (default 2)")
    p.add_argument("--limit", type=int, help="only the first N training lists (a smoke test)")
    p.add_argument("--restack", action="store_true", help="no training: choose the stack weight of the list ranker "
                   "in --out again for the committed combiner, after `rag fit-combiner --cheap` (~1 minute)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_list_ranker)

    p = sub.add_parser("train-query-map", help="train the map that moves a question's embedding towards the "
                       "sentences that answer it")
    p.add_argument("--out", type=Path, default=Path("rag/evidence/weights"),
                   help="folder for query_map.safetensors and query_map.json (default: the committed rag/evidence/weights)")
    p.add_argument("--limit", type=int, help="only the first N training and held-out questions (a smoke test)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_query_map)

    p = sub.add_parser("train-addressed", help="train the detector of sentences addressed to an AI")
    p.add_argument("--out", type=Path, default=Path("index/guard_data/addressed.json"),
                   help="weights file (default: the committed index/guard_data/addressed.json)")
    p.add_argument("--bbc-index", type=Path, default=None,
                   help="data folder of an index of the 2,225 BBC articles (e.g. .rag/bbc/data): its stored "
                        "sentence vectors are reused, read from a copy; without it the sentences are embedded")
    p.add_argument("--third-only", action="store_true",
                   help="keep the first two readings of --out and fit only the third (the e5-small probe)")
    p.set_defaults(func=cmd_train_addressed)

    p = sub.add_parser("serve", help="open the chat UI on 127.0.0.1")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="rag: %(message)s")
    from index.errors import RagError  # the face's RagError, imported without the face: `rag serve` loads no model

    try:
        return args.func(args)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
