"""The embedder: the packaged MiniLM read through transformers gives sentence-transformers' vectors bit for bit,
a question's vector, through the traced model, is the one its text gets as a passage, and a model folder it
cannot use is refused with the fix."""

import json

import numpy as np
import pytest

from index.embed import Embedder, Traced
from index.errors import ModelMissing
from index.settings import IndexSettings, Settings
from rag.pipeline import Library

from conftest import SEEDS


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Seed articles whole (longer than the model reads: truncated), their lines, a one-word text and an empty one."""
    articles = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    lines = [line for a in articles for line in a.splitlines() if line.strip()][:70]
    return articles + lines + ["Who?", ""]


def test_vectors_are_sentence_transformers_own(embedder, texts):
    from sentence_transformers import SentenceTransformer

    library = SentenceTransformer(str(embedder.path), device="cpu", local_files_only=True)
    expected = library.encode(texts, batch_size=32, normalize_embeddings=True)
    assert np.array_equal(np.array(embedder.embed(texts), dtype=np.float32), expected)
    tokens = library.encode(texts[:40], batch_size=32, output_value=None)
    units, sums = embedder.embed_with_sums(texts[:40])
    assert np.array_equal(np.array(units, dtype=np.float32), library.encode(texts[:40], normalize_embeddings=True))
    for got, out in zip(sums, tokens):
        assert np.array_equal(np.array(got, dtype=np.float32), out["token_embeddings"][out["attention_mask"].bool()].sum(0))


def test_a_question_vector_is_the_one_its_text_gets_as_a_passage(embedder, texts):
    questions = ["Who?", "What did the Iraqi foreign minister say about the talks with Washington?"] + texts[5:25]
    assert Library(Settings()).embedder.traced  # what the server and the UI share traces; one `rag ask` does not
    traced = Embedder(Settings(), traced=True)  # a server's (index.embed.Traced): the same floats
    assert isinstance(traced.query_model, Traced) and not isinstance(embedder.query_model, Traced)
    for question in questions:
        passage = np.array(embedder.embed([question])[0])
        assert np.array_equal(np.array(embedder.embed_query(question)), passage)
        assert np.array_equal(np.array(traced.embed_query(question)), passage)


def test_a_folder_that_is_not_a_mean_pooled_model_is_refused(tmp_path):
    with pytest.raises(ModelMissing, match="RAG_EMBED_MODEL_PATH"):
        Embedder(Settings(index=IndexSettings(embed_model_path=tmp_path))).model
    (tmp_path / "modules.json").write_text(json.dumps([{"idx": 1, "name": "1", "path": "1_Pooling",
                                                         "type": "sentence_transformers.models.Pooling"}]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ModelMissing, match="does not mean-pool"):
        Embedder(Settings(index=IndexSettings(embed_model_path=tmp_path))).embed(["a"])
