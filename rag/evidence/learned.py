"""The learned ranker's combiner (`RAG_RANKER=learned`, the default), the excerpt student its head
weighs and the list ranker that chooses its answer: loaded from their weights folder, checked, and
one error naming the fix when they cannot serve. Their model card is rag/evidence/weights/README.md;
`rag fit-combiner --cheap` fits the combiner (`rag.reader.fit`), `rag train-list-ranker` trains the
list ranker (`rag.reader.list_train`)."""

from __future__ import annotations

from index.errors import RagError
from index.settings import Settings
from rag.evidence.query_map import WEIGHTS_DIR
from rag.reader.combiner import Combiner
from rag.reader.excerpt_student import ExcerptStudent
from rag.reader.list_ranker import ListRanker

LIST_RANKER_DIR = WEIGHTS_DIR / "list_ranker"


class CombinerMissing(RagError):
    """The learned ranker's combiner is missing, unreadable or fitted on other features."""


def learned_combiner(settings: Settings) -> Combiner | None:
    """The combiner of the cheap signals (`RAG_RANKER=learned`), None with another ranker; one error
    naming the fix when its file is missing or does not fit."""
    if settings.answer.ranker != "learned":
        return None
    folder = settings.answer.combiner_path or WEIGHTS_DIR
    fix = ("point RAG_COMBINER_PATH at a folder `rag fit-combiner --cheap --reader DIR` wrote, or unset it"
           if settings.answer.combiner_path else "restore it with `git checkout -- rag/evidence/weights` (or refit: "
           "`rag fit-combiner --cheap`)")
    try:
        combiner = Combiner.load(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CombinerMissing(f"the learned ranker's combiner {folder / 'combiner.json'} is missing or does not fit "
                              f"({exc}): {fix}, or set RAG_RANKER=rules") from exc
    if combiner.rerank or any(combiner.weights[:2]):
        raise CombinerMissing(f"{folder / 'combiner.json'} is a reader's combiner (it weighs the reader's scores): "
                              f"{fix}, or set RAG_RANKER=reader")
    return combiner


def excerpt_student(settings: Settings, combiner: Combiner | None) -> ExcerptStudent | None:
    """The excerpt student beside the learned ranker's combiner when its head weighs the student's
    logit (`rag.reader.fit.stack_student`), its model loaded now; None otherwise. One error naming
    the fix when its weights are missing or altered."""
    if combiner is None or not combiner.reads_excerpts:
        return None
    student = ExcerptStudent(settings.answer.combiner_path or WEIGHTS_DIR, threads=settings.index.torch_threads)
    student.load()
    return student


def list_ranker(settings: Settings, combiner: Combiner | None) -> ListRanker | None:
    """The list ranker that chooses the answer among the learned ranker's best candidates
    (`rag.reader.list_ranker`), its model loaded now; None with another ranker or RAG_LIST_RANKER=false.
    One error naming the fix when its weights are missing or altered."""
    if combiner is None or settings.answer.ranker != "learned" or not settings.answer.list_ranker:
        return None
    fix = ("restore it with `git checkout -- rag/evidence/weights` (or retrain: `rag train-list-ranker`), "
           "or set RAG_LIST_RANKER=false")
    ranker = ListRanker(LIST_RANKER_DIR, threads=settings.index.torch_threads, fix=fix)
    ranker.load()
    return ranker
