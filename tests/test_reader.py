"""The reader: its training data, its training command, the committed weights and their loading."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from rag.eval.metrics import auroc
from rag.reader import news
from rag.evidence.premise import unmentioned
from rag.reader.combiner import (FEATURES, QUESTION_FEATURES, SHORTLIST, Combiner, fit, fit_excerpt_weight, fit_head,
                                 fit_rerank)
from rag.reader.data import SquadQuestion, read_questions, squad_questions, training_pairs
from rag.reader.excerpt_reader import ExcerptReader, ExcerptReaderMissing, Probe, excerpt
from rag.reader.excerpt_student import ExcerptStudent
from rag.reader.excerpt_student_train import train_excerpt_student
from rag.reader.excerpt_train import LAYER, Elsewhere, elsewhere, train_excerpt_reader
from rag.reader.model import second_segment
from rag.reader.score import WEIGHTS_DIR, Reader, ReaderMissing
from rag.reader.swaps import premise_swaps
from rag.reader.train import DEFAULT_DATA, Recipe, sha256, train

SHARED = pytest.mark.skipif(not news.BBC.is_file(), reason="../shared/data is not beside the repository")

PARAGRAPH = ("The Rhine rises in the Swiss Alps. It flows north through Germany. "
             "Its mouth is in the Netherlands, near Rotterdam.")


def _squad_file(tmp_path: Path) -> Path:
    qas = [{"id": "a", "question": "Where is the mouth of the Rhine?", "is_impossible": False,
            "answers": [{"text": "the Netherlands", "answer_start": PARAGRAPH.index("the Netherlands")}]},
           {"id": "u", "question": "Where is the mouth of the Danube?", "is_impossible": True, "answers": [],
            "plausible_answers": [{"text": "Rotterdam", "answer_start": PARAGRAPH.index("Rotterdam")}]}]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"data": [{"title": "Rhine", "paragraphs": [{"context": PARAGRAPH, "qas": qas}]}]}))
    return path


def test_a_premise_swap_changes_one_fact_of_the_question_to_another_the_article_names():
    text = "Orange said on Tuesday that it would cut 300 jobs. Its rival Vodafone reports its results on Friday."
    question = "Which firm said on Tuesday that it would cut 300 jobs?"
    qas = [{"id": "q", "question": question, "is_impossible": False,
            "answers": [{"text": "Orange", "answer_start": 0}]}]
    squad = {"data": [{"title": "Phone firms", "paragraphs": [{"context": text, "qas": qas}]}]}
    questions = squad_questions(squad, "bbcqa")
    [pair] = premise_swaps(questions, seed=0)
    assert pair.label == 0.0 and pair.second == questions[0].seconds[0] and pair.qid == "q~swap"
    assert pair.question == question.replace("Tuesday", "Friday")  # the article's one other date
    assert premise_swaps(squad_questions(squad, "squad2-30"), seed=0) == []  # SQuAD has its own unanswerables


def test_pairs_mark_the_answer_sentence_and_take_the_plausible_one_as_a_hard_negative(tmp_path):
    questions = read_questions(_squad_file(tmp_path))
    assert [q.answer_at for q in questions] == [{2}, set()]
    assert questions[1].plausible_at == {2}
    pairs = training_pairs(questions, negatives=1, rng=random.Random(0))
    positives = [p for p in pairs if p.label == 1.0]
    assert [p.qid for p in positives] == ["a"] and positives[0].second.startswith("Its mouth is in the Netherlands")
    assert "It flows north through Germany." in positives[0].second  # the sentence before, as context
    unanswerable = [p for p in pairs if p.qid == "u"]
    assert len(unanswerable) == 1 and unanswerable[0].label == 0.0 and "Rotterdam" in unanswerable[0].second


def test_mined_negatives_join_the_pairs_as_negatives(tmp_path):
    questions = read_questions(_squad_file(tmp_path))
    questions[0].mined = ["The Danube flows into the Black Sea.", "Rotterdam is a port.", "Unused."]
    pairs = training_pairs(questions, negatives=1, rng=random.Random(0), mined=2)
    mined = [p for p in pairs if p.second in questions[0].mined]
    assert [p.second for p in mined] == questions[0].mined[:2] and all(p.label == 0.0 and p.qid == "a" for p in mined)
    assert len(pairs) == len(training_pairs(questions, negatives=1, rng=random.Random(0))) + 2


def test_the_sentence_comes_before_its_context_so_truncation_drops_context_first():
    assert second_segment("He said so.", "Sa'ar wrote.", "News") == "He said so. [SEP] News: Sa'ar wrote."
    assert second_segment("He said so.") == "He said so."


def test_auroc_on_hand_made_scores():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.5], [0.5]) == 0.5
    assert auroc([], [0.3]) == 0.0


@pytest.mark.skipif(not DEFAULT_DATA[0].is_file(), reason="../shared/data is not beside the repository")
def test_train_reader_command_trains_a_few_steps_and_resumes(tmp_path):
    first = news.split(news.read_articles()).train[0]["id"]
    mined = tmp_path / "negatives.jsonl"  # as `rag mine-negatives` writes them
    mined.write_text(json.dumps({"id": first, "negatives": ["Shares in the firm fell by 3% on Monday."]}) + "\n")
    recipe = Recipe(limit=12, batch_size=8, checkpoint_every=1, mined=str(mined))  # the news stage, from the SQuAD reader
    card = train(recipe, tmp_path, progress=False)
    weights = tmp_path / "reader.safetensors"
    assert card["weights_sha256"] == sha256(weights)
    assert card["data_sha256"]["squad2-30.json"] == sha256(DEFAULT_DATA[0])
    assert card["data_sha256"]["train.jsonl"] == sha256(news.SHARED_QUESTIONS)
    assert {f.name for f in news.written_files()} | {"negatives.jsonl"} <= set(card["data_sha256"])
    assert card["recipe"]["seed"] == 13 and "squad2-30" in card["validation"]
    shutil.copy(WEIGHTS_DIR / "combiner.json", tmp_path)  # the Reader loads its combiner beside the weights
    probabilities = Reader(tmp_path).probabilities("Where is the mouth of the Rhine?", [PARAGRAPH, "Unrelated."])
    assert len(probabilities) == 2 and all(0 < p < 1 for p in probabilities)
    weights.unlink()  # a rerun resumes from the final checkpoint: nothing is trained again, the same weights come out
    assert train(recipe, tmp_path, progress=False)["weights_sha256"] == card["weights_sha256"]


def test_the_committed_reader_prefers_the_answer_sentence():
    reader = Reader()
    question = "Who is the leader of Kata'ib Sayyid al-Shuhada?"
    answer, premise, other = reader.probabilities(question, [
        second_segment("The leader of Kata'ib Sayyid al-Shuhada, Abu Alaa al-Walaei, vowed to \"set the Middle East "
                       "on fire\" if Iran is attacked."),
        second_segment("Kata'ib Sayyid al-Shuhada is one of the militias in the Islamic Resistance in Iraq."),
        second_segment("Two Israeli missiles fell on the outskirts of Dhi Qar governorate.")])
    assert answer > 0.5 > other and answer > premise


def test_the_committed_weights_match_their_card():
    card = json.loads((WEIGHTS_DIR / "reader.json").read_text())
    assert sha256(WEIGHTS_DIR / "reader.safetensors") == card["weights_sha256"]
    assert (WEIGHTS_DIR / "reader.safetensors").stat().st_size <= 50 * 2**20


def test_missing_or_corrupt_reader_weights_give_one_clear_error(tmp_path):
    with pytest.raises(ReaderMissing, match="git checkout -- rag/reader/weights"):
        Reader(tmp_path)  # no card at all
    shutil.copy(WEIGHTS_DIR / "reader.json", tmp_path)
    (tmp_path / "reader.safetensors").write_bytes(b"not weights")
    with pytest.raises(ReaderMissing, match="missing or corrupt"):
        Reader(tmp_path).probabilities("Who?", ["Someone."])
    assert Reader().probabilities("Who?", []) == []
    huge = Reader().probabilities("Who said it? " * 400, [second_segment("He said so. " * 100, "Sa'ar wrote.", "News")])
    assert len(huge) == 1 and 0 < huge[0] < 1  # both segments far past 96 tokens are truncated, not rejected


def test_the_reader_ranks_and_refuses_in_the_pipeline(seed_settings, retriever):
    from rag.pipeline import Assistant

    assistant = Assistant(seed_settings.changed(answer={"ranker": "reader"}), retriever=retriever, generator=None,
                          mode="extractive")
    answer = assistant.ask("Who is the leader of Kata'ib Sayyid al-Shuhada?")
    assert not answer.refused and "Abu Alaa al-Walaei" in answer.answer
    assert answer.answerability >= seed_settings.answer.reader_threshold
    assert all(Path(c.file).read_text(encoding="utf-8")[c.start:c.end] == c.quote for c in answer.citations)
    off_corpus = assistant.ask("What is the boiling point of liquid nitrogen?")
    assert off_corpus.refused and 0 <= off_corpus.answerability < 1


def test_the_combiner_round_trips_and_refuses_a_file_of_other_features(tmp_path):
    combiner = Combiner([0.5] * len(FEATURES), -1.0, [0.0] * len(QUESTION_FEATURES), 0.0, (2.0, 0.5))
    combiner.head[0] = 1.0  # answerability rises with the best candidate's logit
    combiner.save(tmp_path)
    again = Combiner.load(tmp_path)
    weak, strong = [0.0] * len(FEATURES), [3.0] * len(FEATURES)
    assert again.probability(strong) == combiner.probability(strong)
    assert 0 < again.answerability([weak], [None]) < again.answerability([strong, weak], [None, None]) < 1
    assert again.answerability([], []) == 0.0
    (tmp_path / "combiner.json").write_text('{"weights": [1], "bias": 0, "calibration": [1, 0], "features": ["x"]}')
    with pytest.raises(ValueError, match="fitted on features"):
        Combiner.load(tmp_path)
    headless = {"weights": [1] * len(FEATURES), "bias": 0, "calibration": [1, 0], "features": list(FEATURES)}
    (tmp_path / "combiner.json").write_text(json.dumps(headless))  # fitted before the answerability head
    with pytest.raises(ValueError, match="answerability head"):
        Combiner.load(tmp_path)
    shutil.copy(WEIGHTS_DIR / "reader.json", tmp_path)
    with pytest.raises(ReaderMissing, match="combiner"):
        Reader(tmp_path).combiner  # noqa: B018


def test_the_answerability_head_is_fitted_on_questions_and_separates_them():
    rng = random.Random(3)
    rows = [[rng.gauss(0, 1) for _ in FEATURES] for _ in range(200)]
    combiner = fit(rows, [int(r[0] > 0) for r in rows])  # the reader's logit decides a candidate
    questions = [[[rng.gauss(0, 1) + (2 if answerable else -2), *[rng.gauss(0, 1) for _ in FEATURES[1:]]]
                  for _ in range(3)] for answerable in [True, False] * 40]
    judged = [[rng.gauss(0, 1)] * 3 for _ in questions]  # the excerpt reader's logits, uninformative here
    fit_head(combiner, questions, judged, [True, False] * 40)
    assert len(combiner.head) == len(QUESTION_FEATURES)
    answerable = [combiner.answerability(q, j) for q, j in zip(questions[0::2], judged[0::2])]
    unanswerable = [combiner.answerability(q, j) for q, j in zip(questions[1::2], judged[1::2])]
    assert auroc(answerable, unanswerable) > 0.9


def test_an_excerpt_logit_weighed_into_a_fitted_head_keeps_the_head_and_adds_what_the_logit_knows():
    rng = random.Random(11)
    rows = [[rng.gauss(0, 1) for _ in FEATURES] for _ in range(200)]
    combiner = fit(rows, [int(r[0] > 0) for r in rows])
    questions = [[[rng.gauss(0, 1) for _ in FEATURES] for _ in range(3)] for _ in range(300)]
    answerable = [rng.random() < 0.5 for _ in questions]
    fit_head(combiner, questions, [[None] * 3] * 300, answerable)  # the features know nothing here
    before = [combiner.answerability(q, [None] * 3) for q in questions]
    assert not combiner.reads_excerpts and combiner.judged_when_answering == 1
    best = [combiner.best(q) for q in questions]  # the excerpt logit of the best candidate knows the answer
    judged = [[(2.0 if a else -2.0) + rng.gauss(0, 1) if i == b else None for i in range(3)]
              for a, b in zip(answerable, best)]
    fit_excerpt_weight(combiner, questions, judged, answerable)
    assert combiner.reads_excerpts and combiner.head[QUESTION_FEATURES.index("excerpt")] > 0
    after = [combiner.answerability(q, j) for q, j in zip(questions, judged)]
    split = lambda scores: auroc([p for p, a in zip(scores, answerable) if a], [p for p, a in zip(scores, answerable) if not a])
    assert split(before) < 0.65 < 0.9 < split(after)


def test_the_rerank_learns_to_follow_the_excerpt_reader_within_the_shortlist():
    rng = random.Random(5)
    rows = [[rng.gauss(0, 1) for _ in FEATURES] for _ in range(200)]
    combiner = fit(rows, [int(r[0] > 0) for r in rows])
    questions, judged, labels = [], [], []
    for _ in range(60):  # the evidence is the second most likely candidate as often as the first
        q = [[rng.gauss(0, 1) for _ in FEATURES] for _ in range(4)]
        top = combiner.shortlist(q)
        assert len(top) == SHORTLIST and top[0] == combiner.best(q)
        gold = rng.choice(top)
        questions.append(q)
        judged.append([(3.0 if i == gold else -3.0) + rng.gauss(0, 0.5) if i in top else None for i in range(4)])
        labels.append([int(i == gold) for i in range(4)])
    assert all(combiner.chosen(q, j) == combiner.best(q) for q, j in zip(questions, judged))  # no rerank yet
    fit_rerank(combiner, questions, judged, labels)
    assert combiner.rerank[1] > 0
    assert all(ls[combiner.chosen(q, j)] for q, j, ls in zip(questions, judged, labels))
    assert combiner.chosen(questions[0], [None] * 4) == combiner.best(questions[0])


def test_a_question_naming_what_its_article_never_does_counts_it_unmentioned():
    article = "Gordon Brown said the UK would make similar offers to 70 poorer nations after the deal with Tanzania."
    assert unmentioned("What did Mr Brown offer Tanzania?", article) == 0
    assert unmentioned("What did Mr Brown offer Kenya?", article) == 1
    assert unmentioned("How many nations did Brown make offers to in 1967 after the Kenya deal?", article) == 2
    # a people named after a place the article names, a name spelled with or without its apostrophe, the
    # slot the question asks for and a number said in words are no premise the article must repeat
    article = "Iran backs Kata'ib Hezbollah, Tanzania said on Monday, 70 times."
    assert unmentioned("What did the Iranian-backed Kataib Hezbollah do?", article) == 0
    assert unmentioned("On what day did the two Tanzanian officials speak?", article) == 0
    assert unmentioned("What did the Kenyan officials say in 1967?", article) == 2


def test_the_type_check_refuses_a_question_no_candidate_offers_an_answer_for(tmp_path):
    at = {name: i for i, name in enumerate(FEATURES)}
    combiner = Combiner([0.5] * len(FEATURES), -1.0, [1.0, 0, 0, 0, 0], 0.0, (1.0, 0.0), type_check=True)
    offering, silent = [3.0] * len(FEATURES), [3.0] * len(FEATURES)
    offering[at["typed"]] = silent[at["typed"]] = 1.0  # the question asks for a kind of answer
    silent[at["fits"]] = 0.0  # and this candidate offers none
    assert combiner.answerability([silent, silent], [None, None]) == 0.0 and combiner.offers_nothing([silent])
    assert combiner.answerability([silent, offering], [None, None]) > 0.5
    untyped = [[*silent[:at["typed"]], 0.0, *silent[at["typed"] + 1:]]]
    assert combiner.answerability(untyped, [None]) > 0.5  # no kind asked for: nothing to offer
    combiner.save(tmp_path)
    assert Combiner.load(tmp_path).type_check and not combiner.reads_excerpts


def test_the_excerpt_is_the_sentence_with_its_neighbours():
    sentences = ["The Rhine rises in the Swiss Alps.", "It flows north through Germany.", "Its mouth is near Rotterdam."]
    assert excerpt(sentences, 0) == "The Rhine rises in the Swiss Alps. It flows north through Germany."
    assert excerpt(sentences, 2) == "It flows north through Germany. Its mouth is near Rotterdam."


def test_the_committed_excerpt_reader_tells_an_answering_excerpt_from_an_on_topic_and_an_unrelated_one(seed_settings):
    reader = ExcerptReader(seed_settings)
    question = "Who is the leader of Kata'ib Sayyid al-Shuhada?"
    answering = "Kata'ib Sayyid al-Shuhada is led by Abu Alaa al-Walaei. The group is part of the coalition."
    on_topic = "Kata'ib Sayyid al-Shuhada fighters were seen near the border. The group is part of the coalition."
    assert reader.logit(question, "Iraqi militias", answering) > reader.logit(question, "Iraqi militias", on_topic)
    assert 0 < reader.probability(question, "Iraqi militias", answering) < 1
    assert reader.logit("Which company makes the iPhone?", "Iraqi militias", answering) < 0  # another story


def test_a_missing_or_corrupt_excerpt_reader_probe_gives_one_clear_error(tmp_path, seed_settings):
    with pytest.raises(ExcerptReaderMissing, match="git checkout -- rag/reader/weights"):
        ExcerptReader(seed_settings, tmp_path)
    (tmp_path / "excerpt_reader.json").write_text("{not json")
    with pytest.raises(ExcerptReaderMissing, match="rag train-excerpt-reader"):
        ExcerptReader(seed_settings, tmp_path)
    probe = json.loads((WEIGHTS_DIR / "excerpt_reader.json").read_text())
    probe["bias"] += 1  # altered after training: its card's SHA-256 no longer matches
    (tmp_path / "excerpt_reader.json").write_text(json.dumps(probe))
    shutil.copy(WEIGHTS_DIR / "excerpt_reader-card.json", tmp_path)
    with pytest.raises(ExcerptReaderMissing, match="SHA-256"):
        ExcerptReader(seed_settings, tmp_path)


@SHARED
def test_train_excerpt_reader_command_fits_a_probe_on_a_slice_and_resumes(tmp_path, seed_settings):
    figures = train_excerpt_reader(seed_settings, tmp_path / "out", tmp_path / "states", progress=False, limit=8)
    probe = Probe.load(tmp_path / "out")
    assert probe.layer == LAYER and len(probe.weights) == len(probe.mean) == 896
    assert figures["train_questions"] == figures["train_elsewhere"] == 8
    assert 0 <= figures["dev_auroc_gold_paragraph"] <= 1 and 0 <= figures["dev_elsewhere_above_0"] <= 1
    cached = [tmp_path / "states" / f"excerpt-{name}-{LAYER}.npy" for name in ("train", "elsewhere")]
    before = [path.stat().st_mtime_ns for path in cached]
    assert train_excerpt_reader(seed_settings, tmp_path / "out", tmp_path / "states", progress=False, limit=8) == figures
    assert [path.stat().st_mtime_ns for path in cached] == before  # resumed: no state computed again
    # the excerpt student learns from those states (the excerpt reader's logits), a few steps
    card = train_excerpt_student(seed_settings, tmp_path / "student", tmp_path / "states", limit=8, epochs=1,
                                 progress=False)
    assert card["recipe"]["pairs"] >= 16 and 0 <= card["dev_auroc_gold_paragraph"] <= 1
    assert ExcerptStudent(tmp_path / "student").logits("Who?", [("A title", "A sentence.")])[0] == pytest.approx(
        ExcerptStudent(tmp_path / "student").logit("Who?", "A title", "A sentence."))
    assert train_excerpt_student(seed_settings, tmp_path / "student", tmp_path / "states", limit=8, epochs=1,
                                 progress=False) == card  # resumed from its last checkpoint: nothing trained again


def test_the_other_article_excerpt_shares_the_question_s_words_but_never_its_article_or_evidence():
    def asked(title: str, sentences: list[str], answer_at: set[int]) -> SquadQuestion:
        return SquadQuestion("q", "bbcqa", title, "How much did Halifax say UK house prices rose in December?",
                             [], sentences, answer_at, set(), answers=[sentences[i] for i in answer_at])

    own = ["UK house prices rose 1.1% in December, the Halifax said.", "Mortgage approvals fell."]
    pool = [Elsewhere("Halifax prices", own, 0), Elsewhere("Copy of the story", own, 0),
            Elsewhere("Nationwide survey", ["House prices fell 0.2% in December, the Nationwide said."], 0),
            Elsewhere("Football", ["Arsenal won in December."], 0)]
    chosen = elsewhere([asked("Halifax prices", own, {0}), asked("Other", ["Nothing."], set())], pool)
    assert [e.title for e in chosen] == ["Nationwide survey", "Halifax prices"]
    with pytest.raises(ValueError, match="only its own article"):
        elsewhere([asked("Halifax prices", own, {0})], pool[:1])
