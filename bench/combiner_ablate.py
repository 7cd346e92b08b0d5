"""Ablations of the combiner (`rag.reader.combiner`) from the rows `rag fit-combiner` keeps.

`python -m bench.combiner_ablate [--rows .rag/bbc/combiner_rows.json]`

Each line refits the combiner (the candidate regression and the answerability head) on the fit
split's rows with some features left out (the hand-written signals the combiner took over: the
answer-type check, the premise match ratio, the unmentioned count), or with fewer
candidates read (READ_CANDIDATES: the best N by the cheap score), and reports on the dev split's
rows: the evidence sentence ranked first (answerable), the AUROC (answerable vs unanswerable) of the
best candidate's probability and of the head's answerability, and questions right at the head's
best threshold (answered with the evidence first, or refused when unanswerable). No question is
asked again; the excerpt reader reads only the best candidates it had not read for the kept rows.
"""

import argparse
import json
from pathlib import Path

from index.settings import Settings
from rag.reader.combiner import FEATURES
from rag.reader.excerpt_reader import ExcerptReader
from rag.reader.fit import Judge, fit_rows_and_calibrate

DROPS = {"all features": (), "no answer-type check (typed, fits)": ("typed", "fits"), "no match ratio": ("match",),
         "reader only (reader, reader_gap)":
         tuple(f for f in FEATURES if f not in ("reader", "reader_gap")),
         "cheap only (no reader)": ("reader", "reader_gap"), "no unmentioned count": ("unmentioned",),
         "no excerpt reader": ("excerpt",)}


def keep_best(row: dict, n: int) -> dict:
    """The row with only the n best candidates by the cheap score read (the reader gap recomputed)."""
    base = [0.5 * f[2] + 0.5 * f[3] for f in row["features"]]  # the cheap score, but for the headline factor
    kept = sorted(range(len(base)), key=lambda i: -base[i])[:n]
    best = max((row["features"][i][0] for i in kept), default=0.0)
    features = [[f[0], f[0] - best, *f[2:]] for f in (row["features"][i] for i in kept)]
    judged = {str(kept.index(int(i))): z for i, z in row.get("judged", {}).items() if int(i) in kept}
    return {**row, "features": features, "labels": [row["labels"][i] for i in kept],
            "excerpts": [row["excerpts"][i] for i in kept], "judged": judged}


def without(rows: list[dict], dropped: tuple[str, ...]) -> list[dict]:
    """The rows with the `dropped` features zeroed (a constant column gets no weight: the same fit as
    leaving it out, and the head still finds each feature at its place)."""
    gone = {i for i, f in enumerate(FEATURES) if f in dropped}
    return [{**r, "features": [[0.0 if i in gone else x for i, x in enumerate(f)] for f in r["features"]],
             "judged": r.get("judged", {}) if "excerpt" not in dropped else {}} for r in rows]


def score(fit_rows: list[dict], dev_rows: list[dict], dropped: tuple[str, ...], judge: Judge) -> dict:
    """Refit without `dropped` (as `rag fit-combiner` fits; "excerpt": the excerpt reader's logit held
    at 0); the dev figures."""
    judge = (lambda *_: 0.0) if "excerpt" in dropped else judge
    figures = fit_rows_and_calibrate(without(fit_rows, dropped), without(dev_rows, dropped), judge, False).figures
    return {"first": figures["dev"]["first_is_evidence"], "auroc": figures["dev_best_candidate"]["auroc"],
            "head_auroc": figures["dev"]["auroc"], "right_at_best": figures["most_right"]["right"]}


def main() -> int:
    """Print one line per ablation."""
    parser = argparse.ArgumentParser(prog="python -m bench.combiner_ablate", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, default=Path(".rag/bbc/combiner_rows.json"))
    rows = json.loads(parser.parse_args().rows.read_text())
    judge = ExcerptReader(Settings()).logit
    print("| combiner | evidence first (dev) | AUROC, best candidate (dev) | AUROC, head (dev) | right at best threshold (dev) |"
          "\n|---|---|---|---|---|")
    for name, dropped in DROPS.items():
        fig = score(rows["fit"], rows["dev"], dropped, judge)
        print(f"| {name} | {fig['first']} | {fig['auroc']} | {fig['head_auroc']} | {fig['right_at_best']} |")
    for n in range(2, max(len(r["features"]) for r in rows["dev"]), 2):  # fewer than the rows hold
        fig = score([keep_best(r, n) for r in rows["fit"]], [keep_best(r, n) for r in rows["dev"]], (), judge)
        print(f"| {n} candidates read | {fig['first']} | {fig['auroc']} | {fig['head_auroc']} | {fig['right_at_best']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
