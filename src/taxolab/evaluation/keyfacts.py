"""Judge-free scoring of a closed-book answer against its reference: did the answer state the fact?

A held-out knowledge question is answered by the model without its document;
its reference is the source span of the document. Token F1 alone rewards an
answer that repeats the question's words ("Who introduced Telescopium?" ->
"Telescopium was introduced by a French astronomer"), so the main measure
here is **key-content recall**: the share of the reference's key terms that
the answer contains, where key terms are never words the question already
gives away.

The rules (deterministic, no model, no network):

1. *Words* are runs of letters (any alphabet) and *numbers* runs of digits
   (``1,751`` and ``1751`` are the same number). Each is compared by a normal
   form: lower case, a possessive ``'s`` and a plural ``s`` removed
   (``Insects`` -> ``insect``; not ``ss``).
2. *Names* are words written with a capital letter in the reference (not stop
   words such as "The"); capitalised words joined only by spaces, hyphens or
   the particles de/van/von/... form one name ("Nicolas-Louis de Lacaille"),
   which an answer holds when it holds any of its words ("Lacaille").
   *Numbers* are key terms of their own. *Content words* are the other words
   of at least 4 letters that are not stop words.
3. Key terms that share a word with the question are dropped.
4. The key terms are the names and numbers left; when none is left, the
   content words left. Each key term counts once.
5. ``key_recall`` = key terms the answer holds / key terms.

A fact counts as **learned** (rule :func:`is_learned`) when the answer holds at
least half of the key terms (``key_recall >= 0.5``, with at least one key
term); a reference with no key term outside the question falls back to token
F1 >= 0.5 against the reference. The 0.5 threshold is this project's choice:
a closed-book answer of a small model that names half of a span's names and
numbers has the fact, one that names none has not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taxolab.evaluation.overlap import token_f1

LEARNED_THRESHOLD = 0.5
_TERM = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_POSSESSIVE = re.compile(r"['’]s\b")
_NAME_JOINER = re.compile(r"[\s\-‐]+")  # what may separate the words of one name
_PARTICLES = frozenset(
    ["de", "del", "della", "der", "di", "du", "da", "la", "le", "van", "von", "ten", "ter", "bin", "ibn", "al"]
)

# Common English function words and question words: never key content.
_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else ever every few for from
    further had has have having he her here hers herself him himself his how however i if in into is it its
    itself just least less like made make many may me might more most much must my myself neither no nor not
    now of off often on once one only or other others our ours ourselves out over own same shall she should
    since so some such than that the their theirs them themselves then there these they this those though
    through thus to too under until up upon us very was we were what when where whether which while who whom
    whose why will with within without would yet you your yours yourself yourselves
    called known name named among around another became become becomes used use uses using well still even
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class KeyScore:
    """How one answer scores against its reference: key terms (a name's words joined by spaces), found, scores."""

    key_terms: tuple[str, ...]
    found: tuple[str, ...]
    key_recall: float | None
    token_f1: float
    learned: bool


def normal_form(term: str) -> str:
    """Lower case, thousands separators out, a plural ``s`` removed (``Insects`` -> ``insect``)."""
    word = term.lower()
    if word[0].isdigit():
        return word.replace(",", "")
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The words and numbers of ``text`` as written (possessives removed, hyphenated names split)."""
    return _TERM.findall(_POSSESSIVE.sub("", text))


def _names_numbers_words(reference: str) -> tuple[list[list[str]], list[str]]:
    """Names (as lists of their words) and numbers of ``reference``, then its content words, all as written."""
    text = _POSSESSIVE.sub("", reference)
    names: list[list[str]] = []
    words: list[str] = []
    pending: list[str] = []  # particles seen after a name, kept only if another capitalised word follows
    prev = ""
    last_end = -1
    for match in _TERM.finditer(text):
        term = match.group()
        joined = last_end >= 0 and _NAME_JOINER.fullmatch(text[last_end : match.start()]) is not None
        last_end = match.end()
        is_name = term[0].isupper() and term.lower() not in STOP_WORDS
        if is_name and joined and names and (pending or names[-1][-1] == prev):
            names[-1] += [*pending, term]
        elif is_name:
            names.append([term])
        elif term[0].isdigit():
            names.append([term])
            term = ""
        elif joined and names and term.lower() in _PARTICLES and names[-1][-1] == prev:
            pending.append(term)
            prev = term
            continue
        elif len(term) >= 4 and term.lower() not in STOP_WORDS:
            words.append(term)
        pending = []
        prev = term
    return names, words


def key_terms(reference: str, question: str = "") -> tuple[str, ...]:
    """The reference's key terms not given away by ``question`` (a name's normal forms joined by spaces).

    Rules in the module docstring.
    """
    asked = {normal_form(t) for t in terms(question)}
    names, words = _names_numbers_words(reference)
    keys: dict[str, None] = {}
    for name in names:
        forms = [normal_form(w) for w in name if w.lower() not in _PARTICLES]
        if not any(form in asked for form in forms):
            keys[" ".join(forms)] = None
    if not keys:
        for word in words:
            form = normal_form(word)
            if form not in asked:
                keys[form] = None
    return tuple(keys)


def is_learned(key_recall: float | None, f1: float) -> bool:
    """The learned rule: ``key_recall >= 0.5``; with no key term, token F1 >= 0.5 instead."""
    if key_recall is None:
        return f1 >= LEARNED_THRESHOLD
    return key_recall >= LEARNED_THRESHOLD


def score_answer(answer: str, reference: str, question: str = "") -> KeyScore:
    """Key-content recall, token F1 and the learned verdict of ``answer`` against ``reference``."""
    keys = key_terms(reference, question)
    said = {normal_form(t) for t in terms(answer)}
    found = tuple(k for k in keys if any(part in said for part in k.split(" ")))
    recall = len(found) / len(keys) if keys else None
    f1 = token_f1(answer, reference)
    return KeyScore(keys, found, recall, f1, is_learned(recall, f1))
