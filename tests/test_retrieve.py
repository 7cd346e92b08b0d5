"""Hybrid retrieval over the seed index: the passage holding the answer ranks in the top 3."""

import pytest

from index.mapped import normalize_text
from rag.evidence.retrieve import Filters, rrf

from conftest import SEEDS

# (question, source file, a phrase of the answer that the right passage contains)
QUESTIONS = [
    ("Who is the secretary-general of Kataib Hezbollah?", "003", "Abu Hussein al-Hamidawi"),
    ("What did Kataib Hezbollah's leader call for regarding the American embassy?", "003", "immediate closure of the US embassy"),
    ("Where did two Israeli missiles fall in southern Iraq?", "000", "Dhi Qar"),
    ("Who leads Kataib Sayyid al-Shuhada?", "000", "Abu Alaa al-Walaei"),
    ("Which newspaper did an Iraqi Foreign Ministry official speak to about diplomatic actions toward the West?", "004", "Al-Araby Al-Jadeed"),
    ("Who sent a letter to the UN Security Council calling for action against the militias?", "004", "Gideon Sa'ar"),
    ("What is the name of Iraq's national security advisor who met the EU delegation?", "001", "Qasim al-Araji"),
    ("Which US defense secretary announced new deployments to the Middle East?", "001", "Lloyd Austin"),
    ("Which command directed the maximum deployment of army and security forces across Iraqi cities?", "002", "Joint Military Operations Command"),
    ("Why did Iraqi authorities expect an increased risk of attacks after Monday?", "002", "local ele"),
    ("Where was an explosive drone intercepted at an airbase used by coalition forces?", "003", "Ain al-Asad"),
    ("Who commands Iraq's air defences?", "003", "Muhannad Ghalib al-Asadi"),
    ("What did Nouri al-Maliki call Iran's retaliatory strikes?", "003", "true victory"),
    ("Which countries oppose Israeli attacks against Iraq according to the official?", "004", "Britain, and France"),
    ("What did the Iraqi News Agency's government source say about the evacuation procedures?", "000", "do not only concern Iraq"),
]


@pytest.mark.parametrize("question,source,phrase", QUESTIONS)
def test_answer_passage_in_top_3(retriever, question, source, phrase):
    hits = retriever.search(question, k=3)
    assert any(h.source.startswith(source) and phrase in normalize_text(h.text) for h in hits), \
        [(h.source, h.text[:80]) for h in hits]


def test_hits_carry_metadata_and_exact_offsets(retriever):
    hits = retriever.search("Gulan Media security measures", k=5)
    assert len(hits) == 5 and hits[0].score >= hits[-1].score
    gulan = next(h for h in hits if h.source.startswith("002"))
    assert gulan.publisher == "Gulan Media" and gulan.date == "2023-12-17" and gulan.title
    for h in hits:
        original = (SEEDS / h.source).read_text(encoding="utf-8")
        assert normalize_text(original[h.start:h.end]) == normalize_text(h.text)


def test_filter_by_source_and_date(retriever):
    only = retriever.search("militias attacks", k=5, filters=Filters(sources=["001_6a6cacd864d4e7cd.txt"]))
    assert only and {h.source for h in only} == {"001_6a6cacd864d4e7cd.txt"}
    dated = retriever.search("security measures", k=5, filters=Filters(date_from="2023-12-01", date_to="2023-12-31"))
    assert dated and {h.date for h in dated} == {"2023-12-17"}
    assert retriever.search("security", k=5, filters=Filters(date_from="2030-01-01")) == []


@pytest.mark.parametrize("method", ["dense", "bm25"])
def test_single_methods_work(retriever, method):
    hits = retriever.search("Abu Hussein al-Hamidawi statement", k=3, method=method)
    assert hits and hits[0].source.startswith("003")
    assert (hits[0].dense_score is None) == (method == "bm25")


def test_rrf_fuses_rankings():
    fused = rrf([["a", "b", "c"], ["c", "a"]], [1.0, 1.0], k=60)
    assert max(fused, key=fused.get) == "a" and fused["c"] > fused["b"]
    assert rrf([["a"], ["b"]], [0.0, 1.0], k=60)["a"] == 0.0


def test_answer_sentences_come_with_their_stored_embeddings(retriever):
    """Every sentence the answer ranks is found in the store, embedded as the model embeds it now,
    so answering embeds nothing but the question."""
    from rag.evidence.rank import similarities
    from rag.evidence.sentences import candidate_sentences

    hits = retriever.search("Who commands Iraq's air defences?", k=5)
    texts = [s.text for s in candidate_sentences(hits)]
    stored = retriever.store.sentence_vectors([h.id for h in hits])
    assert len(texts) > 5 and set(texts) <= stored.keys()
    fresh = retriever.embedder.embed(texts[:3])
    assert all(similarities(stored[t], [v])[0] > 0.999 for t, v in zip(texts, fresh))
    assert retriever.sentence_vectors(hits, texts[:3]) == [stored[t] for t in texts[:3]]
    unknown = "A sentence no article holds."  # embedded on the spot, never an error
    assert similarities(retriever.sentence_vectors(hits, [unknown])[0], retriever.embedder.embed([unknown]))[0] > 0.999
    assert retriever.sentence_vectors([], []) == [] and retriever.store.sentence_vectors([]) == {}
