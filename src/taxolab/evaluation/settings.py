"""Settings for evaluation."""

from __future__ import annotations

from pydantic import Field

from taxolab.config.sections import Section


class EvaluateSettings(Section):
    benchmarks: list[str] = Field(
        default_factory=lambda: ["mmlu_branch", "mt_bench_branch", "recall"],
        description="Benchmarks `model evaluate` runs when none is named.",
    )
    judge_endpoint_url: str | None = Field(
        None, description="OpenAI-compatible judge endpoint (default: serve the judge model locally)."
    )
    concurrency: int | None = Field(None, ge=1, description="Max in-flight requests to the model and judge servers.")
