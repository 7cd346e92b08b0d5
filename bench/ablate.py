"""Rule sweeps: the question sets answered (extractive) with one hand-set constant moved at a time.

`python -m bench.ablate [--only NAME ...] [--qa FILE ...] [--out DIR]`

The direction is "a rule stays only where a measurement shows the model needs it": each sweep below gives
one constant (a module constant `rag.x.NAME` where it is read, or a setting `settings.group.field`) a few
values, one of which switches its rule off where it has one (noted `off`), answers every set with
`rag eval`'s own code (`rag.pipeline.evaluate_sets`), and restores it. The printed table pools the sets:
answerable questions answered correctly, unanswerable ones refused, both together ("right"), the
answered questions' citations that land on the gold evidence, their citation precision, and the answer
sentences the cheap support rule finds unsupported. Per-set reports are kept under `--out/<name>=<value>/`.
The default sets are the studied ones; a fresh blind set is measured apart, once before and once after a
change the table motivates, and never swept here.
"""

import argparse
import contextlib
import importlib
import json
import logging
from pathlib import Path

from index.settings import AnswerSettings, Settings
from rag.pipeline import evaluate_sets

log = logging.getLogger("bench.ablate")
ROOT = Path(__file__).resolve().parent.parent
STUDIED = [ROOT / "eval" / f"{name}.jsonl" for name in
           ("qa", "qa_blind", "qa_blind2", "qa_blind3", "qa_blind4", "qa_blind5", "qa_holdout", "conversations")]
OFF = float("inf")  # a ratio no score reaches: the rule it gates never fires

# name -> (target, values tried besides the shipped one); the value that switches a rule off is listed first
SWEEPS: dict[str, tuple[str, list]] = {
    "OFF_TYPE_PENALTY": ("rag.evidence.rank.OFF_TYPE_PENALTY", [1.0, 0.4, 0.5, 0.7, 0.8]),
    "HEADLINE_FACTOR": ("rag.evidence.rank.HEADLINE_FACTOR", [1.0, 0.7, 0.8, 0.9]),
    "TYPE_CHECKED": ("rag.evidence.rank.TYPE_CHECKED", [6, 8, 16, 24]),
    "SUBJECT_WITHIN": ("rag.evidence.rank.SUBJECT_WITHIN", [0, 30, 90]),
    "MIN_MATCH_RATIO": ("rag.evidence.gate.MIN_MATCH_RATIO", [0.0, 0.7, 0.75, 0.85, 0.9]),
    "LEAD_LOOKBACK": ("rag.evidence.offers.LEAD_LOOKBACK", [0, 1, 3]),
    "SECOND_SOURCE_RATIO": ("rag.draft.extractive.SECOND_SOURCE_RATIO", [OFF, 0.8, 0.85, 0.95]),
    "CONTINUATION_RATIO": ("rag.draft.extractive.CONTINUATION_RATIO", [OFF, 0.5, 0.6, 0.8]),
    "MAX_SENTENCES": ("rag.draft.extractive.MAX_SENTENCES", [1, 2, 4]),
    "LEXICAL_WEIGHT": ("rag.cite.align.LEXICAL_WEIGHT", [0.0, 1.0]),
    "MAX_CITATIONS": ("rag.cite.align.MAX_CITATIONS", [1, 3]),
    "SECOND_GAIN_SHARE": ("rag.cite.align.SECOND_GAIN_SHARE", [OFF]),
    "SECOND_CANDIDATES": ("rag.cite.align.SECOND_CANDIDATES", [3, 15]),
    "SUPPORTED_RECALL": ("rag.support.SUPPORTED_RECALL", [0.6, 0.9]),
    "PARTIAL_RECALL": ("rag.support.PARTIAL_RECALL", [0.3, 0.5]),
    "HISTORY_TURNS": ("rag.question.follow_up.HISTORY_TURNS", [1, 5]),
    "MAX_STANDALONE_CHARS": ("rag.question.follow_up.MAX_STANDALONE_CHARS", [200, 600]),
    "refusal_threshold": ("settings.answer.refusal_threshold", [0.0, 0.1, 0.15, 0.25, 0.3]),
    "candidates": ("settings.retrieval.candidates", [15, 50]),
    "rrf_k": ("settings.retrieval.rrf_k", [10, 100]),
    "query_map": ("settings.retrieval.query_map", [False]),
}


@contextlib.contextmanager
def moved(target: str, value, settings: Settings):
    """Yield the settings to answer with, `target` set to `value` (a module constant is put back after)."""
    if target.startswith("settings."):
        _, group, field = target.split(".")
        yield settings.changed(**{group: {field: value}})
        return
    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    shipped = getattr(module, name)
    setattr(module, name, value)
    try:
        yield settings
    finally:
        setattr(module, name, shipped)


def shipped_value(target: str, settings: Settings):
    """The value the product ships for `target`."""
    if target.startswith("settings."):
        _, group, field = target.split(".")
        return getattr(getattr(settings, group), field)
    module_name, name = target.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), name)


def pooled(results: dict[str, dict]) -> dict:
    """Counts over all sets from each set's extractive summary."""
    t = dict.fromkeys(("answerable", "correct", "unanswerable", "refused", "answered", "on_gold", "precise",
                       "unsupported"), 0)
    for summaries in results.values():
        s = summaries["extractive"]
        answered = s["answerable"] - round(s["false_refusals"] * s["answerable"])
        t["answerable"] += s["answerable"]
        t["correct"] += round(s["accuracy"] * s["answerable"])
        t["unanswerable"] += s["unanswerable"]
        t["refused"] += round(s["refusal_recall"] * s["unanswerable"])
        t["answered"] += answered
        t["on_gold"] += s["citations_on_gold"] * answered
        t["precise"] += s["citation_precision"] * answered
        t["unsupported"] += s["unsupported_sentences"]
    t["right"] = t["correct"] + t["refused"]
    return t


def table(rows: dict[str, dict]) -> str:
    """One line per run, with its difference from the shipped values."""
    base = rows["shipped"]
    lines = [f"{'run':<28}{'correct':>10}{'refused':>10}{'right':>10}{'cites gold':>11}{'precision':>10}"
             f"{'unsupp.':>8}"]
    for name, t in rows.items():
        diff = f"  {t['right'] - base['right']:+d}" if name != "shipped" else ""
        lines.append(f"{name:<28}{t['correct']:>5}/{t['answerable']:<4}{t['refused']:>5}/{t['unanswerable']:<4}"
                     f"{t['right']:>5}/{t['answerable'] + t['unanswerable']:<4}"
                     f"{t['on_gold'] / max(1, t['answered']):>11.3f}{t['precise'] / max(1, t['answered']):>10.3f}"
                     f"{t['unsupported']:>8}{diff}")
    return "\n".join(lines)


def run(settings: Settings, qas: list[Path], out: Path) -> dict:
    """Pooled figures of one run over the sets."""
    return pooled(evaluate_sets(settings, qas, settings.index.corpus_dir, out, ["extractive"], progress=False))


def main(argv: list[str] | None = None) -> int:
    """Run the shipped values once, then each chosen sweep; print the pooled table, write it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.ablate", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SWEEPS), help="these sweeps (default all)")
    parser.add_argument("--qa", type=Path, nargs="+", default=STUDIED, help="question sets (default: the studied)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ablate")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings(answer=AnswerSettings(mode="extractive", ranker="rules"))  # the knobs are the rules''
    rows = {"shipped": run(settings, args.qa, args.out / "shipped")}
    for name in args.only or SWEEPS:
        target, values = SWEEPS[name]
        for value in values:
            label = f"{name}={'off' if value == OFF else value}"
            with moved(target, value, settings) as changed:
                rows[label] = run(changed, args.qa, args.out / label)
            log.info("%s (shipped %s): %+d right", label, shipped_value(target, settings),
                     rows[label]["right"] - rows["shipped"]["right"])
    print(table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sweeps.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
