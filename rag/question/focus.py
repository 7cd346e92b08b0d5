"""What a question asks about a thing it names, and whether a sentence speaks to that.

Three question shapes name their topic in full and ask for one relation to it, so a sentence can
share every word with the question and still not answer it:
- "How many drone attacks...?" counts attacks: "hundreds of drones" does not count them.
- "What type of missiles...?" asks for a variety: "two Israeli missiles" names none.
- "How did the Council respond to the letter?" asks what the Council did: a sentence about the
  letter, where the Council is only its addressee, does not say.
Each check finds the focus in the question (by part-of-speech tags or a pattern) and looks for the
relation in the sentence; when the question has no such focus, the check does not apply.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.text import content_stems

_HOW_MANY = re.compile(r"\bhow (?:many|much)\b", re.I)
_VARIETY_Q = re.compile(r"\bwhat (?:types?|kinds?|sorts?|forms?) of\b", re.I)
_REACTION_Q = re.compile(
    r"\bhow (?:did|does|do|has|have|had|will|would|is|are|was|were) (?P<party>.+?) (?:respond|react|reply|retaliat)"
    r"|\bwhat (?:was|is|were|are|has been) (?P<owner>.+?)['’]s? (?:response|reaction|reply)\b", re.I)
_NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_PHRASE_TAGS = _NOUN_TAGS | {"JJ", "JJR", "JJS", "HYPH", "VBN", "CC", ","}
_MODIFIER_TAGS = {"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "VBN"}
_PRONOUNS = frozenset("he she they it we".split())


def _stem(word: str) -> str:
    stems = content_stems(word)
    return stems[-1] if stems else ""


def phrase_after(question: str, pattern: re.Pattern, tags: set[str]) -> list[tuple[str, str]]:
    """The (word, tag) run of tokens with those tags right after the pattern's first match, from
    the question's cached tagging ("what type of [Israeli missiles] fell")."""
    from rag.nlp import tagged

    match = pattern.search(question)
    if not match:
        return []
    wanted = match.group().lower().split()
    tokens = tagged(question)
    lowered = [w.lower() for w, _ in tokens]
    starts = [i for i in range(len(tokens)) if lowered[i:i + len(wanted)] == wanted]
    phrase = []
    for word, tag in tokens[starts[0] + len(wanted):] if starts else []:
        if tag not in tags:
            break
        phrase.append((word, tag))
    return phrase


@lru_cache(maxsize=1024)
def counted_nouns(question: str) -> frozenset[str]:
    """Stems of the nouns a "how many" question counts: the head of each conjunct, so "drone attacks"
    counts attacks and "drones and ballistic missiles" counts both. Empty when there is none."""
    phrase = phrase_after(question, _HOW_MANY, _PHRASE_TAGS)
    heads = [w for i, (w, t) in enumerate(phrase)
             if t in _NOUN_TAGS and (i + 1 == len(phrase) or phrase[i + 1][1] not in _NOUN_TAGS | {"HYPH"})]
    return frozenset(filter(None, map(_stem, heads)))


@lru_cache(maxsize=1024)
def variety_noun(question: str) -> str | None:
    """The stem of the noun a "what type/kind/sort of" question classifies ("missiles"), else None."""
    nouns = [w for w, t in phrase_after(question, _VARIETY_Q, _PHRASE_TAGS) if t in _NOUN_TAGS]
    return (_stem(nouns[-1]) or None) if nouns else None


def varieties(text: str, question: str) -> set[str]:
    """Words the text puts before the classified noun that the question does not already say
    ("ballistic missiles", "rocket and drone strikes"). {""} when the noun is not in the text at
    all: a paraphrase may still answer, and the other checks decide."""
    from rag.nlp import tagged

    noun = variety_noun(question)
    tokens = tagged(text)
    places = [i for i, (w, t) in enumerate(tokens) if t in _NOUN_TAGS and _stem(w) == noun]
    if noun is None or not places:
        return {""}
    asked = set(content_stems(question))
    found = set()
    for i in places:
        j = i - 1
        while j >= 0 and tokens[j][1] in _PHRASE_TAGS:
            word, tag = tokens[j]
            if tag in _MODIFIER_TAGS and _stem(word) and _stem(word) not in asked:
                found.add(word)
            j -= 1
    return found


@lru_cache(maxsize=1024)
def reacting_party(question: str) -> frozenset[str]:
    """Stems of the party a "how did X respond/react" question asks about, else empty."""
    match = _REACTION_Q.search(question)
    if not match:
        return frozenset()
    return frozenset(content_stems(match.group("party") or match.group("owner")))


def same_name(a: str, b: str) -> bool:
    """'iran' and 'iranian', 'iraq' and 'iraqi': one stem starts the other (at least four letters)."""
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= 4 and long.startswith(short))


def reactions(text: str, question: str) -> set[str]:
    """The text's clauses whose subject is the reacting party (or a pronoun that may stand for it).
    {""} when the question asks for no reaction."""
    from rag.nlp import subjects

    party = reacting_party(question)
    if not party:
        return {""}
    found = set()
    for subject in subjects(text):
        stems = content_stems(subject)
        if subject.lower() in _PRONOUNS or any(same_name(p, s) for p in party for s in stems):
            found.add(subject)
    return found
