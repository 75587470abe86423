"""Answer spans that stand alone: a sentence that opens with a pronoun gets its referent named.

"It is of magnitude 13.05, too faint to be seen" says nothing alone; as an answer
it teaches the student that *something* has magnitude 13.05 (issue 16). The rules
here name the referent where a reader would agree, and leave the sentence as it is
otherwise (rule-based and conservative, no model):

- Only a sentence's first word is resolved: "It", "Its", "They", "Their",
  "He", "She", "His", "Her", and "This <noun>"/"These <noun>" where the noun is
  one the referent was described with ("Gliese 915 is a white dwarf star. This star ...").
- The referent is the subject of the sentence before, in the same paragraph,
  when that sentence opens with a name or a "the ..." noun phrase directly
  followed by a verb of :data:`_VERBS` ("Gliese 915 is a white dwarf ..."); a
  bare noun ("Flights are short") only where it names the document's subject
  ("Black-capped chickadees inhabit ..."); "the X of Y" only for "These X" (for "It": which of the two?).
  A sentence that opened with a resolved pronoun, or that has the pronoun as
  its subject after an opening phrase ("Lying 49 light years away, it is"),
  keeps it; one that names another thing beside its subject with a verb other
  than "is" ("Phoenix contains HE0107-5240"), or moves on (", which ..."), or
  any other sentence ends it (the next "It" is left alone).
- At a paragraph's start the referent is the document's subject
  (:func:`document_subject`: its title, written as the text writes it).
- "It" as a dummy subject ("It is likely that ...", "It was not until ...") is left alone.
- "He"/"She" take only a person's name (two or more capitalised words) from the
  sentence before, never the document's subject; "They" only a plural subject
  (a verb of :data:`_BE_PLURAL` after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from taxolab.sdg.spans import (
    MIN_KEEP_WORDS,
    MIN_SPAN_WORDS,
    chunk_sentences,
    span_groups,
    strip_markdown,
    word_count,
)
from taxolab.text import normalize

_BE_PLURAL = {"are", "were", "have", "do", "build", "inhabit", "range", "nest", "feed", "eat", "sing", "breed", "live"}
"""Verbs whose subject is plural ("Black-capped chickadees inhabit ...")."""
_VERBS = {
    "is", "was", "are", "were", "has", "had", "have", "can", "could", "may", "might", "will", "would", "does", "did",
    "do", "must", "should", "lies", "lay", "lives", "lived", "live", "nests", "feeds", "eats", "sings", "forms",
    "breeds", "occurs", "appears", "belongs", "became", "becomes", "measures", "weighs", "ranges", "extends",
    "includes", "included", "consists", "reaches", "orbits", "shows", "marks", "represents", "contains", "hosts",
    "remains", "described", "depicted", "named", "introduced", "discovered", "created", "wrote", "published",
    "noted", "founded", "built", "died", "served", "studied", "worked", "moved", "received", "won", "joined",
    "build", "inhabit", "inhabits", "range", "nest", "feed", "eat", "sing", "breed", "occur", "differ", "differs",
}  # fmt: skip
"""Verbs after which the words before are taken as a sentence's subject (a closed list: conservative)."""
_NOT_SUBJECT = {
    "this", "these", "that", "those", "there", "here", "it", "its", "they", "their", "he", "she", "his", "her",
    "we", "you", "i", "what", "which", "who", "one", "another", "other", "others", "such", "some", "many", "most",
    "all", "both", "each", "every", "few", "none", "neither", "either", "several", "only", "in", "on", "at", "by",
    "for", "from", "with", "after", "before", "during", "since", "although", "though", "while", "when", "if",
    "because", "as", "but", "and", "or", "so", "yet", "however", "also", "then", "thus", "today", "later", "next",
    "first", "second", "third", "last", "finally", "nearby", "below", "above", "among", "near", "beyond", "within",
}  # fmt: skip
_NAME_TOKEN = r"(?:[A-Z\u00c0-\u024f][\w'’.\-]*|\d[\w.\-]*|de|du|da|di|van|von|der|la|le|of)"
_NAME = rf"[A-Z\u00c0-\u024f][\w'’\-]*(?: {_NAME_TOKEN})*"
_SUBJECT = re.compile(
    rf"^(?P<np>(?:The|the) [\w'’\-]+(?: [\w'’\-]+){{0,4}}?|{_NAME}|[A-Z][\w'’\-]*(?: [a-z][\w'’\-]*(?<!ly)){{1,3}}?)"
    rf"(?:, (?P<apposition>{_NAME}),)?"
    rf"(?: \([^()]*\))?,? (?P<verb>{'|'.join(sorted(_VERBS))})\b"
)
_COPULA = {"is", "was", "are", "were", "became", "becomes", "remains"}
_OTHER_NAME = re.compile(rf"(?<=\s)(?:{_NAME}|[A-Z]+\d[\w\-/]*|\d+[A-Z][\w\-/]*)")
_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip
_DRIFT = re.compile(r",\s*(?:which|itself|whose|where|who)\b")
"""A clause that moves on to another thing: "Lapis is the genitive of ..., which is taken from the Arabic"."""
_APPOSITION = re.compile(r"^(?:Its|Their|His|Her)\s+(?P<noun>[^,]+),\s+(?:the|a|an)\s")
"""A possessive opener naming what it owns: "Its wild ancestor, the Indian aurochs, became extinct"."""
_PRONOUN_SUBJECT = re.compile(r"(?:^|,\s)(?:it|its|they|their)\s", re.IGNORECASE)
_PERSON = re.compile(r"^[A-Z][a-z'’\-]+(?: (?:[A-Z][a-z'’.\-]*|de|du|da|di|van|von|der|la|le))+$")
_OPENER = re.compile(r"^(?P<word>It|Its|They|Their|He|She|His|Her|This|These)\s+(?P<rest>.+)$", re.DOTALL)
_EXPLETIVE = re.compile(
    r"^It\s+(?:(?:is|was|has been|had been|will be|would be|may be|might be|can be|could be|seems|seemed|appears|"
    r"appeared|remains|remained|became|becomes|takes|took|rains|snows)\b(?:\s+\w+){0,3}?\s+"
    r"(?:that|whether|if|how|why|when|what|where|who|until)\b"
    r"|(?:is|was|seems|seemed|appears|appeared|would be|will be|may be|might be|can be|could be)\s+(?:\w+ly\s+)?"
    r"(?:possible|impossible|likely|unlikely|clear|unclear|uncertain|unknown|difficult|easy|hard|important|"
    r"necessary|common|rare|usual|unusual|customary|best|better|time|true|said|thought|believed|known|reported|"
    r"estimated|assumed|suggested|noted)\s+(?:that|whether|if|to|for)\b"
    r"|(?:takes|took|rains|rained|snows|snowed)\b)"
)
"""A dummy "It": "It is likely that ...", "It was not until 1900 that ...", "It is easy to ...", "It takes ..."."""
_TITLE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_OUTLINE = re.compile(
    r"^(?:information|overview|facts|details|description|summary|history|knowledge)\s+(?:about|of|on|regarding)\s+"
    r"(?P<subject>.+?)(?=,|;|:|\.|\s+including\b|\s+explaining\b|\s+and\s+(?:its|their|how|what|why)\b|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    """What a document is about, as its text writes it mid-sentence: ``"the black-capped chickadee"``, ``"Phoenix"``."""

    name: str
    plural: bool = False
    pronoun: bool = True
    """Whether a pronoun may stand for it; a demonstrative with its own noun ("These vocalizations") always may."""

    def opening(self, possessive: bool = False) -> str:
        """The name opening a sentence ("The black-capped chickadee"), optionally possessive ("...'s")."""
        text = self.name[:1].upper() + self.name[1:]
        if possessive:
            text += "’" if self.plural and text.endswith("s") else "'s"
        return text


@dataclass
class _Referents:
    thing: Subject | None = None
    people: Subject | None = None
    described: set[str] = field(default_factory=set)


def document_subject(markdown: str, outline: str = "") -> Subject | None:
    """A document's subject from its title heading (``# Phoenix (constellation)``), else from the leaf's outline.

    The title loses a trailing "(...)" disambiguator; it is written as the text
    writes it where the text names it (``"# Black-capped chickadee"`` with "The
    black-capped chickadee is ..." gives ``"the black-capped chickadee"``). A
    title the text never names keeps its own form only when it is a name
    (``"Phoenix"``, ``"Gliese 915"``); the outline's "Information about X,
    including ..." gives X. Returns None when neither says.
    """
    text = strip_markdown(markdown)
    title = _TITLE.search(markdown)
    if title:
        name = re.sub(r"\s*\([^()]*\)\s*$", "", strip_markdown(title.group(1))).strip()
        found = _as_written(name, text) if name else None
        if found is not None:
            return found
        if re.fullmatch(_NAME, name) and (" " not in name or _is_name(name)):
            return Subject(name)
    return outline_subject(outline, text)


def outline_subject(outline: str, text: str) -> Subject | None:
    """X of a leaf outline "Information about X, including ...", as ``text`` writes it; None when the outline
    says it otherwise or the text never names X ("black capped chickadee" finds "The black-capped chickadee")."""
    match = _OUTLINE.match(" ".join(outline.split()))
    if match is None:
        return None
    name = re.sub(r"^(?:the|a|an)\s+", "", match.group("subject"), flags=re.IGNORECASE).strip()
    return _as_written(name, text) if name else None


def subject_named(name: str, markdown: str = "") -> Subject:
    """A subject given by name (as :func:`chunk_subjects` gives it), its number read from ``markdown`` where
    the text names it ("Swifties are ..."), else from the name ("-ies" plural, anything else singular)."""
    found = _as_written(name, strip_markdown(markdown)) if markdown else None
    if found is not None and normalize(found.name) == normalize(name):
        return Subject(name, plural=found.plural)
    return Subject(name, plural=name.endswith("ies"))


def _as_written(candidate: str, text: str) -> Subject | None:
    """The candidate as the text writes it (with its "the" where it has one), and its number, or None."""
    words = normalize(candidate).split()
    if not words:
        return None
    pattern = r"[\s\-]+".join(re.escape(word) for word in words)
    match = re.search(rf"(?:\b(the)\s+)?\b({pattern})\b(?:\s+\([^()]*\))?,?\s+(\w+)?", text, re.IGNORECASE)
    if match is None:
        return None
    name = match.group(2)
    if match.group(1) or name[:1].islower():  # "the zebu"; "a black-capped chickadee flock": a common noun
        name = f"the {name[:1].lower() + name[1:] if not _is_name(name) else name}"
    verb = (match.group(3) or "").lower()
    return Subject(name, plural=verb in _BE_PLURAL or (verb not in _VERBS and name.endswith("ies")))


def _is_name(text: str) -> bool:
    return sum(1 for word in text.split() if word[:1].isupper()) > 1


def resolve_sentences(paragraphs: list[list[str]], subject: Subject | None) -> list[list[str]]:
    """Sentences per paragraph -> the same sentences, each opening pronoun replaced by its referent (module rules).

    The shape is kept: one output sentence per input sentence, unchanged where no rule applies.
    """
    resolved: list[list[str]] = []
    for sentences in paragraphs:
        state = _Referents(thing=subject)
        out = []
        for sentence in sentences:
            new, opened = _resolve(sentence, state)
            _update(state, sentence, opened, subject)
            out.append(new)
        resolved.append(out)
    return resolved


def _resolve(sentence: str, state: _Referents) -> tuple[str, bool]:
    """The sentence with its opening pronoun replaced, and whether one was."""
    match = _OPENER.match(sentence)
    if match is None:
        return sentence, False
    word, rest = match.group("word"), match.group("rest")
    thing, people = state.thing, state.people
    replacement: str | None = None
    pronoun = thing is not None and thing.pronoun
    if word == "It" and thing is not None and pronoun and not thing.plural and not _EXPLETIVE.match(sentence):
        replacement = thing.opening()
    elif word == "Its" and thing is not None and pronoun and not thing.plural:
        replacement = thing.opening(possessive=True)
    elif word in {"They", "Their"} and thing is not None and pronoun and thing.plural:
        replacement = thing.opening(possessive=word == "Their")
    elif word in {"He", "She", "His", "Her"} and people is not None:
        replacement = people.opening(possessive=word in {"His", "Her"})
    elif word in {"This", "These"} and thing is not None and thing.plural == (word == "These"):
        noun, _, after = rest.partition(" ")
        if after and noun.lower() in state.described:
            return f"{thing.opening()} {after}", True
    if replacement is None:
        return sentence, False
    return f"{replacement} {rest}", True


def _mentions(noun_phrase: str, subject: Subject | None) -> bool:
    """Whether a noun phrase names the subject's head noun ("Black-capped chickadees", "Zebu cows")."""
    if subject is None or not normalize(subject.name):
        return False
    head = normalize(subject.name).split()[-1]
    return any(word.startswith(head) for word in normalize(noun_phrase).split())


def _update(state: _Referents, original: str, opened: bool, subject: Subject | None) -> None:
    """After a sentence: its subject becomes the referent, or the referent is kept or ended (module rules)."""
    if opened:
        possessed = _APPOSITION.match(original)
        if possessed and not set(normalize(possessed.group("noun")).split()) & _VERBS:
            state.thing = state.people = None  # "Its wild ancestor, the Indian aurochs, ... Its remains": whose?
        return
    match = _SUBJECT.match(original)
    if match and match.group("np").split()[0].lower() not in _NOT_SUBJECT:
        noun_phrase = match.group("apposition") or match.group("np")
        if noun_phrase.split()[0] == "The" and not _is_name(noun_phrase):
            noun_phrase = "the" + noun_phrase[3:]
        verb = match.group("verb").lower()
        plural = verb in _BE_PLURAL
        rest = original[match.end() :]
        others = [name for name in _OTHER_NAME.findall(rest) if name.split()[0].lower() not in _CALENDAR]
        if _DRIFT.search(rest) or (verb not in _COPULA and others):
            state.thing = state.people = None  # "Phoenix contains HE0107-5240 ... It has": which one?
            return
        state.described = {word for word in normalize(f"{match.group('np')} {rest}").split() if len(word) > 2}
        bare = not noun_phrase.startswith("the ") and (
            (plural and " " not in noun_phrase) or not re.fullmatch(_NAME, noun_phrase)
        )
        if " of " in noun_phrase or (bare and not _mentions(noun_phrase, subject)):
            # "The population of black-capped chickadees is ... It is the state bird": population or bird?
            # "Flights are short ... They avoid open areas": a bare noun is seldom what "They" means, unless
            # it names the document's subject ("Black-capped chickadees are non-migratory. They range ...")
            state.thing = Subject(noun_phrase, plural=plural, pronoun=False)
        else:
            state.thing = Subject(noun_phrase, plural=plural)
        state.people = Subject(noun_phrase) if _PERSON.match(noun_phrase) and not plural else None
        return
    # no subject found: the referent goes on only where the sentence has it as its subject
    # ("Lying 49 light years away, it is ..."), not as an object ("Brisson described it", "making it one of")
    if not _PRONOUN_SUBJECT.search(original):
        state.thing = None
    if not re.search(r"(?:^|,\s)(?:he|she|his|her)\s", original, re.IGNORECASE):
        state.people = None


@dataclass(frozen=True)
class AnswerSpan:
    """One answer span: ``answer`` with opening pronouns resolved, ``original`` as the document writes it."""

    answer: str
    original: str


def answer_spans(
    markdown: str,
    subject: Subject | None = None,
    *,
    min_words: int = MIN_SPAN_WORDS,
    min_keep: int = MIN_KEEP_WORDS,
) -> list[AnswerSpan]:
    """A document chunk -> its answer spans (:func:`taxolab.sdg.spans.document_spans`), each also resolved.

    Spans are grouped on the document's own sentences, so ``[s.original for s in
    answer_spans(text)] == document_spans(text)`` whatever the resolution adds.
    """
    spans: list[AnswerSpan] = []
    paragraphs = chunk_sentences(markdown)
    for sentences, resolved in zip(paragraphs, resolve_sentences(paragraphs, subject), strict=True):
        for group in span_groups(sentences, min_words):
            original = " ".join(sentences[index] for index in group)
            if word_count(original) >= min_keep:
                spans.append(AnswerSpan(" ".join(resolved[index] for index in group), original))
    return spans


def chunk_subjects(chunks: list[str], outline: str = "") -> list[Subject | None]:
    """The subject of each of a leaf's chunks (in document order): that of the last title heading seen so far.

    A chunk without a title heading before it takes the outline's subject
    (:func:`document_subject`). Each chunk is read once.
    """
    subjects: list[Subject | None] = []
    current: Subject | None = None
    fallback: Subject | None = None
    if outline:
        fallback = next((found for chunk in chunks if (found := outline_subject(outline, strip_markdown(chunk)))), None)
    for chunk in chunks:
        if _TITLE.search(chunk):
            current = document_subject(chunk) or current
        subjects.append(current or fallback)
    return subjects
