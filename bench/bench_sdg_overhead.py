"""Engine overhead: rows/s through the `full` knowledge pipeline against an instant fake teacher.

The fake teacher answers at once, so the run measures taxolab's own cost per
row (prompt rendering, parsing, filtering, checkpoints, output files, the
HTTP client) plus the fake server's. The peer, measured in the same run, sends
exactly the same requests straight through the OpenAI client at the same
concurrency with no engine around them: the ratio says how much of the
fake server's request rate the engine keeps (1.0 = no overhead).

    .venv/bin/python bench/bench_sdg_overhead.py [--chunks 40] [--concurrency 8] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sdg.conftest import make_leaf, scripted
from taxolab.config import load_config
from taxolab.llm.client import OpenAIClient
from taxolab.sdg.generate import generate_data
from taxolab.taxonomy.model import LeafKind
from taxolab.testing.fake_openai import FakeOpenAIServer


def engine_run(server: FakeOpenAIServer, chunks: list[str], args: argparse.Namespace, tmp: Path) -> tuple[float, int]:
    leaf = make_leaf(tmp, LeafKind.KNOWLEDGE, "bench")
    settings = {
        "endpoint_urls": [server.url],
        "pipeline": "full",
        "sdg_scale_factor": 1,
        "concurrency": args.concurrency,
        "batch_size": args.batch_size,
    }
    config = load_config(None, {"generate": settings, "paths": {"datasets": str(tmp / "datasets")}})
    start = time.perf_counter()
    result = generate_data(config, leaves=[leaf], chunk_source=lambda _leaf: chunks, show_progress=False)
    seconds = time.perf_counter() - start
    return seconds, int(result.manifest["counts"]["leaves"][leaf.name]["rows"])


async def raw_replay(url: str, requests: list[dict[str, Any]], concurrency: int) -> float:
    async with OpenAIClient(url, "fake-teacher", max_concurrency=concurrency) as client:
        start = time.perf_counter()
        await asyncio.gather(
            *(client.chat(r["messages"], n=r.get("n", 1), max_tokens=r.get("max_tokens")) for r in requests)
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    chunks = [
        f"Paragraph {i}: chickadees cache seeds and lower their body temperature at night." for i in range(args.chunks)
    ]
    with tempfile.TemporaryDirectory() as folder, FakeOpenAIServer(scripted) as server:
        engine_seconds, rows = engine_run(server, chunks, args, Path(folder))
        requests = [r for r in server.requests if "messages" in r]
        raw_seconds = asyncio.run(raw_replay(server.url, requests, args.concurrency))
    print(f"teacher requests: {len(requests)}  rows generated: {rows}")
    print(
        f"engine (generate_data, full knowledge + mcq): {engine_seconds:.2f} s  {rows / engine_seconds:.1f} rows/s  "
        f"{len(requests) / engine_seconds:.1f} req/s"
    )
    print(f"peer (same requests, bare client):            {raw_seconds:.2f} s  {len(requests) / raw_seconds:.1f} req/s")
    print(f"ratio engine/peer request rate: {raw_seconds / engine_seconds:.2f}")


if __name__ == "__main__":
    main()
