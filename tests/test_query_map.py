"""The query map: the committed one moves unseen news questions towards their answering sentence,
a broken one is one clear error, and the training command trains on a slice."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from index.embed import Embedder, Traced
from index.settings import Settings
from rag.evidence.query_map import CARD_FILE, WEIGHTS_DIR, WEIGHTS_FILE, QueryMap, QueryMapMissing
from rag.evidence.train_query_map import Recipe, embedded, examples, ranks, train
from rag.reader import news

SHARED = pytest.mark.skipif(not news.BBC.is_file(), reason="../shared/data is not beside the repository")


@SHARED
def test_the_committed_map_ranks_the_answer_higher_for_unseen_news_questions(embedder):
    articles = news.read_articles()
    questions = [q for q in news.split(articles).dev if q["answerable"]]  # 40 articles never trained on
    held = examples(questions, articles, embedded(questions, articles, embedder, progress=False))
    query_map = QueryMap.load(embedder)
    unmapped, mapped = ranks(held, [e.vector for e in held]), ranks(held, [query_map.vector(e.question) for e in held])
    assert len(held) == len(questions)
    assert mapped["first"] > unmapped["first"] and mapped["top3"] > unmapped["top3"], (unmapped, mapped)


def test_a_mapped_question_is_a_unit_vector_of_the_same_size(embedder):
    vector = embedder.embed_query("Who leads the board of the mining firm?")
    mapped = QueryMap.load(embedder).vector("Who leads the board of the mining firm?")
    assert len(mapped) == len(vector) and abs(np.linalg.norm(mapped) - 1) < 1e-5
    assert 0.5 < float(np.dot(mapped, vector)) < 0.999  # moved, but near the packaged model's vector
    served = QueryMap.load(Embedder(Settings(), traced=True))  # a server's: traced, the same floats
    assert isinstance(served.model, Traced) and served.vector("Who leads the board of the mining firm?") == mapped


def test_odd_questions_get_unit_vectors(embedder):
    query_map = QueryMap.load(embedder)
    for question in ["", "   ", "\x00?", "¿Qué dijo el ministro? 🇮🇶", "Who said what? " * 150]:  # the last past 256 wordpieces
        vector = query_map.vector(question)
        assert len(vector) == 384 and abs(np.linalg.norm(vector) - 1) < 1e-5, question[:20]


def test_a_corrupt_or_missing_map_is_one_error_naming_the_fix(tmp_path, embedder):
    shutil.copytree(WEIGHTS_DIR, tmp_path / "weights")
    weights = tmp_path / "weights" / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-7] + b"garbage")
    with pytest.raises(QueryMapMissing, match="corrupt.*rag train-query-map.*RAG_QUERY_MAP=false"):
        QueryMap.load(embedder, tmp_path / "weights")
    (tmp_path / "weights" / CARD_FILE).unlink()
    with pytest.raises(QueryMapMissing, match="card .* missing"):
        QueryMap.load(embedder, tmp_path / "weights")
    with pytest.raises(QueryMapMissing, match="do not fit the embedding model.*rag train-query-map"):
        QueryMap(embedder, {"matrix": torch.eye(3)}, {}).vector("Who?")


def test_with_the_map_off_a_question_keeps_its_embedding(embedder):
    question = "Who leads the board of the mining firm?"
    off = QueryMap.for_settings(Settings().changed(retrieval={"query_map": False}), embedder)
    assert off.vector(question) == embedder.embed_query(question)


@SHARED
def test_train_query_map_trains_on_a_slice_and_writes_a_checked_map(tmp_path, embedder):
    card = train(tmp_path, Recipe(limit=6, epochs=1, warmup=1), progress=False)
    loaded = QueryMap.load(embedder, tmp_path)
    assert 0 < card["training_questions"] <= 6 and set(card["validation"]) == {"fit", "dev"}
    assert 0 < card["validation"]["dev"]["unmapped"]["questions"] <= 6
    assert {f.name for f in news.written_files()} <= set(card["data_sha256"])
    packaged = embedder.model.state_dict()
    assert set(loaded.layers) == {k for k in packaged if not k.startswith("embeddings.")}
    assert any(not torch.equal(v, packaged[k].half()) for k, v in loaded.layers.items())  # trained
