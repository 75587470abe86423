"""Run the same jobs on a Ray cluster: batches spread over worker actors, same checkpoints, same rows.

Each worker is a Ray async actor that builds the pipelines once and runs many
batches concurrently against its share of the teacher's capacity, so the
global cap on in-flight teacher requests holds across the cluster. A worker
writes a batch's checkpoint itself the moment it finishes it; a worker that
dies is restarted by Ray and its unfinished batches are retried, so a lost
worker costs only the batches it had in flight. Batch seeds are derived
exactly as in :class:`~taxolab.sdg.executor.LocalExecutor`, which is why both
executors produce identical rows for a deterministic teacher.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taxolab.errors import TaxolabError
from taxolab.sdg.checkpoints import BatchResult, CheckpointStore
from taxolab.sdg.executor import (
    ExecutorOptions,
    Job,
    JobResult,
    batch_seed,
    batches,
    collect_job_result,
    saved_batches,
    teacher_fault,
)
from taxolab.sdg.progress import JobMeter, Reporter
from taxolab.sdg.teacher import TeacherSpec

RAY_INSTALL_HINT = "the Ray executor needs Ray: pip install 'taxolab[ray]'"


def import_ray() -> Any:
    """Import Ray lazily: it is an optional extra, and a heavy import."""
    try:
        import ray
    except ImportError:
        raise TaxolabError(RAY_INSTALL_HINT) from None
    return ray


class _BatchWorker:
    """Body of the Ray actor (wrapped with ``ray.remote`` at run time so Ray stays optional)."""

    def __init__(
        self, teacher: TeacherSpec, gen_defaults: dict[str, Any], settings: dict[str, Any] | None = None
    ) -> None:
        from taxolab.sdg.teacher import TeacherPool

        self._teacher_spec = teacher
        self._gen_defaults = gen_defaults
        self._settings = dict(settings or {})
        self._pool: TeacherPool | None = None
        self._pipelines: dict[str, Any] = {}

    def pid(self) -> int:
        return os.getpid()

    async def run_batch(
        self,
        pipeline_path: str,
        seeds: list[dict[str, Any]],
        seed: str,
        checkpoints: str,
        index: int,
        *,
        settings: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One batch; ``settings`` (the job's own, e.g. a leaf's ``questions_per_span``) go over the run's."""
        from taxolab.sdg.executor import MeteredTeacher, run_batch
        from taxolab.sdg.pipeline import load_pipeline
        from taxolab.sdg.teacher import TeacherPool

        if self._pool is None:
            self._pool = TeacherPool(self._teacher_spec)
        if pipeline_path not in self._pipelines:
            self._pipelines[pipeline_path] = load_pipeline(Path(pipeline_path))
        meter = JobMeter(total_seeds=len(seeds))
        teacher = MeteredTeacher(self._pool, meter)
        store = CheckpointStore(Path(checkpoints))
        result = await run_batch(
            self._pipelines[pipeline_path],
            seeds,
            teacher,
            seed=seed,
            gen_defaults=self._gen_defaults,
            store=store,
            index=index,
            settings={**self._settings, **(settings or {})},
        )
        return {
            "rows": result.rows,
            "dropped": dict(result.dropped),
            "rejected": result.rejected,
            "tokens": meter.completion_tokens,
        }


@dataclasses.dataclass
class RayExecutor:
    """``--executor ray``: same :class:`Executor` interface as the local one.

    ``address`` is ``auto``/``HOST:PORT`` for an existing cluster, or ``None``
    to start a local Ray with ``num_cpus`` CPUs on 127.0.0.1.
    """

    address: str | None = None
    workers: int = 2
    num_cpus: int | None = None

    def run(self, jobs: list[Job], teacher: TeacherSpec, options: ExecutorOptions) -> list[JobResult]:
        ray = import_ray()
        self._init(ray)
        share = max(1, teacher.concurrency // self.workers)
        worker_spec = dataclasses.replace(teacher, concurrency=share)
        actor = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=4 * share + 4)(
            _BatchWorker
        )
        workers = [actor.remote(worker_spec, options.gen_defaults, options.settings) for _ in range(self.workers)]
        try:
            return self._run(ray, workers, jobs, options)
        finally:
            for worker in workers:
                ray.kill(worker)

    def _init(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        if self.address:
            ray.init(address=self.address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=self.num_cpus or os.cpu_count() or 2,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )

    def _run(self, ray: Any, workers: list[Any], jobs: list[Job], options: ExecutorOptions) -> list[JobResult]:
        stores = {job.key: CheckpointStore(job.checkpoints) for job in jobs}
        meters = {job.key: JobMeter(total_seeds=len(job.seeds)) for job in jobs}
        done: dict[str, dict[int, BatchResult]] = {job.key: {} for job in jobs}
        resumed: Counter[str] = Counter()
        pending: dict[Any, tuple[Job, int, int]] = {}
        started = time.monotonic()
        slot = 0
        for job in jobs:
            for index, seeds in enumerate(batches(job.seeds, options.batch_size)):
                if stores[job.key].done(index):
                    done[job.key][index] = stores[job.key].load(index)
                    meters[job.key].seeds_done += len(seeds)
                    meters[job.key].rows += len(done[job.key][index].rows)
                    resumed[job.key] += 1
                    continue
                worker = workers[slot % len(workers)]
                slot += 1
                ref = worker.run_batch.remote(
                    str(job.pipeline.path),
                    seeds,
                    batch_seed(options.seed, job.key, index),
                    str(job.checkpoints),
                    index,
                    settings=job.settings,
                )
                pending[ref] = (job, index, len(seeds))
        with Reporter(options.show_progress) as reporter:
            for job in jobs:
                reporter.add(job.key, meters[job.key])
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    job, index, size = pending.pop(ref)
                    data = self._result(ray, ref, pending, lambda: saved_batches(jobs, options.batch_size))
                    done[job.key][index] = BatchResult(
                        data["rows"], Counter(data["dropped"]), size, rejected=data.get("rejected", [])
                    )
                    meter = meters[job.key]
                    meter.seeds_done += size
                    meter.rows += len(data["rows"])
                    meter.completion_tokens += data["tokens"]
                    reporter.update(job.key, meter)
        elapsed = time.monotonic() - started
        return [collect_job_result(job, done[job.key], resumed[job.key], meters[job.key], elapsed) for job in jobs]

    @staticmethod
    def _result(ray: Any, ref: Any, pending: dict[Any, Any], saved: Callable[[], int]) -> dict[str, Any]:
        from taxolab.llm.errors import EndpointDownError

        try:
            result: dict[str, Any] = ray.get(ref)
        except Exception as exc:
            for other in pending:
                ray.cancel(other)
            cause = getattr(exc, "cause", None) or exc
            if isinstance(cause, EndpointDownError):
                raise teacher_fault(cause, saved()) from None
            if re.search(r"Endpoint(Down|Slow|Overloaded|Refused)Error", str(exc)):  # only the text survived Ray
                raise teacher_fault(EndpointDownError("a Ray worker's teacher", None, str(cause)), saved()) from None
            raise
        return result
