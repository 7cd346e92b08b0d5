"""Turn-by-turn evaluation of conversations (`eval/conversations.jsonl`).

Each line is a conversation: {"id", "turns": [...]}, every turn a Q&A item of the single-turn
format plus "kind" (first, pronoun, ellipsis, switch, back, unanswerable), "follow_up" (whether it
cannot be understood alone) and "standalone" (the same question written to stand alone). The turns
of a conversation are asked in order in one `Conversation`; each is scored like a single question,
and also for whether its retrieval query was rewritten, which it should be exactly when it is a
follow-up. Each follow-up is asked once more, as its standalone form in a fresh conversation, so
that follow-up accuracy can be set beside the accuracy of the same questions asked alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

from rag.eval import metrics
from rag.conversation import Conversation
from rag.schema import Answer

CONVERSATION_KEYS = ["turns", "follow_up_turns", "follow_up_accuracy", "standalone_accuracy", "rewritten_follow_ups",
                     "rewritten_standalone_turns", "switch_turns_carrying_history", "unanswerable_follow_ups_refused"]


def is_conversation_set(qa: Path) -> bool:
    """True when the file holds conversations ({"turns": [...]} lines) rather than single questions."""
    first = next((line for line in qa.read_text(encoding="utf-8").splitlines() if line.strip()), "{}")
    return "turns" in json.loads(first)


def turn_items(raw: dict) -> list[dict]:
    """A conversation's turns as single-question items, with ids "c01.1", "c01.2", ..."""
    return [{**turn, "id": f"{raw['id']}.{i}"} for i, turn in enumerate(raw["turns"], 1)]


def ask_conversation(items: list, ask: Callable[[str, Conversation, str], Answer],
                     score: Callable[[object, Answer], dict]) -> Iterator[tuple[Answer, dict]]:
    """(answer, scores) per turn of one conversation (items: its turns, located), asked in order."""
    conversation = Conversation()
    for item in items:
        turn = item.raw
        answer = ask(turn["question"], conversation, turn["id"])
        row = {**score(item, answer), "answerability": answer.answerability, "follow_up": turn["follow_up"],
               "rewritten": answer.standalone_question != answer.question}
        if turn["follow_up"]:
            alone = ask(turn["standalone"], Conversation(), f"{turn['id']}.standalone")
            row["standalone_correct"] = score(item, alone)["correct"]
        yield answer, row


def summarize_turns(rows: list[dict]) -> dict:
    """The conversation figures: follow-ups against the same questions asked alone, and rewriting."""
    follow = [r for r in rows if r["follow_up"]]
    alone = [r for r in rows if not r["follow_up"] and r["kind"] != "first"]
    unanswerable = [r for r in follow if not r["answerable"]]
    mean = metrics.mean
    return {
        "turns": len(rows), "follow_up_turns": len(follow),
        "follow_up_accuracy": mean([r["correct"] for r in follow]),
        "standalone_accuracy": mean([r["standalone_correct"] for r in follow]),
        "rewritten_follow_ups": mean([r["rewritten"] for r in follow]),
        "rewritten_standalone_turns": mean([r["rewritten"] for r in alone]),
        "switch_turns_carrying_history": sum(r["rewritten"] for r in rows if r["kind"] == "switch"),
        "unanswerable_follow_ups_refused": mean([r["refused"] for r in unanswerable]),
    }
