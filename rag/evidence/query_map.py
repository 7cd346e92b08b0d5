"""The query map: a question embedded near the sentences that answer it, for dense retrieval and the
cheap score's similarity.

The packaged MiniLM embeds a question and its answering sentence apart when they share few words
(a paraphrase: "Who leads the board" against "WMC chairman Tommie Bergman said"). The index's chunk
and sentence vectors stay as built; only questions go through the map: a copy of the MiniLM whose
transformer layers (its word embeddings frozen) were fine-tuned on the labelled news questions
against the stored vectors of their evidence sentences, then mixed 0.85 : 0.15 with the packaged
layers (`rag train-query-map`, `rag.evidence.train_query_map`). It changes nothing at index time.
It replaced a linear map of the packaged model's question vector (session 23): on the fit split,
the evidence sentence first among its article's sentences 0.56 -> 0.69 (model card:
`weights/README.md`). Its weights are checked by SHA-256 at load, like the reader's.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cached_property, lru_cache
from pathlib import Path

from index.embed import Embedder, for_questions
from index.errors import RagError
from index.settings import Settings

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE, CARD_FILE = "query_map.safetensors", "query_map.json"
FIX = "restore it with `git checkout -- rag/evidence/weights` (or retrain: `rag train-query-map`), or set RAG_QUERY_MAP=false"
FROZEN = "embeddings."  # the word, position and type embeddings: shared with the packaged model, not stored


class QueryMapMissing(RagError):
    """The query map's weights or card are missing, unreadable or do not match their SHA-256."""


class QueryMap:
    """`vector(question)`: the question's unit vector through the tuned layers; without them
    (`RAG_QUERY_MAP=false`) the embedder's own vector."""

    def __init__(self, embedder: Embedder, layers: dict | None, card: dict):
        self.embedder = embedder
        self.layers = layers
        self.card = card

    @classmethod
    def for_settings(cls, settings: Settings, embedder: Embedder) -> "QueryMap":
        """The committed map when `settings.retrieval.query_map` is on, else one that maps nothing."""
        return cls.load(embedder) if settings.retrieval.query_map else cls(embedder, None, {})

    @classmethod
    def load(cls, embedder: Embedder, folder: Path = WEIGHTS_DIR) -> "QueryMap":
        """The map in `folder`, its weights checked against the card's SHA-256 (the model is built at
        the first question)."""
        from safetensors.torch import load_file

        card_path, weights = Path(folder) / CARD_FILE, Path(folder) / WEIGHTS_FILE
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise QueryMapMissing(f"the query map's card {card_path} is missing or unreadable: {FIX}") from exc
        digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
        if digest != card.get("weights_sha256"):
            raise QueryMapMissing(f"the query map {weights} is missing or corrupt (SHA-256 {digest}, expected "
                                  f"{card.get('weights_sha256')}): {FIX}")
        return cls(embedder, load_file(str(weights)), card)

    @cached_property
    def model(self):
        """The embedding model with the tuned layers in place of its own, traced for one question when
        the embedder's is (`Embedder.traced`)."""
        tuned = copy.deepcopy(self.embedder.model)
        own = {k for k in tuned.state_dict() if not k.startswith(FROZEN)}
        if set(self.layers) != own:
            raise QueryMapMissing(f"the query map's layers do not fit the embedding model {self.embedder.path}: "
                                  "retrain it for this model (`rag train-query-map`), or set RAG_QUERY_MAP=false")
        tuned.load_state_dict({k: v.float() for k, v in self.layers.items()}, strict=False)
        return for_questions(tuned.eval(), self.embedder.tokenizer, self.embedder.traced)

    def vector(self, question: str) -> list[float]:
        """The question's unit vector (the last few are remembered, like the embedder's)."""
        return list(self._remembered(question))

    @cached_property
    def _remembered(self):
        if self.layers is None:
            return lambda text: tuple(self.embedder.embed_query(text))
        return lru_cache(maxsize=32)(lambda text: tuple(self.embedder.embed([text], model=self.model)[0]))
