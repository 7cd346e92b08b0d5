"""The support rule: does a set of spans support a sentence, from words alone?

The share of the sentence's content words found in the spans, and whether every number and name
in it appears there (a small model's typical invention). A number the spans do not contain makes a
sentence unsupported ("12 missiles fell" cited to "two Israeli missiles fell"); one missing name
only makes it partial, since names get paraphrased. The cite stage judges answers with it
(`rag.cite.verify`, which may also ask the local model), and the evaluation's citation metric
(`rag.eval.metrics`) audits citations with the same rule.
"""

from __future__ import annotations

from index.mapped import normalize_text
from rag.schema import Verdict
from rag.text import SMALL_NUMBERS, content_stems, names_and_numbers, words

# Shares of a sentence's content words found in its cited spans, set by hand with the first answers.
# `bench.ablate` (extractive, 444 studied questions): SUPPORTED_RECALL 0.6 or 0.9 and PARTIAL_RECALL 0.3
# or 0.5 change no answer, citation precision or unsupported count (an extractive sentence is its own
# source); they act on a model's drafts, which were not swept. CLEAR_* act only when a model verifies.
SUPPORTED_RECALL = 0.75  # at or above this, with every name and number found: supported
PARTIAL_RECALL = 0.4  # at or above this, with at most one name (and no number) missing: partial
CLEAR_RECALL = 0.9  # at or above this (with all names found) the model is not asked
CLEAR_MISS = 0.2  # below this (with no name missing) a sentence is clearly unsupported: the model is not asked


def support_recall(sentence: str, spans: list[str]) -> float:
    """Share of the sentence's content words that the cited spans contain."""
    wanted = set(content_stems(sentence))
    if not wanted:
        return 0.0
    found = set().union(*(content_stems(e) for e in spans)) if spans else set()
    return len(wanted & found) / len(wanted)


def missing_names(sentence: str, spans: list[str]) -> set[str]:
    """Numbers and names in the sentence that no cited span contains ("2" is found as "two")."""
    present = set(words(" ".join(spans))) | set(normalize_text(" ".join(spans)).lower().split())
    present |= {str(SMALL_NUMBERS[w]) for w in present if w in SMALL_NUMBERS}
    stems = set().union(*(content_stems(e) for e in spans)) if spans else set()
    return {e for e in names_and_numbers(sentence) if e not in present and not set(content_stems(e)) <= stems}


def cheap_verdict(sentence: str, spans: list[str]) -> tuple[Verdict, float, bool]:
    """(verdict, recall, clear-cut) from word overlap and the names-and-numbers check."""
    recall = support_recall(sentence, spans)
    missing = missing_names(sentence, spans)
    if recall >= SUPPORTED_RECALL and not missing:
        return "supported", recall, recall >= CLEAR_RECALL
    if recall >= PARTIAL_RECALL and len(missing) <= 1 and not any(m[0].isdigit() for m in missing):
        return "partial", recall, False
    return "unsupported", recall, not missing and recall < CLEAR_MISS
