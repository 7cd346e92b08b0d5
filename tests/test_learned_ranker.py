"""The learned ranker (`RAG_RANKER=learned`): the combiner fitted on news questions over the cheap
signals alone (`rag fit-combiner --cheap`) ranks the answer sentences and decides to refuse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.settings import LEARNED_THRESHOLD
from rag.evidence.learned import CombinerMissing, learned_combiner
from rag.evidence.query_map import WEIGHTS_DIR
from rag.reader.combiner import FEATURES, QUESTION_FEATURES, Combiner
from rag.reader.excerpt_student import ExcerptStudent, ExcerptStudentMissing
from rag.reader.score import WEIGHTS_DIR as READER_WEIGHTS


def test_the_committed_combiner_reads_no_reader_and_its_threshold_is_the_settings_default():
    combiner = Combiner.load(WEIGHTS_DIR)
    assert combiner.features == FEATURES and combiner.type_check
    assert combiner.weights[:2] == [0.0, 0.0]  # the reader's logit and gap: never read, never weighed
    assert combiner.reads_excerpts and not combiner.rerank and combiner.judged_when_answering == 1
    assert combiner.head[QUESTION_FEATURES.index("excerpt")] > 0  # the excerpt student's logit, for the best
    assert combiner.figures["chosen"]["threshold"] == LEARNED_THRESHOLD
    assert combiner.figures["chosen"]["answerable_refused"] <= 0.05


def test_the_learned_ranker_answers_with_a_calibrated_answerability_and_refuses(seed_settings, retriever):
    from rag.pipeline import Assistant

    settings = seed_settings.changed(answer={"ranker": "learned"})
    assistant = Assistant(settings, retriever=retriever, generator=None, mode="extractive")
    assert assistant.reader is None  # the cheap signals and the excerpt student, no reader
    assert isinstance(assistant.gatherer.excerpts, ExcerptStudent)
    answer = assistant.ask("Who is the leader of Kata'ib Sayyid al-Shuhada?")
    assert not answer.refused and "Abu Alaa al-Walaei" in answer.answer
    assert settings.answer.learned_threshold <= answer.answerability <= 1
    assert all(Path(c.file).read_text(encoding="utf-8")[c.start:c.end] == c.quote for c in answer.citations)
    off_corpus = assistant.ask("What is the boiling point of liquid nitrogen?")
    assert off_corpus.refused and 0 <= off_corpus.answerability < settings.answer.learned_threshold
    assert "probability" in off_corpus.refusal_reason


def test_fitting_without_the_squad_file_or_from_the_reader_s_rows_names_the_fix(tmp_path):
    from index.errors import RagError
    from rag.pipeline import fit_combiner
    from rag.reader.fit import foreign_questions

    with pytest.raises(RagError, match="shared/data"):
        foreign_questions(tmp_path / "absent.json")
    (tmp_path / "empty.json").write_text("", encoding="utf-8")
    with pytest.raises(RagError, match="shared/data"):
        foreign_questions(tmp_path / "empty.json")
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"fit": [], "dev": [], "cheap": False}), encoding="utf-8")
    with pytest.raises(RagError, match="without --cheap"):
        fit_combiner(tmp_path, tmp_path, rows=rows, cheap=True)
    assert not (tmp_path / "combiner.json").exists()  # nothing written over


def test_a_missing_or_corrupt_learned_combiner_gives_one_clear_error(seed_settings, tmp_path):
    settings = seed_settings.changed(answer={"ranker": "learned", "combiner_path": tmp_path})
    with pytest.raises(CombinerMissing, match="RAG_COMBINER_PATH"):
        learned_combiner(settings)  # no file at all
    (tmp_path / "combiner.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CombinerMissing, match="rag fit-combiner --cheap"):
        learned_combiner(settings)
    shutil.copy(WEIGHTS_DIR / "combiner.json", tmp_path)
    raw = json.loads((tmp_path / "combiner.json").read_text(encoding="utf-8"))
    (tmp_path / "combiner.json").write_text(json.dumps({**raw, "head": raw["head"][:2]}), encoding="utf-8")
    with pytest.raises(CombinerMissing, match="RAG_RANKER=rules"):
        learned_combiner(settings)
    (tmp_path / "combiner.json").write_text(json.dumps({**raw, "calibration": [1.0, "x"]}), encoding="utf-8")
    with pytest.raises(CombinerMissing, match="RAG_COMBINER_PATH"):
        learned_combiner(settings)
    assert learned_combiner(seed_settings.changed(answer={"ranker": "rules", "combiner_path": tmp_path})) is None
    with pytest.raises(CombinerMissing, match="reader's combiner"):  # it weighs scores this ranker never reads
        learned_combiner(seed_settings.changed(answer={"ranker": "learned", "combiner_path": READER_WEIGHTS}))


def test_the_excerpt_student_tells_an_answering_excerpt_from_an_on_topic_and_an_unrelated_one():
    student = ExcerptStudent(WEIGHTS_DIR)
    question = "Who is the leader of Kata'ib Sayyid al-Shuhada?"
    answering = "Kata'ib Sayyid al-Shuhada is led by Abu Alaa al-Walaei. The group is part of the coalition."
    on_topic = "Kata'ib Sayyid al-Shuhada fighters were seen near the border. The group is part of the coalition."
    assert student.logit(question, "Iraqi militias", answering) > student.logit(question, "Iraqi militias", on_topic)
    assert student.logit("Which company makes the iPhone?", "Iraqi militias", answering) < 0  # another story
    assert student.logits(question, []) == []
    assert len(student.logits("x " * 5000, [("t", "y " * 5000)])) == 1  # both cut to its 160 tokens


def test_a_missing_or_altered_excerpt_student_gives_one_clear_error(seed_settings, retriever, tmp_path):
    from rag.pipeline import Assistant

    shutil.copy(WEIGHTS_DIR / "combiner.json", tmp_path)  # its head weighs the student, which is not beside it
    settings = seed_settings.changed(answer={"ranker": "learned", "combiner_path": tmp_path})
    with pytest.raises(ExcerptStudentMissing, match="git checkout -- rag/evidence/weights"):
        Assistant(settings, retriever=retriever, generator=None, mode="extractive")
    shutil.copy(WEIGHTS_DIR / "excerpt_student.json", tmp_path)
    (tmp_path / "excerpt_student.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ExcerptStudentMissing, match="SHA-256.*RAG_RANKER=rules"):
        Assistant(settings, retriever=retriever, generator=None, mode="extractive")


def test_training_the_excerpt_student_without_the_excerpt_reader_s_states_names_the_command(seed_settings, tmp_path):
    from index.errors import RagError
    from rag.reader.excerpt_student_train import train_excerpt_student

    with pytest.raises(RagError, match="rag train-excerpt-reader --workdir"):
        train_excerpt_student(seed_settings, tmp_path / "out", tmp_path / "no-states")
    assert not (tmp_path / "out").exists()  # nothing written
