"""The query map: the committed one moves unseen news questions towards their answering sentence,
a broken one is one clear error, and the training command trains on a slice."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from index.embed import Embedder
from index.settings import Settings
from rag.evidence.query_map import CARD_FILE, WEIGHTS_DIR, WEIGHTS_FILE, QueryMap, QueryMapMissing
from rag.evidence.train_query_map import Recipe, embedded, examples, ranks, train
from rag.reader import news

SHARED = pytest.mark.skipif(not news.BBC.is_file(), reason="../shared/data is not beside the repository")


@SHARED
def test_the_committed_map_ranks_the_answer_higher_for_unseen_news_questions():
    articles = news.read_articles()
    questions = [q for q in news.split(articles).dev if q["answerable"]]  # 40 articles never trained on
    held = examples(questions, articles, embedded(questions, articles, Settings(), progress=False))
    unmapped, mapped = ranks(held, None), ranks(held, QueryMap.load().matrix)
    assert len(held) == len(questions)
    assert mapped["first"] > unmapped["first"] and mapped["top3"] > unmapped["top3"], (unmapped, mapped)


def test_a_mapped_question_is_a_unit_vector_of_the_same_size():
    vector = Embedder(Settings()).embed_query("Who leads the board of the mining firm?")
    mapped = QueryMap.load().apply(vector)
    assert len(mapped) == len(vector) and abs(np.linalg.norm(mapped) - 1) < 1e-5
    assert 0.5 < float(np.dot(mapped, vector)) < 1  # moved, but near the identity it started from


def test_a_corrupt_or_missing_map_is_one_error_naming_the_fix(tmp_path):
    shutil.copytree(WEIGHTS_DIR, tmp_path / "weights")
    weights = tmp_path / "weights" / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-7] + b"garbage")
    with pytest.raises(QueryMapMissing, match="corrupt.*rag train-query-map.*RAG_QUERY_MAP=false"):
        QueryMap.load(tmp_path / "weights")
    (tmp_path / "weights" / CARD_FILE).unlink()
    with pytest.raises(QueryMapMissing, match="card .* missing"):
        QueryMap.load(tmp_path / "weights")
    with pytest.raises(QueryMapMissing, match="does not fit 3-dimensional"):
        QueryMap.load().apply([1.0, 0.0, 0.0])


def test_with_the_map_off_a_question_keeps_its_embedding():
    vector = Embedder(Settings()).embed_query("Who leads the board of the mining firm?")
    assert QueryMap.for_settings(Settings().changed(retrieval={"query_map": False})).apply(vector) == vector


@SHARED
def test_train_query_map_trains_on_a_slice_and_writes_a_checked_map(tmp_path):
    card = train(tmp_path, Recipe(limit=6, epochs=2), progress=False)
    loaded = QueryMap.load(tmp_path)
    assert 0 < card["training_questions"] <= 6 and set(card["validation"]) == {"fit", "dev"}
    assert 0 < card["validation"]["dev"]["unmapped"]["questions"] <= 6
    assert {f.name for f in news.written_files()} <= set(card["data_sha256"])
    assert loaded.matrix.shape == (384, 384) and not np.allclose(loaded.matrix, np.eye(384))
