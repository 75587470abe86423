"""Training on a busy CPU: trainer tokens/s idle and beside a CPU-bound competitor, three thread policies.

The trainer fine-tunes the packaged default model (full, ``train.precision: auto``) on the same small
mix in every trial; each trial is a fresh process, because the OpenMP wait
policy only takes effect before torch loads. Trials:

* ``old``: the behaviour before: one thread per core, OpenMP's default wait policy (spin);
* ``passive``: ``train.threads: auto``, torch's OpenMP threads sleeping at once (``OMP_WAIT_POLICY=PASSIVE``,
  taxolab's policy until 2026-12-05);
* ``new``: ``train.threads: auto``, torch's OpenMP threads spinning a bounded time (what ``taxolab`` sets up);

each on the idle machine and beside a competitor: a process running a torch
matmul loop on ``--competitor-threads`` threads (1 = one of two cores taken; the
issue's competitor was a 2-thread torch inference). Printed: tokens/s of every
trial, the thread counts the trainer used, and the ratio busy / idle of each policy
(goal: new >= 0.4 with one of two cores taken).

    .venv/bin/python bench/bench_train_load.py [--quick] [--competitor-threads 1|2] [--cores 0,1]

A trial stops ``--trial-seconds`` after its first step (a collapsed trainer
would take many minutes) and is scored on the steps it finished, the first
(warm-up) step left out. ``--cores 0,1`` pins everything to those cores, to measure a 2-core laptop
on a larger machine. ``--quick`` takes about 4 minutes. The rate is the mean of
the steps' own tokens/s, so loading the model and saving checkpoints do not count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

COMPETITOR = """
import os, torch
torch.set_num_threads({threads})
a = torch.randn(1024, 1024)
parent = os.getppid()
while os.getppid() == parent:  # ends with the benchmark, even if that was killed
    a @ a
"""
POLICIES = {
    "old": {"threads": "cores", "taxolab_wait": False, "env": {}},
    "passive": {"threads": "auto", "taxolab_wait": False, "env": {"OMP_WAIT_POLICY": "PASSIVE"}},
    "new": {"threads": "auto", "taxolab_wait": True, "env": {}},
}


def run_child(spec: dict[str, Any]) -> None:
    """One trial inside its own process, as ``taxolab model train`` runs it for the policy."""
    from taxolab.training.threads import bounded_wait_for_torch

    if spec["taxolab_wait"]:
        bounded_wait_for_torch()  # what the CLI entry point does, before torch loads
    from taxolab.training.api import train
    from taxolab.training.settings import TrainSettings
    from taxolab.training.threads import cores_per_process

    threads = cores_per_process() if spec["threads"] == "cores" else spec["threads"]
    settings = TrainSettings(
        effective_batch_size=spec["batch"], max_batch_len=512, validation_split=0.0, learning_rate=2e-5,
        warmup_ratio=0.0, threads=threads,
    )  # fmt: skip
    train(Path(spec["data"]), model_path=Path(spec["model"]), output_dir=Path(spec["out"]), settings=settings,
          show_progress=False)  # fmt: skip


def step_rows(out: Path) -> list[dict[str, Any]]:
    """The steps a (possibly killed) trial logged; a half-written last line is skipped."""
    rows = []
    for metrics in out.glob("*/metrics.jsonl"):
        for line in metrics.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return sorted(rows, key=lambda r: r["step"])


def trial(name: str, policy: str, spec: dict[str, Any], competitor_threads: int, limit: float) -> dict[str, Any]:
    from taxolab.openmp_wait import WAIT_SETTINGS

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", *WAIT_SETTINGS)}
    competitor = None
    if competitor_threads:
        code = COMPETITOR.format(threads=competitor_threads)
        competitor = subprocess.Popen([sys.executable, "-c", code], env=env)
        time.sleep(2)  # let it start spinning
    spec = {**spec, **POLICIES[policy]}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(spec)], env={**env, **spec["env"]})
    first_step = None
    try:
        while child.poll() is None:  # the cap counts from the first logged step: loading is not timed
            time.sleep(1)
            if first_step is None and step_rows(Path(spec["out"])):
                first_step = time.perf_counter()
            if first_step is not None and time.perf_counter() - first_step > limit:
                break
    finally:
        for process in (child, competitor):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    rows = step_rows(Path(spec["out"]))[1:]  # the first step is warm-up for every trial
    seconds = sum(r["tokens"] / r["tokens_per_s"] for r in rows)
    rate = sum(r["tokens"] for r in rows) / seconds if seconds else 0.0
    threads = [r.get("threads") for r in rows]
    print(f"  {name:12s} {policy}: {rate:7.1f} tokens/s over {len(rows)} steps, threads per step {threads}"
          f" ({time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    return {"tokens_per_s": rate, "steps": len(rows), "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small data and short trials (~4 minutes)")
    parser.add_argument("--competitor-threads", type=int, choices=(1, 2), default=1)
    parser.add_argument("--cores", help="pin the trainer and competitor to these cores, e.g. 0,1")
    parser.add_argument("--samples", type=int, help="training samples (default 24 quick, 64 full)")
    parser.add_argument("--batch", type=int, help="samples per optimizer step (default 2 quick, 4 full)")
    parser.add_argument("--trial-seconds", type=float, help="cap per trial (default 75 quick, 300 full)")
    parser.add_argument("--model", type=Path, help="HF model folder (default: the packaged default model)")
    args = parser.parse_args()
    if args.child:
        run_child(json.loads(args.child))
        return

    from bench_train import make_data
    from taxolab.models.default import default_hf_dir

    samples = args.samples or (24 if args.quick else 64)
    batch = args.batch or (2 if args.quick else 4)
    limit = args.trial_seconds or (75.0 if args.quick else 300.0)
    if args.cores:
        os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})  # children inherit it
    model = args.model or default_hf_dir(prepare=True)
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    results: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-train-load-") as tmp:
        work = Path(tmp)
        data = make_data(work / "mix.jsonl", samples, seed=0)
        for condition, competitor in (("idle", 0), ("busy", args.competitor_threads)):
            for policy in POLICIES:
                spec = {
                    "data": str(data),
                    "model": str(model),
                    "batch": batch,
                    "out": str(work / f"{condition}-{policy}"),
                }
                results[(condition, policy)] = trial(condition, policy, spec, competitor, limit)

    print(f"\n{samples} samples, batch {batch}, {cores} cores, competitor: {args.competitor_threads}-thread torch matmul"
          f" loop, trials capped at {limit:.0f} s; load average before: {load:.2f}")  # fmt: skip
    for policy in POLICIES:
        idle, busy = results[("idle", policy)]["tokens_per_s"], results[("busy", policy)]["tokens_per_s"]
        ratio = busy / idle if idle else float("nan")
        print(f"{policy}: idle {idle:6.1f} tokens/s, busy {busy:6.1f} tokens/s, busy/idle ratio {ratio:.2f}"
              + ("  (goal >= 0.4)" if policy == "new" else ""))  # fmt: skip
    old_busy, new_busy = results[("busy", "old")]["tokens_per_s"], results[("busy", "new")]["tokens_per_s"]
    old_idle, new_idle = results[("idle", "old")]["tokens_per_s"], results[("idle", "new")]["tokens_per_s"]
    if old_busy and old_idle:
        print(f"new / old: busy {new_busy / old_busy:.2f}x, idle {new_idle / old_idle:.2f}x")
    for (condition, policy), result in results.items():
        if not result["steps"]:
            print(f"{condition} {policy}: no step after the warm-up finished within {limit:.0f} s (rate shown as 0)")


if __name__ == "__main__":
    main()
