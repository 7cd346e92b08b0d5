"""The list ranker (`RAG_LIST_RANKER`): the news reader fine-tuned on the learned ranker's candidate
lists chooses the answer among the combiner's best, and leaves the answerability to its head."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from rag.evidence.learned import LIST_RANKER_DIR, WEIGHTS_DIR, learned_combiner, list_ranker
from rag.llm.model_file import sha256_of
from rag.reader.combiner import Combiner
from rag.reader.list_ranker import ListRanker, stacked_choice
from rag.reader.list_train import ListRecipe, list_loss, restack, train, training_lists
from rag.reader.score import ReaderMissing

QA = Path(__file__).resolve().parent.parent / "eval" / "qa.jsonl"


def test_the_committed_list_ranker_matches_its_card_and_stacks_on_the_committed_combiner():
    card = json.loads((LIST_RANKER_DIR / "reader.json").read_text())
    assert sha256_of(LIST_RANKER_DIR / "reader.safetensors") == card["weights_sha256"]
    assert (LIST_RANKER_DIR / "reader.safetensors").stat().st_size <= 50 * 2**20
    assert card["combiner_sha256"] == sha256_of(WEIGHTS_DIR / "combiner.json")  # its stack weight was chosen on it
    assert card["reads"] == 3 and card["stack_weight"] > 0
    figures = card["validation"]
    assert figures["fit_stacked"]["first"] > figures["fit_combiner_alone"]["first"]


def test_the_stacked_choice_weighs_the_list_ranker_against_the_combined_logit():
    combiner = Combiner(weights=[0.0, 0.0, 1.0, 0, 0, 0, 0, 0], bias=0.0)  # the combined logit is the similarity
    rows = [[0, 0, s, 0, 0, 0, 0, 0] for s in (2.0, 1.0, 0.5, 3.0)]
    assert stacked_choice(combiner, rows, {0: 0.0, 1: 0.0, 2: 0.0}, 1.0) == 0  # only those read can be chosen
    assert stacked_choice(combiner, rows, {0: -1.0, 1: 1.5, 2: 0.0}, 1.0) == 1
    assert stacked_choice(combiner, rows, {0: -1.0, 1: 1.5, 2: 0.0}, 0.0) == 0  # weight 0: the combiner's choice


def test_the_list_loss_rewards_the_evidence_or_none():
    import torch

    logits = torch.tensor([3.0, -1.0, 0.0])
    assert list_loss(logits, [1, 0, 0]) < list_loss(logits, [0, 1, 0])
    assert list_loss(torch.tensor([-3.0, -3.0]), [0, 0]) < list_loss(torch.tensor([3.0, 3.0]), [0, 0])  # "none"
    assert training_lists([{"readings": ["a"], "labels": [0], "answerable": True},
                           {"readings": ["a"], "labels": [0], "answerable": False},
                           {"readings": [], "labels": [], "answerable": False}]) == [
        {"readings": ["a"], "labels": [0], "answerable": False}]  # answerable without its evidence read: no target


def test_the_list_ranker_chooses_among_the_combiner_s_best_and_leaves_the_answerability_alone(seed_settings, retriever):
    from rag.pipeline import Assistant
    from rag.question.read import read

    assistant = Assistant(seed_settings, retriever=retriever, generator=None, mode="extractive")
    assert isinstance(assistant.gatherer.chooser, ListRanker)
    plain = Assistant(seed_settings.changed(answer={"list_ranker": False}), retriever=retriever, generator=None,
                      mode="extractive")
    assert plain.gatherer.chooser is None
    for q in [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines()][:12]:
        question = read(q["question"], None, seed_settings)
        chosen, combined = assistant.gatherer.gather(question), plain.gatherer.gather(question)
        assert chosen.answerability == combined.answerability
        best3 = sorted((r for r in combined.ranked if r.features), key=lambda r: -r.probability)[:3]
        assert chosen.ranked[0].sentence.key in {r.sentence.key for r in best3}
    answer = assistant.ask("Who is the leader of Kata'ib Sayyid al-Shuhada?")
    assert not answer.refused and "Abu Alaa al-Walaei" in answer.answer


def test_a_missing_or_altered_list_ranker_gives_one_clear_error(seed_settings, tmp_path):
    combiner = learned_combiner(seed_settings)
    assert list_ranker(seed_settings.changed(answer={"list_ranker": False}), combiner) is None
    assert list_ranker(seed_settings.changed(answer={"ranker": "rules"}), None) is None
    with pytest.raises(ReaderMissing, match="rag train-list-ranker"):
        ListRanker(tmp_path, fix="retrain: `rag train-list-ranker`")  # no card at all
    card = json.loads((LIST_RANKER_DIR / "reader.json").read_text())
    (tmp_path / "reader.json").write_text(json.dumps({k: v for k, v in card.items() if k != "stack_weight"}))
    with pytest.raises(ReaderMissing, match="stack_weight"):
        ListRanker(tmp_path, fix="retrain")
    (tmp_path / "reader.json").write_text(json.dumps({**card, "reads": 0}))
    with pytest.raises(ReaderMissing, match="at least one candidate"):
        ListRanker(tmp_path, fix="retrain")
    shutil.copy(LIST_RANKER_DIR / "reader.json", tmp_path)
    (tmp_path / "reader.safetensors").write_bytes(b"not weights")
    with pytest.raises(ReaderMissing, match="missing or corrupt"):
        ListRanker(tmp_path, fix="retrain").load()


def _seed_rows(retriever, seed_settings) -> list[dict]:
    """The learned ranker's lists for the studied seed questions, labelled by the answer's aliases."""
    from rag.evidence.gather import Gatherer
    from rag.question.read import read
    from rag.reader.fit import described, kept_row

    gatherer = Gatherer(retriever, describe=True)
    rows = []
    for q in [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines()][:10]:
        found = described(gatherer.gather(read(q["question"], None, seed_settings)).ranked)
        names = q.get("answer_aliases") or []
        labels = [int(q["answerable"] and any(a in r.sentence.text for a in names)) for r in found]
        rows.append(kept_row(q["kind"], q["answerable"], q["question"], found, labels))
    return rows


def test_training_the_list_ranker_a_few_steps_on_a_slice_and_resuming(seed_settings, retriever, tmp_path, caplog):
    rows = _seed_rows(retriever, seed_settings)
    assert training_lists(rows)
    combiner = Combiner.load(WEIGHTS_DIR)
    recipe = ListRecipe(limit=4, epochs=1, batch_size=2, stack_weights=[0.0, 1.0])
    card = train({"train": rows, "fit": rows, "dev": rows}, combiner, "sha", recipe, tmp_path, progress=False)
    assert card["lists"]["train"] == 4 and card["stack_weight"] in (0.0, 1.0)
    assert sha256_of(tmp_path / "reader.safetensors") == card["weights_sha256"]
    assert ListRanker(tmp_path).reader.logits("Who?", ["Someone. [SEP] A title"])
    with caplog.at_level("INFO", logger="rag.reader.train"):
        again = train({"train": rows, "fit": rows, "dev": rows}, combiner, "sha", recipe, tmp_path, progress=False)
    assert "at step 2" in caplog.text  # resumed from its last checkpoint: nothing trained again
    assert again["weights_sha256"] == card["weights_sha256"]
    # for a refitted combiner: the stack weight chosen again, the weights and the recipe kept
    restacked = restack(tmp_path, {"train": [], "fit": rows, "dev": rows}, combiner, "another sha")
    assert restacked == json.loads((tmp_path / "reader.json").read_text())
    assert restacked["combiner_sha256"] == "another sha" and restacked["stack_weight"] in (0.0, 1.0)
    assert restacked["weights_sha256"] == sha256_of(tmp_path / "reader.safetensors") == card["weights_sha256"]
    assert restacked["recipe"] == card["recipe"] and restacked["validation"] == card["validation"]
    with pytest.raises(ReaderMissing, match="rag train-list-ranker"):
        restack(tmp_path / "none here", {"train": [], "fit": rows, "dev": rows}, combiner, "another sha")


def test_side_by_side_runs_both_steps_at_once_and_raises_what_either_raised():
    from rag.concurrency import side_by_side

    started = threading.Event()

    def first() -> str:  # waits for the second to start: run one after the other, it would wait in vain
        assert started.wait(timeout=10)
        return "judged"

    def second() -> str:
        started.set()
        return "chosen"

    assert side_by_side(first, second) == ("judged", "chosen")
    with pytest.raises(ZeroDivisionError):
        side_by_side(lambda: 1 / 0, lambda: "chosen")
    with pytest.raises(KeyError):
        side_by_side(lambda: "judged", lambda: {}["x"])
