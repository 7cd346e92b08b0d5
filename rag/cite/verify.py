"""Judge each answer sentence against the spans it cites: supported, partial or unsupported.

The cheap check comes first (`rag.support`: word overlap, and every number and name found). Only
when that check is not clear-cut, and a local model is loaded, the model is asked a yes/no question;
its "yes" can never excuse a number or name the sources do not contain.
"""

from __future__ import annotations

import logging

from rag import prompts
from rag.llm.generate import Generator
from rag.schema import Verdict
from rag.support import cheap_verdict, missing_names

log = logging.getLogger(__name__)


def ask_model(generator: Generator, sentence: str, spans: list[str]) -> bool | None:
    """The model's yes/no on support, or None if it gave neither."""
    messages = [{"role": "system", "content": prompts.SUPPORT_SYSTEM},
                {"role": "user", "content": prompts.SUPPORT_USER.format(passage=" ".join(spans), claim=sentence)}]
    reply = generator.complete(messages, max_tokens=3).strip().lower()
    return True if reply.startswith("yes") else False if reply.startswith("no") else None


def judge(sentence: str, spans: list[str], generator: Generator | None = None) -> tuple[Verdict, float]:
    """Final verdict and recall for one sentence; see the module docstring for the rules."""
    verdict, recall, clear = cheap_verdict(sentence, spans)
    if clear or generator is None or not spans:
        return verdict, recall
    says = ask_model(generator, sentence, spans)
    names_ok = not missing_names(sentence, spans)
    if says is True and names_ok and verdict == "partial":
        return "supported", recall
    if says is False and verdict == "supported":
        return "partial", recall
    return verdict, recall
