"""The query map: the committed one moves unseen news questions towards their answering sentence,
a broken one is one clear error, and the training command trains on a slice."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from index.embed import Embedder
from index.sentences import split_sentences
from index.settings import Settings
from rag.evidence.query_map import CARD_FILE, WEIGHTS_DIR, WEIGHTS_FILE, QueryMap, QueryMapMissing
from rag.evidence.train_query_map import Recipe, train
from rag.reader import news

SHARED = pytest.mark.skipif(not news.BBC.is_file(), reason="../shared/data is not beside the repository")


@SHARED
def test_the_committed_map_ranks_the_answer_higher_for_unseen_news_questions():
    articles = news.read_articles()
    questions = [q for q in news.split(articles).dev if q["answerable"]]  # 40 articles never trained on
    embedder, query_map = Embedder(Settings()), QueryMap.load()
    sentences = {a: split_sentences(articles[a]["text"]) for a in {q["article_id"] for q in questions}}
    vectors = {a: np.array(embedder.embed(texts)) for a, texts in sentences.items()}
    ranks = {"unmapped": [], "mapped": []}
    for q in questions:
        answering = np.array([any(e in s or s in e for e in q["evidence"]) for s in sentences[q["article_id"]]])
        raw = embedder.embed_query(q["question"])
        for name, vector in (("unmapped", raw), ("mapped", query_map.apply(raw))):
            similarity = vectors[q["article_id"]] @ np.array(vector)
            ranks[name].append(int((similarity[~answering] > similarity[answering].max()).sum()))
    first = {name: np.mean([r == 0 for r in found]) for name, found in ranks.items()}
    top3 = {name: np.mean([r < 3 for r in found]) for name, found in ranks.items()}
    assert first["mapped"] > first["unmapped"] and top3["mapped"] > top3["unmapped"], (first, top3)


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


@SHARED
def test_train_query_map_trains_on_a_slice_and_writes_a_checked_map(tmp_path):
    card = train(tmp_path, Recipe(limit=6, epochs=2), progress=False)
    loaded = QueryMap.load(tmp_path)
    assert 0 < card["training_questions"] <= 6 and set(card["validation"]) == {"fit", "dev"}
    assert 0 < card["validation"]["dev"]["unmapped"]["questions"] <= 6
    assert {f.name for f in news.written_files()} <= set(card["data_sha256"])
    assert loaded.matrix.shape == (384, 384) and not np.allclose(loaded.matrix, np.eye(384))
