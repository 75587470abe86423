"""``evaluate()``: run the chosen benchmarks for the trained and base model, judge, report.

The order minimises expensive starts: each model's weights are loaded once
for all log-likelihood benchmarks, each model's server is started once for all
answers, and the judge is started once, after every answer exists (so on a
small machine never two servers at once). Results land in one folder:
``results.json``, one JSONL (and CSV) of rows per benchmark, and
``report.html`` with the charts.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Sequence
from pathlib import Path

from taxolab import fsio
from taxolab.config import Config
from taxolab.config import paths as platform_paths
from taxolab.console import stderr
from taxolab.errors import TaxolabError
from taxolab.evaluation.benchmark import (
    Benchmark,
    BenchmarkUnavailableError,
    EvalContext,
    JudgedBenchmark,
)
from taxolab.evaluation.cache import DiskCache
from taxolab.evaluation.mcq import LoglikBenchmark
from taxolab.evaluation.phases import answer_and_judge, score_loglik
from taxolab.evaluation.results import EvaluationReport
from taxolab.evaluation.serving import ModelTarget
from taxolab.evaluation.settings import BENCHMARK_NAMES
from taxolab.models.resolve import is_default

REGISTRY = {
    "mmlu_branch": "taxolab.evaluation.mmlu_branch:MmluBranch",
    "mmlu": "taxolab.evaluation.mmlu:Mmlu",
    "mt_bench": "taxolab.evaluation.mt_bench:MtBench",
    "mt_bench_branch": "taxolab.evaluation.mt_bench_branch:MtBenchBranch",
    "mt_bench_reference": "taxolab.evaluation.mt_bench_reference:MtBenchReference",
    "dk_bench": "taxolab.evaluation.dk_bench:DkBench",
    "recall": "taxolab.evaluation.recall:Recall",
}


def evaluate(
    config: Config,
    benchmarks: Sequence[str] | None = None,
    *,
    required: Sequence[str] = (),
    require_some: bool = False,
) -> EvaluationReport:
    """Run ``benchmarks`` (default: ``evaluate.benchmarks``) as the config says; write and return the report.

    A benchmark whose data is missing is skipped with its reason, unless it is in
    ``required`` (the user named it, e.g. ``--benchmark``): then, and when
    ``require_some`` is set and no benchmark can run at all, :class:`TaxolabError`
    names every reason before any model is loaded.
    """
    settings = config.evaluate
    names = list(dict.fromkeys(benchmarks or settings.benchmarks))
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise TaxolabError(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARK_NAMES)}")
    targets = model_targets(config)
    models_dir = config.paths.resolved("models")
    output_dir = Path(settings.output_dir or config.paths.resolved("data_dir") / "evaluations" / _stamp())
    ctx = EvalContext(
        settings=settings,
        output_dir=output_dir,
        cache=DiskCache(Path(settings.cache_dir or platform_paths.cache_dir() / "evaluation")),
        taxonomy_root=Path(settings.taxonomy_path or config.paths.resolved("taxonomy")),
        taxonomy_base=settings.taxonomy_base or config.taxonomy.base,
        datasets_dir=config.paths.resolved("datasets"),
        model_labels={role: target.label for role, target in targets.items()},
        system_prompt=config.mix.system_prompt or None,
    )
    judge = judge_target(config)
    ctx.judge_label = judge.label
    ctx.judge_is_default = judge.endpoint_url is None and is_default(judge.ref)
    report = EvaluationReport(
        targets["trained"].label, targets["base"].label if "base" in targets else None, output_dir
    )
    loaded: list[Benchmark] = []
    refused: list[str] = []
    for name in names:
        try:
            loaded.append(_benchmark_class(name)(ctx))
        except BenchmarkUnavailableError as exc:
            if name in required:
                refused.append(f"{name}: {exc}")
            report.skipped[name] = str(exc)
    if not refused and require_some and names and not loaded:
        refused = [f"{name}: {reason}" for name, reason in report.skipped.items()]
    weightless = [b.name for b in loaded if isinstance(b, LoglikBenchmark) and b.name in required]
    if weightless and targets["trained"].ref is None:
        refused.append(
            f"{', '.join(weightless)}: scored with the model's weights, which an endpoint does not give; "
            "pass --model (HF folder, GGUF or a name from `model list`)"
        )
    if refused:
        # asked for, cannot run: an error now, before any model loads, not "skipped" with exit 0
        raise TaxolabError("; ".join(refused) if len(refused) == 1 else "\n".join(["cannot run:", *refused]))
    loglik = [b for b in loaded if isinstance(b, LoglikBenchmark)]
    judged = [b for b in loaded if isinstance(b, JudgedBenchmark)]
    score_loglik(loglik, targets, ctx, models_dir, report)
    records = answer_and_judge(
        judged, targets, judge, ctx=ctx, serve=config.serve, client=config.client, models_dir=models_dir
    )
    for bench in loaded:
        if isinstance(bench, LoglikBenchmark) and bench.name not in report.skipped:
            report.results.append(bench.finish())
        elif isinstance(bench, JudgedBenchmark):
            report.results.append(bench.finish(records[bench.name]))
    from taxolab.reports.eval_html import write_html_report

    report.html_report = write_html_report(report, output_dir / "report.html")
    fsio.write_json(output_dir / "results.json", report.to_json())
    if ctx.cache.hits:
        stderr.print(f"{ctx.cache.hits} answers, judgments or scores reused from {ctx.cache.root}", highlight=False)
    return report


def model_targets(config: Config) -> dict[str, ModelTarget]:
    """The trained model and, when there is one to compare with, the base model."""
    s = config.evaluate
    student = config.models.student
    ref = s.model or (None if s.endpoint_url else student)
    targets = {"trained": ModelTarget(ref, s.endpoint_url)}
    base_ref = s.base_model or (student if not s.base_endpoint_url and student != ref and ref is not None else None)
    if base_ref or s.base_endpoint_url:
        targets["base"] = ModelTarget(base_ref, s.base_endpoint_url)
    return targets


def judge_target(config: Config) -> ModelTarget:
    s = config.evaluate
    key_env = s.judge_api_key_env or config.client.api_key_env
    api_key = os.environ.get(key_env) if s.judge_endpoint_url else None
    return ModelTarget(
        s.judge_model or (None if s.judge_endpoint_url else config.models.judge), s.judge_endpoint_url, api_key
    )


def _benchmark_class(name: str) -> type[Benchmark]:
    module, _, attr = REGISTRY[name].partition(":")
    cls: type[Benchmark] = getattr(importlib.import_module(module), attr)
    return cls


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")
