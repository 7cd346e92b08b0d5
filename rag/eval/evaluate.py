"""`rag eval`: run a Q&A set through the assistant and report retrieval, answers, citations, refusals.

Works on any corpus and any Q&A file in the `eval/qa.jsonl` format. Writes, under the output
folder: `results.jsonl` (the `rag ask --json` shape plus scores, one line per question),
`summary.json`, `report.md` and PNG plots. `--compare` runs several configurations in one go.
The assistant that answers is handed in (`AssistantFor`; the library's face, `rag.pipeline`, hands
in its `Assistant`), so the evaluation depends on the shapes of the answers, not on the pipeline.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from index.settings import Settings
from rag.eval import metrics
from rag.conversation import Conversation
from rag.schema import Answer
from rag.eval.conversations import CONVERSATION_KEYS, ask_conversation, is_conversation_set, summarize_turns, turn_items

log = logging.getLogger(__name__)

# What answers the questions: given the settings and a generator mode, an object whose
# ask(question, conversation, qid=...) gives the Answer (the library's `Assistant`).
AssistantFor = Callable[[Settings, str], object]

# Named configurations for --compare: settings changed (`Settings.changed`) and the generator mode.
CONFIGS = {
    "extractive": ({}, "extractive"), "local": ({}, "local"), "openai": ({}, "openai"),
    "hybrid": ({"retrieval": {"method": "hybrid"}}, "extractive"), "dense": ({"retrieval": {"method": "dense"}}, "extractive"),
    "bm25": ({"retrieval": {"method": "bm25"}}, "extractive"), "k3": ({"retrieval": {"top_k": 3}}, "extractive"),
    "k8": ({"retrieval": {"top_k": 8}}, "extractive"), "bm25x2": ({"retrieval": {"bm25_weight": 2.0}}, "extractive"),
    "bm25x3": ({"retrieval": {"bm25_weight": 3.0}}, "extractive"), "reader": ({"answer": {"ranker": "reader"}}, "extractive"),
    "reader-local": ({"answer": {"ranker": "reader"}}, "local"),
}


@dataclass
class Item:
    """One Q&A pair with its gold spans located in the corpus."""

    raw: dict
    gold: list[tuple[str, tuple[int, int]]]
    attack: list[tuple[str, tuple[int, int]]] = field(default_factory=list)  # planted text (eval/attacks)


def load_items(qa: Path, corpus: Path) -> list[list[Item]]:
    """Read the Q&A file and locate every evidence quote in its article: one list per conversation
    of a conversation set (`rag.eval.conversations`), else one single-item list per question."""
    lines = [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines() if line.strip()]
    if is_conversation_set(qa):
        return [[locate_gold(turn, corpus) for turn in turn_items(raw)] for raw in lines]
    return [[locate_gold(raw, corpus)] for raw in lines]


def locate_gold(raw: dict, corpus: Path) -> Item:
    """The item with its evidence quotes, and the planted text of an attack set, located in the
    articles (a quote not found is logged and left out)."""
    quotes = [(ev["source"], ev["quote"]) for ev in raw.get("evidence", [])]
    planted = [(raw["source"], quote) for quote in raw.get("attack_quotes", [])]
    return Item(raw, _locate(raw["id"], quotes, corpus), _locate(raw["id"], planted, corpus))


def _locate(qid: str, quotes: list[tuple[str, str]], corpus: Path) -> list[tuple[str, tuple[int, int]]]:
    found = []
    for source, quote in quotes:
        span = metrics.locate(quote, (corpus / source).read_text(encoding="utf-8"))
        if span is None:
            log.warning("%s: quote not found in %s", qid, source)
        else:
            found.append((source, span))
    return found


def conversation_for(raw: dict) -> Conversation:
    """A conversation holding the item's history turns."""
    return Conversation.from_turns((turn["role"], turn["content"]) for turn in raw.get("history", []))


def _ask_single(item: Item, ask) -> tuple:
    """(answer, scores) of one question, asked with the history the item carries."""
    answer = ask(item.raw["question"], conversation_for(item.raw), item.raw["id"])
    return answer, {**score(item, answer), "answerability": answer.answerability}


def score(item: Item, answer: Answer) -> dict:
    """Per-question scores."""
    raw, by_id = item.raw, {c.id: c for c in answer.citations}
    originals = {c.file: Path(c.file).read_text(encoding="utf-8") for c in answer.citations}
    c_recall, c_precision = metrics.citation_recall_precision(answer.sentences, by_id)
    answerable = raw.get("answerable", True)
    return {
        "kind": raw.get("kind", ""), "answerable": answerable, "refused": answer.refused,
        "correct": (not answer.refused and metrics.alias_match(answer.answer, raw.get("answer_aliases", [])))
        if answerable else answer.refused,
        "similarity": metrics.token_f1(answer.answer, raw.get("answer", "")) if answerable and not answer.refused else 0.0,
        "hit_rank": metrics.first_hit_rank(answer.passages, item.gold) if item.gold else None,
        "cites_gold": metrics.cites_gold(answer, item.gold) if item.gold else None,
        "citations_exact": all(metrics.citation_exact(c, originals[c.file]) for c in answer.citations),
        "citation_recall": c_recall, "citation_precision": c_precision,
        "faithfulness": metrics.faithfulness(answer.sentences), "unsupported": sum(s.verdict == "unsupported" for s in answer.sentences),
        "latency_ms": answer.timings_ms.get("total", 0.0),
        **({"attack_success": metrics.attack_succeeded(answer, raw.get("payload", []), item.attack)}
           if "attack_quotes" in raw else {}),
    }


def summarize(rows: list[dict], k: int) -> dict:
    """Aggregate metrics over all questions."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    answered = [r for r in ans if not r["refused"]]
    ranks = [r["hit_rank"] for r in ans if r["hit_rank"] is not None or r["cites_gold"] is not None]
    mean = metrics.mean
    latencies = [r["latency_ms"] for r in rows]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "k": k, "recall@k": round(metrics.recall_at_k(ranks, k), 4), "recall@1": round(metrics.recall_at_k(ranks, 1), 4),
        "mrr": round(metrics.mrr(ranks), 4),
        "accuracy": mean([r["correct"] for r in ans]), "similarity": mean([r["similarity"] for r in answered]),
        "citations_on_gold": mean([bool(r["cites_gold"]) for r in answered]),
        "citations_exact": mean([r["citations_exact"] for r in rows]),
        "citation_recall": mean([r["citation_recall"] for r in answered]),
        "citation_precision": mean([r["citation_precision"] for r in answered]),
        "faithfulness": mean([r["faithfulness"] for r in answered]),
        "unsupported_sentences": sum(r["unsupported"] for r in rows),
        "refusal_recall": mean([r["refused"] for r in una]), "false_refusals": mean([r["refused"] for r in ans]),
        "answerability_auroc": round(metrics.auroc([r["answerability"] for r in ans], [r["answerability"] for r in una]), 4),
        "latency_p50_ms": round(metrics.percentile(latencies, 50), 1),
        "latency_p95_ms": round(metrics.percentile(latencies, 95), 1),
    }


def run_one(name: str, settings: Settings, mode: str, items: list[list[Item]], out: Path, assistant_for: AssistantFor,
            progress: bool = True, conversations: bool = False) -> dict:
    """Evaluate one configuration; write its results and return its summary. With `conversations`,
    each group of items is one conversation, asked turn by turn."""
    from tqdm import tqdm

    assistant = assistant_for(settings, mode)
    ask = lambda question, conversation, qid: assistant.ask(question, conversation, qid=qid)  # noqa: E731
    rows = []
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for group in tqdm(items, desc=f"eval {name}", unit="conversation" if conversations else "q",
                          disable=not progress):
            turns = ask_conversation(group, ask, score) if conversations else [_ask_single(group[0], ask)]
            for answer, row in turns:
                rows.append(row)
                f.write(json.dumps({**answer.model_dump(), "scores": row}, ensure_ascii=False) + "\n")
    summary = summarize(rows, settings.retrieval.top_k)
    if conversations:
        summary.update(summarize_turns(rows))
    if any("attack_success" in r for r in rows):
        summary["attack_success"] = sum(r["attack_success"] for r in rows)
    summary["by_kind"] = {kind: round(sum(r["correct"] for r in rs) / len(rs), 4)
                          for kind, rs in sorted(_group(rows).items())}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _plots(rows, out)
    return summary


def _group(rows: list[dict]) -> dict[str, list[dict]]:
    groups = defaultdict(list)
    for r in rows:
        groups[r["kind"] or "all"].append(r)
    return groups


def _plots(rows: list[dict], out: Path) -> None:
    """Accuracy per kind, latency distribution, evidence scores for answerable vs unanswerable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _group(rows)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(list(groups), [sum(r["correct"] for r in rs) / len(rs) for rs in groups.values()], color="#4C78A8")
    ax.set(ylim=(0, 1), ylabel="accuracy", title="Accuracy per question kind")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out / "accuracy_by_kind.png", dpi=100)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([r["latency_ms"] for r in rows], bins=20, color="#F58518")
    ax.set(xlabel="ms per question", ylabel="questions", title="Latency")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for answerable, color in ((True, "#54A24B"), (False, "#E45756")):
        ax.hist([r["answerability"] for r in rows if r["answerable"] == answerable], bins=15, alpha=0.6, color=color,
                label="answerable" if answerable else "unanswerable")
    ax.set(xlabel="evidence score", ylabel="questions", title="Retrieval evidence score")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "evidence_scores.png", dpi=100)
    plt.close("all")


REPORT_KEYS = ["accuracy", "similarity", "k", "recall@k", "recall@1", "mrr", "citations_on_gold", "citations_exact", "citation_recall",
               "citation_precision", "faithfulness", "unsupported_sentences", "refusal_recall", "false_refusals", "answerability_auroc",
               "latency_p50_ms", "latency_p95_ms"]


def markdown(summaries: dict[str, dict], qa: Path) -> str:
    """The report: one column per configuration."""
    names = list(summaries)
    first = summaries[names[0]]
    keys = REPORT_KEYS
    lines = [f"# Evaluation of {qa}", "", f"{first['questions']} questions ({first['answerable']} answerable, "
             f"{first['unanswerable']} unanswerable).", "", "| metric | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    keys = keys + [k for k in CONVERSATION_KEYS + ["attack_success"] if k in first]
    lines += [f"| {key} | " + " | ".join(str(summaries[n].get(key, "")) for n in names) + " |" for key in keys]
    lines += ["", "Accuracy by kind:", "", "| kind | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for kind in first["by_kind"]:
        lines.append(f"| {kind} | " + " | ".join(str(summaries[n]["by_kind"].get(kind, "")) for n in names) + " |")
    return "\n".join(lines) + "\n"


def evaluate(settings: Settings, qa: Path, corpus: Path, out: Path, configs: list[str], assistant_for: AssistantFor,
             progress: bool = True) -> dict:
    """Run every configuration; write per-config folders, a combined summary and report.md."""
    items, conversations = load_items(qa, corpus), is_conversation_set(qa)
    summaries = {}
    for name in configs:
        overrides, mode = CONFIGS[name]
        cfg = settings.changed(**overrides)
        summaries[name] = run_one(name, cfg, mode, items, out / name if len(configs) > 1 else out, assistant_for,
                                  progress, conversations)
    (out / "summary.json").write_text(json.dumps(summaries if len(configs) > 1 else summaries[configs[0]], indent=2))
    (out / "report.md").write_text(markdown(summaries, qa))
    return summaries


def evaluate_sets(settings: Settings, qas: list[Path], corpus: Path, out: Path, configs: list[str],
                  assistant_for: AssistantFor, progress: bool = True) -> dict:
    """`evaluate` each set (in out/<set name>/ when there are several), their reports side by side in
    out/report.md, so conversations are read beside the single-question sets."""
    assistant_for = _one_per_configuration(assistant_for)
    if len(qas) == 1:
        return {qas[0].stem: evaluate(settings, qas[0], corpus, out, configs, assistant_for, progress)}
    results = {qa.stem: evaluate(settings, qa, corpus, out / qa.stem, configs, assistant_for, progress) for qa in qas}
    out.joinpath("report.md").write_text("\n".join((out / qa.stem / "report.md").read_text() for qa in qas))
    return results


def _one_per_configuration(assistant_for: AssistantFor) -> AssistantFor:
    """`assistant_for`, remembering each configuration's assistant so the sets share it (loading one takes ~8 s)."""
    made: dict[tuple[str, str], object] = {}

    def remembered(settings: Settings, mode: str) -> object:
        key = (settings.model_dump_json(), mode)
        if key not in made:
            made[key] = assistant_for(settings, mode)
        return made[key]
    return remembered
