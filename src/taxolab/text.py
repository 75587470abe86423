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
- :func:`normalize`: the one form texts and questions are compared in -- held-out exclusion and the
  dev/test split (mixing), "was the model trained on this question?" (evaluation), the question check;
- :func:`normalise_tokens`: SQuAD-style answer tokens (articles dropped), for token F1 and ROUGE-L;
- :func:`content_stems` / :func:`cjk_bigrams`: a text's content words as stems (grounding, the question check);
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


def normalize(text: str) -> str:
    """Lower case, letters and digits only (of any script), single spaces: "near-identical" texts compare equal.

    The one rule for comparing questions: mixing's held-out exclusion and dev/test split, evaluation's
    "trained on this question?" and generation's held-out choice all use it (articles are kept).
    """
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def normalise_tokens(text: str) -> list[str]:
    """Lower-case words with punctuation and English articles removed (SQuAD-style answer normalisation,
    for token F1 and ROUGE-L; questions are compared by :func:`normalize`)."""
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
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
"""An English word: letters, inner apostrophes and hyphens."""
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK = re.compile(f"[{_CJK_CHARS}]")
"""One Chinese, Japanese or Korean character (scripts written without spaces between words)."""
_CJK_RUN = re.compile(f"[{_CJK_CHARS}]+")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?:])\s+|\n+")


def numbers(text: str) -> set[str]:
    """Numbers as written in digits, thousands separators removed ("1,200" == "1200")."""
    return {match.group(0).replace(",", "").rstrip(".") for match in _NUMBER.finditer(text)}


def sentence_names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence (lower-cased), e.g. {"brisson", "canada"}."""
    found: set[str] = set()
    for sentence in _SENTENCE_SPLIT.split(text):
        words = WORD.findall(sentence)
        for word in words[1:]:
            if word[0].isupper() and word.lower() not in STOP_WORDS and word != "I":
                found.add(word.lower().removesuffix("'s"))
    return found


def content_stems(text: str) -> list[str]:
    """Stems of the content words (3+ letters, not :data:`STOP_WORDS`), in order (repeats kept), then the
    :func:`cjk_bigrams` of any Chinese, Japanese or Korean text."""
    stems = []
    for word in WORD.findall(text):
        for part in word.split("-"):
            if len(part) >= 3 and part.lower() not in STOP_WORDS:
                stems.append(stem(part))
    return stems + cjk_bigrams(text)


def cjk_bigrams(text: str) -> list[str]:
    """Adjacent character pairs of every run of CJK characters (a lone character stands for itself).

    Chinese and Japanese put no spaces between words, so the words of a sentence are not
    found by splitting; character bigrams are the usual stand-in for them in retrieval.
    """
    pairs: list[str] = []
    for run in _CJK_RUN.findall(text):
        pairs.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return pairs


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


# --- what a question needs from its answer (question_check, issue 16) -------------------------------------


class AnswerType(StrEnum):
    """What an answer must hold to answer a question, finer than :class:`QuestionKind` (for data checks)."""

    COUNT = "count"  # how many X: a number that counts X
    NUMBER = "number"  # how much/long/old/far/often/..., what year/percentage/...: a number
    TIME = "time"  # when: a number, a date or a time word
    NAME = "name"  # who, whom, whose: a name
    PLACE = "place"  # where, what habitat/location: a place (a name, or a phrase such as "in tree cavities")
    YES_NO = "yes/no"  # does/is/can ...
    OTHER = "other"  # what, which, how, why: the question's content words, said about in the answer


_WH_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b")
_NAMED_THING_QUESTION = re.compile(
    r"(?:what|which) (?:\w+ )?(?:study|studies|scientist|researcher|person|people|author|naturalist|zoologist|"
    r"ornithologist|biologist|explorer|book|paper|journal|organi[sz]ation|company|king|queen|president)\b"
)
_MEASURE_QUESTION = re.compile(
    r"what (?:is|are|was|were) (?:the |its |their )?(?:average |typical |usual |maximum |minimum |mean )?"
    r"(?:frequency|frequencies|length|weight|size|speed|temperature|height|age|lifespan|life span|percentage|"
    r"number|population|elevation|depth|width|distance|duration|wingspan|mass)\b"
)
_PLACE_QUESTION = re.compile(
    r"^where\b|^(?:what|which) (?:is|are|was|were) (?:[\w'’-]+ ){0,4}(?:habitat|location|region|home)s?\W*$"
)


def answer_type(question: str) -> AnswerType:
    """What an answer to ``question`` must hold, decided by its first question word (English).

    A question led by an auxiliary verb is YES_NO ("Does it sing when it rains?"); then "how many" is
    COUNT, "when"/"at what time" TIME, the other number phrases of :func:`question_kind` ("how long",
    "what year") NUMBER, "who/whom/whose" and "which study/scientist/book" NAME, "where" and "what is its habitat?" PLACE, the rest OTHER.
    A later question word belongs to a clause ("What sounds do they make when ...?" is OTHER).
    """
    text = question.strip().lower()
    words = terms(text)
    if words and words[0] in _AUXILIARIES:
        return AnswerType.YES_NO
    first = _WH_WORD.search(text)
    if first is None:
        return AnswerType.OTHER
    lead = text[first.start() :]
    if lead.startswith("how many"):
        return AnswerType.COUNT
    if lead.startswith("when") or re.match(r"what (?:time|month|season)\b", lead) or "at what time" in text:
        return AnswerType.TIME
    number = _NUMBER_QUESTION.search(text)
    if (number is not None and number.start() <= first.start() + 1) or _MEASURE_QUESTION.match(lead):
        return AnswerType.NUMBER
    if _NAME_QUESTION.match(lead) or _NAMED_THING_QUESTION.match(lead):
        return AnswerType.NAME
    if _PLACE_QUESTION.search(lead):
        return AnswerType.PLACE
    return AnswerType.OTHER


_TIME_WORDS_TEXT = """
    spring summer autumn fall winter season seasons year years annual annually month months week weeks day days
    daily night nights nightly morning mornings evening evenings dawn dusk noon hour hours minute minutes century
    centuries decade decades era age january february march april may june july august september october
    november december breeding nesting migration hatching birth adulthood young juvenile early late before after
    during until since while once
    """
TIME_WORDS = frozenset(_TIME_WORDS_TEXT.split())
"""Words that can answer "when" without a number: seasons, months, parts of the day, life stages, "during"."""

_QUESTION_FRAME_WORDS_TEXT = """
    way ways kind kinds type types sort sorts name names named purpose purposes role roles method methods example
    examples aspect aspects thing things something specific particular main certain tell describe explain mean
    meaning significance feature features characteristic characteristics found located location place habitat
    color colour make makes take takes get gets give gives occur occurs exist exists
    """
QUESTION_FRAME_WORDS = frozenset(_QUESTION_FRAME_WORDS_TEXT.split())
"""Words that frame what a question asks ("what kind of", "what is the purpose of", "where is it found") rather
than name the fact, and light verbs ("make", "occur"): an answer need not repeat them."""

_PRONOUN_DEMONSTRATIVE = re.compile(
    r"\b(this|that|these|those)\s*\?|"
    r"\b(?:is|was|are|were|do|does|did|about|of|in|for|to|from|by|with|what|why|how|mean)\s+(this|that|these|those)"
    r"\s+(?:is|was|are|were|do|does|did|mean|means|meant|say|says|show|shows|tell|tells|refer|refers|have|has|"
    r"had|happen|happens|imply|implies|suggest|suggests|in|for|of|about|to)\b"
)
_DEMONSTRATIVE_DETERMINER = re.compile(r"\b(this|these|those|such)\s+(?!as\b|that\b|who\b|which\b|of\b)[a-z]")
_IN_TOTAL = re.compile(r"\b(?:is|are|was|were)\s+(in total|altogether|overall|combined)\s*\?")


def unresolved_reference(question: str) -> str | None:
    """The words of ``question`` that point at something it does not name, or None (English).

    A demonstrative used as a pronoun ("How many light years is that?", "What does this mean ...?"), one
    that points at a thing named elsewhere ("Can you describe this song?", "such behaviour") and a total of
    nothing named ("How many planets are in total?") need the text the question was written from. "that"
    as a relative pronoun ("birds that cache food") and "such as" are not such words.
    """
    text = question.strip().lower()
    for pattern in (_PRONOUN_DEMONSTRATIVE, _DEMONSTRATIVE_DETERMINER, _IN_TOTAL):
        match = pattern.search(text)
        if match:
            return next(group for group in match.groups() if group)
    return None


_TWO_QUESTIONS = re.compile(
    r"(?:,|;|\band)\s+(?:and\s+)?(?:what|who|whom|whose|which|where|when|why|how|is|are|was|were|does|do|did|can|"
    r"could|will|would|has|have|had)\b(?=.*\?\s*$)"
)


def two_questions(question: str) -> bool:
    """Whether ``question`` asks two things joined by "and"/a comma ("Who was X, and what was his work?").

    One answer span answers both only by chance; either-or questions ("Is it X or does it Y?") are one question.
    """
    text = question.strip().lower()
    match = _TWO_QUESTIONS.search(text)
    return match is not None and match.start() > 0 and text[: match.start()].strip(" ,;") != ""


SUPERLATIVE = re.compile(r"\b(most|least|best|worst|first|last|only|maximum|minimum|record|main\w*|\w{3,}est)\b")
"""A ranking word ("the most common", "the largest", "the first"); \\w{3,}est also matches a few non-superlatives
("forest", "interest"), so callers compare against the answer, which holds the same false hits."""
_NOT_SUPERLATIVE = frozenset(["forest", "forests", "interest", "honest", "modest", "nest", "nests", "west", "rest"])


def superlatives(text: str) -> set[str]:
    """The ranking words of ``text`` (lower case), e.g. {"most"} for "the most common method"."""
    found = {match.group(1) for match in SUPERLATIVE.finditer(text.lower())}
    return {word for word in found if word not in _NOT_SUPERLATIVE and not word.startswith("main")} | (
        {"most"} if re.search(r"\bmainly\b|\bprimarily\b|\bmostly\b|\busually\b|\btypically\b", text.lower()) else set()
    )


_RUN_END = STOP_WORDS | _AUXILIARIES | {"can", "could"}


def counted_noun(question: str) -> str | None:
    """The noun a "how many" question counts: the last word of the words after "how many" up to a verb or
    function word ("How many light years is that?" -> "years"; "How many meteors can you see?" -> "meteors")."""
    words = terms(question.lower())
    for index in range(len(words) - 1):
        if words[index] == "how" and words[index + 1] == "many":
            run = []
            for word in words[index + 2 :]:
                if word in _RUN_END:
                    break
                run.append(word)
            return run[-1] if run else None
    return None


def counted_nouns(text: str) -> set[str]:
    """The nouns that the numbers of ``text`` count: for each number (digits or spelled out), the last word of
    the up-to-four words after it before a function word or punctuation ("two annual meteor showers:" ->
    "showers", "6–8 eggs" -> "eggs", "1.52 cm" -> "cm")."""
    found: set[str] = set()
    tokens = re.findall(r"\d+(?:[.,]\d+)*|[^\W\d_]+|[^\w\s]", POSSESSIVE.sub("", halves_as_digits(text)))
    for index, token in enumerate(tokens):
        if not is_number(token):
            continue
        run: list[str] = []
        for word in tokens[index + 1 : index + 6]:
            lower = word.lower()
            if is_number(word) or lower in ("to", "and", "or"):
                if run:
                    break
                continue  # "6–8 eggs", "six to eight eggs": the range's second number
            if not word[:1].isalpha() or lower in _RUN_END:
                if run or word not in "–-":
                    break
                continue
            run.append(lower)
            if len(run) == 4:
                break
        if run:
            found.add(run[-1])
    return found


def latin_script(text: str) -> bool:
    """Whether most letters of ``text`` are Latin (the English rules above apply to it)."""
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and sum(char.isascii() for char in letters) * 2 > len(letters)


_PLACE_PREPOSITIONS_TEXT = (
    "in at on near above below under beneath throughout across from along inside within among around into"
)
PLACE_PREPOSITIONS = frozenset(_PLACE_PREPOSITIONS_TEXT.split())


def place_words(text: str) -> set[str]:
    """Lower-case content words of ``text`` that can say where: its names (:func:`sentence_names`) and the
    content words up to three words after a place preposition ("nests in tree cavities" -> {"tree",
    "cavities"})."""
    found = set(sentence_names(text))
    words = terms(text.lower())
    for index, word in enumerate(words):
        if word in PLACE_PREPOSITIONS:
            found.update(w for w in words[index + 1 : index + 4] if w not in STOP_WORDS and not is_number(w))
    return found


def without_question_phrase(question: str) -> str:
    """``question`` without its number-question phrase ("how long", "what year", "how many"), whose words
    ("long", "year") say what kind of answer is wanted, not what it is about."""
    return _NUMBER_QUESTION.sub(" ", question.lower())


def repeated_run(text: str, size: int = 3) -> str | None:
    """The first run of ``size`` words that ``text`` says twice, when one of them is a content word
    ("the 1989 study on the 1989 study"), else None: a sign of garbled generated text."""
    words = normalise_tokens(text)
    seen: set[tuple[str, ...]] = set()
    for index in range(len(words) - size + 1):
        run = tuple(words[index : index + size])
        if run in seen and any(word not in STOP_WORDS for word in run):
            return " ".join(run)
        seen.add(run)
    return None


_COMPARATIVES_TEXT = """
    more less fewer greater larger smaller bigger higher lower longer shorter faster slower earlier later older
    younger heavier lighter darker paler brighter louder softer warmer colder wider narrower deeper stronger weaker
"""
COMPARATIVES = frozenset(_COMPARATIVES_TEXT.split())
"""Words that compare ("faster", "more"): a question that holds one asks about that comparison."""

_DEFINITION = re.compile(
    r"^what (?:(?:kind|type|sort) of [\w-]+ |(?:species|family|genus|breed|class|order|group) )?"
    r"(?:is|are|was|were) (?:an? |the )?((?:[\w-]+ ?){1,4})\?$"
)
_DEFINITION_NOT = frozenset(["of", "in", "on", "for", "to", "with", "by", "from", "at", "about", "between", "that"])


def defined_term(question: str) -> str | None:
    """The term a "What is X?" or "What species/kind of bird is X?" question asks to define or classify
    (lower case, up to four words, no preposition): "What is the specific epithet atricapillus?" ->
    "specific epithet atricapillus"; else None."""
    match = _DEFINITION.match(" ".join(question.strip().lower().split()))
    if match is None:
        return None
    term = match.group(1).strip()
    return None if _DEFINITION_NOT.intersection(term.split()) else term


def defines(answer: str, term: str) -> bool:
    """Whether ``answer`` says what ``term`` is: its last word is followed, within four words (a name in
    brackets), by "is/are/was/were/means/refers" ("The black-capped chickadee (Poecile atricapillus) is ...")."""
    head = term.rsplit(maxsplit=1)[-1]
    words = normalise_tokens(answer)
    for index, word in enumerate(words):
        if same_word(word, head) and any(
            w in ("is", "are", "was", "were", "means", "refers") for w in words[index + 1 : index + 5]
        ):
            return True
    return False


_DEMONSTRATIVE_SUBJECT = re.compile(r"^\W*(?:these|those|this|such)\s+(?:an?\s+)?([a-z][\w-]*)", re.IGNORECASE)


def demonstrative_subject(answer: str) -> str | None:
    """The noun of an answer that opens with a demonstrative ("These species will react ..." -> "species"),
    i.e. a subject named in an earlier sentence the reader does not see; else None."""
    match = _DEMONSTRATIVE_SUBJECT.match(answer)
    if match is None or match.group(1).lower() in STOP_WORDS | _AUXILIARIES:
        return None
    return match.group(1).lower()
