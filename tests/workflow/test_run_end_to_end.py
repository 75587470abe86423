"""`taxolab run` for real: one knowledge and one skill leaf, killed during training, rerun to the end.

Real parts throughout: the packaged sample taxonomy (`taxolab taxonomy sample`)
with its knowledge document read from the document cache, no mirror flag,
the packaged default model as teacher, student and judge on llama.cpp
servers on 127.0.0.1, real training steps, real evaluation, real GGUF
conversion, and `taxolab model chat -q` on the result. Settings are the
smallest that still exercise every stage: one document chunk, one sample per
seed, a few tokens per answer, one epoch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taxolab.training.metrics import read_metrics

pytestmark = pytest.mark.slow

TAXOLAB = [sys.executable, "-m", "taxolab.cli.main"]
# The profile wins over the config file, so the small settings come as --set flags.
SMALL = {
    "generate.sdg_scale_factor": 1,
    "generate.max_num_tokens": 48,
    "generate.chunk_word_count": 150,
    "generate.chunk_overlap": 10,
    "train.effective_batch_size": 4,
    "train.knowledge_epochs": 1,
    "train.max_seq_len": 256,
    "train.max_batch_len": 512,
    "train.checkpoint_every_samples": 16,
    "train.validation_split": 0.0,
    "evaluate.max_tokens": 24,
    "evaluate.judge_max_tokens": 48,
    "documents.offline": "true",
}


def metrics_rows(run_dir: Path) -> int:
    return sum(len(read_metrics(path)) for path in run_dir.glob("train/*/phase*/metrics.jsonl"))


def wait_for_training(process: subprocess.Popen[bytes], run_dir: Path, timeout: float) -> None:
    """Until the training stage has written metrics (the run must not end before)."""
    deadline = time.monotonic() + timeout
    while metrics_rows(run_dir) == 0:
        assert process.poll() is None, "the run ended before training wrote any metrics"
        assert time.monotonic() < deadline, "training did not start in time"
        time.sleep(0.5)


@pytest.mark.timeout(1800)
def test_run_killed_during_training_then_finished(taxonomy: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    command = [
        *TAXOLAB,
        "run",
        "--taxonomy-path", str(taxonomy),
        "--profile", "cpu-small",
        "--max-chunks-per-leaf", "1",
        "--output-dir", str(run_dir),
        "--json",
        "--benchmark", "mmlu_branch",
        "--benchmark", "mt_bench_branch",
        *(f"--set={key}={value}" for key, value in SMALL.items()),
    ]  # fmt: skip
    log = (tmp_path / "first.log").open("wb")
    first = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_training(first, run_dir, timeout=600)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        log.close()
    killed_at = metrics_rows(run_dir)
    record = json.loads((run_dir / "run.json").read_text())
    assert "train" not in record["steps"] and "mix" in record["steps"]

    second = subprocess.run(command, capture_output=True, text=True, timeout=1500, check=False)
    assert second.returncode == 0, second.stderr[-3000:]
    result = json.loads(second.stdout)
    skipped = {stage["name"]: stage["skipped"] for stage in result["stages"]}
    assert skipped["mix"] and all(v for k, v in skipped.items() if k.startswith("generate:"))
    assert not skipped["train"]
    rates = {stage["name"]: stage["throughput"] for stage in result["stages"]}
    assert rates["train"]["unit"] == "tokens" and rates["train"]["amount"] > 0 and rates["train"]["per_second"] > 0
    assert rates["evaluate"]["unit"] == "questions" and rates["evaluate"]["amount"] > 0

    metrics = [row for path in sorted(run_dir.glob("train/*/phase*/metrics.jsonl")) for row in read_metrics(path)]
    assert metrics_rows(run_dir) >= killed_at
    for phase in run_dir.glob("train/*/phase*/metrics.jsonl"):
        steps = [row["step"] for row in read_metrics(phase)]
        assert steps == list(range(1, len(steps) + 1)), "resumed training repeats or skips no step"
    assert metrics

    report = Path(result["report"]).read_text(encoding="utf-8")
    for needle in ("black_capped_chickadee", "synonyms", "Evaluation: base vs trained", "data:image/png"):
        assert needle in report

    evaluation = json.loads(Path(result["evaluation"]).read_text())
    compared = [r for r in evaluation["results"].values() if r["base"] and r["trained"]["overall"] is not None]
    assert compared, f"no benchmark compared base and trained: {evaluation['skipped']}"
    assert all(r["base"]["overall"] is not None for r in compared)

    gguf = Path(result["gguf"])
    assert gguf.read_bytes()[:4] == b"GGUF"
    chat = subprocess.run(
        [
            *TAXOLAB,
            "model",
            "chat",
            "--model-path",
            str(gguf),
            "-q",
            "What is a chickadee?",
            "--max-tokens",
            "16",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert chat.returncode == 0, chat.stderr[-2000:]
    assert json.loads(chat.stdout)["answer"].strip()
