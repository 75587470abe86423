"""Read a score out of whatever a judge model wrote.

Judges rarely follow the format exactly: small local models write
"Rating: 7", "7/10", "Score: 4 out of 5" or bury "[[8]]" in prose. The parser
tries the strict format first, then looser ones, and returns ``None`` when no
number on the scale can be found, so the caller counts a judge error instead
of crashing or guessing.
"""

from __future__ import annotations

import re

_NUMBER = r"(\d+(?:\.\d+)?)"
_PATTERNS = [
    re.compile(r"\[\[\s*" + _NUMBER + r"\s*\]\]"),
    re.compile(r"\[\s*" + _NUMBER + r"\s*\]"),
    re.compile(r"(?:rating|score|grade|mark)\s*(?:is|of|was)?\s*[:=]?\s*\**\s*" + _NUMBER, re.IGNORECASE),
    re.compile(_NUMBER + r"\s*(?:/|out\s+of)\s*(\d+)", re.IGNORECASE),
]


def parse_rating(text: str, low: float, high: float, *, short_reply: bool = False) -> float | None:
    """The judge's score within ``[low, high]``, or None if the text holds none.

    The last strict ``[[n]]`` wins (judges sometimes quote the example format
    before giving their own); for "n/m" forms the denominator must be the
    scale's top, so "3/4 of the answer" is not taken for a score.
    """
    for pattern in _PATTERNS:
        matches = list(pattern.finditer(text))
        for match in reversed(matches):
            value = float(match.group(1))
            if match.lastindex == 2 and float(match.group(2)) != high:
                continue
            if low <= value <= high:
                return value
    stripped = text.strip().rstrip(".")
    if re.fullmatch(_NUMBER, stripped):
        value = float(stripped)
        if low <= value <= high:
            return value
    if short_reply and len(text.split()) <= _SHORT_REPLY_WORDS:
        numbers = [float(n) for n in re.findall(_NUMBER, text)]
        if len(numbers) == 1 and low <= numbers[0] <= high:
            return numbers[0]
    return None


_SHORT_REPLY_WORDS = 12
