"""``taxolab run --plan``: what a run would do, before it does anything.

The plan is the run's own walk in dry mode: the same stage list
(:func:`taxolab.workflow.run.build_stages`) walked by the same
:class:`~taxolab.workflow.stages.StageRunner`, which asks each stage whether
it is done (its fingerprint matches its record and its outputs still exist)
instead of running it, and for its estimate
(:class:`~taxolab.workflow.estimates.Estimator`). A stage whose inputs read
the outputs of a stage that would run first is reported as running too
(``waits_on`` names that stage): the run redoes it unless the earlier stage
writes the very same bytes again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from taxolab.config import Config
from taxolab.console import stdout
from taxolab.workflow.estimates import Rates
from taxolab.workflow.manifest import RunManifest
from taxolab.workflow.run import RunOptions, dry_walk, prepare_run
from taxolab.workflow.stages import Estimate, approx_duration


@dataclass
class PlannedStage:
    name: str
    title: str
    status: str
    """``done`` (skipped on a run), ``runs``, ``always`` (cheap stages that run every time), or
    ``not reached`` (after ``--stop-after``)."""
    reads: dict[str, Any] = field(default_factory=dict)
    estimate: Estimate = field(default_factory=Estimate)
    waits_on: str | None = None
    """The earlier stage that runs first and whose outputs this one reads (it runs after it)."""


@dataclass
class RunPlan:
    run_dir: str
    profile: str | None
    budget: str | None
    rates: Rates
    """The default rates; a stage's ``estimate.rate`` says whether it used one or a measured rate."""
    stages: list[PlannedStage]
    settings: dict[str, Any]
    """The whole effective config."""
    changed: dict[str, Any]
    """``section.key`` -> value for every setting that differs from taxolab's defaults (profile, file, flags)."""
    stop_after: str | None = None

    @property
    def total(self) -> Estimate:
        todo = [s.estimate for s in self.stages if s.status not in ("done", "not reached")]
        return Estimate(
            teacher_requests=sum(e.teacher_requests for e in todo),
            prompt_tokens=sum(e.prompt_tokens for e in todo),
            completion_tokens=sum(e.completion_tokens for e in todo),
            completion_tokens_max=sum(e.completion_tokens_max for e in todo),
            train_tokens=sum(e.train_tokens for e in todo),
            seconds=round(sum(e.seconds for e in todo), 1),
            basis="the stages that will run",
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = asdict(self.total)
        return data


def plan_workflow(config: Config, options: RunOptions) -> RunPlan:
    """The plan of ``run_workflow(config, options)``: the same walk, dry; nothing is generated, trained or written."""
    run = prepare_run(config, options)
    config = run.config
    outcomes, estimates = dry_walk(run, RunManifest.load(run.layout.root))
    stages = [
        PlannedStage(o.name, o.title, o.status, o.stage.reads(), o.stage.estimate(), o.waits_on) for o in outcomes
    ]
    cap = config.run.max_chunks_per_leaf
    return RunPlan(
        run_dir=str(run.layout.root),
        profile=config.profile,
        budget=f"at most {cap} document chunks per knowledge leaf (run.max_chunks_per_leaf)" if cap else None,
        rates=estimates.rates,
        stages=stages,
        settings=config.model_dump(mode="json"),
        changed=_changed(config.model_dump(mode="json"), Config.model_validate({}).model_dump(mode="json")),
        stop_after=options.stop_after,
    )


def _changed(values: dict[str, Any], defaults: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in values.items():
        default = defaults.get(key)
        if isinstance(value, dict) and isinstance(default, dict) and key != "mirrors":
            found.update(_changed(value, default, f"{prefix}{key}."))
        elif value != default:
            found[f"{prefix}{key}"] = value
    return found


def render_plan(plan: dict[str, Any]) -> None:
    """The plan for people: one line per stage, the budget, the totals and where the rates come from."""
    stdout.print(f"[bold]plan[/bold] for {plan['run_dir']} (profile: {plan['profile'] or 'none'})")
    if plan["budget"]:
        stdout.print(f"budget: {plan['budget']}")
    for stage in plan["stages"]:
        est = stage["estimate"]
        what = []
        if est["teacher_requests"]:
            what.append(
                f"{est['teacher_requests']} requests, ~{est['completion_tokens']} tokens "
                f"(<= {est['completion_tokens_max']})"
            )
        if est["train_tokens"]:
            what.append(f"~{est['train_tokens']} trained tokens")
        if stage["status"] not in ("done", "not reached"):
            what.append(f"~{approx_duration(est['seconds'])}")
            if est["rate"]:
                what.append(est["rate"])
        if stage["waits_on"] and stage["status"] == "runs":
            what.append(f"after {stage['waits_on']}")
        detail = f"  ({'; '.join(what)})" if what and stage["status"] != "not reached" else ""
        stdout.print(f"  {stage['status']:>11}  {stage['title']}{detail}", highlight=False)
    if plan["stop_after"]:
        stdout.print(f"stops after {plan['stop_after']} (--stop-after); a run without it goes on", highlight=False)
    total = plan["total"]
    stdout.print(
        f"to do: {total['teacher_requests']} teacher requests, ~{total['completion_tokens']} generated tokens "
        f"(<= {total['completion_tokens_max']}), ~{total['train_tokens']} trained tokens, "
        f"~{approx_duration(total['seconds'])} (expected values; taxolab run prints them beside the measured times)",
        highlight=False,
    )
    stdout.print(f"default rates: {plan['rates']['source']}", highlight=False, soft_wrap=True)
    changed = ", ".join(f"{key}={value}" for key, value in plan["changed"].items() if not key.startswith("paths."))
    stdout.print(f"settings other than the defaults: {changed or 'none'}", highlight=False, soft_wrap=True)
    stdout.print("every effective setting: taxolab run --plan --json (key `settings`)", highlight=False)
