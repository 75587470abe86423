"""Teacher utilisation: generated tokens/s during a real run vs the server's own maximum, same run.

Starts llama-server with the packaged default model, runs `generate_data`
(simple pipelines: one knowledge leaf with a few chunks, one freeform and one
grounded skill) and measures the teacher's generated tokens/s over the
generation phase. Then the peer: exactly the requests the run sent (each with a
nonce after the prefix it shares with earlier requests, so the server's prompt
cache helps the peer as much as it helped the run but no more), replayed
straight at the server with every slot kept busy (no pipeline stages, no
dependencies between requests) -- the most this server can generate for this
workload. The ratio is the utilisation (target >= 0.9). It also prints the
slot occupancy of the run (share of slot-time with a request in flight), which
does not depend on how loaded the machine is.

    .venv/bin/python bench/bench_teacher_utilisation.py [--parallel 4] [--max-tokens 48] [--scale 2]

Run it on an otherwise idle machine (``uptime``): other load changes both sides.
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

import taxolab.sdg.executor as executor_module
from sdg.conftest import make_leaf
from taxolab.config import load_config
from taxolab.llm.client import Completion, OpenAIClient
from taxolab.llm.server import start_server
from taxolab.models.default import default_gguf_path
from taxolab.sdg.generate import generate_data
from taxolab.sdg.teacher import TeacherPool
from taxolab.taxonomy.model import LeafKind

RECORDED: list[tuple[list[dict[str, Any]], int, dict[str, Any]]] = []
CHUNKS = [
    "The black-capped chickadee is a small, nonmigratory North American songbird of deciduous and mixed forests.",
    "Chickadees cache seeds and insects in autumn and remember thousands of hiding places through the winter.",
    "On cold nights a chickadee lowers its body temperature by up to ten degrees to save energy.",
    "The chick-a-dee call carries information: more dee notes warn of a more dangerous predator nearby.",
]


SPANS: list[tuple[float, float]] = []
FLATTENED: list[str] = []


class RecordingPool(TeacherPool):
    """The normal pool, remembering each request (for the replay) and when it held a slot (for occupancy)."""

    async def send(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        RECORDED.append((messages, n, kwargs))
        start = time.perf_counter()
        try:
            return await super().send(messages, n=n, **kwargs)
        finally:
            SPANS.append((start, time.perf_counter()))


def occupancy(slots: int) -> float:
    """Share of the run's slot-time during which a request was in flight (1.0 = never a free slot)."""
    busy = sum(end - start for start, end in SPANS)
    return busy / (slots * (max(end for _, end in SPANS) - min(start for start, _ in SPANS)))


def fresh(messages: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """The same request with a nonce right after the prefix it shares with an earlier request.

    The server may reuse the prompt prefix shared by requests (as it did during
    the run), but never the whole prompt the run already processed (its prompt
    cache would make the peer look faster than any real workload).
    """
    text = "\x00".join(str(m["content"]) for m in messages)
    shared = max((_common_prefix(text, earlier) for earlier in FLATTENED[:index]), default=0)
    cut = min(shared, len(text) - 1)
    marked = f"{text[:cut]}[{index}] {text[cut:]}".split("\x00")
    return [{**message, "content": content} for message, content in zip(messages, marked, strict=True)]


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


async def replay(url: str, model: str, parallel: int) -> tuple[int, float]:
    FLATTENED.extend("\x00".join(str(m["content"]) for m in messages) for messages, _, _ in RECORDED)
    async with OpenAIClient(url, model, max_concurrency=parallel) as client:
        start = time.perf_counter()
        done = await asyncio.gather(*(client.chat(fresh(m, i), n=n, **kw) for i, (m, n, kw) in enumerate(RECORDED)))
        seconds = time.perf_counter() - start
    return sum(c.completion_tokens for completions in done for c in completions), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=4, help="server slots (= the run's concurrency)")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--scale", type=int, default=2, help="--sdg-scale-factor")
    args = parser.parse_args()
    executor_module.TeacherPool = RecordingPool  # type: ignore[misc]
    with (
        tempfile.TemporaryDirectory() as folder,
        start_server(default_gguf_path(), ctx_size=4096, parallel=args.parallel) as server,
    ):
        tmp = Path(folder)
        leaves = [make_leaf(tmp, kind, kind.value) for kind in LeafKind]
        settings = {
            "endpoint_urls": [server.url],
            "pipeline": "simple",
            "sdg_scale_factor": args.scale,
            "max_num_tokens": args.max_tokens,
            "batch_size": 1,
            "concurrency": args.parallel,
        }
        config = load_config(None, {"generate": settings, "paths": {"datasets": str(tmp / "datasets")}})
        result = generate_data(config, leaves=leaves, chunk_source=lambda _leaf: CHUNKS, show_progress=False)
        run_tokens = sum(result.manifest["teacher_tokens"].values())
        run_seconds = result.manifest["timings"]["generation_seconds"]
        peer_tokens, peer_seconds = asyncio.run(replay(server.url, server.model, args.parallel))
    run_rate, peer_rate = run_tokens / run_seconds, peer_tokens / peer_seconds
    print(f"requests: {len(RECORDED)}  server slots: {args.parallel}  max tokens/request: {args.max_tokens}")
    print(f"run  (generate_data, simple pipelines): {run_tokens} tokens in {run_seconds:.1f} s = {run_rate:.1f} tok/s")
    print(
        f"peer (same requests, all slots busy):   {peer_tokens} tokens in {peer_seconds:.1f} s = {peer_rate:.1f} tok/s"
    )
    print(f"utilisation run/peer: {run_rate / peer_rate:.2f} (target >= 0.9)")
    print(
        f"slot occupancy during the run: {occupancy(args.parallel):.2f} (share of slot-time with a request in flight)"
    )
    for leaf, counts in result.manifest["counts"]["leaves"].items():
        print(f"  {leaf}: {counts['seeds']} seeds -> {counts['rows']} rows, dropped {counts['dropped']}")


if __name__ == "__main__":
    main()
