"""Labelled BBC news questions (`bbcqa`) for the reader: read, split by article, and turned into the
reader's questions (`rag.reader.data.SquadQuestion`) or into an evaluation set (`rag eval`'s format).

A bbcqa line (`../shared/data/README.md`) holds a question about one BBC article, whether it is
answerable, the answer span and the evidence sentence(s): the answering ones, or for an unanswerable
question the sentence a careless reader would wrongly pick. That sentence is the hard negative
SQuAD 2.0 keeps in `plausible_answers`, so each article becomes a SQuAD-format article (a paragraph
per block of the text) and the reader's own pair-making applies unchanged.

Whole articles are held out, never single questions: the dev split is `DEV_ARTICLES` of the shared
set's articles chosen by a stable hash of their text (two ids with the same text are one article).
The questions written for this project (`eval/bbcqa/`) train the reader, but for two batches kept
to fit the combiner (`COMBINER_FILES`); their writers never saw a dev or reserved article. The
held-out batches (`heldout-*.jsonl`, `heldout_files`) are about articles no other set asks about, and
nothing trains, fits or is tuned on them: a larger measure than the dev split (`bench.bbc_qa --split
heldout`), for deciding between designs whose dev figures differ by less than their noise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.reader.data import SquadQuestion, squad_questions

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
BBC = SHARED_DATA / "bbc" / "bbc_news.jsonl"
SHARED_QUESTIONS = SHARED_DATA / "bbcqa" / "train.jsonl"
RESERVED = SHARED_DATA / "bbcqa" / "reserved.txt"  # BBC ids no training may see
SQUAD = SHARED_DATA / "squad2" / "squad2-30.json"  # Wikipedia questions: the reader's first stage, and off the BBC corpus (`rag.reader.fit.foreign_rows`)
WRITTEN_DIR = ROOT / "eval" / "bbcqa"  # questions written for this project from the shared brief
DEV_ARTICLES = 40  # of the shared set's 150 articles (240 questions): the issue asks for at least 30
ANSWERABLE_KINDS = ("fact", "paraphrase", "why-how", "later-detail")
KINDS = ANSWERABLE_KINDS + ("near-miss", "false-premise")


COMBINER_FILES = ("written-06.jsonl", "written-07.jsonl")  # kept from the reader, to fit the combiner on honest scores


@dataclass(frozen=True)
class NewsSplit:
    """The labelled news questions, split by article: `train` trains the reader, `fit` the combiner
    (`rag.reader.combiner`) on scores of articles the reader never saw, `dev` measures both and
    calibrates the refusal threshold; `heldout` only measures."""

    train: list[dict]
    fit: list[dict]
    dev: list[dict]
    heldout: list[dict] = field(default_factory=list)


def read_lines(path: Path) -> list[dict]:
    """The JSON objects of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_articles(path: Path = BBC) -> dict[str, dict]:
    """The BBC records by id."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the shared data folder should sit beside the repository "
                                "(../shared/data, see its README)")
    return {r["id"]: r for r in read_lines(path)}


def reserved_ids(path: Path = RESERVED) -> set[str]:
    """The BBC ids kept aside from all training (none when the file is absent)."""
    if not path.is_file():
        return set()
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def written_files() -> list[Path]:
    """The question batches written for this project to train and fit on, in order."""
    return sorted(WRITTEN_DIR.glob("written-*.jsonl"))


def heldout_files() -> list[Path]:
    """The question batches written for this project that only measure (`NewsSplit.heldout`), in order."""
    return sorted(WRITTEN_DIR.glob("heldout-*.jsonl"))


def text_key(text: str) -> str:
    """An article's identity by its text: the BBC set holds some stories twice under two ids."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split(articles: dict[str, dict], shared: Path = SHARED_QUESTIONS, written: list[Path] | None = None,
          heldout: list[Path] | None = None) -> NewsSplit:
    """Train, fit, dev and held-out questions: the dev split is the `DEV_ARTICLES` articles of the
    shared set whose text hashes lowest; every question about an article with the same text as a dev
    one is dev too. A question about a held-out article's text is held out, never trained on."""
    key = {article_id: text_key(record["text"]) for article_id, record in articles.items()}
    held = [q for path in (heldout_files() if heldout is None else heldout) for q in read_lines(path)]
    held_keys = {key[q["article_id"]] for q in held}
    shared_lines = read_lines(shared)
    dev_keys = set(sorted({key[q["article_id"]] for q in shared_lines})[:DEV_ARTICLES])
    files = written_files() if written is None else written
    fit = [q for path in files if path.name in COMBINER_FILES for q in read_lines(path)]
    fit_keys = {key[q["article_id"]] for q in fit}
    lines = shared_lines + [q for path in files if path.name not in COMBINER_FILES for q in read_lines(path)]
    dev = [q for q in lines if key[q["article_id"]] in dev_keys]
    kept_from_reader = dev_keys | fit_keys | held_keys
    train = [q for q in lines if key[q["article_id"]] not in kept_from_reader]
    return NewsSplit(train, [q for q in fit if key[q["article_id"]] not in dev_keys | held_keys], dev,
                     [q for q in held if key[q["article_id"]] not in dev_keys | fit_keys])


def as_squad(questions: list[dict], articles: dict[str, dict]) -> dict:
    """The questions as a SQuAD-format object: an article per BBC article, a paragraph per block of its
    text; the evidence sentences are the answers (answerable) or the plausible answers (unanswerable)."""
    by_article: dict[str, list[dict]] = {}
    for q in questions:
        by_article.setdefault(q["article_id"], []).append(q)
    data = []
    for article_id, asked in by_article.items():
        record = articles[article_id]
        blocks = [b for b in record["text"].split("\n\n") if b.strip()]
        paragraphs = [{"context": block, "qas": []} for block in blocks]
        for q in asked:
            for at, paragraph in enumerate(paragraphs):
                spans = [{"text": e, "answer_start": paragraph["context"].find(e)} for e in q["evidence"]]
                spans = [s for s in spans if s["answer_start"] >= 0]
                if spans:
                    key = "plausible_answers" if not q["answerable"] else "answers"
                    paragraph["qas"].append({"id": q["id"], "question": q["question"], "is_impossible": not q["answerable"],
                                             "answers": [], "plausible_answers": [], key: spans})
                    break
        data.append({"title": record["title"], "paragraphs": paragraphs})
    return {"data": data}


def reader_questions(questions: list[dict], articles: dict[str, dict], dataset: str = "bbcqa") -> list[SquadQuestion]:
    """The reader's questions (every sentence of the evidence's paragraph, the evidence marked)."""
    return squad_questions(as_squad(questions, articles), dataset)


def source_name(article_id: str, fmt: str = "md") -> str:
    """The corpus file name a BBC article is written to (`write_corpus`)."""
    return f"{article_id.replace('/', '_')}.{fmt}"


def article_text(record: dict, fmt: str) -> str:
    """One record as an article file our loader reads: Markdown (front matter publisher, `# title`) or a
    plain-text masthead layout."""
    body = record["text"].strip()
    if fmt == "md":
        return f"---\npublisher: BBC News\n---\n\n# {record['title']}\n\n{body}\n"
    return f"BBC News\n\n{record['title']}\n\n{body}\n"


def write_corpus(records: list[dict], folder: Path, fmt: str = "md") -> list[Path]:
    """Write each record as `<category>_<number>.<fmt>` in `folder` (a file already holding that text
    is left alone, so an index of the folder stays up to date); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in records:
        path, text = folder / source_name(r["id"], fmt), article_text(r, fmt)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def as_eval_item(q: dict) -> dict:
    """One question in `rag eval`'s format: the answer span is the alias an answer must contain; the
    evidence sentences are the gold quotes (none for an unanswerable question)."""
    evidence = [{"source": source_name(q["article_id"]), "quote": e} for e in q["evidence"]] if q["answerable"] else []
    return {"id": q["id"], "kind": q["kind"], "question": q["question"], "answer": q["answer"],
            "answer_aliases": [q["answer"]] if q["answerable"] else [], "evidence": evidence,
            "answerable": q["answerable"]}


def problems(lines: list[dict], articles: dict[str, dict], reserved: set[str]) -> list[str]:
    """What breaks the brief (`../shared/data/bbcqa/BRIEF.md`) in a batch of written questions: quotes
    not verbatim, an answer outside its evidence, a reserved article, not six kinds per article."""
    found, per_article = [], {}
    for q in lines:
        text = articles.get(q["article_id"], {}).get("text")
        if text is None or q["article_id"] in reserved:
            found.append(f"{q['id']}: article {q['article_id']} is unknown or reserved")
            continue
        if not q["evidence"] or any(e not in text for e in q["evidence"]):
            found.append(f"{q['id']}: an evidence sentence is not verbatim in the article")
        if q["answerable"] != (q["kind"] in ANSWERABLE_KINDS) or q["answerable"] != bool(q["answer"]):
            found.append(f"{q['id']}: answerable, answer and kind {q['kind']} disagree")
        elif q["answerable"] and not any(q["answer"] in e for e in q["evidence"]):
            found.append(f"{q['id']}: the answer is not inside an evidence sentence")
        per_article.setdefault(q["article_id"], []).append(q["kind"])
    found += [f"{a}: kinds {sorted(k)}, not one of each" for a, k in per_article.items() if sorted(k) != sorted(KINDS)]
    return found
