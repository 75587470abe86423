"""Judge prompts: taxolab's own (``prompts.yaml``) and MT-Bench's (from the package that ships it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

_PROMPTS = Path(__file__).with_name("prompts.yaml")


@dataclass(frozen=True)
class JudgePrompt:
    """A system message and a user template with ``{placeholders}``; scores on ``scale``."""

    system: str
    user: str
    scale: tuple[float, float]

    def messages(self, **fields: str) -> tuple[tuple[str, str], ...]:
        return (("system", self.system), ("user", self.user.format(**fields)))


@cache
def _load() -> dict[str, object]:
    data: dict[str, object] = YAML(typ="safe").load(_PROMPTS.read_text(encoding="utf-8"))
    return data


def judge_prompt(name: str) -> JudgePrompt:
    entry = _load()[name]
    assert isinstance(entry, dict)
    low, high = entry["scale"]
    return JudgePrompt(str(entry["system"]).strip(), str(entry["user"]), (float(low), float(high)))


def context_block(context: str | None) -> str:
    """The optional context section of the reference-graded prompt (grounded skills)."""
    if not context:
        return ""
    template = _load()["context_block"]
    return str(template).format(context=context.strip()) + "\n"
