"""``taxolab run``: the whole loop in one resumable command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext, emit, overrides_from_flags
from taxolab.cli.options import json_option, settings_options
from taxolab.console import stderr, stdout
from taxolab.errors import TaxolabError
from taxolab.evaluation.settings import BENCHMARK_NAMES, EvaluateSettings
from taxolab.mixing.settings import MixSettings
from taxolab.models.convert import OUTTYPES
from taxolab.sdg.settings import GenerateSettings
from taxolab.training.settings import TrainSettings
from taxolab.workflow.profiles import PROFILE_NAMES
from taxolab.workflow.settings import RunSettings
from taxolab.workflow.stages import STOP_POINTS


@click.command("run")
@click.option("--taxonomy-path", "paths__taxonomy", type=click.Path(path_type=Path, file_okay=False),
              help="Taxonomy repository [config: paths.taxonomy].")  # fmt: skip
@click.option(
    "--taxonomy-base", "taxonomy__base", help="Git ref to diff against (`empty`: every leaf) [config: taxonomy.base]."
)
@click.option(
    "--teacher",
    "models__teacher",
    help="Teacher model: `default`, a GGUF, an HF folder or a name [config: models.teacher].",
)
@click.option(
    "--student",
    "models__student",
    help="Model to fine-tune: `default`, an HF folder or a name [config: models.student].",
)
@click.option("--judge", "models__judge", help="Judge model for evaluation [config: models.judge].")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="auto", show_default=True,
              help="Settings sized for the machine: cpu-small, gpu-1, gpu-8; auto picks by the GPUs found.")  # fmt: skip
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Run folder (default: <data_dir>/runs/<taxonomy>-<id>, the same for every rerun).")  # fmt: skip
@click.option("--benchmark", "evaluate__benchmarks", multiple=True, type=click.Choice(BENCHMARK_NAMES),
              help="Benchmark to run (repeatable) [config: evaluate.benchmarks].")  # fmt: skip
@click.option("--mirror", "mirrors", multiple=True, metavar="URL=PATH",
              help="Map a document repo URL to a local clone or bundle (repeatable) [config: documents.mirrors].")  # fmt: skip
@click.option("--outtype", "run__outtype", type=click.Choice(OUTTYPES), default=None,
              help="GGUF type of the result [config: run.outtype].")  # fmt: skip
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Any config key, over the profile (repeatable), e.g. --set train.max_seq_len=768.")  # fmt: skip
@click.option("--plan", "show_plan", is_flag=True,
              help="Print the stages, which are done, the effective settings and an estimate of each stage; run nothing.")  # fmt: skip
@click.option("--stop-after", type=click.Choice(STOP_POINTS), default=None,
              help="Stop after this stage (review the rows before training: --stop-after mix); "
              "the same command without it goes on from there.")  # fmt: skip
@settings_options("run", RunSettings, "max_chunks_per_leaf", "mt_bench")
@settings_options("mix", MixSettings, "seed_examples")
@settings_options("generate", GenerateSettings, "pipeline", "sdg_scale_factor", "max_num_tokens", "endpoint_urls")
@settings_options("train", TrainSettings, "method", "epochs", "effective_batch_size", "nproc_per_node",
                  "checkpoint_every_samples")  # fmt: skip
@settings_options("evaluate", EvaluateSettings, "max_tokens", "judge_max_tokens", "mt_bench_limit")
@json_option
@click.pass_obj
def run_command(
    app: AppContext,
    *,
    profile: str,
    output_dir: Path | None,
    mirrors: tuple[str, ...],
    assignments: tuple[str, ...],
    show_plan: bool,
    stop_after: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Taxonomy -> data -> training -> evaluation -> GGUF, resumable, with an HTML report.

    Every stage is skipped when its inputs are unchanged, so rerunning the same
    command after a crash continues, and after editing a leaf redoes only what
    depends on it.

    \b
    Examples:
      taxolab run --taxonomy-path ~/taxonomy --taxonomy-base empty
      taxolab run --profile gpu-1 --teacher mistral-7b-instruct --student granite-7b-base
      taxolab run --plan --json
      taxolab run --stop-after mix      # then: taxolab data show <run>/data/mix/<file>.jsonl; rerun to go on
    """
    from taxolab.workflow.preflight import check_models, gpu_profile_problem
    from taxolab.workflow.profiles import assignments as parse_assignments
    from taxolab.workflow.profiles import load_run_config, resolve_profile
    from taxolab.workflow.run import RunOptions, run_workflow

    chosen = resolve_profile(profile)
    gpu_problem = gpu_profile_problem(chosen.name)
    if gpu_problem and not show_plan:
        raise TaxolabError(gpu_problem)
    if gpu_problem:
        stderr.print(f"warning: {gpu_problem}", highlight=False, soft_wrap=True)
    mirror_map = {"documents": {"mirrors": _mirrors(mirrors)}} if mirrors else {}
    config = load_run_config(
        app.config_path, chosen, parse_assignments(list(assignments)), overrides_from_flags(flags), mirror_map
    )
    options = RunOptions(
        profile=chosen, output_dir=output_dir, show_progress=not as_json, debug=app.debug, stop_after=stop_after
    )
    check_models(config)
    if show_plan:
        from taxolab.workflow.plan import plan_workflow, render_plan

        emit(plan_workflow(config, options).to_json(), as_json, render_plan)
        return
    result = run_workflow(config, options)
    from taxolab.reports.run_report import headlines_of

    data = result.to_json()
    # "learned X of N held-out facts (base: Y of N)"
    data["knowledge"] = headlines_of(result.evaluation) if result.evaluation else []
    emit(data, as_json, _render)


def _mirrors(values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for value in values:
        url, sep, path = value.partition("=")
        if not sep or not url or not path:
            raise click.BadParameter(f"{value!r}: expected URL=PATH", param_hint="--mirror")
        pairs[url] = path
    return pairs


def _render(result: dict[str, Any]) -> None:
    if result.get("stopped_after"):
        stderr.print(f"\n[bold]run stopped after {result['stopped_after']}[/bold]: {result['run_dir']}")
        stdout.print(result["next_step"], highlight=False, soft_wrap=True)
        return
    stderr.print(f"\n[bold]run finished[/bold]: {result['run_dir']}")
    for line in result.get("knowledge") or []:
        stdout.print(f"[bold]{line}[/bold]", highlight=False)
    shipped = result.get("shipped") or {}
    for name, row in (shipped.get("benchmarks") or {}).items():
        if row.get("shipped") is not None and row.get("checkpoint") is not None:
            stdout.print(
                f"shipped GGUF vs checkpoint, {name}: {row['shipped']:.3f} vs {row['checkpoint']:.3f} "
                f"({row['difference']:+.3f})",
                highlight=False,
            )
    for line in (result.get("phase_recall") or {}).get("lines", []):
        stdout.print(line, highlight=False, markup=False)
    stdout.print(f"report:        {result['report']}")
    stdout.print(f"evaluation:    {result['evaluation']}")
    stdout.print(f"trained model: {result['trained_model']}")
    stdout.print(f"GGUF:          {result['gguf']}")
    stdout.print(f"chat with it:  {result['chat_command']}")
