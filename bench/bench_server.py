"""Generation throughput of local servers for the packaged default model, by concurrency.

Data generation keeps a teacher busy with many requests at once, so what
matters is total generated tokens/s at concurrency 1, 2, 4 and 8. Each backend
is measured in the same run on the same machine, and the table prints ratios:
against concurrency 1 of the same backend, and llama-server against
llama-cpp-python at the same concurrency. ``llama-cpp-spin`` is llama-server
with its OpenMP workers spinning without bound (``OMP_WAIT_POLICY=ACTIVE``);
taxolab's own servers spin for a bounded time and then sleep, see
``bench/bench_server_wait.py``.

    .venv/bin/python bench/bench_server.py [--max-tokens 96] [--rounds 2] [--backends llama-cpp,llama-cpp-python]

The machine's load matters: run it on an otherwise idle machine (``uptime``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import time

from taxolab.llm.client import OpenAIClient
from taxolab.llm.server import ServerHandle, start_server
from taxolab.models.default import default_gguf_path

CONCURRENCY = (1, 2, 4, 8)
PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how photosynthesis works to a child.",
    "List ten uses for a paperclip, with one sentence each.",
    "Describe the water cycle in detail.",
    "Write a poem about autumn in a small town.",
    "Give step by step instructions to bake bread.",
    "Summarise the history of the printing press.",
    "Explain what a neural network is and how it learns.",
]


async def _worker(client: OpenAIClient, worker: int, rounds: int, max_tokens: int) -> int:
    tokens = 0
    for step in range(rounds):
        prompt = PROMPTS[(worker + step) % len(PROMPTS)]
        # ignore_eos makes every answer exactly max_tokens long, so runs are comparable.
        [answer] = await client.chat(
            [{"role": "user", "content": prompt}],
            max_tokens=max_tokens,
            temperature=0.7,
            seed=worker * 100 + step,
            ignore_eos=True,
        )
        tokens += answer.completion_tokens
    return tokens


async def _measure(server: ServerHandle, concurrency: int, rounds: int, max_tokens: int) -> float:
    async with OpenAIClient(server.url, server.model, max_concurrency=concurrency, timeout=600) as client:
        await _worker(client, 0, 1, 8)  # warm-up: load pages, fill caches
        start = time.perf_counter()
        counts = await asyncio.gather(*(_worker(client, w, rounds, max_tokens) for w in range(concurrency)))
        return sum(counts) / (time.perf_counter() - start)


def bench_backend(label: str, rounds: int, max_tokens: int, threads: int | None) -> dict[int, float]:
    """``label`` is a backend name, or ``llama-cpp-spin``: llama-server with OpenMP workers spinning."""
    backend = "llama-cpp" if label == "llama-cpp-spin" else label
    if label == "llama-cpp-spin":
        os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
    results: dict[int, float] = {}
    try:
        results = _bench_server(backend, label, rounds, max_tokens, threads)
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)
    return results


def _bench_server(backend: str, label: str, rounds: int, max_tokens: int, threads: int | None) -> dict[int, float]:
    results: dict[int, float] = {}
    with start_server(
        default_gguf_path(), backend=backend, parallel=max(CONCURRENCY), ctx_size=1024, threads=threads
    ) as server:
        for concurrency in CONCURRENCY:
            results[concurrency] = asyncio.run(_measure(server, concurrency, rounds, max_tokens))
            print(f"  {label:17s} concurrency {concurrency}: {results[concurrency]:7.1f} tok/s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=96, help="Tokens generated per request.")
    parser.add_argument("--rounds", type=int, default=2, help="Requests each concurrent worker sends.")
    parser.add_argument("--threads", type=int, default=None, help="Server CPU threads (default: all cores).")
    parser.add_argument(
        "--backends",
        default="llama-cpp,llama-cpp-python,llama-cpp-spin",
        help="Comma-separated; llama-cpp-spin is llama-server with OMP_WAIT_POLICY=ACTIVE (spinning workers).",
    )
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    if "llama-cpp-python" in backends and importlib.util.find_spec("llama_cpp") is None:
        print("llama-cpp-python is not installed: measuring llama-server only")
        backends.remove("llama-cpp-python")
    print(f"default model {default_gguf_path().name}, {args.max_tokens} tokens per request, {args.rounds} per worker")
    table = {backend: bench_backend(backend, args.rounds, args.max_tokens, args.threads) for backend in backends}
    print()
    header = f"{'backend':17s}" + "".join(f"{'c=' + str(c):>16s}" for c in CONCURRENCY)
    print(header + "   (tok/s, x vs c=1)")
    for backend, row in table.items():
        cells = "".join(f"{row[c]:8.1f} ({row[c] / row[1]:4.2f}x)" for c in CONCURRENCY)
        print(f"{backend:17s}{cells}")
    if "llama-cpp" in table:
        for peer in (label for label in table if label != "llama-cpp"):
            ratios = "".join(f"{table['llama-cpp'][c] / table[peer][c]:15.2f}x" for c in CONCURRENCY)
            print(f"{'llama-cpp / ' + peer:17s}{ratios}")


if __name__ == "__main__":
    main()
