"""Is a teacher-written text taken from its source passage? Numbers, names and content words, no LLM.

Why: measured on this machine (DESIGN.md, "Knowledge that sticks"; issue 11),
most rows the 135M default teacher wrote as answers and summaries were false
(answers contradicting the document, invented names, stars moved into other
constellations), and they were trained as truth. A small teacher can write
questions, not facts; what it writes as a fact must therefore come from the
passage. The rule, checked on the plain text of both (Markdown removed):

1. every number in the text appears in the passage;
2. every name -- a capitalised word that does not start a sentence -- appears
   in the passage (case-insensitive);
3. at least ``min_share`` (default 0.8) of the text's content words (words of
   3+ letters outside :data:`taxolab.text.STOP_WORDS`, compared by the light
   suffix-stripping :func:`taxolab.text.stem`; in Chinese, Japanese and Korean,
   written without spaces, every pair of adjacent characters:
   :func:`taxolab.text.content_stems`) appear in the passage.

It cannot tell a true paraphrase with new words from an invention, so it
errs on the side of dropping: a dropped row costs one sample, a kept false row
teaches a falsehood.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from taxolab.sdg.spans import strip_markdown
from taxolab.text import WORD, cjk_bigrams, content_stems, numbers, sentence_names, stem

DEFAULT_MIN_SHARE = 0.8


@dataclass(frozen=True)
class Grounding:
    """What of a text its passage lacks; ``grounded`` is the verdict."""

    missing_numbers: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    word_share: float = 1.0
    min_share: float = DEFAULT_MIN_SHARE

    @property
    def grounded(self) -> bool:
        return not self.missing_numbers and not self.missing_names and self.word_share >= self.min_share

    def explain(self) -> dict[str, object]:
        return {
            "missing_numbers": self.missing_numbers,
            "missing_names": self.missing_names,
            "content_word_share": round(self.word_share, 3),
        }


def check_grounding(text: str, source: str, *, min_share: float = DEFAULT_MIN_SHARE) -> Grounding:
    """Compare a teacher-written ``text`` with its ``source`` passage by the rule of this module."""
    text, source = strip_markdown(text), strip_markdown(source)
    source_words = {word.lower().removesuffix("'s") for word in WORD.findall(source)}
    source_words |= {part.lower() for word in source_words for part in word.split("-")}
    source_stems = {stem(word) for word in source_words} | set(cjk_bigrams(source))
    source_numbers = numbers(source)
    stems = content_stems(text)
    share = sum(1 for s in stems if s in source_stems) / len(stems) if stems else 1.0
    return Grounding(
        missing_numbers=sorted(numbers(text) - source_numbers),
        missing_names=sorted(
            name for name in sentence_names(text) if name not in source_words and stem(name) not in source_stems
        ),
        word_share=share,
        min_share=min_share,
    )
