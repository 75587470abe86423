"""``taxolab model evaluate``: what the trained model learned, and what it forgot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option, settings_options
from taxolab.console import stdout
from taxolab.errors import TaxolabError
from taxolab.evaluation.settings import BENCHMARK_NAMES, EvaluateSettings


@click.command("evaluate")
@click.option(
    "--benchmark",
    "benchmark_names",
    multiple=True,
    type=click.Choice(BENCHMARK_NAMES),
    help="Benchmark to run (repeatable; default: evaluate.benchmarks).",
)
@settings_options(
    "evaluate",
    EvaluateSettings,
    "model",
    "base_model",
    "endpoint_url",
    "base_endpoint_url",
    "judge_model",
    "judge_endpoint_url",
    "judge_api_key_env",
    "judge_format_retry",
    "output_dir",
    "tasks_dir",
    "taxonomy_path",
    "taxonomy_base",
    "mt_bench_questions",
    "mt_bench_references",
    "mt_bench_limit",
    "dk_bench_data",
    "recall_data",
    "recall_judge",
    "recall_max_tokens",
    "mmlu_data",
    "mmlu_backend",
    "mmlu_subjects",
    "mmlu_limit",
    "mcq_scoring",
    "max_tokens",
    "judge_max_tokens",
    "concurrency",
    "batch_size",
    "device",
    "cache_dir",
    "significance",
)
@click.option(
    "--taxonomy-ref",
    metavar="REF",
    default=None,
    help="Evaluate the taxonomy as committed on this branch or commit (checked out aside), not the working tree.",
)
@click.option(
    "--data-path",
    "data_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Same as --tasks-dir: the data run to test on (its folder, its test/ folder or one JSONL).",
)
@json_option
@click.pass_obj
def command(
    app: AppContext,
    benchmark_names: tuple[str, ...],
    taxonomy_ref: str | None,
    data_path: Path | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Evaluate a trained model against its base: what it learned and forgot.

    \b
    Examples:
      taxolab model evaluate --model ./checkpoints/run/final --base-model default
      taxolab model evaluate --benchmark mt_bench --mt-bench-limit 10 --judge-endpoint-url http://127.0.0.1:8001/v1
      taxolab model evaluate --benchmark dk_bench --dk-bench-data questions.jsonl --json
    """
    from taxolab.evaluation.api import evaluate
    from taxolab.reports.eval_console import print_report
    from taxolab.taxonomy.worktree import taxonomy_at

    if data_path is not None and flags.get("evaluate__tasks_dir") is None:
        flags["evaluate__tasks_dir"] = data_path
    config = app.config(flags)
    taxonomy = config.evaluate.taxonomy_path or config.paths.resolved("taxonomy")
    with taxonomy_at(taxonomy, taxonomy_ref) as checkout:
        if taxonomy_ref:
            flags["evaluate__taxonomy_path"] = checkout
        report = evaluate(app.config(flags), list(benchmark_names) or None, required=benchmark_names, require_some=True)
    emit(report.to_json(), as_json, lambda _: print_report(report, stdout))
    if report.skipped:
        # results were printed, but not every benchmark ran: say so in the exit code too
        skipped = ", ".join(report.skipped)
        raise TaxolabError(
            f"{len(report.skipped)} of {len(report.skipped) + len(report.results)} benchmarks skipped ({skipped}; "
            "reasons above); fix them, or choose the ones to run with --benchmark"
        )


COMMANDS = [command]
