"""Many true forms per fact: the knowledge samples that need no teacher, and the count of forms per fact.

A *fact* is one answer span of a leaf's document (:func:`taxolab.sdg.spans.document_spans`
of each passage, ``span_id`` ``"<passage index>:<span index>"``; a span repeated in two
overlapping chunks is one fact). A fact becomes answerable under phrasings never
trained only after many varied restatements, with sentence order permuted (Allen-Zhu
& Li, "Physics of Language Models 3.1": their *fullname* and *permute* augmentations),
and a fact learned in one direction is not recalled in the other (Berglund et al.,
"The Reversal Curse", 2023). So besides the teacher's question phrasings, mixing
builds, from the document alone (true by construction, no teacher request):

- ``restated``: each passage with every span in its standalone form (the row's
  ``answer`` where generation resolved a leading pronoun; a ``pretraining`` sample,
  made only where some span changed);
- ``fill_in``: the span with one salient item (a number, a proper name, a
  parenthesised name, a hyphenated term, a list item) blanked; the assistant writes
  the whole sentence, so the answer tokens are trained in their context, or with
  ``mix.fill_in_answer: item`` the item alone (salient-span masking, Guu et al.
  2020, as a chat task);
- ``wh_questions``: the span as an echo question, one salient item replaced by a
  wh-phrase ("In 1999, researchers at what successfully cloned a zebu?"; a year
  asks "what year", a percentage "what percentage", another number "how many"),
  answered with the whole sentence: the fill-in's item asked the way a user asks,
  a question with no instruction around it (the items taken from the end of the
  sentence, so they differ from the fill-ins' where a sentence has several);
- ``entity_questions``: a short question keyed on one of the span's names, years or
  rare words that no other span has ("Tell me about Canchim in relation to the
  zebu."), answered with the whole sentence (opt-in);
- ``cue_questions``: a question naming three content words of the span (not the
  item it would ask for), "What is known about weaning, cows and calves (Zebu)?",
  answered with the whole sentence: the few words a user's question shares with
  the sentence lead to it;
- ``reverse``: where the span's grammatical subject is the leaf's subject, the
  subject asked for from the attribute ("Which animal feeds on ...?");
- ``permuted_passages``: each passage's spans in a few shuffled orders
  (``pretraining`` samples; the original passage is always trained too).

:func:`count_forms` counts, per fact, the distinct training samples whose
assistant or pretraining text holds the fact (its span or standalone form,
compared normalised), and lists the facts below ``mix.min_forms_per_fact``;
mixing writes it to ``forms/<leaf>.json`` and :func:`short_facts` reads it back
(the facts that need more teacher attempts).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.datarun import FORMS, MESSAGES, QUESTIONS_KEY, DataRun
from taxolab.mixing.messages import chat_sample
from taxolab.sdg.spans import document_spans, word_count
from taxolab.text import STOP_WORDS, normalize

BLANK = "___"

SAMPLE_KINDS = {
    "closed_book": "questions",
    "context": "questions",
    "context_with_distractor": "questions",
    "passage": "passages",
    "restated_passage": "restated",
    "fill_in": "fill_in",
    "wh_question": "wh_questions",
    "entity_question": "entity_questions",
    "cue_question": "cue_questions",
    "reverse": "reverse",
    "permuted_passage": "permuted_passages",
}
"""A sample's ``metadata.sample_type`` -> the form kind it is counted as."""

_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?:\s*[–—-]\s*\d[\d,.]*)?%?(?![\w-])")
_NAME = re.compile(r"\b[A-Z][\w'’&-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’&-]*)*")
_PAREN = re.compile(r"\(([^()]{3,60})\)")
_HYPHENATED = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b")
_PRONOUN_START = {"it", "its", "they", "their", "this", "these", "he", "she", "his", "her", "that", "those", "the", "a"}
_MAX_ITEM_WORDS = 6
_PREFIX_WORDS = 3
_CLOSING = ".!?\"')]。！？」』）"
_YEAR = re.compile(r"\d{3,4}(?:\s*(?:BC|BCE|AD|CE))?")
_YEAR_BEFORE = re.compile(r"(?:\b(?:in|since|until|by|from|of|before|after|around|c\.)\s+)$", re.I)
_SAME_PLURAL = {"species", "series", "fish", "sheep", "deer", "aircraft"}


@dataclass(frozen=True)
class Fact:
    """One answer span of a leaf's document: ``standalone`` is the span restated to stand alone, or the span."""

    span_id: str
    span: str
    standalone: str
    passage: int
    leaf: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The normalised texts that mean a sample holds this fact."""
        return tuple(dict.fromkeys(key for key in (normalize(self.span), normalize(self.standalone)) if key))


def leaf_facts(passages: Iterable[dict[str, Any]], rows: Iterable[dict[str, Any]]) -> list[Fact]:
    """The facts of a leaf: every span of every passage (``{"text", "index"}``), the first of repeated spans kept.

    ``rows`` are the generated rows and held-out pairs: where one has ``span`` and an
    ``answer`` other than the span (generation resolved a leading pronoun), that answer
    is the fact's standalone form.
    """
    standalone: dict[str, str] = {}
    for row in rows:
        span = str(row.get("span") or row.get("answer_original") or "")
        answer = str(row.get("answer") or "")
        if span and answer and normalize(answer) != normalize(span):
            standalone.setdefault(normalize(span), answer.strip())
    facts: list[Fact] = []
    seen: set[str] = set()
    for passage in passages:
        index = int(passage.get("index", 0))
        for number, span in enumerate(document_spans(str(passage.get("text") or ""))):
            key = normalize(span)
            if key and key not in seen:
                seen.add(key)
                leaf = passage.get("leaf")
                facts.append(Fact(f"{index}:{number}", span, standalone.get(key, span), index, leaf))
    return facts


def leaf_subject(rows: Iterable[dict[str, Any]]) -> str | None:
    """The leaf's subject as a sentence names it, from the title heading of its document's first chunk.

    ``# Black-capped chickadee`` -> "the black-capped chickadee" (a title whose later
    words are all lower case names a kind of thing); ``# Phoenix (constellation)`` ->
    "Phoenix" (a trailing parenthesis is dropped; a proper name keeps its case). None
    when no generated row carries a Markdown title.
    """
    for row in sorted(rows, key=lambda row: int(row.get("chunk_index") or 0)):
        text = str(row.get("raw_document") or row.get("document") or "")
        match = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, re.M)
        if not match:
            continue
        title = re.sub(r"[*_`]", "", re.sub(r"\s*\([^)]*\)\s*$", "", match.group(1))).strip()
        words = title.split()
        if len(words) > 1 and all(word[:1].islower() for word in words[1:]):
            return f"the {title[:1].lower()}{title[1:]}"
        if title:
            return title
    return None


def subject_kind(domain: str | None) -> tuple[str, str] | None:
    """(singular, plural) of the leaf's ``domain`` when it is a plural noun ("animals" -> animal, animals)."""
    word = (domain or "").strip().lower()
    if word in _SAME_PLURAL:
        return word, word
    if not re.fullmatch(r"[a-z]+", word) or not word.endswith("s") or word.endswith(("ss", "ics", "us")):
        return None
    return (word[:-3] + "y" if word.endswith("ies") else word[:-1]), word


def salient_items(text: str, subject: str | None = None) -> list[str]:
    """The items of ``text`` a fill-in prompt may blank, in order: numbers, names, parenthesised names,
    hyphenated terms, else the items of a list ("a, b, and c"), else the closing phrase.

    Items inside the leaf's ``subject``, a sentence's first word and an item inside a longer
    one are not salient.
    """
    subject_words = set(normalize(subject or "").split())
    items: list[str] = []

    def add(item: str) -> None:
        item = item.strip(" ,;:.")
        words = normalize(item).split()
        if not words or len(words) > _MAX_ITEM_WORDS or set(words) <= subject_words | _PRONOUN_START:
            return
        if normalize(item) in normalize(subject or "") and subject_words:
            return
        if item not in items:
            items.append(item)

    for match in _NUMBER.finditer(text):
        if not re.search(r"\d[^()]*\(\s*$", text[: match.start()]):  # "10–14 g (0.35 oz)": the conversion is not a fact
            add(match.group(0))
    for match in _PAREN.finditer(text):
        if not match.group(1)[:1].isdigit():  # "(0.35 oz)", "(1858)": a measure or a date, its numbers count above
            add(match.group(1))
    for match in _NAME.finditer(text):
        if match.start() > 0:
            add(match.group(0))
    for match in _HYPHENATED.finditer(text):
        add(match.group(0))
    if not items:
        for piece in _list_items(text):
            add(piece)
    if not items:
        add(_closing_phrase(text))
    # "Bos" within "(Bos indicus)": the longer item is the one to ask for
    return [item for item in items if not any(item != other and f" {item} " in f" {other} " for other in items)]


def fill_in_samples(
    facts: list[Fact], subject: str | None, *, system: str, per_fact: int, answer: str = "sentence", variant: int = 0
) -> list[dict[str, Any]]:
    """Up to ``per_fact`` fill-in (cloze) chat samples per fact, one salient item blanked in each.

    ``variant`` ``v`` blanks the fact's salient items from the ``v * per_fact``-th on (cyclically), so
    each epoch variant (``mix.epoch_variants``) asks for other items of the same fact.

    ``answer`` (``mix.fill_in_answer``): ``"sentence"``, the assistant writes the whole sentence with the
    blank filled; ``"item"``, only the blanked item (salient-span masking as Guu et al. 2020 train it:
    the loss on the masked span alone). Raises ``ValueError`` for any other value.
    """
    if answer not in ("sentence", "item"):
        raise ValueError(f"fill-in answer must be 'sentence' or 'item', not {answer!r}")
    about = f" about {subject}" if subject else ""
    samples = []
    for fact in facts:
        text = fact.standalone
        for item in _rotated(salient_items(text, subject), per_fact, variant):
            blanked = _whole_item(item).sub(BLANK, text)
            if BLANK not in blanked:
                continue
            user = f"Fill in the blank in this sentence{about}: {blanked}"
            samples.append(_chat(user, text if answer == "sentence" else item, fact, "fill_in", system))
    return samples


def _rotated(items: list[str], count: int, variant: int) -> list[str]:
    """``count`` of ``items`` (at most all of them) starting at the ``variant * count``-th, cyclically;
    variant 0 is ``items[:count]``."""
    count = min(count, len(items))
    return [items[(variant * count + i) % len(items)] for i in range(count)]


def _whole_item(item: str) -> re.Pattern[str]:
    """``item`` where it stands as whole words (not inside a longer word or number)."""
    return re.compile(rf"(?<!\w){re.escape(item)}(?!\w)")


def wh_phrase(item: str, before: str) -> str:
    """The wh-phrase that asks for ``item`` where ``before`` is the sentence's text ahead of it.

    A year ("1999", "7570 BC" after "in", "since" ...) -> "what year"; a percentage ->
    "what percentage"; another number -> "how many"; anything else -> "what".
    """
    if _NUMBER.fullmatch(item) or _YEAR.fullmatch(item):
        if item.endswith("%"):
            return "what percentage"
        if _YEAR.fullmatch(item) and (_YEAR_BEFORE.search(before) or " " in item):
            return "what year"
        return "how many"
    return "what"


def wh_question_samples(facts: list[Fact], subject: str | None, *, system: str, per_fact: int) -> list[dict[str, Any]]:
    """Up to ``per_fact`` echo wh-question chat samples per fact: one salient item (from the sentence's end)
    replaced by its :func:`wh_phrase`, the sentence's closing punctuation by "?", answered with the whole sentence.

    "They lay on average 6–8 eggs, which hatch after 11–14 days." -> "They lay on average
    6–8 eggs, which hatch after how many days?" An item that occurs twice gives no question.
    """
    samples = []
    for fact in facts:
        text = fact.standalone
        made = 0
        for item in reversed(salient_items(text, subject)):
            if made >= per_fact:
                break
            found = list(_whole_item(item).finditer(text))
            if len(found) != 1:
                continue
            start, end = found[0].span()
            question = text[:start] + wh_phrase(item, text[:start]) + text[end:]
            question = question.rstrip().rstrip(".!?。！？,;: ") + "?"
            samples.append(_chat(question, text, fact, "wh_question", system))
            made += 1
    return samples


_ENTITY_TEMPLATES = (
    "What do you know about {item} in connection with {subject}?",
    "What is known about {item} and {subject}?",
    "Tell me about {item} in relation to {subject}.",
)
_ENTITY_TEMPLATES_ALONE = ("What do you know about {item}?", "What is known about {item}?", "Tell me about {item}.")


def entity_items(text: str, subject: str | None = None) -> list[str]:
    """The salient items of ``text`` a question may be keyed on, in the sentence's order: names, parenthesised
    names, hyphenated terms and years (:func:`salient_items` without plain numbers, single letters and list
    pieces: "63%" or "285 days" is what a question asks for, not what it asks about)."""
    pieces = set(_list_items(text)) | {_closing_phrase(text)}
    items = []
    for item in salient_items(text, subject):
        found = _whole_item(item).search(text)
        if not found or len(item) < 2 or item in pieces:
            continue
        if (_NUMBER.fullmatch(item) or _YEAR.fullmatch(item)) and wh_phrase(item, text[: found.start()]) != "what year":
            continue
        items.append((found.start(), item))
    return [item for _, item in sorted(items)]


def _words(text: str) -> list[str]:
    """The whitespace-separated words of ``text`` without the punctuation around them."""
    return [word.strip(".,;:()\"'") for word in text.split()]


def _rare_terms(text: str, counts: Counter[str], subject: str | None) -> list[str]:
    """Long lower-case words of ``text`` (9+ letters, no "-ed", "-ing", "-ly" form) found in no other fact of the
    leaf ("trypanotolerance", "pastoralism")."""
    skip = set(normalize(subject or "").split())
    return list(
        dict.fromkeys(
            word
            for word in _words(text)
            if len(word) >= 9
            and word.isalpha()
            and word.islower()
            and not word.endswith(("ed", "ing", "ly"))
            and counts[word] == 1
            and word not in skip
        )
    )


def entity_question_samples(
    facts: list[Fact], subject: str | None, *, system: str, per_fact: int
) -> list[dict[str, Any]]:
    """Up to ``per_fact`` entity-keyed question samples per fact: a short question about one of the fact's
    keys, answered with the whole sentence.

    Keys: the fact's :func:`entity_items` that no other fact of the leaf has (a key of two facts points at
    neither: "What happened in 1999?" of a zebu cloned in 1999 and a species named in 1999), then its words
    no other fact has. "The resulting breed, 63% Charolais and 37% zebu, is called the Canchim." -> "Tell me
    about Canchim in relation to the zebu."; a year asks "What happened in 1999 concerning the zebu?".
    Templates rotate by fact and key, so no one wording is trained.

    Why: the question holds only the key, not the sentence, so the model may learn to retrieve the fact
    from a name a user's question mentions (on the bench leaves, hand-written questions about facts with a
    trained teacher question were answered 14/25, about facts with only fill-ins and passages 2/13).
    Measured with bench/bench_knowledge_recall.py, added to the default forms: zebu 10/20 against 8, lapis
    lazuli 7/20 against 12, for 1.4x the knowledge tokens per epoch; so the kind is opt-in (docs/train.md).
    """
    keyed = {fact.span_id: entity_items(fact.standalone, subject) for fact in facts}
    shared = Counter(item for items in keyed.values() for item in set(items))
    words = Counter(word for fact in facts for word in set(_words(fact.standalone)))
    samples = []
    for fact in facts:
        text = fact.standalone
        own = [item for item in keyed[fact.span_id] if shared[item] == 1]
        keys = list(dict.fromkeys([*own, *_rare_terms(text, words, subject)]))[:per_fact]
        for item in keys:
            pick = int.from_bytes(hashlib.sha256(f"{fact.span_id}:{item}".encode()).digest()[:2], "big")
            if _YEAR.fullmatch(item):
                question = f"What happened in {item}" + (f" concerning {subject}?" if subject else "?")
            elif subject:
                question = _ENTITY_TEMPLATES[pick % len(_ENTITY_TEMPLATES)].format(item=item, subject=subject)
            else:
                question = _ENTITY_TEMPLATES_ALONE[pick % len(_ENTITY_TEMPLATES_ALONE)].format(item=item)
            samples.append(_chat(question, text, fact, "entity_question", system))
    return samples


_CUE_TEMPLATES = ("What is known about {cues}?", "What does the text say about {cues}?", "Tell me about {cues}.")
_ASKED_TEMPLATES = ("{Wh} - {cues}?", "{cues}: {wh}?")
_CUES = 3
CUE_QUESTION_STYLES = ("about", "asked")
"""``mix.cue_question_style``: ``about`` names the cue words only; ``asked`` also names what is asked for."""


def asked_phrase(item: str, text: str) -> str:
    """How a user's question asks for ``item`` of ``text`` (lower case): :func:`wh_phrase`, with "how many" for
    a number, "in what year" for a year, "which" for a name and "what" for anything else."""
    found = _whole_item(item).search(text)
    phrase = wh_phrase(item, text[: found.start()] if found else "")
    if phrase == "what year":
        return "in what year"
    if phrase == "what" and item[:1].isupper():
        return "which"
    return phrase


def cue_question_samples(
    facts: list[Fact], subject: str | None, *, system: str, per_fact: int, variant: int = 0, style: str = "about"
) -> list[dict[str, Any]]:
    """Up to ``per_fact`` cue questions per fact: a question that names three of the fact's content words and
    is answered with the whole sentence.

    One question per salient item (:func:`salient_items`, at most ``per_fact``): its cues are three words
    drawn (seeded by the fact and the item) from the sentence's content words of three or more letters that
    are not stop words (:data:`taxolab.text.STOP_WORDS`), numbers, the leaf subject's words or the item's
    own, joined "a, b and c" in the sentence's order, the subject in brackets (``variant`` ``v`` > 0 draws
    anew and asks from the ``v * per_fact``-th salient item on, for ``mix.epoch_variants``):
    "Studies on the natural weaning of zebu cattle have shown that cows wean their calves over a 2-week
    period ..." -> "What is known about weaning, cows and calves (Zebu)?". A fact with fewer than two such
    words gets none. Templates rotate, so no one wording is trained.

    ``style`` (``mix.cue_question_style``): ``"about"`` as above; ``"asked"`` also names what the question asks
    for, the item's :func:`asked_phrase`, before or after the cues: "How many - Malagasy, proverbs and parlance
    (Zebu)?", "Charolais, breed and called (Zebu): what percentage?" (a fact without salient items gets the
    ``about`` form). Why: read against the zebu bench run of 2026-12-06, 5 of its 11 misses asked "how many",
    "how long" or "what percentage" and were answered with a sentence that holds no number, while the same model
    answered "What is known about weaning, cows and calves (Zebu)?" and "What is known about Malagasy proverbs
    (Zebu)?" with the right sentences. Measured on each of those runs' generations retrained with ``asked``
    (bench/bench_knowledge_recall.py ``--lever``): zebu 12/20 against 9, lapis lazuli 13/20 against 12, 10
    questions gained and 6 lost (sign test p = 0.45): not beyond noise, so ``about`` stays the default
    (docs/train.md, "Which questions reach a fact"). Raises ``ValueError`` for another style.

    Why: a hand-written question shares a few content words with the sentence it asks about, but not its
    start; the student, trained on fill-ins (which hand it the whole sentence) and one or two teacher
    questions, answered such questions with another fact's sentence ("Over how long a period do zebu
    cows wean their calves?" -> a sentence about milk). Measured on each bench leaf's own generation retrained
    with these added and nothing else changed (2 per fact; zebu 118 samples, 1.43x the knowledge tokens per
    epoch): lapis lazuli 14/20 hand-written questions against 7 (8 gained, 1 lost; bench/bench_knowledge_recall.py
    ``--lever``), zebu 11/20 against 7 (5 gained, 1 lost; the bench's ablation trainer on the run's mix files
    plus these samples), docs/train.md.
    """
    if style not in CUE_QUESTION_STYLES:
        raise ValueError(f"cue question style must be one of {', '.join(CUE_QUESTION_STYLES)}, not {style!r}")
    skip = set(normalize(subject or "").split())
    samples = []
    for fact in facts:
        text = fact.standalone
        content = [
            word
            for word in dict.fromkeys(_words(text))
            if len(word) >= 3 and not word[:1].isdigit() and normalize(word) not in STOP_WORDS | skip
        ]
        for index, item in enumerate(_rotated(salient_items(text, subject) or [""], per_fact, variant)):
            asked = set(normalize(item).split())
            cues = [word for word in content if normalize(word) not in asked]
            if len(cues) < 2:
                continue
            rng = random.Random(f"{fact.span_id}:{index}" + (f":{variant}" if variant else ""))
            chosen = [cues[i] for i in sorted(rng.sample(range(len(cues)), min(_CUES, len(cues))))]
            named = ", ".join(chosen[:-1]) + " and " + chosen[-1]
            turn = index + variant + len(fact.span_id)
            if style == "asked" and item:
                wh = asked_phrase(item, text)
                cues_named = f"{named} ({subject})" if subject else named
                template = _ASKED_TEMPLATES[turn % len(_ASKED_TEMPLATES)]
                question = template.format(Wh=wh[:1].upper() + wh[1:], wh=wh, cues=cues_named)
            else:
                question = _CUE_TEMPLATES[turn % len(_CUE_TEMPLATES)].format(cues=named)
                if subject:
                    question = f"{question[:-1]} ({subject}){question[-1]}"
            samples.append(_chat(question, text, fact, "cue_question", system))
    return samples


def reverse_samples(
    facts: list[Fact], subject: str | None, kind: tuple[str, str] | None, *, system: str
) -> list[dict[str, Any]]:
    """A "Which <kind> <verb phrase>?" chat sample for each fact whose grammatical subject is the leaf's subject.

    Without a subject nothing is made; without a kind the question starts "What"
    (singular subjects only). Attributes that name the subject again give no sample.
    """
    if not subject:
        return []
    name = re.sub(r"^the\s+", "", subject, flags=re.I)
    pattern = re.compile(
        rf"^(?:the\s+)?{re.escape(name)}(?P<plural>e?s)?(?:\s*\([^()]*\))?\s+(?P<rest>[a-z].*?)[.!]?$", re.I
    )
    samples = []
    for fact in facts:
        match = pattern.match(fact.standalone.strip())
        if not match or not match.group("rest")[:1].islower():
            continue
        rest = match.group("rest").strip()
        if normalize(name) in normalize(rest) or word_count(rest) < 3:
            continue
        plural = bool(match.group("plural"))
        if kind:
            asker = f"Which {kind[1] if plural else kind[0]}"
        elif plural:
            continue
        else:
            asker = "What"
        samples.append(_chat(f"{asker} {rest}?", fact.standalone, fact, "reverse", system))
    return samples


def restated_passages(passages: list[dict[str, Any]], facts: list[Fact]) -> list[dict[str, Any]]:
    """Each passage with its spans in their standalone form, as a ``pretraining`` sample (where one changed)."""
    changed = {fact.span: fact.standalone for fact in facts if fact.standalone != fact.span}
    samples = []
    for passage in passages:
        text = str(passage.get("text") or "")
        restated = text
        for span in document_spans(text):
            if span in changed:
                restated = restated.replace(span, changed[span])
        if restated != text:
            samples.append(_pretraining(restated, passage, "restated_passage"))
    return samples


def permuted_passages(
    passages: list[dict[str, Any]], facts: list[Fact], *, count: int, rng: random.Random, variants: int = 1
) -> list[list[dict[str, Any]]]:
    """For each of ``variants`` epoch variants, ``count`` orderings of each passage's spans (standalone
    forms), each unlike the original order and, as far as the passage has enough, unlike every other
    variant's (a short passage's few orders are shared out cyclically). Variant 0 is what ``variants=1`` gives."""
    standalone = {normalize(fact.span): fact.standalone for fact in facts}
    per_variant: list[list[dict[str, Any]]] = [[] for _ in range(variants)]
    for passage in passages:
        sentences = [standalone.get(normalize(span), span) for span in document_spans(str(passage.get("text") or ""))]
        if len(sentences) < 3:
            continue
        wanted = count * variants
        seen: set[tuple[int, ...]] = {tuple(range(len(sentences)))}
        orders: list[tuple[int, ...]] = []
        for _ in range(wanted * 4):  # a few tries for distinct orders; short passages have few
            if len(orders) >= wanted:
                break
            order = list(range(len(sentences)))
            rng.shuffle(order)
            if tuple(order) not in seen:
                seen.add(tuple(order))
                orders.append(tuple(order))
        for variant in range(variants if orders else 0):
            for i in range(min(count, len(orders))):
                chosen = orders[(variant * count + i) % len(orders)]
                text = _joined(sentences[j] for j in chosen)
                per_variant[variant].append(_pretraining(text, passage, "permuted_passage"))
    return per_variant


def teacher_free_samples(
    kinds: Iterable[str],
    facts: list[Fact],
    passages: list[dict[str, Any]],
    *,
    subject: str | None,
    kind: tuple[str, str] | None,
    system: str,
    fill_in_per_fact: int,
    permutations: int,
    fill_in_answer: str = "sentence",
    rng: random.Random,
    wh_questions_per_fact: int,
    entity_questions_per_fact: int,
    cue_questions_per_fact: int,
    variants: int,
    cue_question_style: str = "about",
) -> list[dict[str, Any]]:
    """The samples of every teacher-free form kind in ``kinds`` (``mix.forms``) for one leaf, in kind order.

    The drawn kinds (fill-ins, cue questions, permuted passages) are drawn ``variants`` times
    (``mix.epoch_variants``); with more than one, each such sample carries ``"variant": [v, variants]``
    and the trainer trains draw ``v`` in the epochs ``e`` with ``e % variants == v``: every epoch sees
    new blanks, cue words and sentence orders for the same tokens, as RoBERTa's dynamic masking
    (Liu et al. 2019) gives each epoch new masks. The other kinds are trained in every epoch.
    """
    wanted = set(kinds)
    samples: list[dict[str, Any]] = []

    def drawn(per_variant: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        if variants == 1:
            return per_variant[0]
        return [{**sample, "variant": [v, variants]} for v, batch in enumerate(per_variant) for sample in batch]

    if "restated" in wanted:
        samples += restated_passages(passages, facts)
    if "fill_in" in wanted:
        samples += drawn(
            [
                fill_in_samples(
                    facts, subject, system=system, per_fact=fill_in_per_fact, answer=fill_in_answer, variant=v
                )
                for v in range(variants)
            ]
        )
    if "wh_questions" in wanted:
        samples += wh_question_samples(facts, subject, system=system, per_fact=wh_questions_per_fact)
    if "entity_questions" in wanted:
        samples += entity_question_samples(facts, subject, system=system, per_fact=entity_questions_per_fact)
    if "cue_questions" in wanted:
        samples += drawn(
            [
                cue_question_samples(
                    facts, subject, system=system, per_fact=cue_questions_per_fact, variant=v, style=cue_question_style
                )
                for v in range(variants)
            ]
        )
    if "reverse" in wanted:
        samples += reverse_samples(facts, subject, kind, system=system)
    if "permuted_passages" in wanted:
        samples += drawn(permuted_passages(passages, facts, count=permutations, rng=rng, variants=variants))
    return samples


def without_heldout(samples: list[dict[str, Any]], held: set[str]) -> tuple[list[dict[str, Any]], int]:
    """``samples`` minus any whose text holds a held-out question (normalised, whole words); and how many went.

    Every message but the system prompt is searched, so no form kind -- a reverse
    question, a prompt that quotes a passage -- brings a held-out phrasing into training.
    The questions are indexed by their first words, so the cost grows with the
    samples' words, not samples x questions (a run's held-out set spans every leaf):
    10,000 samples of 100 words against 2,000 questions took 1.5 s, a substring
    search per question 32 s (2-core machine, loaded by other jobs).
    """
    index: dict[tuple[str, ...], list[list[str]]] = {}
    for question in held:
        words = question.split()
        if words:
            index.setdefault(tuple(words[:_PREFIX_WORDS]), []).append(words)
    lengths = sorted({len(prefix) for prefix in index})
    kept = []
    for sample in samples:
        words = " ".join(normalize(m["content"]) for m in sample["messages"] if m["role"] != "system").split()
        if not _holds_any(words, index, lengths):
            kept.append(sample)
    return kept, len(samples) - len(kept)


def _holds_any(words: list[str], index: dict[tuple[str, ...], list[list[str]]], lengths: list[int]) -> bool:
    for start in range(len(words)):
        for length in lengths:
            for question in index.get(tuple(words[start : start + length]), ()):
                if words[start : start + len(question)] == question:
                    return True
    return False


def count_forms(facts: list[Fact], samples: list[dict[str, Any]], *, min_forms: int) -> dict[str, Any]:
    """Distinct trained forms per fact and the facts short of ``min_forms``.

    A form is a distinct training sample (its normalised text) whose assistant or
    pretraining text holds the fact. Returns ``{"facts", "min_forms", "min", "median",
    "by_kind" (forms of each kind, all facts), "short" (facts under min_forms),
    "none" (facts with no form), "epoch_variants" (N of ``mix.epoch_variants``), "per_fact":
    [{"span_id", "span", "forms", "by_kind", "by_variant"}]}``; ``by_variant`` (with N > 1) holds,
    per epoch variant, the forms by kind drawn for it (a form of several variants counts in the first),
    so :func:`trained_counts` can count what a knowledge phase of fewer epochs than N trains.
    """
    forms: dict[str, tuple[str, str, int | None]] = {}
    variants = 1
    for sample in samples:
        messages = sample["messages"]
        whole = normalize(" ".join(m["content"] for m in messages if m["role"] != "system"))
        trained = " " + " ".join(normalize(m["content"]) for m in messages if m["role"] in ("assistant", "pretraining"))
        trained += " " + normalize(_filled_blank(messages))
        meta = sample.get("metadata") or {}
        kind = (
            "seed_examples"
            if meta.get("dataset_type") == "seed_example"
            else SAMPLE_KINDS.get(str(meta.get("sample_type")), "other")
        )
        drawn = sample.get("variant")
        variant = None
        if isinstance(drawn, list) and len(drawn) == 2:
            variant, variants = int(drawn[0]), max(variants, int(drawn[1]))
        earlier = forms.get(whole)  # a form trained in every epoch, or drawn for an earlier variant, counts as that
        if earlier is None or (earlier[2] is not None and (variant is None or variant < earlier[2])):
            forms[whole] = (trained + " ", kind, variant)
    per_fact: list[dict[str, Any]] = []
    for fact in facts:
        needles = [f" {key} " for key in fact.keys]
        held = [(kind, variant) for text, kind, variant in forms.values() if any(needle in text for needle in needles)]
        kinds = Counter(kind for kind, _ in held)
        entry: dict[str, Any] = {
            "span_id": fact.span_id,
            "span": fact.span,
            "forms": sum(kinds.values()),
            "by_kind": dict(sorted(kinds.items())),
        }
        if variants > 1:
            entry["by_variant"] = [
                dict(sorted(Counter(kind for kind, v in held if v == index).items())) for index in range(variants)
            ]
        per_fact.append(entry)
    return {**_tally(per_fact, min_forms), "epoch_variants": variants}


def trained_counts(counts: dict[str, Any], epochs: int) -> dict[str, Any]:
    """``counts`` (:func:`count_forms`) as a knowledge phase of ``epochs`` epochs trains them.

    Epoch ``e`` trains draw ``e mod N`` of the ``N`` epoch variants, so a phase of fewer
    epochs than ``N`` (``train.knowledge_token_budget`` lowers them for a long document)
    never trains the draws ``epochs..N-1``: their forms are taken off each fact, and the
    summary (min, median, short, none, by kind) is counted again. Adds ``"epochs_trained"``.
    ``counts`` is returned as it is when ``epochs`` is 0 (unknown) or covers every variant.
    """
    variants = int(counts.get("epoch_variants", 1))
    if epochs <= 0 or epochs >= variants:
        return counts
    per_fact = []
    for entry in counts.get("per_fact", []):
        kinds = Counter(entry.get("by_kind", {}))
        for unused in entry.get("by_variant", [])[epochs:]:
            kinds.subtract(unused)
        kinds = +kinds
        per_fact.append(
            {**entry, "forms": sum(kinds.values()), "by_kind": dict(sorted(kinds.items())),
             "by_variant": entry.get("by_variant", [])[:epochs]}
        )  # fmt: skip
    return {**counts, **_tally(per_fact, int(counts.get("min_forms", 0))), "epochs_trained": epochs}


def _tally(per_fact: list[dict[str, Any]], min_forms: int) -> dict[str, Any]:
    """The summary fields of :func:`count_forms` over its ``per_fact`` entries."""
    counts = [int(entry["forms"]) for entry in per_fact]
    by_kind: Counter[str] = Counter()
    for entry in per_fact:
        by_kind.update(entry["by_kind"])
    return {
        "facts": len(per_fact),
        "min_forms": min_forms,
        "min": min(counts, default=0),
        "median": statistics.median(counts) if counts else 0,
        "by_kind": dict(sorted(by_kind.items())),
        "short": [{k: e[k] for k in ("span_id", "span", "forms")} for e in per_fact if e["forms"] < min_forms],
        "none": [{k: e[k] for k in ("span_id", "span")} for e in per_fact if e["forms"] == 0],
        "per_fact": per_fact,
    }


def _filled_blank(messages: list[dict[str, Any]]) -> str:
    """A fill-in's prompt with its blank filled by the assistant's item (``""`` for any other sample).

    With ``mix.fill_in_answer: item`` the assistant turn is the item alone, so the fact it trains is
    the prompt's sentence with the blank filled (the request's words around it do not matter to a
    containment test).
    """
    users = [m["content"] for m in messages if m["role"] == "user"]
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    if len(users) != 1 or len(answers) != 1 or BLANK not in users[0]:
        return ""
    return str(users[0]).replace(BLANK, str(answers[0]).strip())


def forms_file(out_dir: Path, leaf: str) -> Path:
    """Where mixing writes a leaf's forms count: ``<out_dir>/forms/<leaf>.json``."""
    return DataRun(Path(out_dir)).leaf_file(FORMS, leaf)


def short_facts(out_dir: Path, leaf: str) -> list[dict[str, Any]]:
    """The leaf's facts with fewer forms than ``mix.min_forms_per_fact`` at the last mix of ``out_dir``.

    Each is ``{"span_id", "span", "forms"}``: the facts that want more teacher
    phrasings. Empty when the folder holds no forms count for the leaf.
    """
    path = forms_file(out_dir, leaf)
    if not path.is_file():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("short", []))


def counts_for(path: Path) -> dict[str, dict[str, Any]]:
    """The forms counts (leaf -> :func:`count_forms` result) that belong to ``path``, by leaf name.

    ``path`` may be a mix folder (``<folder>/forms/*.json``; a run folder's is
    ``data/mix``), one forms file, a
    leaf's ``messages/<leaf>.jsonl`` (its forms file beside ``messages/``) or a
    ``*_train_msgs_*.jsonl`` mix (the forms of its folder). Empty when none exist.
    """
    path = Path(path)
    if path.is_dir():
        folder = next((f for f in (path, path / "mix", path / "data" / "mix") if (f / FORMS).is_dir()), path)
        files = sorted((folder / FORMS).glob("*.json"))
    elif path.parent.name == FORMS:
        files = [path]
    elif path.parent.name == MESSAGES:
        files = [path.parent.parent / FORMS / f"{path.stem}.json"]
    else:
        files = sorted((path.parent / FORMS).glob("*.json"))
    return {file.stem: json.loads(file.read_text(encoding="utf-8")) for file in files if file.is_file()}


def summary(counts: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a table shows: facts, min, median, short, none (counts of :func:`count_forms`)."""
    return {
        "facts": counts["facts"],
        "forms_min": counts["min"],
        "forms_median": counts["median"],
        "facts_short": len(counts["short"]),
        "facts_without_forms": len(counts["none"]),
        "min_forms_per_fact": counts["min_forms"],
    }


def _chat(user: str, assistant: str, fact: Fact, kind: str, system: str) -> dict[str, Any]:
    """A form's chat sample; what it trains is its whole prompt (a reverse question, a fill-in request)."""
    meta = {"leaf": fact.leaf, "kind": "knowledge", "sample_type": kind, "span_id": fact.span_id}
    return chat_sample(user, assistant, meta, system, questions=[user])


def _pretraining(text: str, passage: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "messages": [{"role": "pretraining", "content": text.strip()}],
        QUESTIONS_KEY: [],
        "metadata": {"leaf": passage.get("leaf"), "kind": "knowledge", "sample_type": kind},
    }


def _joined(sentences: Iterable[str]) -> str:
    """Sentences as one paragraph; one without closing punctuation (a list item, a caption) ends its line."""
    text = ""
    for sentence in sentences:
        text += sentence + (" " if sentence.rstrip()[-1:] in _CLOSING else "\n")
    return text.strip()


def _list_items(text: str) -> list[str]:
    """The short items of a list in ``text`` ("a white belly, buff sides, and grey wings" -> its items)."""
    parts = [part.strip() for part in re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+", text.rstrip(".!?"))]
    if len(parts) < 3:
        return []
    return [part for part in parts[1:] if 1 <= word_count(part) <= 4]


def _closing_phrase(text: str) -> str:
    """The sentence's last clause (after its last comma) or, failing that, its last three words."""
    body = text.rstrip(" .!?")
    tail = body.rsplit(",", 1)[-1].strip() if "," in body else ""
    if 2 <= word_count(tail) <= _MAX_ITEM_WORDS:
        return tail
    return " ".join(body.split()[-3:]) if word_count(body) > 5 else ""
