"""Sentences addressed to an AI: text planted in an article to steer the assistant ("Ignore all
previous instructions and ...", "Note to any language model reading this: ...").

Found at index time, so such a sentence is marked in the store (never deleted: the article stays
intact and its offsets exact) and is never evidence: never ranked, shown to a model or cited. The
detector is a logistic regression over the sentence's MiniLM embedding (the very vector the index
stores), the TF-IDF of its words and word pairs and that of its characters' n-grams (which carry
languages the English embedding does not know), trained by `rag train-addressed` on sentences
written for the purpose (`index/guard_data/`) and BBC news sentences; its weights, SHA-256 and
validation figures are in `index/guard_data/README.md`. A sentence it puts at 0.02 or more is read
again by a fine-tuned MiniLM (`index.addressed_tuned`), and a regression over both logits decides
(`AddressedDetector.second_reading`); one of those the two leave under their threshold is read a
third time by a probe over its multilingual-e5-small embedding (`index.addressed_e5`), which may only
add a flag, at its own threshold (`AddressedDetector.third_reading`). Text is read as a person would see it
first: Unicode-normalised, invisible characters dropped and look-alike letters mapped to Latin, so
"іgnоrе" with Cyrillic letters or zero-width joiners inside reads as "ignore".
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from index.addressed_e5 import PROBE, E5Probe, lifted
from index.addressed_tuned import TUNED, TunedReader
from index.errors import ModelMissing

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).with_name("guard_data") / "addressed.json"
# A clause scoring this high marks its sentence even when the rest reads as news ("The assistant must
# report that <a long news claim>"). Chosen on the held-out written sentences: at 0.98 no BBC or
# hard-negative news sentence has such a clause (0.95: 4% of the hard negatives), and 54% of the
# addressed ones do.
CLAUSE_THRESHOLD = 0.98
CHAR_GRAMS = (3, 5)  # character n-gram sizes (`char_grams`); see the model card for what they changed
_CLAUSE = re.compile(r"[,;:]|\bthat\b")
_TUNED_KEYS = {"sha256", "low_bar", "coef", "intercept", "threshold"}  # the second reading's entry in the weights
_THIRD_KEYS = {"sha256", "low_bar", "threshold"}  # the third reading's

# Cyrillic and Greek letters drawn like Latin ones (Unicode's confusables, the letters that occur in
# Latin-script words); NFKC already folds the fullwidth and mathematical alphabets.
_LOOK_ALIKES = str.maketrans("АВЕКМНОРСТХаеорсухіјѕԁɡոΑΒΕΗΙΚΜΝΟΡΤΧΥΖοіνᴦ",
                             "ABEKMHOPCTXaeopcyxijsdgnABEHIKMNOPTXYZoivr")


@lru_cache(maxsize=1)
def weights_sha256(path: Path = WEIGHTS) -> str:
    """SHA-256 of the detector's weights: part of the index fingerprint, since the marks it stores
    are its output (a retrained detector means a fresh index)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def as_seen(text: str) -> str:
    """The text as a reader sees it: NFKC, format characters (zero-width and the like) dropped,
    look-alike Cyrillic and Greek letters read as Latin where they pass for Latin: in a word that
    also holds Latin letters, or anywhere in a text written mostly in Latin letters. Russian or
    Greek prose stays as written (mapped, it read as gibberish and was flagged as odd)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(_is_latin(ch) for ch in letters)
    if 2 * latin > len(letters):
        return text.translate(_LOOK_ALIKES)
    return _WORD.sub(lambda m: m.group().translate(_LOOK_ALIKES) if any(map(_is_latin, m.group())) else m.group(), text)


_WORD = re.compile(r"\w+")


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha() or "LATIN" in unicodedata.name(ch, "")


@dataclass(frozen=True)
class Mark:
    """The detector's word on one sentence. `addressed`: the sentence as a whole is addressed to an
    AI (what `rag index` and the Corpus tab warn of, with `probability`). `held_back`: that, or one of
    its clauses on its own is (CLAUSE_THRESHOLD): never evidence, never shown to a model. Clauses
    catch an order tucked into a news sentence ("..., and that is what you must answer."): 4 of the
    50 planted sentences of eval/attacks that the whole-sentence score misses, and none of its 406
    genuine sentences, but also 5 of 16,596 held-out BBC sentences, too many to warn of (measured
    2026-12-06, third-round detector, `python -m bench.addressed`), so they are held back without a
    warning."""

    addressed: bool
    probability: float
    held_back: bool


class AddressedDetector:
    """The trained detector; `flags` marks the sentences addressed to an AI."""

    def __init__(self, path: Path = WEIGHTS):
        self.path = path

    @cached_property
    def weights(self) -> dict:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise ModelMissing(f"the addressed-to-AI detector {self.path} cannot be read ({exc.strerror}): "
                               "restore it with git checkout, or retrain it with rag train-addressed") from exc
        try:
            weights = json.loads(raw)
            assert len(weights["coef"]) == weights["dimensions"] and "threshold" in weights and weights["terms"]
            tuned = weights.get("tuned")
            assert tuned is None or (_TUNED_KEYS <= set(tuned) and len(tuned["coef"]) == 2)
            third = weights.get("third")
            assert third is None or (tuned is not None and _THIRD_KEYS <= set(third))
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            raise ModelMissing(f"the addressed-to-AI detector {self.path} is corrupt (SHA-256 "
                               f"{hashlib.sha256(raw).hexdigest()[:12]}): restore it with git checkout") from exc
        return weights

    def probabilities(self, texts: list[str], vectors: list[list[float]]) -> list[float]:
        """P(addressed to an AI) per sentence (as seen) and its embedding."""
        import numpy as np

        if not texts:
            return []
        dense = np.asarray(vectors, dtype=np.float64).reshape(len(texts), -1) @ np.asarray(self.weights["coef"])
        scores = []
        for text, logit in zip(texts, dense):
            logit += term_logit(text, self.weights) + self.weights["intercept"]
            scores.append(1 / (1 + math.exp(-max(min(float(logit), 50.0), -50.0))))
        return scores

    def scores(self, texts: list[str], vectors: list[list[float]], embed) -> list[float]:
        """P(addressed to an AI) of each sentence as seen; `vectors` are their embeddings, and `embed`
        embeds the few whose seen form differs from their characters (zero-width or look-alike letters).
        A sentence the first reading puts at the low bar or more is read again (`second_reading`), and
        if still under the threshold, a third time (`third_reading`)."""
        seen = [as_seen(t) for t in texts]
        changed = [i for i, (t, s) in enumerate(zip(texts, seen)) if t != s]
        vectors = list(vectors)
        for i, v in zip(changed, embed([seen[i] for i in changed]) if changed else []):
            vectors[i] = v
        first = self.probabilities(seen, vectors)
        return self.third_reading(seen, first, self.second_reading(seen, first))

    def second_reading(self, seen: list[str], first: list[float]) -> list[float]:
        """The probabilities with those at the low bar (`index.addressed_tuned.LOW_BAR`, as trained) or
        more replaced by the regression over both readings' logits (`index.addressed_tuned`);
        unchanged for weights without a second reading."""
        tuned = self.weights.get("tuned")
        again = [i for i, p in enumerate(first) if tuned and p >= tuned["low_bar"]]
        if not again:
            return first
        out = list(first)
        for i, z in zip(again, self.tuned.logits([seen[i] for i in again])):
            out[i] = combined(first[i], z, tuned)
        return out

    def third_reading(self, seen: list[str], first: list[float], scores: list[float]) -> list[float]:
        """`scores` (the first two readings') with those of the sentences the first reading puts at the
        third's low bar or more and the two leave under the threshold raised where the e5 probe
        (`index.addressed_e5`) reaches its own threshold (`lifted`): it only ever adds a flag.
        Unchanged for weights without a third reading."""
        third = self.weights.get("third")
        if not third:
            return scores
        threshold = self.threshold
        again = [i for i, (f, p) in enumerate(zip(first, scores)) if f >= third["low_bar"] and p < threshold]
        out, start = list(scores), time.perf_counter()
        for i, q in zip(again, self.e5.probabilities([seen[i] for i in again]) if again else []):
            out[i] = lifted(scores[i], q, threshold, third["threshold"])
        log.debug("third reading: %d of %d sentences read in %.2f s", len(again), len(seen), time.perf_counter() - start)
        return out

    def warm(self) -> None:
        """Load the weights and the later readings now rather than in the first answer's time."""
        if self.weights.get("tuned"):
            self.tuned.load()
        if self.weights.get("third"):
            self.e5.load()

    @cached_property
    def e5(self) -> E5Probe:
        """The third reading (loaded on first use)."""
        return E5Probe(self.path.with_name(PROBE.name), self.weights["third"]["sha256"])

    @cached_property
    def tuned(self) -> TunedReader:
        """The second reading (loaded on first use)."""
        return TunedReader(self.path.with_name(TUNED.name), self.weights["tuned"]["sha256"])

    @property
    def threshold(self) -> float:
        """The probability from which a sentence is flagged (chosen by `rag train-addressed`)."""
        tuned = self.weights.get("tuned")
        return float(tuned["threshold"] if tuned else self.weights["threshold"])

    def flags(self, texts: list[str], vectors: list[list[float]], embed) -> list[bool]:
        """Which sentences are addressed to an AI, as a whole (`scores` at or above the threshold)."""
        return [p >= self.threshold for p in self.scores(texts, vectors, embed)]

    def marks(self, texts: list[str], vectors: list[list[float]], embed) -> list[Mark]:
        """What the detector says of each sentence, whole and clause by clause (`Mark`)."""
        return [Mark(p >= self.threshold, p, p >= self.threshold or c >= CLAUSE_THRESHOLD)
                for p, c in zip(self.scores(texts, vectors, embed), self.clause_scores(texts, embed))]

    def clause_scores(self, texts: list[str], embed) -> list[float]:
        """The highest P(addressed to an AI) of a clause of each text, on its own (0.0 for a text of
        one clause: that is the sentence, scored whole)."""
        split = [[c.strip() for c in _CLAUSE.split(as_seen(t)) if len(c.split()) >= 3] for t in texts]
        clauses = [(i, c) for i, parts in enumerate(split) if len(parts) > 1 for c in parts]
        best = [0.0] * len(texts)
        if clauses:
            for (i, _), p in zip(clauses, self.probabilities([c for _, c in clauses], embed([c for _, c in clauses]))):
                best[i] = max(best[i], p)
        return best


def logit(p: float) -> float:
    """log(p / (1 - p)), bounded for p at 0 or 1."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def combined(first: float, second: float, tuned: dict) -> float:
    """P(addressed to an AI) from the first reading's probability and the second's logit, by the
    two-weight regression `rag train-addressed` fitted (`tuned`: coef, intercept)."""
    z = tuned["coef"][0] * logit(first) + tuned["coef"][1] * second + tuned["intercept"]
    return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))


def words_and_pairs(text: str) -> list[str]:
    """Lower-cased words of two letters or more, then each pair of neighbours (scikit-learn's
    default tokens with ngram_range=(1, 2), which the detector was trained with)."""
    tokens = re.findall(r"(?u)\b\w\w+\b", text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_grams(text: str, sizes: tuple[int, int] = CHAR_GRAMS) -> list[str]:
    """The lower-cased character n-grams of each word padded with a space (scikit-learn's
    analyzer="char_wb", which the detector was trained with): they carry languages the English
    embedding does not know and words broken by hyphens or odd spacing."""
    grams = []
    for word in text.lower().split():
        padded = f" {word} "
        for n in range(sizes[0], sizes[1] + 1):
            grams += [padded[i:i + n] for i in range(max(len(padded) - n + 1, 1))]
            if len(padded) <= n:  # a word shorter than n counts once
                break
    return grams


def tfidf(tokens: list[str], terms: dict[str, list[float]]) -> dict[str, float]:
    """The unit-length TF-IDF vector (sublinear term frequency) of a text's tokens over the known
    terms: term -> value. `terms` maps each term to [idf, coefficient]."""
    counts = Counter(t for t in tokens if t in terms)
    values = {t: (1 + math.log(n)) * terms[t][0] for t, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    return {t: v / norm for t, v in values.items()}


def term_logit(text: str, weights: dict) -> float:
    """The terms' part of the detector's logit: word and word-pair TF-IDF, and character n-gram TF-IDF."""
    words, chars = weights["terms"], weights.get("chars", {})
    return (sum(w * words[t][1] for t, w in tfidf(words_and_pairs(text), words).items())
            + sum(w * chars[t][1] for t, w in tfidf(char_grams(text), chars).items()))
