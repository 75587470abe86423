"""Run pipelines over seed rows: small batches streamed concurrently, checkpointed one by one.

Like datatrove's executors, this is separate from the blocks: blocks transform a
batch; the executor decides which batches run, how many at once, and what is
already done. Many batches are in flight at the same time (their blocks at
different stages), so the teacher is never idle waiting for a block boundary;
the global cap on teacher requests lives in :class:`TeacherPool`.

:class:`Executor` is the interface; :class:`LocalExecutor` runs everything in
this process with asyncio. A Ray executor can hand batches of the same jobs to
remote workers and write the same checkpoints, so outputs are identical.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from taxolab.errors import TaxolabError
from taxolab.llm.client import ClientStats, Completion
from taxolab.llm.errors import EndpointDownError
from taxolab.sdg.blocks import BlockContext, Row
from taxolab.sdg.checkpoints import BatchResult, CheckpointStore
from taxolab.sdg.pipeline import Pipeline
from taxolab.sdg.progress import JobMeter, Reporter
from taxolab.sdg.teacher import TeacherPool, TeacherSpec


class TeacherDownError(TaxolabError):
    """The teacher cannot serve (slow, overloaded, down or refused): the run stops, finished batches are kept."""


def teacher_fault(exc: EndpointDownError, saved: int) -> TeacherDownError:
    """The one line for a run stopped by its teacher: what failed, what to change, and whether a rerun resumes.

    ``saved`` is the number of finished batches on disk (this run's and earlier ones'); the
    "rerun to continue" hint is given only when there is something to continue from.
    """
    if saved:
        batches = "1 finished batch is" if saved == 1 else f"{saved} finished batches are"
        after = f"{batches} saved: rerun the same command (or add --resume) to continue from them"
    else:
        after = "no batch had finished, so nothing was saved; a rerun starts from the beginning"
    return TeacherDownError(f"teacher {exc}; {after}")


def saved_batches(jobs: list[Job], batch_size: int) -> int:
    """Finished batches of ``jobs`` on disk, counted from their checkpoint files."""
    return sum(
        CheckpointStore(job.checkpoints).done(index)
        for job in jobs
        for index in range(len(batches(job.seeds, batch_size)))
    )


JobRole = Literal["main", "mcq"]


@dataclass
class Job:
    """One pipeline over one leaf's seed rows; ``key`` names it in progress, checkpoints and logs.

    ``role`` says what its rows are for: ``main`` (the leaf's training rows) or
    ``mcq`` (test questions); ``leaf`` is the leaf's name.
    """

    key: str
    pipeline: Pipeline
    seeds: list[Row]
    checkpoints: Path
    leaf: str = ""
    role: JobRole = "main"
    settings: dict[str, Any] = field(default_factory=dict)
    """This job's own block settings, over :attr:`ExecutorOptions.settings` (a leaf's ``questions_per_span``)."""


@dataclass
class JobResult:
    key: str
    rows: list[Row]
    dropped: Counter[str]
    seeds: int
    batches: int
    resumed_batches: int
    completion_tokens: int
    seconds: float
    rejected: list[Row] = field(default_factory=list)
    leaf: str = ""
    role: JobRole = "main"


@dataclass(frozen=True)
class ExecutorOptions:
    """How an executor runs its jobs: batch size, seed, default generation arguments, progress, block settings."""

    batch_size: int = 4
    seed: int = 42
    gen_defaults: dict[str, Any] = field(default_factory=dict)
    batches_in_flight: int | None = None
    """Batches started at once (default: 8 per teacher slot); the teacher cap is separate."""
    show_progress: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    """Run settings blocks read through :attr:`BlockContext.settings` (e.g. ``questions_per_span``)."""


class Executor(Protocol):
    def run(self, jobs: list[Job], teacher: TeacherSpec, options: ExecutorOptions) -> list[JobResult]: ...


def teacher_stats(executor: object) -> ClientStats | None:
    """The teacher request totals of ``executor``'s last run (requests, retries), when it kept them."""
    stats = getattr(executor, "teacher_stats", None)
    return stats if isinstance(stats, ClientStats) else None


def batches(seeds: list[Row], size: int) -> list[list[Row]]:
    return [seeds[start : start + size] for start in range(0, len(seeds), size)]


class MeteredTeacher:
    """Counts each job's teacher tokens so the display can show tokens/s per leaf."""

    def __init__(self, pool: TeacherPool, meter: JobMeter, priority: int = 0) -> None:
        self.pool = pool
        self.meter = meter
        self.priority = priority

    async def chat(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        completions = await self.pool.chat(messages, n=n, priority=self.priority, **kwargs)
        self.meter.completion_tokens += sum(c.completion_tokens for c in completions)
        return completions


def batch_seed(run_seed: int, job_key: str, index: int) -> str:
    """The random seed of one batch: the same in every executor and on every rerun, so rows match."""
    return f"{run_seed}:{job_key}:{index}"


async def run_batch(
    pipeline: Pipeline,
    seeds: list[Row],
    teacher: MeteredTeacher,
    *,
    seed: str,
    gen_defaults: dict[str, Any],
    store: CheckpointStore,
    index: int,
    settings: dict[str, Any] | None = None,
) -> BatchResult:
    """One batch through the whole pipeline, checkpointed the moment it is done (every executor runs this)."""
    ctx = BlockContext(teacher, seed, gen_defaults, dict(settings or {}))
    started = time.monotonic()
    out = await pipeline.run([dict(row) for row in seeds], ctx)
    result = BatchResult(out.rows, out.dropped, len(seeds), time.monotonic() - started, out.rejected)
    store.save(index, result)
    return result


class LocalExecutor:
    """All jobs in one asyncio loop in this process; :attr:`teacher_stats` holds the last run's request totals."""

    teacher_stats: ClientStats | None = None

    def run(self, jobs: list[Job], teacher: TeacherSpec, options: ExecutorOptions) -> list[JobResult]:
        return asyncio.run(self.arun(jobs, teacher, options))

    async def arun(self, jobs: list[Job], teacher: TeacherSpec, options: ExecutorOptions) -> list[JobResult]:
        pool = TeacherPool(teacher)
        try:
            return await self._run(jobs, pool, options)
        except EndpointDownError as exc:
            raise teacher_fault(exc, saved_batches(jobs, options.batch_size)) from None
        finally:
            self.teacher_stats = pool.endpoints.stats
            await pool.aclose()

    async def _run(self, jobs: list[Job], pool: TeacherPool, options: ExecutorOptions) -> list[JobResult]:
        if any(job.seeds for job in jobs):
            await pool.check()
        in_flight = asyncio.Semaphore(options.batches_in_flight or max(16, 8 * pool.spec.concurrency))
        plans = [(job, CheckpointStore(job.checkpoints), batches(job.seeds, options.batch_size)) for job in jobs]
        meters = {job.key: JobMeter(total_seeds=len(job.seeds)) for job in jobs}
        results: dict[str, dict[int, BatchResult]] = {job.key: {} for job in jobs}
        resumed: Counter[str] = Counter()
        for job, store, job_batches in plans:
            for index, seeds in enumerate(job_batches):
                if store.done(index):
                    results[job.key][index] = store.load(index)
                    meters[job.key].seeds_done += len(seeds)
                    meters[job.key].rows += len(results[job.key][index].rows)
                    resumed[job.key] += 1
        started = time.monotonic()
        with Reporter(options.show_progress) as reporter:
            for job in jobs:
                reporter.add(job.key, meters[job.key])

            async def one(job: Job, store: CheckpointStore, index: int, seeds: list[Row], age: int) -> None:
                async with in_flight:
                    meter = meters[job.key]
                    result = await run_batch(
                        job.pipeline,
                        seeds,
                        MeteredTeacher(pool, meter, priority=age),
                        seed=batch_seed(options.seed, job.key, index),
                        gen_defaults=options.gen_defaults,
                        store=store,
                        index=index,
                        settings={**options.settings, **job.settings},
                    )
                    results[job.key][index] = result
                    meter.seeds_done += len(seeds)
                    meter.rows += len(result.rows)
                    reporter.update(job.key, meter)

            pending = [
                (job, store, index, seeds)
                for job, store, job_batches in plans
                for index, seeds in enumerate(job_batches)
                if index not in results[job.key]
            ]
            # Batches in waves of 2 x the teacher's slots share a priority: a wave advances together (many
            # requests ready, so no slot idles at a block boundary) and older waves finish -- and checkpoint -- first.
            wave = 2 * pool.spec.concurrency
            tasks = [asyncio.create_task(one(*work, age // wave)) for age, work in enumerate(pending)]
            await _all_or_cancel(tasks)
        elapsed = time.monotonic() - started
        return [
            collect_job_result(job, results[job.key], resumed[job.key], meters[job.key], elapsed) for job, _, _ in plans
        ]


async def _all_or_cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for every task; on the first failure cancel the rest (their batches stay unfinished)."""
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    failed = [task for task in done if not task.cancelled() and task.exception() is not None]
    if failed:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise failed[0].exception()  # type: ignore[misc]


def collect_job_result(
    job: Job, done: dict[int, BatchResult], resumed: int, meter: JobMeter, elapsed: float
) -> JobResult:
    """Assemble a job's result from its batches in batch order (what makes resumed runs identical)."""
    rows: list[Row] = []
    dropped: Counter[str] = Counter()
    rejected: list[Row] = []
    for index in sorted(done):
        rows.extend(done[index].rows)
        dropped.update(done[index].dropped)
        rejected.extend(done[index].rejected)
    return JobResult(
        key=job.key,
        rows=rows,
        dropped=dropped,
        seeds=len(job.seeds),
        batches=len(done),
        resumed_batches=resumed,
        completion_tokens=meter.completion_tokens,
        seconds=elapsed,
        rejected=rejected,
        leaf=job.leaf,
        role=job.role,
    )
