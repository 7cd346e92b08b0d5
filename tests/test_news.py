"""The labelled news questions (`rag.reader.news`), the combiner fitted on them, and answers over BBC articles."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from rag.reader import news
from rag.reader.combiner import FEATURES, QUESTION_FEATURES
from rag.reader.score import Reader

SHARED = pytest.mark.skipif(not news.BBC.is_file(), reason="../shared/data is not beside the repository")


@SHARED
def test_written_news_questions_quote_their_articles_and_stay_off_dev_reserved_and_seeds():
    articles = news.read_articles()
    reserved = news.reserved_ids()
    assert reserved  # the shared folder's reserved.txt was read
    assert len(news.written_files()) >= 7
    for path in news.written_files():
        assert news.problems(news.read_lines(path), articles, reserved) == [], path.name
    for path in news.heldout_files():
        assert news.problems(news.read_lines(path), articles, reserved) == [], path.name
    split = news.split(articles)
    texts = {name: {articles[q["article_id"]]["text"] for q in part} for name, part in
             (("train", split.train), ("fit", split.fit), ("dev", split.dev), ("heldout", split.heldout))}
    assert not texts["train"] & texts["dev"] and not texts["fit"] & texts["dev"] and not texts["train"] & texts["fit"]
    assert not texts["heldout"] & (texts["train"] | texts["fit"] | texts["dev"])
    assert len(split.heldout) == sum(len(news.read_lines(p)) for p in news.heldout_files()) >= 600
    assert len({q["article_id"] for q in split.dev}) >= 30 and len(split.dev) >= 180
    reserved_texts = {articles[a]["text"] for a in reserved}
    assert not reserved_texts & (texts["train"] | texts["fit"] | texts["dev"] | texts["heldout"])
    seeds = [p.read_text(encoding="utf-8") for p in (Path(__file__).parent.parent / "seeds").iterdir()]
    assert not any(q["evidence"][0] in seed for q in split.train + split.fit + split.heldout for seed in seeds)


@SHARED
def test_the_cheap_combiner_fits_on_the_reader_s_training_split_too_without_reading(tmp_path, embedder):
    from index.build import build_index
    from index.settings import IndexSettings, Settings
    from rag.evidence.gather import Gatherer
    from rag.evidence.retrieve import Retriever
    from rag.pipeline import asked_without_article
    from rag.question.read import read
    from rag.reader.data import is_held_out, read_questions
    from rag.evidence.query_map import WEIGHTS_DIR as EVIDENCE_WEIGHTS
    from rag.reader.excerpt_student import ExcerptStudent
    from rag.reader.fit import fit_combiner, fit_rows_and_calibrate, foreign_questions

    articles = news.read_articles()
    full = news.split(articles)
    part = news.NewsSplit(full.train[:6], full.fit[:6], full.dev[:12])  # one article each, two for dev
    news.write_corpus([articles[i] for i in {q["article_id"] for q in part.train + part.fit + part.dev}],
                      tmp_path / "corpus")
    settings = Settings(index=IndexSettings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    gatherer = Gatherer(Retriever(settings, embedder=embedder), describe=True)
    combiner = fit_combiner(part, lambda text: gatherer.gather(read(text, None, settings)).ranked,
                            asked_without_article(gatherer, settings, articles), None, settings.index.corpus_dir,
                            progress=False, keep=tmp_path / "rows.json", foreign=foreign_questions(news.SQUAD, 4))
    assert combiner.type_check and not combiner.rerank and not combiner.reads_excerpts
    assert combiner.weights[:2] == [0.0, 0.0]  # no reader: its two features are 0 and weigh nothing
    assert combiner.figures["fit"]["questions"] == 28 and combiner.figures["dev"]["questions"] == 12  # 12 absent, 4 foreign
    kept = json.loads((tmp_path / "rows.json").read_text())
    assert kept["cheap"] is True  # a refit from these rows with the reader is refused
    assert all(len(f) == len(FEATURES) and f[0] == 0.0 for row in kept["fit"] for f in row["features"])
    foreign = [row for row in kept["fit"] if row["kind"] == "foreign"]
    held_out = {q.text for q in read_questions(news.SQUAD) if is_held_out(q.article)}
    assert len(foreign) == 4 and not any(row["answerable"] or row["question"] in held_out for row in foreign)
    # the excerpt student weighed in, on the questions of articles it never trained on (the fit split's)
    stacked = fit_rows_and_calibrate(kept["fit"], kept["dev"], None, progress=False, type_check=True,
                                     student=ExcerptStudent(EVIDENCE_WEIGHTS).logit,
                                     unseen={q["question"] for q in part.fit})
    assert stacked.reads_excerpts and not stacked.rerank and stacked.figures["fit"]["questions"] == 16
    assert all(len(row["judged"]) == 1 for row in kept["dev"] if row["features"])  # the best candidate alone


@SHARED
def test_news_questions_become_reader_questions_with_the_evidence_marked():
    articles = news.read_articles()
    dev = news.split(articles).dev
    questions = {q.qid: q for q in news.reader_questions(dev, articles)}
    assert len(questions) == len(dev)
    for q in dev:
        read = questions[q["id"]]
        marked = read.answer_at if q["answerable"] else read.plausible_at
        assert marked and all(any(s in e or e in s for e in q["evidence"]) for s in (read.sentences[i] for i in marked))
        assert not (read.answer_at if not q["answerable"] else set())


@SHARED
def test_fit_combiner_fits_on_news_questions_asked_against_their_corpus(tmp_path, embedder):
    from index.build import build_index
    from index.settings import IndexSettings, Settings
    from rag.evidence.gather import Gatherer
    from rag.evidence.retrieve import Retriever
    from rag.pipeline import asked_without_article
    from rag.question.read import read
    from rag.reader.excerpt_reader import ExcerptReader
    from rag.reader.fit import fit_combiner

    articles = news.read_articles()
    full = news.split(articles)
    part = news.NewsSplit([], full.fit[:12], full.dev[:12])  # two articles each
    ids = {q["article_id"] for q in part.fit + part.dev}
    news.write_corpus([articles[i] for i in ids], tmp_path / "corpus")
    settings = Settings(index=IndexSettings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    gatherer = Gatherer(Retriever(settings, embedder=embedder), Reader())
    without = asked_without_article(gatherer, settings, articles)
    assert all(r.sentence.source != news.source_name(part.fit[0]["article_id"])
               for r in without(part.fit[0]["question"], part.fit[0]["article_id"]))
    judge = ExcerptReader(settings).logit
    combiner = fit_combiner(part, lambda text: gatherer.gather(read(text, None, settings)).ranked, without, judge,
                            settings.index.corpus_dir, progress=False)
    assert len(combiner.weights) == len(FEATURES) and len(combiner.head) == len(QUESTION_FEATURES)
    assert combiner.figures["dev"]["questions"] == 12 and combiner.figures["fit"]["questions"] == 24  # 12 absent
    assert 0 < combiner.figures["fit"]["first_is_evidence"] <= 1
    assert 0 < combiner.figures["chosen"]["threshold"] < 1 and combiner.figures["chosen"]["answerable_refused"] <= 0.05


@SHARED
def test_no_answer_repeats_a_sentence_when_the_corpus_holds_a_story_twice(tmp_path, embedder):
    """The BBC set holds 133 stories under two ids; the dev split's questions about three of them once
    got answers saying the same sentence twice (22 of 240 answers on the whole corpus)."""
    from index.build import build_index
    from index.settings import IndexSettings, Settings
    from rag.pipeline import Assistant

    articles = news.read_articles()
    ids_by_text = collections.defaultdict(list)
    for record in articles.values():
        ids_by_text[record["text"]].append(record["id"])
    dev = news.split(articles).dev
    twice = {i for q in dev for i in ids_by_text[articles[q["article_id"]]["text"]]
             if len(ids_by_text[articles[q["article_id"]]["text"]]) > 1}
    assert len(twice) >= 4
    news.write_corpus([articles[i] for i in sorted(twice)], tmp_path / "corpus")
    settings = Settings(index=IndexSettings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data"))
    build_index(settings, embedder=embedder, progress=False)
    assistant = Assistant(settings, generator=None, mode="extractive")
    answers = [assistant.ask(q["question"]) for q in dev if q["article_id"] in twice]
    said = [[" ".join(s.text.split()) for s in a.sentences] for a in answers if not a.refused]
    assert len(said) >= 6
    assert all(len(texts) == len(set(texts)) for texts in said)
