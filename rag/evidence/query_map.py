"""The query map: a learned linear map that moves a question's embedding towards the sentences that
answer it, before dense retrieval and before the cheap score's similarity.

The packaged MiniLM embeds a question and its answering sentence apart when they share few words
(a paraphrase: "Who leads the board" against "WMC chairman Tommie Bergman said"). The index's chunk
and sentence vectors stay as built; only the question's vector is mapped (W v, normalised), so the
map is trained against the stored vectors and changes nothing at index time. It is trained on the
labelled news questions by `rag train-query-map` (`rag.evidence.train_query_map`), starting from the
identity and held near it, and checked by SHA-256 at load like the reader.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from index.errors import RagError
from index.settings import Settings

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE, CARD_FILE = "query_map.safetensors", "query_map.json"
FIX = "restore it with `git checkout -- rag/evidence/weights` (or retrain: `rag train-query-map`), or set RAG_QUERY_MAP=false"


class QueryMapMissing(RagError):
    """The query map's weights or card are missing, unreadable or do not match their SHA-256."""


class QueryMap:
    """W, a square matrix over embedding dimensions; `apply` maps one question vector. Without a
    matrix (`RAG_QUERY_MAP=false`) it leaves vectors as they are."""

    def __init__(self, matrix: np.ndarray | None, card: dict):
        self.matrix = None if matrix is None else matrix.astype(np.float32)
        self.card = card

    @classmethod
    def for_settings(cls, settings: Settings) -> "QueryMap":
        """The committed map when `settings.retrieval.query_map` is on, else one that maps nothing."""
        return cls.load() if settings.retrieval.query_map else cls(None, {})

    @classmethod
    def load(cls, folder: Path = WEIGHTS_DIR) -> "QueryMap":
        """The map in `folder`, its weights checked against the card's SHA-256."""
        from safetensors.numpy import load_file

        card_path, weights = Path(folder) / CARD_FILE, Path(folder) / WEIGHTS_FILE
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise QueryMapMissing(f"the query map's card {card_path} is missing or unreadable: {FIX}") from exc
        digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
        if digest != card.get("weights_sha256"):
            raise QueryMapMissing(f"the query map {weights} is missing or corrupt (SHA-256 {digest}, expected "
                                  f"{card.get('weights_sha256')}): {FIX}")
        return cls(load_file(str(weights))["matrix"], card)

    def apply(self, vector: list[float]) -> list[float]:
        """W v, scaled to unit length (the index's vectors are unit length; cosine is a dot product);
        the vector itself when there is no W."""
        if self.matrix is None:
            return vector
        if self.matrix.shape != (len(vector), len(vector)):
            raise QueryMapMissing(f"the query map {self.matrix.shape} does not fit {len(vector)}-dimensional "
                                  "embeddings: retrain it for this embedding model (`rag train-query-map`), or set "
                                  "RAG_QUERY_MAP=false")
        mapped = self.matrix @ np.asarray(vector, dtype=np.float32)
        return (mapped / max(float(np.linalg.norm(mapped)), 1e-12)).tolist()
