"""Conversations: the multi-turn set, turn-by-turn evaluation, and exporting a conversation."""

import json
import tomllib

import pytest

from index.mapped import normalize_text
from rag.conversation import Conversation, Conversations
from rag.pipeline import evaluate
from rag.schema import Answer, Citation, Transcript
from rag.transcript import save, to_json, to_markdown

from conftest import ROOT, SEEDS, run_cli

CONVERSATIONS = [json.loads(line) for line in (ROOT / "eval" / "conversations.jsonl").read_text().splitlines()]


def test_conversation_set_shape_and_verbatim_quotes():
    kinds = {}
    for conversation in CONVERSATIONS:
        assert 3 <= len(conversation["turns"]) <= 5
        for turn in conversation["turns"]:
            kinds[turn["kind"]] = kinds.get(turn["kind"], 0) + 1
            assert turn["follow_up"] or turn["standalone"] == turn["question"]
            assert turn["answerable"] or not turn["evidence"]
            for ev in turn["evidence"]:
                original = (SEEDS / ev["source"]).read_text(encoding="utf-8")
                assert normalize_text(ev["quote"]) in normalize_text(original), (conversation["id"], ev["quote"])
    assert len(CONVERSATIONS) >= 25 and len({c["id"] for c in CONVERSATIONS}) == len(CONVERSATIONS)
    assert all(kinds[k] >= 5 for k in ("pronoun", "ellipsis", "switch", "back", "unanswerable")), kinds


def test_conversations_are_scored_turn_by_turn_and_meet_the_stored_floors(seed_settings, tmp_path):
    floors = tomllib.loads((ROOT / "eval" / "thresholds.toml").read_text())["conversations"]
    summary = evaluate(seed_settings, ROOT / "eval" / "conversations.jsonl", SEEDS, tmp_path, ["extractive"],
                       progress=False)["extractive"]
    assert summary["turns"] == sum(len(c["turns"]) for c in CONVERSATIONS)
    for key, floor in floors.items():
        if key != "ceilings":
            assert summary[key] >= floor, (key, summary[key], floor)
    for key, ceiling in floors["ceilings"].items():
        assert summary[key] <= ceiling, (key, summary[key], ceiling)
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows[:2]] == ["c01.1", "c01.2"]
    assert "follow_up_accuracy" in (tmp_path / "report.md").read_text()


def _answer(question: str, quote: str, number: int) -> Answer:
    cite = Citation(id=number, source="a.txt", title="A title", publisher="Daily", quote=quote, start=0,
                    end=len(quote), score=1.0, supported=True, verdict="supported")
    return Answer(question=question, standalone_question=question, answer=f"{quote} [{number}]", refused=False,
                  citations=[cite])


def test_a_conversation_exports_with_its_citations_and_quotes(tmp_path):
    conversation = Conversation()
    conversation.add(_answer("Who leads the group?", "Abu Alaa al-Walaei leads it.", 1))
    conversation.add(_answer("Where can I read more?", "Read more at [the site](http://evil.example.com).", 2))
    markdown = to_markdown(conversation)
    assert "## 1. Who leads the group?" in markdown and '- [1] "Abu Alaa al-Walaei leads it."' in markdown
    assert "](http" not in markdown  # a link in an article never becomes a live link
    parsed = Transcript.model_validate_json(to_json(conversation))
    assert parsed.conversation_id == conversation.id and [t.citations[0].id for t in parsed.turns] == [1, 2]
    assert Transcript.model_validate_json(save(conversation, tmp_path / "c.json").read_text()).turns == \
        conversation.answers
    assert save(conversation, tmp_path / "deep" / "c.md").read_text().startswith("# Conversation ")


def test_conversations_kept_by_id_are_separate_and_bounded():
    kept = Conversations(limit=2)
    one, two = kept.get(""), kept.get(None)
    assert one.id != two.id and kept.get(one.id) is one
    kept.get("")  # a third: the least recently used (two) is dropped
    assert kept.get(one.id) is one
    with pytest.raises(Exception, match="start a new conversation"):
        kept.get(two.id)


def test_chat_saves_the_conversation(seed_settings, tmp_path):
    env = {"RAG_DATA_DIR": str(seed_settings.index.data_dir), "RAG_CORPUS_DIR": str(SEEDS)}
    typed = "Who is the secretary-general of Kataib Hezbollah?\nWhat did he call for regarding the embassy?\n\n"
    done = run_cli("chat", "--mode", "extractive", "--save", str(tmp_path / "chat.json"), env=env, stdin=typed)
    assert done.returncode == 0, done.stderr
    turns = json.loads((tmp_path / "chat.json").read_text())["turns"]
    assert len(turns) == 2 and "al-Hamidawi" in turns[1]["standalone_question"]
    assert all(t["citations"] for t in turns)
    blocked = run_cli("chat", "--mode", "extractive", "--save", str(tmp_path / "chat.json" / "x.md"), env=env,
                      stdin=typed)
    assert blocked.returncode == 0 and "writable path" in blocked.stderr
