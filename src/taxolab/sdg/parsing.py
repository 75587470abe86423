"""Turn a teacher's free text into columns, tolerating what small models do.

Small teachers add chatter before and after, forget end tags, bold or
re-case the tags, or emit several records in one answer. Parsing finds every
start tag, ends each value at its end tag, the next start tag or the end of the
text (whichever comes first), and groups values into records in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DECORATION = " \t\r\n*_:#>-`\"'"
_LABEL = re.compile(
    r"^[\s*_#]*(?:answer|response|context|passage|summary|detailed summary|facts|sentences)[\s*_]*:[\s*_]*",
    re.IGNORECASE,
)
"""A label small models put before a whole-answer output ("**Answer:** ..."), dropped."""


@dataclass(frozen=True)
class TagParser:
    """Columns delimited by start tags (and optional end tags), matched case-insensitively.

    An empty start tag for a single column means "the whole answer" (up to the
    end tag if any), which is what summaries need.
    """

    columns: tuple[str, ...]
    start_tags: tuple[str, ...]
    end_tags: tuple[str, ...]

    def parse(self, text: str) -> list[dict[str, str]]:
        if len(self.columns) == 1 and not self.start_tags[0]:
            return _whole(text, self.columns[0], self.end_tags[0])
        hits = sorted(
            (match.start(), match.end(), index)
            for index, tag in enumerate(self.start_tags)
            for match in re.finditer(re.escape(tag), text, re.IGNORECASE)
        )
        records: list[dict[str, str]] = []
        current: dict[str, str] = {}
        for position, (_start, end, index) in enumerate(hits):
            next_start = hits[position + 1][0] if position + 1 < len(hits) else len(text)
            value = text[end:next_start]
            end_tag = self.end_tags[index]
            if end_tag:
                cut = value.lower().find(end_tag.lower())
                if cut >= 0:
                    value = value[:cut]
            column = self.columns[index]
            if column in current:
                records.append(current)
                current = {}
            current[column] = clean(value)
        if current:
            records.append(current)
        return [record for record in records if _complete(record, self.columns)]


@dataclass(frozen=True)
class RegexParser:
    """Columns from a regular expression: named groups by name, else groups in column order."""

    columns: tuple[str, ...]
    pattern: re.Pattern[str]

    def parse(self, text: str) -> list[dict[str, str]]:
        records = []
        for match in self.pattern.finditer(text):
            named = match.groupdict()
            if named:
                record = {column: clean(named.get(column) or "") for column in self.columns}
            else:
                groups = match.groups() or (match.group(0),)
                record = {column: clean(value or "") for column, value in zip(self.columns, groups, strict=False)}
            if _complete(record, self.columns):
                records.append(record)
        return records


Parser = TagParser | RegexParser


def clean(value: str) -> str:
    """Strip whitespace and the markdown decoration small models wrap around tags."""
    return value.strip(_DECORATION).strip()


def _whole(text: str, column: str, end_tag: str) -> list[dict[str, str]]:
    if end_tag:
        cut = text.lower().find(end_tag.lower())
        if cut >= 0:
            text = text[:cut]
    value = _LABEL.sub("", text, count=1).strip()
    return [{column: value}] if value else []


def _complete(record: dict[str, str], columns: tuple[str, ...]) -> bool:
    return all(record.get(column) for column in columns)
