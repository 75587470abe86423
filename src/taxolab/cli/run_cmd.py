"""``taxolab run``: the whole loop in one resumable command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext, emit, overrides_from_flags
from taxolab.cli.options import json_option, settings_options
from taxolab.console import stderr, stdout
from taxolab.evaluation.settings import BENCHMARK_NAMES, EvaluateSettings
from taxolab.models.convert import OUTTYPES
from taxolab.sdg.settings import GenerateSettings
from taxolab.training.settings import TrainSettings
from taxolab.workflow.profiles import PROFILE_NAMES


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
@click.option("--benchmark", "benchmarks", multiple=True, type=click.Choice(BENCHMARK_NAMES),
              help="Benchmark to run (repeatable; default: evaluate.benchmarks).")  # fmt: skip
@click.option("--mt-bench", is_flag=True, help="Also run MT-Bench (did general chat quality hold?).")
@click.option("--mirror", "mirrors", multiple=True, metavar="URL=PATH",
              help="Map a document repo URL to a local clone or bundle (repeatable) [config: documents.mirrors].")  # fmt: skip
@click.option("--outtype", type=click.Choice(OUTTYPES), default=None, help="GGUF type of the result (profile default).")
@click.option("--max-chunks-per-leaf", type=click.IntRange(1), default=None,
              help="Generate from at most N document chunks per knowledge leaf (profile default).")  # fmt: skip
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Any config key, over the profile (repeatable), e.g. --set train.max_seq_len=768.")  # fmt: skip
@click.option("--no-seed-examples", is_flag=True, help="Train on generated rows only (default: add the seed examples).")
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
    benchmarks: tuple[str, ...],
    mt_bench: bool,
    mirrors: tuple[str, ...],
    assignments: tuple[str, ...],
    outtype: str | None,
    max_chunks_per_leaf: int | None,
    no_seed_examples: bool,
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
    """
    from taxolab.workflow.profiles import assignments as parse_assignments
    from taxolab.workflow.profiles import load_run_config, resolve_profile
    from taxolab.workflow.run import RunOptions, run_workflow

    chosen = resolve_profile(profile)
    mirror_map = {"documents": {"mirrors": _mirrors(mirrors)}} if mirrors else {}
    config = load_run_config(
        app.config_path, chosen, parse_assignments(list(assignments)), overrides_from_flags(flags), mirror_map
    )
    options = RunOptions(
        taxonomy_root=config.paths.resolved("taxonomy"),
        taxonomy_base=config.taxonomy.base,
        profile=chosen,
        output_dir=output_dir,
        benchmarks=list(benchmarks),
        mt_bench=mt_bench,
        outtype=outtype or chosen.run["outtype"],
        max_chunks_per_leaf=max_chunks_per_leaf or chosen.run["max_chunks_per_leaf"],
        with_seed_examples=not no_seed_examples,
        show_progress=not as_json,
        debug=app.debug,
    )
    result = run_workflow(config, options)
    emit(result.to_json(), as_json, _render)


def _mirrors(values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for value in values:
        url, sep, path = value.partition("=")
        if not sep or not url or not path:
            raise click.BadParameter(f"{value!r}: expected URL=PATH", param_hint="--mirror")
        pairs[url] = path
    return pairs


def _render(result: dict[str, Any]) -> None:
    stderr.print(f"\n[bold]run finished[/bold]: {result['run_dir']}")
    stdout.print(f"report:        {result['report']}")
    stdout.print(f"evaluation:    {result['evaluation']}")
    stdout.print(f"trained model: {result['trained_model']}")
    stdout.print(f"GGUF:          {result['gguf']}")
    stdout.print(f"chat with it:  {result['chat_command']}")
