"""The assistant: one question's trip through the stages, in reading order.

question (`rag.question`: its kind, its focus, a follow-up made to stand alone) -> evidence
(`rag.evidence`: passages retrieved, their sentences ranked, the gate) -> draft (`rag.draft`, with a
model from `rag.llm`, or extractive) -> citations (`rag.cite`: aligned, verified, numbered) -> `Answer`.

`Assistant.ask_stream` yields the answer's text pieces as they are generated and then one final
`Answer`, whose [n] markers and citations are final.

This module is the library's face: the command line, the UI and its API, the llama-index adapters
and the evaluation's callers use it and the shared shapes (`rag.schema`), never a stage directly.
`Library` holds what an application loads once (the index, an assistant per generator mode sharing
one retriever, the conversations it keeps) and changes the corpus; `build_index`, `save_transcript`
and, for the llama-index adapters, `Embedder` and `Store` are re-exported, and the functions at the
end evaluate, show an article's kept text (`article_blocks`) and train.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from index.build import BuildReport, build_index
from index.embed import Embedder
from index.errors import RagError
from index.sentences import split_sentences
from index.settings import METHODS, MODES, IndexSettings, Settings
from index.store import Store
from rag import corpus, nlp, prompts
from rag.cite.citer import Citer
from rag.cite.markers import answer_text
from rag.concurrency import AnswerSlots, ReadWriteLock
from rag.conversation import Conversation, Conversations
from rag.corpus import SUPPORTED_SUFFIXES, UploadRefused
from rag.draft.extractive import extractive_text
from rag.draft.prompting import declined, messages, passages_block, sentences_block
from rag.eval.evaluate import CONFIGS as EVAL_CONFIGS
from rag.evidence.learned import excerpt_student, learned_combiner, list_ranker
from rag.evidence.gather import Gathered, Gatherer
from rag.evidence.query_map import QueryMap
from rag.evidence.retrieve import Filters, Retriever
from rag.evidence.sentences import load_document
from rag.llm.generate import Generator, LocalGenerator, make_generator
from rag.question.read import check_question, read
from rag.reader.excerpt_reader import ExcerptReader
from rag.reader.excerpt_student import ExcerptStudent
from rag.reader.score import WEIGHTS_DIR, Reader
from rag.schema import Answer, AnswerSentence, Passage
from rag.text import one_line
from rag.transcript import save as save_transcript

log = logging.getLogger(__name__)

_AUTO = object()
STOP_QUIET_S = 0.5  # a stop waits this long with no answer asked: a request taken just before asks within ms


class Timer(dict):
    """Milliseconds per named step."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Add the time spent inside the `with` block to step `name`."""
        start = time.perf_counter()
        yield
        self[name] = self.get(name, 0.0) + round((time.perf_counter() - start) * 1000, 1)


class Assistant:
    """Answers questions over the index with one generator mode; load once, ask many times."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None,
                 generator: Generator | None | object = _AUTO, mode: str | None = None,
                 excerpts: ExcerptReader | ExcerptStudent | None = None):
        self.settings = settings
        self.mode = mode or settings.answer.mode
        self.retriever = retriever or Retriever(settings)
        self.generator: Generator | None = make_generator(settings, self.mode) if generator is _AUTO else generator
        asks_model = settings.answer.verify_with_llm and isinstance(self.generator, LocalGenerator)
        self.reader = (Reader(settings.answer.reader_path or WEIGHTS_DIR, threads=settings.index.torch_threads)
                       if settings.answer.ranker == "reader" else None)
        if self.reader:
            self.reader.network  # noqa: B018 -- loaded here rather than in the first question's timing
        combiner = self.reader.combiner if self.reader else learned_combiner(settings)
        if combiner is not None and combiner.reads_excerpts:
            excerpts = excerpts or excerpt_judge_for(settings)
        self.gatherer = Gatherer(self.retriever, self.reader, combiner, excerpts if combiner is not None else None,
                                 chooser=list_ranker(settings, combiner))
        self.citer = Citer(self.retriever.embedder, self.generator if asks_model else None)
        nlp.warm()  # the answer-type checks' tagger, likewise

    def ask(self, question: str, conversation: Conversation | None = None, qid: str | None = None,
            k: int | None = None) -> Answer:
        """The final Answer (the streamed pieces are dropped)."""
        return next(item for item in self.ask_stream(question, conversation, qid, k) if isinstance(item, Answer))

    def ask_stream(self, question: str, conversation: Conversation | None = None, qid: str | None = None,
                   k: int | None = None) -> Iterator[str | Answer]:
        """Yield text pieces as they come, then the final Answer."""
        timer, started = Timer(), time.perf_counter()
        conversation = conversation if conversation is not None else Conversation()
        with timer("retrieve"):
            found = self.evidence_for(question, conversation, k)
        parsed = found.question
        base = dict(id=qid, question=parsed.asked, standalone_question=parsed.alone.query, mode=self.mode,
                    passages=found.passages, answerability=round(found.answerability.score, 4))
        answer = yield from self._answer(found, base, conversation, timer)
        answer.timings_ms = {"retrieve": 0.0, "generate": 0.0, "verify": 0.0, **timer,
                             "total": round((time.perf_counter() - started) * 1000, 1)}
        conversation.add(answer, parsed.alone.question)
        yield answer

    def evidence_for(self, question: str, conversation: Conversation | None = None, k: int | None = None) -> Gathered:
        """Read the question (a follow-up made to stand alone) and gather its evidence."""
        return self.gatherer.gather(read(question, conversation, self.settings), k)

    def _answer(self, found: Gathered, base: dict, conversation: Conversation, timer: Timer) -> Iterator[str]:
        """Stream the draft; returns the cited Answer, or a refusal when the evidence, the model or
        the verification says the articles do not answer."""
        if not found.candidates or not found.answerability.suffices(self.settings.answer.threshold()):
            return _refusal(base, found.answerability.why_not())
        with timer("generate"):
            text = yield from self._draft(found)
        if self.settings.answer.trust_model_refusals and declined(text):
            return _refusal(base, "the model found no answer in the passages")
        with timer("verify"):
            drafted_by, sentences, citations = self.citer.cite_draft(text, found, conversation, self.mode,
                                                                     by_model=self.generator is not None)
        if not _any_supported(sentences):
            return _refusal(base, "no sentence of the draft answer is supported by the articles")
        return Answer(answer=answer_text(sentences, self.settings.answer.drop_unsupported), refused=False,
                      sentences=sentences, citations=citations, drafted_by=drafted_by, **base)

    def _draft(self, found: Gathered) -> Iterator[str]:
        """Stream the draft answer; returns the whole text."""
        if self.generator is None:
            text = extractive_text(found.ranked, found.question.expected)
            yield text
            return text
        n = self.settings.llm.evidence_sentences
        shown = sentences_block(found.ranked, n) if n else passages_block(found.passages, found.addressed)
        pieces = []
        prompt = messages(found.question.alone.reading, shown)
        for piece in self.generator.stream(prompt, self.settings.llm.max_answer_tokens):
            pieces.append(piece)
            yield piece
        return "".join(pieces)


def excerpt_judge_for(settings: Settings) -> ExcerptReader | ExcerptStudent | None:
    """What reads the ranker's shortlisted excerpts, its model loaded now (not in a question's timing):
    the excerpt reader beside the reader's weights (`RAG_RANKER=reader`), the excerpt student when the
    learned ranker's head weighs it, else none."""
    if settings.answer.ranker == "learned":
        return excerpt_student(settings, learned_combiner(settings))
    if settings.answer.ranker != "reader":
        return None
    excerpts = ExcerptReader(settings, settings.answer.reader_path or WEIGHTS_DIR)
    excerpts.load()
    return excerpts


def _refusal(base: dict, reason: str) -> Answer:
    return Answer(answer=f"{prompts.REFUSAL} {prompts.REFUSAL_RELATED}", refused=True, refusal_reason=reason, **base)


def _any_supported(sentences: list[AnswerSentence]) -> bool:
    return any(s.verdict != "unsupported" for s in sentences)


class Library:
    """The index loaded once for an application (the UI and its API), shared by every client at once:
    an assistant per generator mode over one retriever (a model is loaded on first use, then kept),
    the conversations kept for API clients, the corpus listing, and articles added or removed (the
    index is then updated and the assistants reloaded).

    Answers wait until `warm_up` is done (`ready`), then run side by side in their mode's lane
    (`rag.concurrency.AnswerSlots`) and read the index under a shared lock that a re-index takes
    alone, so an answer sees the old index or the new one, never a half-built one. One
    conversation's turns are answered in order (its own lock)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = Embedder(settings, traced=True)  # many clients' questions: see `Embedder.traced`
        self.lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._generators: dict[str, object] = {}
        self._excerpts: ExcerptReader | ExcerptStudent | None = None
        self._assistants: dict[str, Assistant] = {}
        self.conversations = Conversations(settings.serve.conversations_kept)
        self.slots = AnswerSlots(settings.serve.concurrency)
        self.index_lock = ReadWriteLock()
        self.ready = threading.Event()
        self.problem: str | None = None  # why the warm-up could not answer (shown by `health`)
        self.counts = {"articles": 0, "chunks": 0}
        self.stopping = False
        self.sample_question = ""  # the warm-up's question: the first sentence of the index's first passage

    @property
    def retriever(self) -> Retriever:
        """The retriever over the index as it is now (opened on first use)."""
        with self.lock:
            if self._retriever is None:
                self._retriever = Retriever(self.settings, embedder=self.embedder)
            return self._retriever

    def assistant(self, mode: str) -> Assistant:
        """The assistant for a generator mode (the model is loaded on first use, then kept)."""
        retriever = self.retriever
        with self.lock:
            if mode not in self._assistants:
                if mode not in self._generators:
                    self._generators[mode] = make_generator(self.settings, mode)
                if self._excerpts is None:
                    self._excerpts = excerpt_judge_for(self.settings)  # one model, shared by the modes
                self._assistants[mode] = Assistant(self.settings, retriever=retriever,
                                                   generator=self._generators[mode], mode=mode,
                                                   excerpts=self._excerpts)
            return self._assistants[mode]

    def warm_up(self, modes: list[str]) -> None:
        """Load everything an answer in these modes needs (index, BM25, embedder, spaCy, reader,
        model) and answer one question from the index's own text in each, so that no client's
        answer pays for loading; then set `ready`, even when the index cannot answer (each
        question then gets the message that says what to do)."""
        try:
            self._warm(modes)
            self.problem = None
        except RagError as exc:
            self.problem = str(exc)
            log.warning("%s", exc)
        finally:
            self.ready.set()

    def _warm(self, modes: list[str]) -> None:
        bm25 = self.retriever.bm25
        self.counts = {"articles": len({meta["source"] for meta in bm25.metas}), "chunks": len(bm25.ids)}
        first = next(iter(split_sentences(bm25.texts[0])), "") if bm25.ids else ""
        self.sample_question = first[:self.settings.retrieval.max_question_chars]
        for mode in dict.fromkeys(modes):
            assistant = self.assistant(mode)
            if self.sample_question:
                assistant.ask(self.sample_question)
        for mode in dict.fromkeys(m for m in modes if m != "extractive"):
            self.assistant(mode).citer.detector.warm()  # a written draft is checked by it, its second reading included
        sentences: dict[str, None] = {}
        for text in bm25.texts:  # stops reading once there are more than the caches hold
            sentences.update(dict.fromkeys(split_sentences(text)))
            if len(sentences) > nlp.CACHED:
                log.info("more indexed sentences than the annotation caches hold: they are annotated as "
                         "questions reach them")
                return
        nlp.prepare(list(sentences))

    def health(self) -> dict:
        """Whether the server answers without loading first ("loading", "ready" or "stopping"), the
        index's article and chunk counts, the answers running now, waiting for a lane and the most
        seen running at once, and what the warm-up could not do, if anything."""
        status = "stopping" if self.stopping else "ready" if self.ready.is_set() else "loading"
        slots = self.slots
        return {"status": status, **self.counts, "answering": slots.running, "waiting": slots.asked - slots.running,
                "most_answering": slots.most_running, "problem": self.problem}

    def stop(self, grace: float) -> bool:
        """Say "stopping" (`health`) and wait up to `grace` seconds for the answers asked to finish
        (questions that still come meanwhile are answered too); False if some had not."""
        self.stopping = True
        return self.slots.drain(grace, quiet=STOP_QUIET_S)

    @contextmanager
    def answering(self, mode: str) -> Iterator[Assistant]:
        """The assistant for `mode`, once warm, holding its lane and a read of the index."""
        with self.slots.slot(mode, self.ready), self.index_lock.reading():
            yield self.assistant(mode)

    def ask(self, question: str, mode: str, k: int | None = None, conversation_id: str | None = None) -> Answer:
        """The API's answer: within the conversation `conversation_id` names (a new one when empty),
        its turns in order; the answer carries the conversation's id."""
        conversation = self.conversations.get(conversation_id)
        with conversation.lock, self.answering(mode) as assistant:
            answer = assistant.ask(question, conversation, k=k)
        answer.conversation_id = conversation.id
        return answer

    def ask_stream(self, question: str, conversation: Conversation, mode: str,
                   k: int | None = None) -> Iterator[str | Answer]:
        """`Assistant.ask_stream` in this conversation, its turns in order, sharing the server."""
        with conversation.lock, self.answering(mode) as assistant:
            yield from assistant.ask_stream(question, conversation, k=k)

    def search(self, question: str, k: int | None = None, filters: Filters | None = None,
               method: str | None = None) -> list[Passage]:
        """The best passages for a question (`Retriever.search`)."""
        return self.retriever.search(question, k=k, filters=filters, method=method)

    def articles(self) -> list[list]:
        """[source, title, publisher, date, chunks, sentences addressed to an AI] per indexed article."""
        with self.index_lock.reading():
            retriever = self.retriever
            addressed = retriever.store.addressed_per_source()
        rows: dict[str, list] = {}
        for meta in retriever.bm25.metas:
            source = meta["source"]
            row = rows.setdefault(source, [source, meta.get("title", ""), meta.get("publisher", ""),
                                           meta.get("date", ""), 0, addressed.get(source, 0)])
            row[4] += 1
        return sorted(rows.values())

    def add_articles(self, paths: list[str]) -> list[str]:
        """Copy uploaded files into the corpus folder, each checked first (`rag.corpus`); returns the
        names they were added under. `reindex` makes them answerable."""
        return corpus.add_files(self.settings.index.corpus_dir, paths)

    def remove_article(self, source: str) -> None:
        """Delete an article file from the corpus folder; `reindex` drops it from the answers."""
        corpus.remove_file(self.settings.index.corpus_dir, source)

    def reindex(self) -> BuildReport:
        """Bring the index up to date with the corpus folder and reload the assistants, alone: the
        answers in flight finish on the old index first, and those asked meanwhile wait for the
        new one, which is loaded (and its counts taken) before they go on."""
        with self.index_lock.writing():
            report = build_index(self.settings, embedder=self.embedder, progress=True)
            modes = list(self._assistants)
            self.reload()
            self.warm_up(modes)
        return report

    def reload(self) -> None:
        """Drop the retriever and assistants so the next question sees the new index."""
        with self.lock:
            self._retriever = None
            self._assistants.clear()

    def evaluate(self, qa: Path, out: Path, configs: list[str]) -> dict:
        """Run a question set over the corpus (`evaluate`), with assistants of their own."""
        return evaluate(self.settings, qa, Path(self.settings.index.corpus_dir), out, configs)


def article_blocks(path: str) -> list[tuple[int, str]] | None:
    """The article at `path` as its kept blocks of original text, each with its offset in the file
    (so a citation's [start:end] can be shown in place); None when it is no longer readable."""
    document = load_document(path)
    if document is None:
        return None
    return [(block.starts[0], document.original[block.starts[0]:block.ends[-1]]) for block in document.blocks]


def evaluate(settings: Settings, qa: Path, corpus_dir: Path, out: Path, configs: list[str],
             progress: bool = True) -> dict:
    """`rag eval` of one question set (`rag.eval.evaluate.evaluate`), each configuration answered by
    an `Assistant` of its own."""
    from rag.eval.evaluate import evaluate as run

    return run(settings, qa, corpus_dir, out, configs, _assistant_for, progress)


def evaluate_sets(settings: Settings, qas: list[Path], corpus_dir: Path, out: Path, configs: list[str],
                  progress: bool = True) -> dict:
    """`rag eval` of several question sets, reported side by side (`rag.eval.evaluate.evaluate_sets`)."""
    from rag.eval.evaluate import evaluate_sets as run

    return run(settings, qas, corpus_dir, out, configs, _assistant_for, progress)


def _assistant_for(settings: Settings, mode: str) -> Assistant:
    return Assistant(settings, mode=mode)


def train_reader(out: Path, progress: bool = True, **choices) -> dict:
    """`rag train-reader`: train the reader (`rag.reader.train`) with the stage's recipe (`STAGES`) for
    every choice not given (None); returns its card."""
    from dataclasses import fields

    from rag.reader.train import STAGES, Recipe, train

    given = {f.name: choices[f.name] for f in fields(Recipe) if choices.get(f.name) is not None}
    return train(Recipe(**{**STAGES[choices.get("stage") or "news"], **given}), out, progress=progress)


def train_excerpt_reader(out: Path, work: Path, limit: int | None = None, threads: int = 2,
                         progress: bool = True) -> dict:
    """`rag train-excerpt-reader`: train the excerpt reader's probe (`rag.reader.excerpt_train`) on the
    news questions, its model states cached in `work`; returns its figures."""
    from rag.reader.excerpt_train import train_excerpt_reader as train

    return train(Settings(), out, work, progress=progress, limit=limit, threads=threads)


def train_excerpt_student(out: Path, states: Path, limit: int | None = None, progress: bool = True) -> dict:
    """`rag train-excerpt-student`: distil the excerpt reader (its states cached in `states`) into the
    excerpt student (`rag.reader.excerpt_student_train`); returns its card."""
    from rag.reader.excerpt_student_train import train_excerpt_student as train

    return train(Settings(), out, states, limit=limit, progress=progress)


def train_query_map(out: Path, limit: int | None = None, progress: bool = True) -> dict:
    """`rag train-query-map`: train the query map (`rag.evidence.train_query_map`) on the news
    questions; returns its card."""
    from rag.evidence.train_query_map import Recipe, train

    return train(out, Recipe(limit=limit), progress=progress)


def train_list_ranker(out: Path, work: Path, limit: int | None = None, epochs: int | None = None,
                      progress: bool = True, restack: bool = False) -> dict:
    """`rag train-list-ranker`: gather the learned ranker's candidate lists for the news splits over
    the BBC corpus in `work` (kept in `work/list_rows.json`, one split at a time, so a rerun asks only
    what is missing), then train the list ranker on them (`rag.reader.list_train`); returns its card.
    `restack`: no training, and only the fit and dev lists asked; the trained list ranker in `out`
    gets its stack weight chosen again for the committed combiner (after `rag fit-combiner --cheap`)."""
    import json

    from rag.evidence.learned import WEIGHTS_DIR as EVIDENCE_WEIGHTS
    from rag.llm.model_file import sha256_of
    from rag.reader import news
    from rag.reader.combiner import FILE as COMBINER_FILE, Combiner
    from rag.reader.fit import rows_of
    from rag.reader.list_train import ListRecipe, restack as choose_again, train

    settings = news_corpus(work, progress)
    kept = work / "list_rows.json"
    rows = json.loads(kept.read_text(encoding="utf-8")) if kept.is_file() else {}
    split, gatherer = news.split(news.read_articles()), Gatherer(Retriever(settings), describe=True)
    for name in ("fit", "dev") if restack else ("train", "fit", "dev"):  # restacking reads no training list
        if name not in rows:
            rows[name] = rows_of(getattr(split, name), lambda text: gatherer.gather(read(text, None, settings)).ranked,
                                 settings.index.corpus_dir, progress)
            kept.write_text(json.dumps(rows))
    combiner, combiner_sha256 = Combiner.load(EVIDENCE_WEIGHTS), sha256_of(EVIDENCE_WEIGHTS / COMBINER_FILE)
    if restack:
        return choose_again(out, rows, combiner, combiner_sha256)
    recipe = ListRecipe(limit=limit, **({"epochs": epochs} if epochs else {}))
    return train(rows, combiner, combiner_sha256, recipe, out, progress)


def news_corpus(work: Path, progress: bool = True) -> Settings:
    """The 2,225 BBC articles written to `work/corpus` and indexed (incrementally) in `work/data`: the
    corpus the reader's combiner is fitted on and `bench.bbc_qa` asks."""
    from rag.reader import news

    news.write_corpus(list(news.read_articles().values()), work / "corpus")
    settings = Settings(index=IndexSettings(corpus_dir=work / "corpus", data_dir=work / "data"))
    build_index(settings, progress=progress)
    return settings


def fit_combiner(folder: Path, work: Path, progress: bool = True, rows: Path | None = None,
                 cheap: bool = False, student: bool = True) -> dict:
    """`rag fit-combiner`: fit the combiner of the reader in `folder` over the BBC corpus in `work`
    (`rag.reader.fit`), or from the `rows` an earlier fit kept (the same reader, other features), and
    write it beside the reader's weights; returns its figures. `cheap`: the combiner of the cheap
    signals alone (`RAG_RANKER=learned`), no reader read, written into `folder`, its head weighing
    the excerpt student in `folder` unless not `student`."""
    from rag.reader import news
    from rag.reader.fit import fit_combiner as fit, foreign_questions

    if rows is not None:
        return _refit_from_rows(folder, rows, progress, cheap, student)
    settings = news_corpus(work, progress)
    excerpt_student = ExcerptStudent(folder, settings.index.torch_threads).logit if cheap and student else None
    if cheap:
        gatherer, judge = Gatherer(Retriever(settings), describe=True), None
    else:
        gatherer = Gatherer(Retriever(settings), Reader(folder, threads=settings.index.torch_threads))
        judge = ExcerptReader(Settings(), folder).logit  # its base model cached with the local model's, not in `work`
    articles = news.read_articles()
    combiner = fit(news.split(articles), lambda text: gatherer.gather(read(text, None, settings)).ranked,
                   asked_without_article(gatherer, settings, articles), judge, settings.index.corpus_dir, progress,
                   keep=work / ("learned_rows.json" if cheap else "combiner_rows.json"),
                   foreign=foreign_questions(news.SQUAD) if cheap else (), student=excerpt_student)
    combiner.save(folder)
    return combiner.figures


def _refit_from_rows(folder: Path, rows: Path, progress: bool, cheap: bool, student: bool = True) -> dict:
    """The combiner refitted from kept rows; for the reader's, the excerpt reader is asked only for
    logits the rows lack (all of them when they were kept from another probe or precision)."""
    import json

    from rag.llm.model_file import sha256_of
    from rag.reader.excerpt_reader import FILE as EXCERPT_FILE
    from rag.reader.fit import fit_rows_and_calibrate

    kept = json.loads(rows.read_text(encoding="utf-8"))
    if kept.get("cheap", cheap) != cheap:
        raise RagError(f"{rows} was kept by a fit {'without' if kept['cheap'] else 'with'} the reader: refit it "
                       f"{'with' if kept['cheap'] else 'without'} --cheap, or ask again without --rows")
    if cheap:
        from rag.reader import news

        judge = ExcerptStudent(folder, Settings().index.torch_threads).logit if student else None
        unseen = {q["question"] for q in news.split(news.read_articles()).fit}
        combiner = fit_rows_and_calibrate(kept["fit"], kept["dev"], None, progress, type_check=True, student=judge,
                                          unseen=unseen)
        combiner.save(folder)
        return combiner.figures
    excerpts = ExcerptReader(Settings(), folder)
    probe = f"{sha256_of(Path(folder) / EXCERPT_FILE)} {excerpts.precision}"
    if kept.get("excerpt_probe") != probe:
        for row in kept["fit"] + kept["dev"]:
            row.pop("judged", None)
    kept["excerpt_probe"] = probe
    combiner = fit_rows_and_calibrate(kept["fit"], kept["dev"], excerpts.logit, progress)
    rows.write_text(json.dumps(kept))  # with the excerpt reader's logits of any new best candidates
    combiner.save(folder)
    return combiner.figures


def asked_without_article(gatherer: Gatherer, settings: Settings, articles: dict[str, dict]
                          ) -> Callable[[str, str], list]:
    """(question, BBC article id) -> the ranked candidates with that article and every copy of its
    text left out of the corpus (`rag.reader.fit.absent_rows`)."""
    from rag.reader import news

    copies: dict[str, set[str]] = {}  # text -> the corpus files of the articles with that text
    for article_id, record in articles.items():
        copies.setdefault(news.text_key(record["text"]), set()).add(news.source_name(article_id))
    every = set().union(*copies.values())

    def without(question: str, article_id: str):
        kept = Filters(sources=every - copies[news.text_key(articles[article_id]["text"])])
        return gatherer.gather(read(question, None, settings), filters=kept).ranked
    return without


def mine_negatives(work: Path, out: Path, per_question: int = 6, progress: bool = True) -> int:
    """`rag mine-negatives`: the reader's hard negatives for the news training split, found by asking
    each question against the BBC corpus in `work` (`rag.reader.fit.mine_negatives`), as JSONL in
    `out`; returns the number of questions. Questions already in `out` (same id and text) keep their
    negatives, so a new batch of questions costs only its own mining."""
    import json

    from rag.reader import news
    from rag.reader.fit import mine_negatives as mine

    settings = news_corpus(work, progress)
    gatherer = Gatherer(Retriever(settings))
    ranked = lambda text: gatherer.gather(read(text, None, settings)).ranked  # noqa: E731
    train = news.split(news.read_articles()).train
    known = {(m["id"], m.get("question")): m for m in news.read_lines(out)} if out.is_file() else {}
    todo = [q for q in train if (q["id"], q["question"]) not in known]
    fresh = {m["id"]: m for m in mine(todo, ranked, settings.index.corpus_dir, per_question, progress)}
    mined = [known.get((q["id"], q["question"])) or fresh[q["id"]] for q in train]
    out.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in mined), encoding="utf-8")
    return len(mined)


def train_addressed(out: Path, bbc_index: Path | None = None, third_only: bool = False) -> dict:
    """`rag train-addressed`: train the detector of sentences addressed to an AI (`index.train_addressed`),
    reusing the sentence vectors of an index of the BBC articles in `bbc_index` when given; with
    `third_only`, keep its first two readings and fit the third alone."""
    from index.train_addressed import train, train_third

    return train_third(out, bbc_index) if third_only else train(out, bbc_index)


__all__ = ["Answer", "Assistant", "BuildReport", "Conversation", "EVAL_CONFIGS", "Embedder", "Filters", "Library",
           "METHODS", "MODES", "QueryMap", "RagError", "Retriever", "SUPPORTED_SUFFIXES", "Settings", "Store", "UploadRefused",
           "article_blocks", "build_index", "check_question", "evaluate", "evaluate_sets", "fit_combiner",
           "mine_negatives", "news_corpus", "one_line", "save_transcript", "train_addressed", "train_query_map", "train_reader"]
