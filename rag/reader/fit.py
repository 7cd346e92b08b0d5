"""`rag fit-combiner`: fit a combiner (`rag.reader.combiner`) over the BBC corpus, on the reader's scores or (--cheap) without them.

Each question of the news split kept from the reader (`NewsSplit.fit`) is asked against all 2,225
BBC articles, as a user would ask it, and every candidate the reader read gives one row: its
features, labelled 1 when it overlaps an evidence sentence of an answerable question. The dev split
is asked the same way; the excerpt reader judges each question's shortlist, the answerability head's
logit under the fitted combiner is calibrated into P(answerable) (Platt scaling), and the refusal
threshold is chosen: the highest that refuses at most `MAX_FALSE_REFUSALS` of the answerable dev
questions (`RAG_READER_THRESHOLD` holds it).

`rag fit-combiner --cheap` fits the combiner of the cheap signals alone the same way, with no reader
(`RAG_RANKER=learned`; see `fit_combiner`).

The evidence stage is handed in (`gather`: question text -> ranked candidates, `rag.evidence.rank.Ranked`),
so this stage does not reach back up into retrieval.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable, Sequence

from rag.eval.metrics import auroc, locate, overlaps
from rag.reader import news
from rag.reader.combiner import SHORTLIST, Combiner, calibrate, fit, fit_excerpt_weight, fit_head, fit_rerank
from rag.reader.excerpt_reader import excerpt_in
from rag.reader.model import second_segment

log = logging.getLogger(__name__)

MAX_FALSE_REFUSALS = 0.05  # answerable questions refused, at most, at the chosen threshold
# How much a question asked without its article counts in the answerability head, against 1 for a
# written one. Chosen on the dev split with the head's features (`QUESTION_FEATURES`): head AUROC 0.724
# and 0.275 of unanswerable dev questions refused where 5% of answerable ones are at 0.1, 0.711 / 0.200
# at 1. With the larger head and none, "What is the boiling point of liquid nitrogen?" over the seeds
# was answered (low word coverage read as a sign of an answer).
ABSENT_WEIGHT = 0.1
# Wikipedia questions (SQuAD 2.0) asked of the BBC corpus, unanswerable, weight 1, added to the cheap
# combiner's fit (`foreign_rows`). Chosen with 30 general-knowledge questions asked over the seeds
# (off-corpus refused, of 30; the rules refuse 25) against the dev split (head AUROC / unanswerable
# refused at 5%): none 17 / 0.755 / 0.350; 200: 19 / 0.749 / 0.350; 400: 24 / 0.744 / 0.350; 800:
# 28 / 0.735 / 0.350 (and 6.7% of the seeds' studied answerable questions refused, against 5.5%).
FOREIGN_QUESTIONS = 400
Gather = Callable[[str], Sequence]  # question -> ranked candidates with .features, .probability, .sentence
Judge = Callable[[str, str, str], float]  # (question, title, excerpt) -> the excerpt reader's logit
GatherWithout = Callable[[str, str], Sequence]  # (question, article id) -> ranked, that article left out of the corpus


def evidence_spans(question: dict, corpus: Path) -> list[tuple[str, tuple[int, int]]]:
    """(source, [start, end)) of each evidence sentence of an answerable question in the corpus files."""
    if not question["answerable"]:
        return []
    source = news.source_name(question["article_id"])
    original = (corpus / source).read_text(encoding="utf-8")
    return [(source, span) for e in question["evidence"] if (span := locate(e, original))]


def is_evidence(candidate, gold: list[tuple[str, tuple[int, int]]]) -> bool:
    """Whether a ranked candidate's sentence overlaps an evidence sentence."""
    s = candidate.sentence
    return any(s.source == source and overlaps((s.start, s.end), span) for source, span in gold)


def rows_of(questions: list[dict], gather: Gather, corpus: Path, progress: bool = True) -> list[dict]:
    """Per question: its read candidates' features and labels, and whether it is answerable."""
    from tqdm import tqdm

    out = []
    for q in tqdm(questions, desc="gather", unit="q", disable=not progress):
        gold = evidence_spans(q, corpus)
        read = described(gather(q["question"]))
        out.append(kept_row(q["kind"], q["answerable"], q["question"], read, [int(is_evidence(r, gold)) for r in read]))
    return out


def described(ranked: Sequence) -> list:
    """The ranked candidates the combiner's features describe (the best by the cheap score)."""
    return [r for r in ranked if r.features is not None]


def kept_row(kind: str, answerable: bool, question: str, read: list, labels: list[int] | None = None) -> dict:
    """One question's kept row: its described candidates' features, what the excerpt reader and the
    list ranker would read of each, and their labels (all 0 when not given: no candidate of an
    unanswerable question answers)."""
    return {"kind": kind, "answerable": answerable, "question": question, "features": [r.features for r in read],
            "excerpts": [excerpt_of(r) for r in read],
            "readings": [second_segment(r.sentence.text, r.sentence.before, r.sentence.passage.title) for r in read],
            "labels": labels if labels is not None else [0] * len(read)}


def excerpt_of(candidate) -> list[str]:
    """[title, excerpt] of a ranked candidate: what the excerpt reader reads for it."""
    s = candidate.sentence
    return [s.passage.title, excerpt_in(s.paragraph(), s.text)]


def absent_rows(questions: list[dict], gather_without: GatherWithout, progress: bool = True) -> list[dict]:
    """`rows_of` for questions asked with their own article (and its copies) left out of the corpus:
    unanswerable, as a question about a story the corpus does not hold is. The written unanswerable
    questions all sound on-topic for an article the corpus holds; without these, the answerability
    head never sees a question nothing in the corpus is about (and took a low word coverage for a sign
    of an answer)."""
    from tqdm import tqdm

    out = []
    for q in tqdm(questions, desc="absent", unit="q", disable=not progress):
        out.append(kept_row("absent", False, q["question"], described(gather_without(q["question"], q["article_id"]))))
    return out


def foreign_rows(questions: list[str], gather: Gather, progress: bool = True) -> list[dict]:
    """`rows_of` for questions about subjects the corpus never covers (Wikipedia's, asked of 2004-2005
    BBC news): unanswerable, their evidence far weaker than any news question's. They teach the
    answerability head what a question off the corpus looks like, which the news questions asked
    without their article (`absent_rows`) show only faintly: other stories on the same subject stay."""
    from tqdm import tqdm

    return [kept_row("foreign", False, text, described(gather(text)))
            for text in tqdm(questions, desc="foreign", unit="q", disable=not progress)]


def foreign_questions(path: Path, n: int = FOREIGN_QUESTIONS, seed: int = 7) -> list[str]:
    """`n` questions drawn (seeded) from a SQuAD-format file's articles outside its held-out ones
    (`rag.reader.data.is_held_out`, which `bench.squad_heldout` asks)."""
    import random

    from index.errors import RagError
    from rag.reader.data import is_held_out, read_questions

    try:
        questions = [q for q in read_questions(path) if not is_held_out(q.article)]
    except (OSError, ValueError, KeyError) as exc:
        raise RagError(f"the SQuAD questions {path} cannot be read ({exc}): put ../shared/data beside the "
                       "repository (see ../shared/data/README.md)") from exc
    random.Random(seed).shuffle(questions)
    return [q.text for q in questions[:n]]


def best_and_right(rows: list[dict], combiner: Combiner, answerability: bool = False) -> list[tuple[float, bool, bool]]:
    """Per question: the chosen candidate's combined probability (with `answerability`, the head's
    calibrated P(answerable) instead), whether it is answerable, and whether that candidate is an
    evidence sentence."""
    out = []
    for row in rows:
        if not row["features"]:
            out.append((0.0, row["answerable"], False))
            continue
        judged = judged_of(row)
        top = combiner.chosen(row["features"], judged)
        score = (combiner.answerability(row["features"], judged) if answerability
                 else combiner.probability(row["features"][top]))
        out.append((score, row["answerable"], bool(row["labels"][top])))
    return out


def judged_of(row: dict) -> list[float | None]:
    """The excerpt reader's logit per candidate of a row (None where it did not read one)."""
    judged = row.get("judged", {})
    return [judged.get(str(i)) for i in range(len(row["features"]))]


def threshold_figures(scored: list[tuple[float, bool, bool]], threshold: float) -> dict:
    """Right (answerable: answered with an evidence sentence first; unanswerable: refused), refusals."""
    ans = [s for s in scored if s[1]]
    una = [s for s in scored if not s[1]]
    right = sum(p >= threshold and hit for p, _, hit in ans) + sum(p < threshold for p, _, _ in una)
    return {"threshold": threshold, "right": round(right / len(scored), 4),
            "answerable_refused": round(sum(p < threshold for p, _, _ in ans) / max(len(ans), 1), 4),
            "unanswerable_refused": round(sum(p < threshold for p, _, _ in una) / max(len(una), 1), 4)}


def summary(scored: list[tuple[float, bool, bool]]) -> dict:
    """Evidence sentence ranked first (answerable) and the AUROC of the best probability."""
    ans = [s for s in scored if s[1]]
    return {"questions": len(scored), "first_is_evidence": round(sum(s[2] for s in ans) / max(len(ans), 1), 4),
            "auroc": round(auroc([s[0] for s in ans], [s[0] for s in scored if not s[1]]), 4)}


def fit_combiner(split: news.NewsSplit, gather: Gather, gather_without: GatherWithout, judge: Judge | None, corpus: Path,
                 progress: bool = True, keep: Path | None = None, foreign: Sequence[str] = (),
                 student: Judge | None = None) -> Combiner:
    """Fit on `split.fit`'s rows (with `split.train`'s when cheap, below), each question asked once with its article and once without
    (`absent_rows`), calibrate on `split.dev`'s (what the reader reads and the features do not depend
    on the combiner, so both are gathered without one); the figures are kept in `Combiner.figures`,
    the rows in `keep` (JSON, for ablations of the features without asking again, or a refit).

    Without `judge`, the combiner of the cheap signals alone (`RAG_RANKER=learned`): no reader score
    is among its features, so the reader's training split is fitted on too (the query map behind the
    similarity trained on its answerable questions; measured on dev all the same, 3,960 questions
    against 300: head AUROC 0.715 -> 0.754), with the answer-type check (`Combiner.type_check`).
    `foreign`: questions about subjects the corpus never covers (`foreign_rows`). `student`: the excerpt
    student (`rag.reader.excerpt_student`), weighed into the cheap combiner's head (`stack_student`)."""
    cheap = judge is None
    questions = split.train + split.fit if cheap else split.fit
    fit_rows = rows_of(questions, gather, corpus, progress) + absent_rows(questions, gather_without, progress)
    fit_rows += foreign_rows(list(foreign), gather, progress)
    dev_rows = rows_of(split.dev, gather, corpus, progress)
    if keep:  # before fitting, so a failed fit loses no asking
        keep.write_text(json.dumps({"fit": fit_rows, "dev": dev_rows, "cheap": cheap}))
    return fit_rows_and_calibrate(fit_rows, dev_rows, judge, progress, type_check=cheap, student=student,
                                  unseen={q["question"] for q in split.fit})


def judge_shortlist(rows: list[dict], combiner: Combiner, judge: Judge, progress: bool = True,
                    size: int = SHORTLIST) -> None:
    """The excerpt reader's logits for each row's shortlist under the candidate regression
    (`Combiner.shortlist`), kept per candidate in "judged", so a refit from kept rows asks the model
    only anew."""
    from tqdm import tqdm

    for row in tqdm(rows, desc="excerpts", unit="q", disable=not progress):
        judged = row.setdefault("judged", {})
        for at in combiner.shortlist(row["features"], size):
            if str(at) not in judged:
                judged[str(at)] = judge(row["question"], *row["excerpts"][at])


def fit_rows_and_calibrate(fit_rows: list[dict], dev_rows: list[dict], judge: Judge | None,
                           progress: bool = True, type_check: bool = False, student: Judge | None = None,
                           unseen: set[str] = frozenset()) -> Combiner:
    """The combiner fitted on the fit split's rows and calibrated on the dev split's (`rows_of`): the
    candidate regression and the rerank on the written questions and any foreign ones (`foreign_rows`:
    every candidate a negative), then the answerability head on every question with a candidate read,
    the absent-article ones weighted `ABSENT_WEIGHT`, with the excerpt reader's logits for each shortlist. Without `judge` (the cheap signals' combiner),
    no rerank and no excerpt logits: the head's excerpt weight is 0. With `type_check`, a question
    asking for a kind of answer that no candidate read offers is refused before the head
    (`Combiner.offers_nothing`), and the head is fitted and calibrated on the others. With `student`,
    the excerpt student's logit is then weighed into the head (`stack_student`) on the rows of the
    `unseen` questions (those of articles it never trained on) and the foreign ones."""
    written = [r for r in fit_rows if r["kind"] != "absent"]
    combiner = fit([f for r in written for f in r["features"]], [y for r in written for y in r["labels"]])
    combiner.type_check = type_check
    if judge is not None:
        judge_shortlist(fit_rows + dev_rows, combiner, judge, progress)
        fit_rerank(combiner, [r["features"] for r in written], [judged_of(r) for r in written],
                   [r["labels"] for r in written])
    read = [r for r in fit_rows if r["features"] and not combiner.offers_nothing(r["features"])]
    fit_head(combiner, [r["features"] for r in read], [judged_of(r) for r in read], [r["answerable"] for r in read],
             [ABSENT_WEIGHT if r["kind"] == "absent" else 1.0 for r in read])
    if student is not None:  # the fit figures then count only the rows it judged
        fit_rows = [r for r in fit_rows if r["kind"] == "foreign" or r["question"] in unseen]
        stack_student(combiner, fit_rows, dev_rows, student, progress)
    dev_read = [r for r in dev_rows if r["features"] and not combiner.offers_nothing(r["features"])]
    combiner.calibration = calibrate([combiner.head_logit(r["features"], judged_of(r)) for r in dev_read],
                                     [r["answerable"] for r in dev_read])
    calibrated = best_and_right(dev_rows, combiner, answerability=True)
    sweep = [threshold_figures(calibrated, t / 100) for t in range(1, 100)]
    combiner.figures = {"fit": summary(best_and_right(fit_rows, combiner, answerability=True)),
                        "dev": summary(calibrated), "dev_best_candidate": summary(best_and_right(dev_rows, combiner)),
                        "most_right": max(sweep, key=lambda f: f["right"]), "chosen": choose(sweep),
                        "dev_thresholds": sweep[4::5]}
    log.info("combiner: %s", combiner.figures["chosen"])
    return combiner


def stack_student(combiner: Combiner, rows: list[dict], dev_rows: list[dict], student: Judge,
                  progress: bool = True) -> None:
    """Weigh the excerpt student's logit for each question's best candidate into the fitted head
    (`combiner.fit_excerpt_weight`), on `rows`: questions the student never trained on, those asked
    without their article weighted `ABSENT_WEIGHT`. Its logits are kept in each row's "judged"
    (`judge_shortlist`, the best candidate alone: there is no rerank to choose). Fitted beside the
    head, not inside it: the head is fitted on the student's training questions too, where its logit
    is too sure."""
    rows = [r for r in rows if r["features"] and not combiner.offers_nothing(r["features"])]
    judge_shortlist(rows + [r for r in dev_rows if r["features"]], combiner, student, progress, size=1)
    fit_excerpt_weight(combiner, [r["features"] for r in rows], [judged_of(r) for r in rows],
                       [r["answerable"] for r in rows], [ABSENT_WEIGHT if r["kind"] == "absent" else 1.0 for r in rows])


def choose(sweep: list[dict]) -> dict:
    """The refusal threshold: the highest whose dev answerable-refused rate stays within
    MAX_FALSE_REFUSALS (refuse all that can be refused at that cost; issue 26's bound)."""
    within = [f for f in sweep if f["answerable_refused"] <= MAX_FALSE_REFUSALS]
    return max(within, key=lambda f: f["threshold"]) if within else sweep[0]


def mine_negatives(questions: list[dict], gather: Gather, corpus: Path, per_question: int,
                   progress: bool = True) -> list[dict]:
    """Per question, the reader's inputs (`model.second_segment`) of the `per_question` candidates that
    retrieval and the cheap score put first and that do not answer: no evidence sentence, nor its words
    in another article (the BBC set holds some stories twice), nor the answer span. These are the
    distractors the reader meets in the product (other stories on the same topic), which the
    article's own sentences never show it."""
    from tqdm import tqdm

    out = []
    for q in tqdm(questions, desc="mine", unit="q", disable=not progress):
        gold = evidence_spans(q, corpus)
        said = {" ".join(e.split()) for e in q["evidence"]} if q["answerable"] else set()
        negatives = []
        for r in sorted(gather(q["question"]), key=lambda r: -r.base):
            s = r.sentence
            if is_evidence(r, gold) or " ".join(s.text.split()) in said or (q["answer"] and q["answer"] in s.text):
                continue
            negatives.append(second_segment(s.text, s.before, s.passage.title))
            if len(negatives) == per_question:
                break
        out.append({"id": q["id"], "question": q["question"], "negatives": negatives})
    return out
