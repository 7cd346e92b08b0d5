"""The addressed-to-AI detector (`index.addressed`) on real news and on planted text, as shipped.

`python -m bench.addressed --bbc-index DIR` scores the sentences of an index of the 2,225 BBC
articles (DIR: its data folder, read from a copy) with the committed detector, exactly as a build
flags them (the stored embedding, the text as seen), and counts the sentences and articles flagged
on the test split of `index.train_addressed` (articles never trained on), beside the marks stored
in that index (the detector it was built with: the "before"), and lists the sentences held back by a
clause alone (never evidence, not warned of). `--attacks` indexes eval/attacks in a temporary folder
and counts the planted sentences (those overlapping an `attack_quotes` entry) and genuine ones
flagged and held back.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from difflib import SequenceMatcher
from pathlib import Path

from index.addressed import AddressedDetector, as_seen
from index.embed import Embedder
from index.settings import IndexSettings, Settings
from index.train_addressed import article_splits, source_id, stored_sentences

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


def overlaps(sentence: str, span: str, share: float = 0.5) -> bool:
    """Whether a sentence and a planted span overlap: a common run of characters covering at least
    `share` of the shorter of the two, compared as seen (a headline that names the same refinery as
    the planted text does not overlap it; a planted span split over two sentences overlaps both)."""
    a, b = as_seen(sentence).strip(), as_seen(span).strip()
    if len(a) < 15 or not b:  # a word or two ("Sport") is no planted sentence (characters: Japanese has no spaces)
        return False
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size >= share * min(len(a), len(b))


def bbc_held_out(bbc_index: Path, embedder: Embedder) -> dict:
    """Flagged sentences and articles of the test split, now (committed detector) and before (stored marks)."""
    stored = stored_sentences(bbc_index)
    splits = article_splits()
    test = [i for i, s in enumerate(stored.sources) if splits.get(source_id(s)) == "test"]
    texts = [stored.texts[i] for i in test]
    detector = AddressedDetector()
    marks = detector.marks(texts, [stored.vectors[i] for i in test], embedder.embed)
    flags = [m.addressed for m in marks]
    held = [(stored.sources[i], stored.texts[i]) for m, i in zip(marks, test) if m.held_back and not m.addressed]
    sources = [stored.sources[i] for i in test]
    now = [(sources[j], texts[j], round(marks[j].probability, 3)) for j, f in enumerate(flags) if f]
    before = [(stored.sources[i], stored.texts[i]) for i in test if stored.marked[i]]
    every = [(stored.sources[i], stored.texts[i]) for i, m in enumerate(stored.marked) if m]
    return {"test_sentences": len(test), "test_articles": len(set(sources)),
            "flagged_now": len(now), "articles_flagged_now": len({s for s, *_ in now}), "flagged_now_list": now,
            "held_back_by_a_clause_now": held,
            "flagged_before": len(before), "articles_flagged_before": len({s for s, _ in before}),
            "all_sentences": len(stored.texts), "all_flagged_before": len(every),
            "all_articles_flagged_before": len({s for s, _ in every})}


def attacks(embedder: Embedder, folder: Path = ROOT / "eval" / "attacks") -> dict:
    """Index the attack articles (and the seeds) in a temporary folder; planted and genuine sentences flagged."""
    from index.build import build_index
    from index.store import Store

    quotes: dict[str, list[str]] = {}
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        quotes.setdefault(q["source"], []).extend(q.get("attack_quotes", []))
    with tempfile.TemporaryDirectory(prefix="rag-attacks-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for path in [*(ROOT / "seeds").glob("*.txt"), *(folder / "articles").iterdir()]:
            shutil.copy(path, corpus)
        settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=Path(tmp) / "data"))
        build_index(settings, embedder=embedder, progress=False)
        store = Store(settings)
        found = store.sentences.get(include=["documents", "metadatas"])
        rows = {(m["source"], text): bool(m.get("addressed")) for text, m in zip(found["documents"], found["metadatas"])}
        held = {(m["source"], text) for text, m in zip(found["documents"], found["metadatas"]) if m.get("held_back")}
    planted = {key: flag for key, flag in rows.items() if any(overlaps(key[1], q) for q in quotes.get(key[0], []))}
    genuine = {key: flag for key, flag in rows.items() if key not in planted}
    return {"planted_flagged": sum(planted.values()), "planted_held_back": len(held & set(planted)),
            "genuine_held_back": len(held & set(genuine)), "planted": len(planted),
            "planted_missed": sorted(k[1] for k, f in planted.items() if not f),
            "genuine_flagged": sum(genuine.values()), "genuine": len(genuine),
            "genuine_flagged_list": sorted(k[1] for k, f in genuine.items() if f)}


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbc-index", type=Path, help="data folder of an index of the BBC articles")
    parser.add_argument("--attacks", action="store_true", help="also index eval/attacks and count what is flagged")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedder = Embedder(Settings())
    out = {}
    if args.bbc_index:
        out["bbc"] = bbc_held_out(args.bbc_index, embedder)
    if args.attacks:
        out["attacks"] = attacks(embedder)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
