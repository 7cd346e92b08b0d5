"""Chunking: offsets round-trip on arbitrary text, sizes stay within the model's limit, ids are stable."""

import hashlib

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from index.chunk import chunk_document, embed_text
from index.document import build_document
from index.load import RawFile, read_file
from index.mapped import normalize_text
from index.settings import IndexSettings, Settings

from conftest import SEEDS

ALPHABET = st.sampled_from(list("abcdefghij KLMNOP.,!?;:'\"-\n\t") + ["\u00a0", "\u2019", "\u201c", "\u201d",
                                                                     "\u2026", "é", "ﬁ", "\u200b", "\r", "×"])
words = st.text(alphabet=ALPHABET, min_size=0, max_size=3000)


def raw(text: str, name: str = "x.txt") -> RawFile:
    return RawFile(name, SEEDS / name, text, hashlib.sha256(text.encode()).hexdigest())


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words)
def test_offsets_round_trip_on_arbitrary_text(embedder, text):
    settings = Settings(index=IndexSettings(chunk_tokens=40))
    doc = build_document(raw(text))
    for chunk in chunk_document(doc, settings, embedder.wordpieces, embedder.max_tokens):
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert normalize_text(text[chunk.start:chunk.end]) == normalize_text(chunk.text)
        assert embedder.count_tokens(embed_text(chunk, settings)) + 2 <= embedder.max_tokens


def seed_chunks(embedder, settings):
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        doc = build_document(read_file(path, SEEDS, 10**7))
        out += chunk_document(doc, settings, embedder.wordpieces, embedder.max_tokens)
    return out


def test_seed_chunks_fit_the_model_with_their_title_prefix(embedder):
    settings = Settings()
    chunks = seed_chunks(embedder, settings)
    assert len(chunks) > 20
    for c in chunks:
        assert embedder.count_tokens(embed_text(c, settings)) + 2 <= embedder.max_tokens
        original = (SEEDS / c.source).read_text(encoding="utf-8")
        assert normalize_text(original[c.start:c.end]) == normalize_text(c.text)


def test_chunks_overlap_by_a_sentence(embedder):
    chunks = [c for c in seed_chunks(embedder, Settings()) if c.source.startswith("003")]
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))


def test_ids_are_stable_and_depend_on_content_and_settings(embedder):
    a = [c.id for c in seed_chunks(embedder, Settings())]
    b = [c.id for c in seed_chunks(embedder, Settings())]
    assert a == b and len(set(a)) == len(a)
    assert set(a).isdisjoint(c.id for c in seed_chunks(embedder, Settings(index=IndexSettings(chunk_tokens=100))))


def test_over_long_sentence_is_split_within_budget(embedder):
    text = "word " * 2000 + "end."
    settings = Settings(index=IndexSettings(chunk_tokens=64))
    chunks = chunk_document(build_document(raw(text)), settings, embedder.wordpieces, embedder.max_tokens)
    assert len(chunks) > 20
    assert all(embedder.count_tokens(c.text) <= 64 for c in chunks)
