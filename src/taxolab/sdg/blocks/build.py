"""What a block needs while it is being built: where to find prompt files.

Errors raised here carry the config key at fault so the pipeline loader can
point at ``pipeline.yaml:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from taxolab.sdg.prompts import PromptConfig, load_prompt

PACKAGE_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


class BuildError(Exception):
    """A block config that is well-typed but wrong (missing prompt, tags that do not fit)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(message)


@dataclass
class BuildEnv:
    """Resolves prompt references: relative to the pipeline file first, then the shipped prompts."""

    pipeline_dir: Path
    _cache: dict[Path, PromptConfig] = field(default_factory=dict)

    def prompt(self, reference: str, key: str = "prompt") -> PromptConfig:
        for base in (self.pipeline_dir, self.pipeline_dir / "prompts", PACKAGE_PROMPTS):
            candidate = (base / reference).resolve()
            if candidate.is_file():
                if candidate not in self._cache:
                    self._cache[candidate] = load_prompt(candidate)
                return self._cache[candidate]
        raise BuildError(key, f"prompt config {reference!r} not found next to the pipeline or in the shipped prompts")

    def loaded(self) -> tuple[Path, ...]:
        """Every prompt file resolved so far, sorted (what the pipeline being built depends on)."""
        return tuple(sorted(self._cache))
