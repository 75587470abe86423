"""Damaged files never crash validation: thousands of deterministic mutations of the real leaves."""

from __future__ import annotations

import random
from pathlib import Path

from taxolab.taxonomy import validate_file

from .conftest import FREEFORM, GROUNDED_2, KNOWLEDGE

SNIPPETS = [":", "- ", "  ", "\t", "'", '"', "{", "[", "&a ", "*a", "!!int ", "? ", "#", "---\n", "\x00", "é", "|\n"]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    kind = rng.randrange(5)
    index = rng.randrange(len(lines))
    if kind == 0:
        del lines[index]
    elif kind == 1:
        lines.insert(index, lines[rng.randrange(len(lines))])
    elif kind == 2:
        line = lines[index]
        cut = rng.randrange(len(line) + 1)
        lines[index] = line[:cut] + rng.choice(SNIPPETS) + line[cut:]
    elif kind == 3:
        lines[index] = lines[index].lstrip() if rng.random() < 0.5 else "  " + lines[index]
    else:
        return text[: rng.randrange(len(text))]
    return "\n".join(lines)


def test_mutated_leaves_give_problems_not_exceptions(taxonomy: Path) -> None:
    rng = random.Random(20240611)
    for relative in (KNOWLEDGE, FREEFORM, GROUNDED_2):
        path = taxonomy / relative
        original = path.read_text(encoding="utf-8")
        for _ in range(150):
            text = original
            for _ in range(rng.randrange(1, 4)):
                text = _mutate(text, rng)
            path.write_text(text, encoding="utf-8")
            report = validate_file(path, taxonomy)  # must not raise
            assert all(p.message and "\n" not in p.message for p in report.problems)
            assert report.valid == (report.leaf is not None)
