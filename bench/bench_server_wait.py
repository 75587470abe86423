"""How llama-server's OpenMP workers wait: decode speed against CPU burnt while idle, per wait setting.

ggml (built with GNU OpenMP here) ends every operation of a graph with an
OpenMP barrier, so how waiting workers wait decides both decode speed and
what an idle server costs. For each setting, a server for the packaged
default model is started the way taxolab starts one (same command line), and
the bench prints generated tokens/s at 1 and 4 concurrent requests (ratio
against spinning ``ACTIVE`` workers, measured in the same run), then the CPU
the server uses in the 0.2 s and the 2 s after its last request.

    python bench/bench_server_wait.py [--rounds 2] [--max-tokens 64] [--repeat 2] [--settings ACTIVE,taxolab,...]

``taxolab`` is what :func:`taxolab.llm.backends._cpu_env` sets. The machine's
load matters (``uptime``): spinning workers lose badly when other processes
want the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import psutil

from taxolab.llm.backends import ServerArgs, _cpu_env, launch_spec
from taxolab.llm.client import OpenAIClient
from taxolab.llm.process import free_port, spawn
from taxolab.llm.server import ServerHandle, _wait_until_ready
from taxolab.models.default import default_gguf_path
from taxolab.openmp_wait import WAIT_SETTINGS

SETTINGS: dict[str, dict[str, str]] = {
    "ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},  # spin forever (30 billion loops)
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},  # sleep at once
    "unset": {},  # GNU OpenMP's own default: 300k loops, then sleep
    "spin30k": {"GOMP_SPINCOUNT": "30000"},
    "spin3M": {"GOMP_SPINCOUNT": "3000000"},
}
PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]


async def decode_rate(url: str, model: str, concurrency: int, rounds: int, max_tokens: int) -> float:
    async with OpenAIClient(url, model, max_concurrency=concurrency, timeout=600) as client:
        await client.chat(PROMPT, max_tokens=4)

        async def worker(index: int) -> int:
            made = 0
            for step in range(rounds):
                [answer] = await client.chat(
                    PROMPT, max_tokens=max_tokens, temperature=0.7, seed=index * 10 + step, ignore_eos=True
                )
                made += answer.completion_tokens
            return made

        started = time.perf_counter()
        made = sum(await asyncio.gather(*(worker(i) for i in range(concurrency))))
        return made / (time.perf_counter() - started)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(name: str, env_extra: dict[str, str], rounds: int, max_tokens: int) -> tuple[float, float, float, float]:
    """(tok/s at 1 request, at 4, cores used in the 0.2 s after the last request, in the 2 s after that)."""
    env = {k: v for k, v in os.environ.items() if k not in WAIT_SETTINGS}
    env.update(env_extra)
    port = free_port()
    spec = launch_spec("llama-cpp", ServerArgs(default_gguf_path(), "gguf", "m", "127.0.0.1", port, 1024, 4))
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-server-wait-{name}.log"
    handle = ServerHandle(spec, spawn(spec.argv, log_path=log, env=env), "127.0.0.1", port, None)
    try:
        _wait_until_ready(handle, "/health", 180)
        one = asyncio.run(decode_rate(handle.url, "m", 1, rounds, max_tokens))
        four = asyncio.run(decode_rate(handle.url, "m", 4, rounds, max_tokens))
        process = psutil.Process(handle.pid)
        start = cpu_seconds(process)
        time.sleep(0.2)
        after_short = cpu_seconds(process)
        time.sleep(2.0)
        after_long = cpu_seconds(process)
        return one, four, (after_short - start) / 0.2, (after_long - after_short) / 2.0
    finally:
        handle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="Requests each concurrent worker sends.")
    parser.add_argument("--max-tokens", type=int, default=64, help="Tokens generated per request.")
    parser.add_argument("--repeat", type=int, default=1, help="Measure every setting this many times, interleaved.")
    parser.add_argument("--settings", default="ACTIVE,PASSIVE,unset,spin30k,taxolab,spin3M")
    args = parser.parse_args()
    table = {**SETTINGS, "taxolab": {k: v for k, v in _cpu_env().items() if k in WAIT_SETTINGS}}
    names = [n for n in args.settings.split(",") if n]
    rows: dict[str, list[tuple[float, float, float, float]]] = {n: [] for n in names}
    for _ in range(args.repeat):
        for name in names:
            rows[name].append(measure(name, table[name], args.rounds, args.max_tokens))
            one, four, short, long = rows[name][-1]
            print(
                f"  {name:8s} {one:6.1f} {four:6.1f} tok/s  idle {short:4.0%} {long:5.1%}  load {os.getloadavg()[0]:.1f}"
            )
    print(
        f"\n{'setting':8s} {'c=1 tok/s':>10s} {'c=4 tok/s':>10s} {'vs ACTIVE':>10s} {'0.2 s after':>12s} {'2 s after':>10s}"
    )
    best = {n: tuple(max(r[i] for r in rows[n]) for i in (0, 1)) for n in names}
    for name in names:
        one, four = best[name]
        ratio = f"{one / best['ACTIVE'][0]:.2f}/{four / best['ACTIVE'][1]:.2f}" if "ACTIVE" in best else "-"
        short = max(r[2] for r in rows[name])
        long = max(r[3] for r in rows[name])
        print(f"{name:8s} {one:10.1f} {four:10.1f} {ratio:>10s} {short:12.0%} {long:10.1%}")
    print("(best of the repeats for speed, worst for idle CPU; 'taxolab' =", table["taxolab"] or "nothing set", ")")


if __name__ == "__main__":
    main()
