"""Ray executor vs local executor: rows/s on the same jobs against a fake teacher of fixed latency.

The teacher is the scripted fake OpenAI-compatible server with a fixed delay
per request (standing in for a real teacher at a fixed speed), so the
comparison isolates what each executor costs and how well it keeps the
teacher's slots full. Every run generates the same rows (checked), at the
same global concurrency; Ray runs on a local instance at 1 and 2 workers.

    .venv/bin/python bench/bench_ray_executor.py [--leaves 4] [--latency 0.05] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sdg.conftest import CHUNKS, make_leaf, scripted
from taxolab.config import load_config
from taxolab.sdg.executor import Executor, LocalExecutor
from taxolab.sdg.generate import generate_data
from taxolab.sdg.ray_executor import RayExecutor, import_ray
from taxolab.taxonomy.model import LeafKind
from taxolab.testing.fake_openai import FakeOpenAIServer


def timed_run(executor: Executor, url: str, args: argparse.Namespace, tmp: Path) -> tuple[float, int, str]:
    kinds = [LeafKind.KNOWLEDGE, LeafKind.FREEFORM_SKILL, LeafKind.GROUNDED_SKILL]
    leaves = [make_leaf(tmp, kinds[i % 3], f"leaf{i}") for i in range(args.leaves)]
    settings: dict[str, Any] = {
        "endpoint_urls": [url],
        "sdg_scale_factor": args.scale,
        "batch_size": 2,
        "concurrency": args.concurrency,
    }
    config = load_config(None, {"generate": settings, "paths": {"datasets": str(tmp / "datasets")}})
    start = time.perf_counter()
    result = generate_data(
        config, leaves=leaves, chunk_source=lambda _leaf: list(CHUNKS), executor=executor, show_progress=False
    )
    seconds = time.perf_counter() - start
    rows = sum(int(leaf["rows"]) for leaf in result.manifest["counts"]["leaves"].values())
    digest = json.dumps(
        sorted(p.read_text() for p in (result.output_dir / "generated").glob("*.jsonl")), sort_keys=True
    )
    return seconds, rows, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=6)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per teacher request")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    ray = import_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    contenders: list[tuple[str, Executor]] = [
        ("local", LocalExecutor()),
        ("ray, 1 worker", RayExecutor(workers=1)),
        ("ray, 2 workers", RayExecutor(workers=2)),
    ]
    results: dict[str, tuple[float, int, str]] = {}
    with FakeOpenAIServer(scripted, latency=args.latency) as teacher:
        # Warm-up: Ray starts worker processes lazily; the first actor start is not executor cost.
        with tempfile.TemporaryDirectory() as tmp:
            timed_run(RayExecutor(workers=2), teacher.url, argparse.Namespace(**{**vars(args), "leaves": 1}), Path(tmp))
        for name, executor in contenders:
            with tempfile.TemporaryDirectory() as tmp:
                results[name] = timed_run(executor, teacher.url, args, Path(tmp))
        requests = len(teacher.requests)
    ray.shutdown()
    local_seconds, local_rows, local_digest = results["local"]
    print(
        f"fake teacher: {args.latency * 1000:.0f} ms per request, concurrency {args.concurrency}, {args.leaves} leaves"
    )
    print(f"{'executor':<16}{'rows':>6}{'seconds':>9}{'rows/s':>9}{'vs local':>10}  same rows")
    for name, (seconds, rows, digest) in results.items():
        ratio = (rows / seconds) / (local_rows / local_seconds)
        print(f"{name:<16}{rows:>6}{seconds:>9.2f}{rows / seconds:>9.1f}{ratio:>9.2f}x  {digest == local_digest}")
    print(f"(teacher answered {requests} requests in all, warm-up included)")


if __name__ == "__main__":
    main()
