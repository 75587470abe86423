"""The project's one set of English text rules: stop words, words and numbers, stems, question kinds, cues.

Both data generation (is a teacher's text grounded in its passage?,
:mod:`taxolab.sdg.grounding`) and evaluation (did an answer state the
reference's fact?, :mod:`taxolab.evaluation.keyfacts`) compare texts by the
same things -- the names, numbers and content words they hold -- so those
rules live here once:

- :data:`STOP_WORDS`: function words, question words and fillers that carry no fact;
- :func:`terms` / :func:`normal_form`: the words and numbers of a text and their
  comparable form (``1,751`` == ``1751``, ``six`` == ``6``, ``Insects`` == ``insect``);
- :func:`stem`: a light suffix-stripping stem (``cache``/``caches``/``cached``), :func:`same_word`;
- :func:`numbers` / :func:`sentence_names`: a text's digits and its capitalised words inside sentences;
- :func:`normalise_tokens`: SQuAD-style tokens, for token F1 and for comparing questions;
- :func:`question_kind`: what a question asks for (a number, a name, yes/no, other);
- :data:`HEDGES` / :func:`hedged` and :func:`negated_at`: cues of doubt and of negation.

All rules are deterministic and English-only; no model, no network.
"""

from __future__ import annotations

import re
import string
from enum import StrEnum

_STOP_WORDS_TEXT = """
    a about above after again against all also although am among an and any are as at be because been before
    being below between both but by can could did do does doing done down during each either else even ever
    every few for from further had has have having he her here hers herself him himself his how however i if
    in into is it its itself just least less like made make many may me might more most much must my myself
    near neither no nor not now of off often on once one only onto or other others otherwise our ours
    ourselves out over own per rather same several she should since so some such than that the their theirs
    them themselves then there therefore these they this those though through thus to too toward towards
    under until up upon us used using very via was we well were what whatever when where whereas whether which
    while who whom whose why will with within without would yet you your yours yourself yourselves
    called known name named include includes including based generally usually typically around still another
    became become becomes use uses even yes
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
"""Words that carry no fact: function and question words, and fillers small models add ("known", "called")."""

TERM = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
"""A term: a run of digits (with inner ``.``/``,``) or a run of letters of any alphabet."""
POSSESSIVE = re.compile(r"['’]s\b")

NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "twice": "2", "double": "2", "dozen": "12",
}  # fmt: skip
"""Spelled-out numbers an answer may use for a reference's digits ("six to eight eggs" == "6-8 eggs")."""

_SUFFIXES = ("ational", "ations", "ation", "ingly", "ings", "edly", "ing", "ies", "ied", "ed", "es", "ly", "s")


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans(dict.fromkeys(string.punctuation, " "))


def normalise_tokens(text: str) -> list[str]:
    """Lower-case words with punctuation and English articles removed (SQuAD-style answer normalisation);
    also how a question is compared with the training set's (``" ".join(...)``)."""
    text = text.lower().translate(_PUNCT)
    return _ARTICLES.sub(" ", text).split()


_AND_A_HALF = re.compile(r"\b(\d+|[A-Za-z]+) and a half\b")


def halves_as_digits(text: str) -> str:
    """ "two and a half years" -> "2.5 years" (any number, digits or spelled out); other text unchanged."""

    def digits(match: re.Match[str]) -> str:
        word = match.group(1)
        value = word if word.isdigit() else NUMBER_WORDS.get(word.lower())
        return f"{value}.5" if value is not None else match.group(0)

    return _AND_A_HALF.sub(digits, text)


def terms(text: str) -> list[str]:
    """The words and numbers of ``text`` as written (possessive ``'s`` removed, hyphenated words split,
    "N and a half" as ``N.5``)."""
    return TERM.findall(POSSESSIVE.sub("", halves_as_digits(text)))


def is_number(term: str) -> bool:
    """True for digits (``1751``, ``2.5``) and spelled-out numbers (``six``, ``twice``)."""
    return term[:1].isdigit() or term.lower() in NUMBER_WORDS


def normal_form(term: str) -> str:
    """Lower case; numbers without thousands separators and spelled-out numbers as digits; a plural ``s`` off.

    ``"1,751"`` -> ``"1751"``, ``"Six"`` -> ``"6"``, ``"Insects"`` -> ``"insect"`` (not ``"glass"``).
    """
    word = term.lower()
    if word[:1].isdigit():
        return word.replace(",", "").rstrip(".")
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def stem(word: str) -> str:
    """A light stem: lower case, possessive and one common suffix removed, then a final "e" (at least 3 letters
    kept), so "cache", "caches" and "cached" -- or "chickadee" and "chickadees" -- meet."""
    word = word.lower().removesuffix("'s").strip("'-")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            # "chickadees" -> "chickadee", but "caches" -> "cach"
            cut = 1 if suffix == "es" and not word.endswith(("ses", "xes", "zes", "ches", "shes")) else len(suffix)
            word = word[:-cut] + ("y" if suffix in ("ies", "ied") else "")
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?:])\s+|\n+")


def numbers(text: str) -> set[str]:
    """Numbers as written in digits, thousands separators removed ("1,200" == "1200")."""
    return {match.group(0).replace(",", "").rstrip(".") for match in _NUMBER.finditer(text)}


def sentence_names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence (lower-cased), e.g. {"brisson", "canada"}."""
    found: set[str] = set()
    for sentence in _SENTENCE_SPLIT.split(text):
        words = _WORD.findall(sentence)
        for word in words[1:]:
            if word[0].isupper() and word.lower() not in STOP_WORDS and word != "I":
                found.add(word.lower().removesuffix("'s"))
    return found


SAME_WORD_PREFIX = 6
"""Two content words that share their first this-many letters are one word ("migrates"/"migratory",
"introduced"/"introduction"); so are two that differ only after all but the last letter of the shorter one,
at least 4 shared ("builds"/"built", "cache"/"caching")."""


def same_word(a: str, b: str) -> bool:
    """Whether two words are the same content word: same stem, or a long enough shared prefix (above)."""
    a, b = a.lower(), b.lower()
    if a == b or stem(a) == stem(b):
        return True
    if a[:1].isdigit() or b[:1].isdigit():
        return False
    shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return shared >= SAME_WORD_PREFIX or shared >= max(4, min(len(a), len(b)) - 1)


# --- what a question asks for -----------------------------------------------------------------------------


class QuestionKind(StrEnum):
    """What an answer must hold to answer a question."""

    NUMBER = "number"  # when, what year, how many/much/long/old/far/...: a number or date
    NAME = "name"  # who, whom, whose: a name
    YES_NO = "yes/no"  # does/is/can/...: a polarity
    OTHER = "other"  # what, which, where, how, why: the reference's key content


_AUXILIARIES = frozenset(
    [
        "am",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
    ]
)
_NUMBER_QUESTION = re.compile(
    r"\b(when|what year|which year|in what year|what date|how (many|much|long|old|far|big|large|tall|high|heavy|"
    r"often|fast|deep|wide|small|short|low)|what (percentage|proportion|number|age|size|length|weight|temperature|"
    r"frequency|elevation|height|speed))\b"
)
_NAME_QUESTION = re.compile(r"\b(who|whom|whose)\b")


def question_kind(question: str) -> QuestionKind:
    """What ``question`` asks for, by its question words (English).

    A question led by an auxiliary verb ("Does it migrate?") is yes/no unless it
    holds a question word; "when"/"how many"/"what year"/... ask a number,
    "who"/"whom"/"whose" a name; anything else (what, which, where, why, how) is
    :attr:`QuestionKind.OTHER`.
    """
    text = question.strip().lower()
    if _NUMBER_QUESTION.search(text):
        return QuestionKind.NUMBER
    if _NAME_QUESTION.search(text):
        return QuestionKind.NAME
    words = terms(text)
    if words and words[0] in _AUXILIARIES:
        return QuestionKind.YES_NO
    return QuestionKind.OTHER


# --- cues of doubt and negation ---------------------------------------------------------------------------

HEDGES = re.compile(
    r"\b(maybe|perhaps|possibly|probably|presumably|unsure|uncertain|not sure|not certain|no idea|"
    r"(do|does|did) ?n[o']t know|i don'?t know|cannot say|can't say|hard to say|unknown|unclear|i think|i guess|"
    r"i believe|might be|could be|or so|either)\b",
    re.IGNORECASE,
)
"""Words of doubt: an answer that holds one states no fact ("I do not know, maybe Nicolas or Louis")."""


def hedged(text: str) -> bool:
    """Whether ``text`` holds a cue of doubt (:data:`HEDGES`)."""
    return HEDGES.search(text) is not None


NEGATIONS = frozenset(["not", "no", "never", "none", "nor", "neither", "without", "cannot", "absent", "lacks", "lack"])
NEGATION_PREFIX = re.compile(r"^non-?(?=[a-z]{4,})")
"""A prefix that negates the word it starts ("nonmigratory"); checked only against a word the other text holds."""
NEGATION_SCOPE = 3
"""How many words before a term a negation reaches ("does not migrate", "is not found in")."""


def negated_at(words: list[str], index: int) -> bool:
    """Whether the word ``words[index]`` is negated: a negation word (or ``n't``) among the
    :data:`NEGATION_SCOPE` words before it. ``words`` are lower case, as :func:`terms` splits them."""
    before = words[max(0, index - NEGATION_SCOPE) : index]
    return any(word in NEGATIONS or word == "t" for word in before)


def negation_prefix(word: str) -> tuple[bool, str]:
    """(True, the rest) when a lower-case ``word`` starts with a negating prefix ("nonmigratory" -> "migratory")."""
    match = NEGATION_PREFIX.match(word)
    if match is None or word.startswith("none"):
        return False, word
    return True, word[match.end() :]


def polarity(text: str) -> bool | None:
    """An answer's yes/no: True for a leading "yes", False for a leading "no"/"not", None when it leads with neither."""
    words = terms(text.lower())
    if not words:
        return None
    if words[0] in ("yes", "yeah", "yep", "correct", "true"):
        return True
    if words[0] in ("no", "nope", "not", "never", "false"):
        return False
    return None


def has_negation(text: str) -> bool:
    """Whether ``text`` holds a negation word, ``n't`` or a word with a negating prefix of a content word."""
    words = terms(text.lower())
    return any(w in NEGATIONS or w == "t" or negation_prefix(w)[0] for w in words)
