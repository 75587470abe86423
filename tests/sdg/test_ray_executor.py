"""The Ray executor: same rows as the local executor, a killed worker loses no finished row,
and a teacher fleet with one dead endpoint still finishes.

A real local Ray instance (2 CPUs, 127.0.0.1) runs the workers; the teachers
are scripted fake OpenAI-compatible servers, standing in for a vLLM fleet.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from taxolab.sdg.executor import LocalExecutor
from taxolab.sdg.generate import GenerateResult, generate_data
from taxolab.taxonomy.model import Leaf
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import chunks_of, config_for, scripted

ray = pytest.importorskip("ray", reason="the Ray executor needs the optional ray extra")
from taxolab.sdg.ray_executor import RayExecutor  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        yield
    finally:
        ray.shutdown()


def rows_by_file(result: GenerateResult) -> dict[str, list[Any]]:
    """Every generated and training file of a run, as parsed rows (run-specific names normalised)."""
    out: dict[str, list[Any]] = {}
    for path in sorted(result.output_dir.rglob("*.jsonl")):
        relative = str(path.relative_to(result.output_dir)).replace(result.output_dir.name, "RUN")
        if relative.startswith("checkpoints"):
            continue
        out[relative] = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def run(leaves: list[Leaf], tmp: Path, urls: list[str], executor: Any, name: str) -> GenerateResult:
    config = config_for(urls[0], tmp / name, endpoint_urls=urls)
    return generate_data(
        config,
        leaves=leaves,
        chunk_source=chunks_of,
        executor=executor,
        show_progress=False,
        output_dir=tmp / name / "run",
    )


def test_ray_gives_the_same_rows_as_local(leaves: list[Leaf], tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted) as teacher:
        local = run(leaves, tmp_path, [teacher.url], LocalExecutor(), "local")
        distributed = run(leaves, tmp_path, [teacher.url], RayExecutor(workers=2), "ray")
    local_rows, ray_rows = rows_by_file(local), rows_by_file(distributed)
    assert sum(len(rows) for rows in local_rows.values()) > 0
    assert ray_rows == local_rows


def test_a_killed_worker_loses_no_finished_row(leaves: list[Leaf], tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted) as teacher:
        reference = rows_by_file(run(leaves, tmp_path, [teacher.url], LocalExecutor(), "reference"))
    checkpoints = tmp_path / "ray" / "run" / "checkpoints"
    finished_before_kill: dict[Path, bytes] = {}

    def kill_one_worker_after_first_batches() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = sorted(checkpoints.rglob("batch-*.json")) if checkpoints.exists() else []
            if len(done) >= 2:
                finished_before_kill.update({path: path.read_bytes() for path in done})
                workers = [
                    p for p in psutil.process_iter(["cmdline"]) if "_BatchWorker" in " ".join(p.info["cmdline"] or [])
                ]
                assert workers, "no Ray worker process found"
                workers[0].kill()
                return
            time.sleep(0.02)

    with FakeOpenAIServer(scripted, latency=0.05) as slow_teacher:
        killer = threading.Thread(target=kill_one_worker_after_first_batches)
        killer.start()
        result = run(leaves, tmp_path, [slow_teacher.url], RayExecutor(workers=2), "ray")
        killer.join()
    assert finished_before_kill, "the run ended before a worker could be killed"
    for path, content in finished_before_kill.items():
        assert path.read_bytes() == content, f"finished batch {path.name} was lost or redone differently"
    assert rows_by_file(result) == reference


def test_fleet_with_one_endpoint_that_stops_answering_completes(leaves: list[Leaf], tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted) as teacher:
        reference = rows_by_file(run(leaves, tmp_path, [teacher.url], LocalExecutor(), "reference"))
    with FakeOpenAIServer(scripted, latency=0.02) as healthy, FakeOpenAIServer(scripted, latency=0.02) as dying:

        def stop_after_some_requests() -> None:
            while len(dying.requests) < 3:
                time.sleep(0.005)
            dying.stop()

        stopper = threading.Thread(target=stop_after_some_requests)
        stopper.start()
        result = run(leaves, tmp_path, [dying.url, healthy.url], RayExecutor(workers=2), "fleet")
        stopper.join()
    assert dying.stopped and len(healthy.requests) > 0
    assert rows_by_file(result) == reference
