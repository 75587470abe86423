"""Settings for synthetic data generation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taxolab.config.affects import speed_only
from taxolab.config.sections import Section


class GenerateSettings(Section):
    pipeline: str = Field("simple", description="`simple`, `full`, or a folder with your own pipeline YAML files.")
    sdg_scale_factor: int = Field(30, ge=1, description="Samples to generate per seed example.")
    endpoint_urls: list[str] = speed_only(
        default_factory=list,
        description="Teacher endpoints (OpenAI-compatible base URLs). Empty: start the teacher model locally.",
    )
    teacher_model: str | None = Field(
        None,
        description="Model name to request from the endpoints (default: what they serve); with no endpoint, the model to serve locally (default: models.teacher).",
    )
    concurrency: int | None = speed_only(
        None, ge=1, description="Max in-flight teacher requests (default: the server's slots)."
    )
    batch_size: int = speed_only(
        4,
        ge=1,
        description=(
            "Seed rows per streamed batch (the unit of checkpointing); changes speed, not what is asked: "
            "an interrupted run resumes with the batch size it started with."
        ),
    )
    chunk_word_count: int = Field(1000, ge=50, description="Target size of document chunks, in words.")
    chunk_overlap: int = Field(100, ge=0, description="Words shared by consecutive document chunks.")
    max_num_tokens: int = Field(4096, ge=16, description="Max tokens the teacher may generate per request.")
    seed: int = Field(42, description="Seed for sampling seed rows and chunks and for the held-out split.")
    executor: Literal["local", "ray"] = speed_only(
        "local", description="`local` or `ray` (needs `pip install taxolab[ray]`)."
    )
    ray_address: str | None = speed_only(
        None, description="Ray cluster address (`auto` or HOST:PORT); empty starts a local Ray."
    )
    questions_per_span: int = Field(
        3,
        ge=1,
        description=(
            "Answer-first generation: usable questions wanted per document span (asked as `n` choices of one "
            "request); spans with 2+ valid ones give one to the held-out evaluation set."
        ),
    )
    questions_per_leaf: int = Field(
        0,
        ge=0,
        description=(
            "Answer-first generation: questions a leaf's spans are asked for in all; a leaf with fewer than "
            "questions_per_leaf / questions_per_span spans asks each span for more (at most 8), so a short "
            "document gets as many phrasings as a long one. 0: every span asks questions_per_span."
        ),
    )
    max_attempts_per_span: int = Field(
        3,
        ge=1,
        description=(
            "Answer-first generation: teacher requests per span at most; a span whose checked questions are "
            "fewer than questions_per_span is asked again for the missing ones until this many requests."
        ),
    )
