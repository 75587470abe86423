"""Settings of ``taxolab run`` itself: the choices of the loop that belong to no single engine.

They are ordinary config keys (``run.*``), so a profile sets them like any
other key, and ``taxolab run`` from the command line and
:func:`taxolab.workflow.run.run_workflow` from Python read the same values.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from taxolab.config.sections import Section


class RunSettings(Section):
    outtype: str = Field(
        "f16",
        description="GGUF type the trained model is converted to (f16, q8_0, q4_k_m, ... as `model convert`); f16 is what evaluation scores the checkpoint through, so it loses no measured recall.",
    )
    max_chunks_per_leaf: int | None = Field(
        None,
        ge=1,
        description=(
            "Budget: generate from at most N document chunks per knowledge leaf, spread evenly over its documents "
            "(empty: every chunk of every document). When set, the run prints it as a budget."
        ),
    )
    mt_bench: bool = Field(
        False, description="Also run MT-Bench on base and trained model (did general chat quality hold?)."
    )
    forgetting: bool = Field(
        True,
        description="Judge-free forgetting check, base vs trained: `mmlu` by log-likelihood on a fixed sample of evaluate.mmlu_sample questions, and `mt_bench_reference` (log-likelihood per word of the MT-Bench reference answers).",
    )

    @field_validator("outtype")
    @classmethod
    def _known_outtype(cls, value: str) -> str:
        from taxolab.models.convert import OUTTYPES

        if value.lower() not in OUTTYPES:
            raise ValueError(f"unknown GGUF type {value!r}: choose one of {', '.join(OUTTYPES)}")
        return value.lower()
