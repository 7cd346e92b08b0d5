"""The evaluation: the Q&A set's quotes are verbatim, metrics behave on hand-made cases, and the gate."""

import json
import tomllib

import pytest

from index.mapped import normalize_text
from rag.eval import metrics
from rag.eval.evaluate import summarize
from rag.pipeline import evaluate
from rag.schema import AnswerSentence, Citation

from conftest import ROOT, SEEDS

QA = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]


def test_qa_set_shape_and_verbatim_quotes():
    kinds = {}
    for item in QA:
        assert {"id", "question", "answer", "answer_aliases", "evidence", "answerable"} <= item.keys()
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
        for ev in item["evidence"]:
            original = (SEEDS / ev["source"]).read_text(encoding="utf-8")
            assert normalize_text(ev["quote"]) in normalize_text(original), (item["id"], ev["quote"])
    assert len(QA) >= 60 and kinds["unanswerable"] >= 10 and kinds["followup"] >= 1 and kinds["multi"] >= 1
    assert len({i["id"] for i in QA}) == len(QA)


def test_alias_match_uses_word_boundaries():
    assert metrics.alias_match("It fell in Dhi\u00a0Qar.", ["Dhi Qar"])
    assert not metrics.alias_match("the Saarland", ["Saar"])
    assert not metrics.alias_match("nothing here", ["Saar"])


def test_retrieval_ranks():
    ranks = [1, 3, None, 2]
    assert metrics.recall_at_k(ranks, 1) == 0.25 and metrics.recall_at_k(ranks, 3) == 0.75
    assert metrics.mrr(ranks) == pytest.approx((1 + 1 / 3 + 1 / 2) / 4)


def _cite(i, quote):
    return Citation(id=i, source="s", quote=quote, start=0, end=len(quote), score=1, supported=True, verdict="supported")


def test_a_wrong_citation_lowers_precision():
    right = _cite(1, "Qasim al-Araji told a visiting European Union delegation in Baghdad.")
    wrong = _cite(2, "The weather in Oslo was cold.")
    sentence = "Qasim al-Araji told a visiting European Union delegation in Baghdad."
    good = [AnswerSentence(text=sentence, citations=[1], verdict="supported")]
    mixed = [AnswerSentence(text=sentence, citations=[1, 2], verdict="supported")]
    by_id = {1: right, 2: wrong}
    assert metrics.citation_recall_precision(good, by_id) == (1.0, 1.0)
    assert metrics.citation_recall_precision(mixed, by_id) == (1.0, 0.5)
    only_wrong = [AnswerSentence(text=sentence, citations=[2], verdict="supported")]
    assert metrics.citation_recall_precision(only_wrong, by_id) == (0.0, 0.0)


def test_refused_answerable_question_is_a_false_refusal():
    row = dict(kind="fact", correct=False, similarity=0.0, hit_rank=1, cites_gold=None, citations_exact=True,
               citation_recall=0.0, citation_precision=0.0, faithfulness=0.0, unsupported=0, latency_ms=5.0)
    rows = [{**row, "answerable": True, "refused": True, "answerability": 0.3},
            {**row, "answerable": True, "refused": False, "answerability": 0.9},
            {**row, "answerable": False, "refused": True, "correct": True, "answerability": 0.1}]
    summary = summarize(rows, 5)
    assert summary["false_refusals"] == 0.5 and summary["refusal_recall"] == 1.0
    assert summary["answerability_auroc"] == 1.0


def test_locate_and_faithfulness():
    original = "He said \u201cno\u00a0threat\u201d today."
    start, end = metrics.locate('"no threat" today', original)
    assert original[start:end] == "\u201cno\u00a0threat\u201d today"
    assert metrics.faithfulness([AnswerSentence(text="a", verdict="supported"),
                                 AnswerSentence(text="b", verdict="unsupported")]) == 0.5


def test_extractive_evaluation_meets_the_stored_floors(seed_settings, tmp_path):
    floors = tomllib.loads((ROOT / "eval" / "thresholds.toml").read_text())["extractive"]
    summary = evaluate(seed_settings, ROOT / "eval" / "qa.jsonl", SEEDS, tmp_path, ["extractive"], progress=False)
    summary = summary["extractive"]
    for key, floor in floors.items():
        if key != "ceilings":
            assert summary[key] >= floor, (key, summary[key], floor)
    for key, ceiling in floors["ceilings"].items():
        assert summary[key] <= ceiling, (key, summary[key], ceiling)
    for name in ("results.jsonl", "summary.json", "report.md", "accuracy_by_kind.png", "latency.png", "evidence_scores.png"):
        assert (tmp_path / name).stat().st_size > 0
