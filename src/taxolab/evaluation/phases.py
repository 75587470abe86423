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

import contextlib
import functools
import gc
from pathlib import Path
from typing import TYPE_CHECKING

from taxolab.console import stderr
from taxolab.errors import TaxolabError
from taxolab.evaluation.benchmark import ROLES, EvalContext, ItemRecord, JudgedBenchmark
from taxolab.evaluation.loglik import LoglikScorer
from taxolab.evaluation.mcq import LoglikBenchmark
from taxolab.evaluation.mmlu import Mmlu
from taxolab.evaluation.results import EvaluationReport
from taxolab.evaluation.runner import (
    Answer,
    BenchmarkQuestion,
    JudgeRequest,
    Judgment,
    answer_all,
    cached_answers,
    cached_judgments,
    judge_all,
)
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
        lm_eval_benches = [b for b in benches if isinstance(b, Mmlu) and b.use_lm_eval]
        for lm_eval_bench in lm_eval_benches:
            lm_eval_bench.score_weights(role, weights.path)
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
    """Every model's answers, then the judge's verdicts, as records per benchmark and role.

    The cache is read first: a server starts only when something is missing.
    """
    if not benches:
        return {}
    run = _JudgedRun(benches, ctx, serve, client, models_dir)
    roles = [role for role in ROLES if role in targets]
    needs_judge = any(bench.uses_judge for bench in benches)
    judge_role = next((role for role in roles if targets[role] == judge), None) if needs_judge else None
    if judge_role is not None:
        roles = [role for role in roles if role != judge_role] + [judge_role]
    judge_id = identity(judge, models_dir) if needs_judge else ""
    judged = False
    for role in roles:
        model_id = identity(targets[role], models_dir)
        missing = run.cached_answers(role, model_id)
        if not any(missing.values()):
            continue
        with run.open(targets[role]) as endpoint:
            run.generate(endpoint, role, model_id, missing)
            if role == judge_role:
                run.judge(endpoint, run.cached_judgments(judge_id), judge_id)
                judged = True
    if not judged:
        pending = run.cached_judgments(judge_id)
        if any(pending.values()):
            with run.open(judge) as endpoint:
                run.judge(endpoint, pending, judge_id)
    return run.records()


class _JudgedRun:
    """Answers and judgments collected so far, per benchmark and role."""

    def __init__(
        self,
        benches: list[JudgedBenchmark],
        ctx: EvalContext,
        serve: ServeSettings,
        client: ClientSettings,
        models_dir: Path,
    ) -> None:
        self.benches = benches
        self.ctx = ctx
        self.serve = serve
        self.client = client
        self.models_dir = models_dir
        self.answers: dict[str, dict[str, dict[str, Answer]]] = {b.name: {} for b in benches}
        self.judgments: dict[str, dict[str, dict[str, Judgment]]] = {b.name: {} for b in benches}

    def open(self, target: ModelTarget) -> contextlib.AbstractContextManager[LiveEndpoint]:
        return open_endpoint(
            target, self.serve, self.models_dir, concurrency=self.ctx.settings.concurrency, client=self.client
        )

    def cached_answers(self, role: str, model_id: str) -> dict[str, list[BenchmarkQuestion]]:
        """Fill in given and cached answers for ``role``; return what each benchmark still has to ask."""
        missing = {}
        for bench in self.benches:
            self.answers[bench.name][role] = bench.given_answers(role)
            found, missing[bench.name] = cached_answers(
                bench.needs_generation(role),
                identity=model_id,
                max_tokens=bench.max_tokens,
                cache=self.ctx.cache,
            )
            self.answers[bench.name][role].update(found)
        return missing

    def generate(
        self, endpoint: LiveEndpoint, role: str, model_id: str, missing: dict[str, list[BenchmarkQuestion]]
    ) -> None:
        for bench in self.benches:
            if missing[bench.name]:
                self.answers[bench.name][role].update(
                    answer_all(
                        endpoint,
                        missing[bench.name],
                        identity=model_id,
                        max_tokens=bench.max_tokens,
                        cache=self.ctx.cache,
                        label=f"{bench.name}: {role} model answers",
                    )
                )

    def cached_judgments(self, judge_id: str) -> dict[tuple[str, str], list[JudgeRequest]]:
        """Fill in cached judgments of every answer; return the requests still to send, per benchmark and role."""
        pending = {}
        for bench in self.benches:
            for role, per_role in self.answers[bench.name].items():
                found, pending[(bench.name, role)] = cached_judgments(
                    bench.judge_requests(role, per_role),
                    identity=judge_id,
                    max_tokens=self.ctx.settings.judge_max_tokens,
                    cache=self.ctx.cache,
                    format_retry=self.ctx.settings.judge_format_retry,
                )
                self.judgments[bench.name][role] = found
        return pending

    def judge(self, endpoint: LiveEndpoint, pending: dict[tuple[str, str], list[JudgeRequest]], judge_id: str) -> None:
        for (name, role), requests in pending.items():
            if requests:
                self.judgments[name][role].update(
                    judge_all(
                        endpoint,
                        requests,
                        identity=judge_id,
                        max_tokens=self.ctx.settings.judge_max_tokens,
                        format_retry=self.ctx.settings.judge_format_retry,
                        cache=self.ctx.cache,
                        label=f"{name}: judging {role} answers",
                    )
                )

    def records(self) -> dict[str, dict[str, list[ItemRecord]]]:
        return {
            b.name: {
                role: b.records(role, self.answers[b.name][role], self.judgments[b.name].get(role, {}))
                for role in self.answers[b.name]
            }
            for b in self.benches
        }
