"""No stage pays for another: each stage of ``taxolab run`` against the same work done alone, in one session.

What it runs: ``taxolab run --profile cpu-small`` once on a taxonomy holding
only the chickadee knowledge leaf (see ``bench_knowledge_recall.py``), while
a sampler records the CPU time of every process the run started, twice a
second. Then, in the same session and one at a time, the same work alone:

- generation: a bare ``llama-server`` (llama.cpp's own defaults, started
  without taxolab) serves requests of the same sizes as the run's teacher
  served, at the same concurrency. The sizes (prompt and generated tokens of
  each request, in order) come from the teacher server's own log. Peer rate:
  generated tokens / wall time of the replay. Run rate: the stage's
  ``throughput`` in ``run.json`` (teacher completion tokens / stage wall time).
- training: the trainer alone on the run's mix (the train stage's own
  function, same config, a fresh output folder). Both rates: trained tokens /
  wall time. The default student's one-time conversion to an HF folder is
  done before the run, so neither side pays it.
- evaluation: the evaluate stage's own function alone (same config, a copy
  of the run's trained model, so it is converted to GGUF again as in the
  run). Both rates: questions scored / wall time.

It prints, per stage, the run's rate, the rate alone and their ratio (goal:
>= 0.9), and the CPU used by processes the run started that are not doing
the stage's work: during every stage but generation and evaluation, all model
servers (goal: <= 5% of one core together). During evaluation the judge or
base model's server may wait for the other; its CPU is shown, not judged.

    python bench/bench_run_stages.py            # cpu-small as shipped: 30+ min on 2 idle cores
    python bench/bench_run_stages.py --quick    # tiny settings (one chunk, one epoch, short answers)
    python bench/bench_run_stages.py --from-run DIR   # only the CPU table of a finished bench work dir

Run it on an otherwise idle machine (``uptime``): a ratio is only meaningful
when the run and its peers shared the machine with the same neighbours; the
``outside`` column shows the CPU of every process the run did not start.

``--quick`` on the 2-core project machine, 2026-12-04, with other engineers
using 0.6-1.0 core throughout (``outside``), so the ratios are not clean:
generation 9.4 vs 9.7 tokens/s alone (0.97), training 29.7 vs 52.9 (0.56; a
77 s stage whose trainer got 1.2 cores), evaluation 0.8 vs 1.0 questions/s
(0.83); the teacher server kept through training used 0.0% of a core (with
``OMP_WAIT_POLICY=ACTIVE`` it burnt a whole core). The full cpu-small run was
not measured here.

``--quick`` again on the idle machine (load 0.7 at start, ``outside`` 0% in every
stage but evaluation's 20%): generation 66.3 vs 50.7 tokens/s bare (1.31: the
bare replay sends the recorded requests without the prompt-cache layout),
training 66.4 vs 67.8 (0.98), evaluation 2.8 vs 8.3 questions/s (0.33: not
explained yet; the alone side reuses the answer cache the run filled, which
may be most of it); idle servers at worst 0.0% of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from bench_knowledge_recall import DOC_REPO, LEAVES, SHARED, TAXOLAB, make_taxonomy

QUICK = {
    "generate.max_num_tokens": 48,
    "generate.chunk_word_count": 150,
    "generate.chunk_overlap": 10,
    "train.effective_batch_size": 4,
    "train.knowledge_epochs": 1,
    "train.skills_epochs": 1,
    "train.max_seq_len": 256,
    "train.max_batch_len": 512,
    "train.validation_split": 0.0,
    "evaluate.max_tokens": 24,
    "evaluate.judge_max_tokens": 48,
}
SERVER_MARKERS = ("llama-server", "llama_cpp", "vllm")
# llama-server's per-request timing lines (log verbosity INFO): prompt tokens, then generated tokens.
PROMPT_LINE = re.compile(r"prompt eval time =\s*[\d.]+ ms /\s*(\d+) tokens")
EVAL_LINE = re.compile(r"\|\s*eval time =\s*[\d.]+ ms /\s*(\d+) tokens")


# ---- CPU of the run's processes ---------------------------------------------------------------


@dataclass
class Sample:
    t: float
    cpu: dict[int, float]  # pid -> user+system seconds so far
    kind: dict[int, str]  # pid -> "server" | "run" | "other"
    machine: float = 0.0  # busy CPU seconds of the whole machine so far (every process, ours or not)


@dataclass
class Sampler:
    """Samples the CPU time of a process and all its descendants until stopped."""

    root: int
    run_json: Path
    logs: Path
    period: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    log_sizes: dict[str, int] = field(default_factory=dict)  # server log -> bytes when generation ended
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        try:
            root = psutil.Process(self.root)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            cpu, kind = {}, {}
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    cmd = " ".join(proc.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                cpu[proc.pid] = times.user + times.system
                kind[proc.pid] = (
                    "run" if proc.pid == self.root else "server" if any(m in cmd for m in SERVER_MARKERS) else "other"
                )
            whole = psutil.cpu_times()
            self.samples.append(Sample(time.time(), cpu, kind, whole.user + whole.nice + whole.system))
            if not self.log_sizes and _generation_done(self.run_json):
                self.log_sizes = {str(p): p.stat().st_size for p in self.logs.glob("*.log")}
            self._stop.wait(self.period)


def _generation_done(run_json: Path) -> bool:
    """Whether the run has recorded a finished generation stage (the teacher's log then holds only its requests)."""
    try:
        steps = json.loads(run_json.read_text())["steps"]
    except (OSError, ValueError, KeyError):
        return False
    return any(name.startswith("generate:") for name in steps)


def cpu_by_kind(samples: list[Sample], start: float, end: float) -> dict[str, float]:
    """Cores used on average between ``start`` and ``end`` (Unix seconds) by each kind of process."""
    inside = [s for s in samples if start <= s.t <= end]
    if len(inside) < 2:
        return {}
    first, last = inside[0], inside[-1]
    span = last.t - first.t
    used: dict[str, float] = {}
    for pid, seconds in last.cpu.items():
        # A process started inside the window counts from zero.
        before = first.cpu.get(pid, 0.0)
        used[last.kind[pid]] = used.get(last.kind[pid], 0.0) + (seconds - before) / span
    ours = sum(used.values())
    used["outside"] = max(0.0, (last.machine - first.machine) / span - ours)
    return used


# ---- the run -------------------------------------------------------------------------------------


def run_once(taxonomy: Path, out: Path, env: dict[str, str], settings: dict[str, Any], quick: bool) -> Sampler:
    command = [
        *TAXOLAB, "run", "--taxonomy-path", str(taxonomy), "--taxonomy-base", "empty", "--profile", "cpu-small",
        "--mirror", f"{DOC_REPO}={SHARED / 'summit_knowledge.bundle'}", "--output-dir", str(out), "--json",
    ]  # fmt: skip
    if quick:
        command += ["--max-chunks-per-leaf", "1"]
    command += [f"--set={key}={value}" for key, value in settings.items()]
    log = out.parent / "run-stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr)
        sampler = Sampler(process.pid, out / "run.json", Path(env["TAXOLAB_CACHE_DIR"]) / "logs" / "servers")
        sampler.start()
        stdout, _ = process.communicate()
        sampler.stop()
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-15:])
        raise SystemExit(f"taxolab run failed ({process.returncode}):\n{tail}")
    (out.parent / "run-result.json").write_text(stdout.decode())
    (out.parent / "cpu-samples.json").write_text(
        json.dumps(
            {
                "samples": [{"t": s.t, "cpu": s.cpu, "kind": s.kind, "machine": s.machine} for s in sampler.samples],
                "logs": sampler.log_sizes,
            }
        )
    )
    return sampler


def load_samples(path: Path) -> tuple[list[Sample], dict[str, int]]:
    data = json.loads(path.read_text())
    samples = [
        Sample(
            d["t"],
            {int(k): v for k, v in d["cpu"].items()},
            {int(k): v for k, v in d["kind"].items()},
            d.get("machine", 0.0),
        )
        for d in data["samples"]
    ]
    return samples, data["logs"]


# ---- the same work alone -------------------------------------------------------------------------


def teacher_requests(log_sizes: dict[str, int]) -> list[tuple[int, int]]:
    """(prompt tokens, generated tokens) of each request the teacher finished during generation, from its log.

    The teacher is the first server the run started; its log is read up to its
    size when generation ended (a kept teacher serves evaluation afterwards).
    """
    if not log_sizes:
        return []
    first = min(log_sizes, key=lambda p: Path(p).stat().st_ctime)
    with open(first, "rb") as handle:
        text = handle.read(log_sizes[first]).decode("utf-8", "replace")
    prompts = [int(n) for n in PROMPT_LINE.findall(text)]
    generated = [int(n) for n in EVAL_LINE.findall(text)]
    return list(zip(prompts, generated, strict=False))


def bare_server_rate(gguf: Path, requests: list[tuple[int, int]], parallel: int, ctx: int) -> float:
    """Generated tokens/s of a bare llama-server (no taxolab settings) replaying ``requests`` ``parallel`` at a time."""
    from taxolab.llm.backends import repack_safe
    from taxolab.llm.binaries import llama_server_binary
    from taxolab.llm.process import free_port

    binary = llama_server_binary()
    if binary is None:
        raise SystemExit("llama-server is not installed: run ./scripts/setup")
    port = free_port()
    argv = [str(binary), "--model", str(gguf), "--port", str(port), "--parallel", str(parallel),
            "--ctx-size", str(ctx * parallel), "--no-webui"]  # fmt: skip
    if not repack_safe():  # as taxolab starts it: this CPU's repacked weights crash llama-server on load
        argv.append("--no-repack")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "KMP_"))}
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(root + "/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the bare llama-server did not start")
            time.sleep(0.2)
        return asyncio.run(_replay(root, requests, parallel))
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _replay(root: str, requests: list[tuple[int, int]], parallel: int) -> float:
    async with httpx.AsyncClient(timeout=600, trust_env=False) as http:
        # Real text for the prompts: the public taxonomy's qna.yaml files, enough for the longest prompt.
        files = sorted((SHARED / "taxonomy").rglob("qna.yaml"))[:40]
        text = "\n".join(path.read_text(errors="replace") for path in files)
        tokens = (await http.post(root + "/tokenize", json={"content": text})).json()["tokens"]
        longest = max(prompt for prompt, _ in requests)
        tokens = tokens * (1 + longest // max(1, len(tokens)))
        gate = asyncio.Semaphore(parallel)

        async def one(index: int, prompt: int, generate: int) -> int:
            offset = (index * 97) % max(1, len(tokens) - prompt)
            body = {"prompt": tokens[offset : offset + prompt], "n_predict": generate, "ignore_eos": True}
            async with gate:
                response = await http.post(root + "/completion", json=body)
            if response.status_code != 200:
                raise SystemExit(f"the bare llama-server refused a request: {response.text[:300]}")
            return int(response.json()["tokens_predicted"])

        started = time.perf_counter()
        made = await asyncio.gather(*(one(i, p, g) for i, (p, g) in enumerate(requests)))
        return sum(made) / (time.perf_counter() - started)


def warm_up(env: dict[str, str]) -> None:
    """Convert the default student to an HF folder once, before the run: a one-time cost no stage should show."""
    code = (
        "from taxolab.config import load_config\n"
        "from taxolab.training.api import resolve_student\n"
        "config = load_config(None)\n"
        "resolve_student(config.models.student, config.paths.resolved('models'))\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def stage_alone(which: str, run_dir: Path, work: Path, env: dict[str, str]) -> float:
    """Work units/s of the ``train`` or ``evaluate`` stage's own function run alone in a fresh process."""
    code = f"""
import json, sys, time
from pathlib import Path
from taxolab.config import Config
from taxolab.workflow import model_steps, throughput
run = json.loads(Path({str(run_dir / "run.json")!r}).read_text())
config = Config.model_validate(run["info"]["config"])
steps, options = run["steps"], run["info"]["options"]
mix = Path(steps["mix"]["outputs"]["folder"])
out = Path({str(work)!r})
started = time.time()
if {which!r} == "train":
    outputs = model_steps.train_model(config, mix, out, show_progress=False)
    done = throughput.trained_tokens(outputs)
else:
    # A copy of the trained checkpoint, so evaluation alone converts it to GGUF again as the run's stage did.
    import shutil
    trained = out.parent / "model" / Path(steps["train"]["outputs"]["final_dir"]).name
    shutil.copytree(steps["train"]["outputs"]["final_dir"], trained, dirs_exist_ok=True)
    outputs = model_steps.evaluate_models(
        config, trained, test_dir=mix / "test", taxonomy_root=Path(options["taxonomy_path"]),
        taxonomy_base=options["taxonomy_base"], benchmarks=options["benchmarks"], out_dir=out,
    )
    done = throughput.evaluated_questions(outputs)
print(json.dumps(done.rate(time.time() - started)))
"""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{which} alone failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["per_second"])


# ---- report --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings: one chunk, one epoch, short answers")
    parser.add_argument("--work-dir", type=Path, help="keep everything here (default: a temporary folder)")
    parser.add_argument("--from-run", type=Path, help="a finished bench work dir: only the CPU table, no peers")
    parser.add_argument("--no-peers", action="store_true", help="skip the same-work-alone measurements")
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED}: the shared sample data is needed for this benchmark")
    work = args.from_run or args.work_dir or Path(tempfile.mkdtemp(prefix="bench-stages-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TAXOLAB_CONFIG_DIR": str(work / "config"),
        "TAXOLAB_DATA_DIR": str(work / "data"),
        "TAXOLAB_CACHE_DIR": str(work / "cache"),
    }
    run_dir = work / "run"
    load_before = os.getloadavg()[0]
    if not args.from_run:
        warm_up(env)
        run_once(
            make_taxonomy(work / "taxonomy", [LEAVES["chickadee"]]),
            run_dir,
            env,
            QUICK if args.quick else {},
            args.quick,
        )
    samples, log_sizes = load_samples(work / "cpu-samples.json")
    record = json.loads((run_dir / "run.json").read_text())
    steps = record["steps"]

    alone: dict[str, float] = {}
    if not (args.from_run or args.no_peers):
        requests = teacher_requests(log_sizes)
        serve = record["info"]["config"]["serve"]
        if requests:
            from taxolab.models.default import default_gguf_path

            alone["generate"] = bare_server_rate(
                default_gguf_path(), requests, serve["parallel"], serve["max_ctx_size"]
            )
        else:
            print(f"no per-request timings found in the teacher's log ({log_sizes}): generation has no peer")
        # Nested: the train stage's function clears the folders beside its own (stale outputs).
        alone["train"] = stage_alone("train", run_dir, work / "alone" / "train" / "out", env)
        alone["evaluate"] = stage_alone("evaluate", run_dir, work / "alone" / "evaluate" / "out", env)
        (work / "alone.json").write_text(json.dumps(alone))
    elif (work / "alone.json").is_file():
        alone = json.loads((work / "alone.json").read_text())

    print(f"\nrun folder {run_dir}  (load average at start {load_before:.1f}, now {os.getloadavg()[0]:.1f})")
    print(
        f"{'stage':28} {'wall s':>7} {'run rate':>16} {'alone':>10} {'ratio':>6}  "
        f"{'servers':>8} {'others':>7} {'taxolab':>8} {'outside':>8}"
    )
    worst_idle = 0.0
    for name, step in steps.items():
        cores = cpu_by_kind(samples, step["started"], step["finished"])
        servers = cores.get("server", 0.0)
        idle_here = name not in ("evaluate",) and not name.startswith("generate:")
        if idle_here:
            worst_idle = max(worst_idle, servers)
        rate = step["outputs"].get("throughput") or {}
        kind = name.split(":")[0]
        peer = alone.get(kind)
        shown = f"{rate['per_second']:.1f} {rate['unit'][:3]}/s" if rate.get("per_second") else "-"
        ratio = f"{rate['per_second'] / peer:.2f}" if peer and rate.get("per_second") else "-"
        print(
            f"{name[:28]:28} {step['seconds']:7.1f} {shown:>16} {peer or 0:10.1f} {ratio:>6}  "
            f"{servers:7.0%}{'*' if idle_here else ' '} {cores.get('other', 0.0):6.0%} "
            f"{cores.get('run', 0.0):8.0%} {cores.get('outside', 0.0):8.0%}"
        )
    print(
        "CPU in cores (100% = one core): servers = the run's model servers (* = they have no work in this stage); "
        "others = the run's other helpers; taxolab = the run's own process; outside = every process not started "
        "by the run (other users: a ratio is only fair when this is near 0)"
    )
    print(f"idle servers at worst: {worst_idle:.1%} of a core (goal <= 5%)")


if __name__ == "__main__":
    main()
