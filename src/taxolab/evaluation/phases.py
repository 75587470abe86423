"""The expensive phases of an evaluation, ordered so each model is loaded or served once.

1. Log-likelihood: each model's weights are loaded once and score every
   multiple-choice benchmark.
2. Answers: each model's server is started once and answers every judged
   benchmark's questions (cached answers are not asked again).
3. Judging: the judge grades every answer. When the judge is one of the
   evaluated models (the packaged default judging itself on a laptop), its
   server is started last and kept for judging, so it starts only once.
"""

from __future__ import annotations

import functools
import gc
from pathlib import Path
from typing import TYPE_CHECKING

from taxolab.console import stderr
from taxolab.errors import TaxolabError
from taxolab.evaluation.benchmark import ROLES, EvalContext, ItemRecord, JudgedBenchmark
from taxolab.evaluation.loglik import LoglikScorer
from taxolab.evaluation.mcq import LoglikBenchmark
from taxolab.evaluation.results import EvaluationReport
from taxolab.evaluation.runner import Answer, Judgment, answer_all, judge_all
from taxolab.evaluation.serving import (
    LiveEndpoint,
    ModelTarget,
    Weights,
    identity,
    open_endpoint,
    path_identity,
    resolve_weights,
)

if TYPE_CHECKING:
    from taxolab.llm.settings import ClientSettings, ServeSettings


def score_loglik(
    benches: list[LoglikBenchmark],
    targets: dict[str, ModelTarget],
    ctx: EvalContext,
    models_dir: Path,
    report: EvaluationReport,
) -> None:
    """Load each model's weights once and score every log-likelihood benchmark with them."""
    if not benches:
        return
    if targets["trained"].ref is None:
        for bench in benches:
            report.skipped[bench.name] = (
                f"{bench.name} scores with the model's weights: pass --model (not only --endpoint-url)"
            )
        return
    for role, target in targets.items():
        if target.ref is None:
            for bench in benches:
                bench.notes.append(f"{role} model has no local weights (endpoint only): not scored")
            continue
        weights = resolve_weights(target.ref, models_dir)
        lm_eval_benches = [b for b in benches if getattr(b, "use_lm_eval", False)]
        for bench in lm_eval_benches:
            bench.score_weights(role, weights.path)  # type: ignore[attr-defined]
        own = [b for b in benches if b not in lm_eval_benches]
        model_id = path_identity(weights.path / weights.gguf_file if weights.gguf_file else weights.path)
        get_scorer = functools.cache(lambda weights=weights, role=role: _load_scorer(weights, role, ctx))
        for bench in own:
            bench.score_model(role, get_scorer, model_id)
        get_scorer.cache_clear()
        gc.collect()


def _load_scorer(weights: Weights, role: str, ctx: EvalContext) -> LoglikScorer:
    """Loaded only when some question is not in the cache yet (a rerun loads nothing)."""
    from taxolab.evaluation.loglik import load_scorer

    stderr.print(f"loading the {role} model's weights from {weights.path}", highlight=False)
    try:
        return load_scorer(
            weights.path, gguf_file=weights.gguf_file, device=ctx.settings.device, batch_size=ctx.settings.batch_size
        )
    except OSError as exc:
        raise TaxolabError(f"{weights.path}: cannot load the model's weights: {exc}") from None


def answer_and_judge(
    benches: list[JudgedBenchmark],
    targets: dict[str, ModelTarget],
    judge: ModelTarget,
    *,
    ctx: EvalContext,
    serve: ServeSettings,
    client: ClientSettings,
    models_dir: Path,
) -> dict[str, dict[str, list[ItemRecord]]]:
    """Every model's answers, then the judge's verdicts, as records per benchmark and role."""
    answers: dict[str, dict[str, dict[str, Answer]]] = {b.name: {} for b in benches}
    judgments: dict[str, dict[str, dict[str, Judgment]]] = {b.name: {} for b in benches}
    if not benches:
        return {}
    roles = [role for role in ROLES if role in targets]
    judge_role = next((role for role in roles if targets[role] == judge), None)
    if judge_role is not None:
        roles = [role for role in roles if role != judge_role] + [judge_role]
    judged = False
    for role in roles:
        for bench in benches:
            answers[bench.name][role] = bench.given_answers(role)
        todo = {b.name: b.needs_generation(role) for b in benches}
        if not any(todo.values()):
            continue
        target = targets[role]
        with open_endpoint(target, serve, models_dir, concurrency=ctx.settings.concurrency, client=client) as endpoint:
            model_id = identity(target, models_dir)
            for bench in benches:
                if todo[bench.name]:
                    answers[bench.name][role].update(
                        answer_all(
                            endpoint,
                            todo[bench.name],
                            identity=model_id,
                            max_tokens=ctx.settings.max_tokens,
                            cache=ctx.cache,
                            label=f"{bench.name}: {role} model answers",
                        )
                    )
            if role == judge_role:
                _judge(benches, answers, judgments, endpoint=endpoint, judge_id=identity(judge, models_dir), ctx=ctx)
                judged = True
    if not judged and _has_requests(benches, answers):
        with open_endpoint(judge, serve, models_dir, concurrency=ctx.settings.concurrency, client=client) as endpoint:
            _judge(benches, answers, judgments, endpoint=endpoint, judge_id=identity(judge, models_dir), ctx=ctx)
    return {
        b.name: {
            role: b.records(role, answers[b.name][role], judgments[b.name].get(role, {})) for role in answers[b.name]
        }
        for b in benches
    }


def _has_requests(benches: list[JudgedBenchmark], answers: dict[str, dict[str, dict[str, Answer]]]) -> bool:
    return any(b.judge_requests(role, per_role) for b in benches for role, per_role in answers[b.name].items())


def _judge(
    benches: list[JudgedBenchmark],
    answers: dict[str, dict[str, dict[str, Answer]]],
    judgments: dict[str, dict[str, dict[str, Judgment]]],
    *,
    endpoint: LiveEndpoint,
    judge_id: str,
    ctx: EvalContext,
) -> None:
    for bench in benches:
        for role, per_role in answers[bench.name].items():
            judgments[bench.name][role] = judge_all(
                endpoint,
                bench.judge_requests(role, per_role),
                identity=judge_id,
                max_tokens=ctx.settings.judge_max_tokens,
                format_retry=ctx.settings.judge_format_retry,
                cache=ctx.cache,
                label=f"{bench.name}: judging {role} answers",
            )
