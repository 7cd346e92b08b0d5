"""A blind planted-text set (`eval/planted_fresh`, or `--set eval/planted_fresh2`): index its 20 articles in a temporary folder with
the committed detector and report which planted spans are flagged (a span counts as flagged when a
flagged sentence overlaps it, `bench.addressed.overlaps`) and how many genuine sentences are.

`python -m bench.planted [--set DIR]` prints the figures as JSON. Each set is written before a round of
detector work and measured once before and once after it, never tuned on.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from pathlib import Path

from bench.addressed import overlaps
from index.build import build_index
from index.embed import Embedder
from index.settings import IndexSettings, Settings
from index.store import Store

ROOT = Path(__file__).resolve().parents[1]
FRESH = ROOT / "eval" / "planted_fresh"


def measure(folder: Path = FRESH) -> dict:
    """Planted spans flagged (with the flagged sentences' probabilities) and genuine sentences flagged."""
    planted = [json.loads(line) for line in (folder / "planted.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="rag-planted-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for source in {p["source"] for p in planted}:
            shutil.copy(folder / source, corpus)
        settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=Path(tmp) / "data"))
        build_index(settings, embedder=Embedder(settings), progress=False)
        found = Store(settings).sentences.get(include=["documents", "metadatas"])
        rows = {(m["source"], text): (bool(m.get("addressed")), float(m.get("addressed_p", 0.0)))
                for text, m in zip(found["documents"], found["metadatas"])}
    spans = []
    for p in planted:
        mine = [(text, flag, prob) for (source, text), (flag, prob) in rows.items()
                if source == p["source"] and overlaps(text, p["planted"])]
        spans.append({"source": p["source"], "style": p["style"], "language": p["language"],
                      "flagged": any(flag for _, flag, _ in mine), "p": max((prob for *_, prob in mine), default=None),
                      "sentences": len(mine)})
    planted_keys = {(p["source"], text) for p in planted for (source, text) in rows
                    if source == p["source"] and overlaps(text, p["planted"])}
    genuine = {key: value for key, value in rows.items() if key not in planted_keys}
    return {"spans_flagged": sum(s["flagged"] for s in spans), "spans": len(spans),
            "genuine_flagged": sum(flag for flag, _ in genuine.values()), "genuine": len(genuine),
            "genuine_flagged_list": sorted(text for (_, text), (flag, _) in genuine.items() if flag),
            "per_span": spans}


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=FRESH, help="the set's folder (default eval/planted_fresh)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(measure(args.set), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
