"""Settings for reading and diffing a taxonomy."""

from __future__ import annotations

from pydantic import Field

from taxolab.config.sections import Section


class TaxonomySettings(Section):
    base: str = Field(
        "auto",
        description="Git ref to diff against: `auto` (upstream main branch if the repo has one, else all leaves), a ref, or `empty`.",
    )
