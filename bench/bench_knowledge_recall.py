"""Does the student learn? The cpu-small loop on one real knowledge leaf, scored on questions it never saw.

What it runs: ``taxolab run --profile cpu-small`` on a taxonomy holding only the
``knowledge/science/animals/birds/black_capped_chickadee`` leaf of the public
taxonomy (from ``../shared/data``), its document ``chickadee.md`` read offline
from the ``Summit_knowledge`` git bundle at the commit the leaf names. Then the
base model and the trained model answer, closed-book and greedy, the 20
questions in ``bench/data/chickadee_questions.yaml``: written by hand from the
document, none among the leaf's seed questions, and read by nothing in
taxolab, so they can never reach a training file. An answer is right when it
holds one phrase of every key group.

It prints base and trained scores (out of 20), the wall time of the run, and
with ``--ablations`` the same loop with one ingredient removed at a time
(answer-first pairs, the pretraining passages, fewer knowledge epochs) or one
check undone (the question checks' rejects trained too). Each ablation takes the
shipped run's own training files, changes only that ingredient, and trains the
default student with cpu-small's training settings: ~15 minutes per variant on
2 idle cores. (In the `simple` pipeline every answer is a span of the document,
so the grounding check, which guards teacher-written answers in `full`, has
nothing to drop there; its effect is covered by the unit tests.)

    .venv/bin/python bench/bench_knowledge_recall.py                # the cpu-small loop
    .venv/bin/python bench/bench_knowledge_recall.py --ablations    # + the ablation table
    .venv/bin/python bench/bench_knowledge_recall.py --score-only RUN_DIR   # rescore a finished run

Everything stays on 127.0.0.1: the teacher is the packaged model served by
llama.cpp, the document comes from the local bundle.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LEAF = "knowledge/science/animals/birds/black_capped_chickadee"
DOC_REPO = "https://github.com/juliadenham/Summit_knowledge"
QUESTIONS = Path(__file__).parent / "data" / "chickadee_questions.yaml"
TAXOLAB = [sys.executable, "-m", "taxolab.cli.main"]

# One ingredient removed at a time from the shipped run's own training files (same generated data,
# same seed), then trained with the cpu-small training settings: (keep(sample), train overrides).
QUESTION_CHECK_REASONS = {"not_standalone", "not_a_question", "answer_in_question", "unrelated", "copied_example"}


def _meta(sample: dict[str, Any]) -> dict[str, Any]:
    return sample.get("metadata") or {}


ABLATIONS: dict[str, tuple[Any, dict[str, Any]]] = {
    "without answer-first pairs": (lambda s: _meta(s).get("dataset_type") != "answer_first", {}),
    "without pretraining passages": (lambda s: _meta(s).get("sample_type") != "passage", {}),
    "without question checks": (lambda s: True, {}),  # the rejected questions are added back, see below
    "fewer epochs (knowledge 1)": (lambda s: True, {"knowledge_epochs": 1}),
}


def make_taxonomy(dest: Path) -> Path:
    """A git repo holding only the chickadee leaf (committed, so `--taxonomy-base empty` sees it)."""
    leaf_dir = dest / LEAF
    leaf_dir.mkdir(parents=True)
    for item in (SHARED / "taxonomy" / LEAF).iterdir():
        shutil.copy2(item, leaf_dir / item.name)
    git = ["git", "-C", str(dest), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "chickadee leaf"], check=True)
    return dest


def run_loop(taxonomy: Path, out: Path, env: dict[str, str], extra: list[str]) -> tuple[float, dict[str, Any]]:
    """``taxolab run`` once; returns its wall time (s) and its ``--json`` result."""
    command = [
        *TAXOLAB, "run", "--taxonomy-path", str(taxonomy), "--taxonomy-base", "empty", "--profile", "cpu-small",
        "--mirror", f"{DOC_REPO}={SHARED / 'summit_knowledge.bundle'}", "--output-dir", str(out), "--json",
    ]  # fmt: skip
    for item in extra:
        command += ["--set", item]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    (out / "bench-stderr.log").write_text(done.stderr)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"taxolab run failed ({done.returncode}):\n{tail}")
    return seconds, json.loads(done.stdout)


def trained_model(run_dir: Path) -> Path:
    """The HF folder of the run's final model: the one its evaluation compared with the base model."""
    results = run_dir / "eval" / "results.json"
    if not results.is_file():
        raise SystemExit(f"{run_dir}: no eval/results.json; is this a finished `taxolab run` folder?")
    return Path(json.loads(results.read_text())["model"])


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u2014", "-")).lower()


def score(model_dir: Path, system_prompt: str) -> tuple[int, list[tuple[str, str, bool]]]:
    """Greedy closed-book answers to the 20 questions; (right answers, [(question, answer, right)])."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    questions = yaml.safe_load(QUESTIONS.read_text())["questions"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "system", "content": system_prompt}, {"role": "user", "content": q["question"]}],
            tokenize=False,
            add_generation_prompt=True,
        )
        for q in questions
    ]
    answers: list[str] = []
    for start in range(0, len(prompts), 10):
        batch = tokenizer(prompts[start : start + 10], return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model.generate(
                **batch,
                max_new_tokens=64,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            )
        answers += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    rows = []
    for question, answer in zip(questions, answers, strict=True):
        right = all(any(normalise(str(k)) in normalise(answer) for k in group) for group in question["keys"])
        rows.append((question["question"], answer.strip(), right))
    return sum(r[2] for r in rows), rows


def system_prompt(env: dict[str, str]) -> str:
    done = subprocess.run([*TAXOLAB, "config", "show", "--json"], env=env, capture_output=True, text=True, check=True)
    return str(json.loads(done.stdout)["mix"]["system_prompt"])


def base_model(env: dict[str, str]) -> Path:
    code = "from taxolab.models.default import default_hf_dir; print(default_hf_dir(prepare=True))"
    return Path(
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()
    )


def ablation_data(run_dir: Path, dest: Path, name: str, prompt: str) -> Path:
    """The run's mix files with one ingredient removed (or the question-checked rejects added back)."""
    keep, _ = ABLATIONS[name]
    mix = run_dir / "data" / "mix"
    dest.mkdir(parents=True, exist_ok=True)
    rejected = []
    if name == "without question checks":
        for path in sorted(run_dir.glob("data/leaves/*/*/dropped/*.jsonl")):
            for line in path.read_text().splitlines():
                item = json.loads(line)
                row = item.get("row") or {}
                if (
                    str(item.get("reason", "")).rpartition(": ")[2] in QUESTION_CHECK_REASONS
                    and row.get("question")
                    and row.get("answer")
                ):
                    rejected.append({
                        "messages": [
                            {"role": "system", "content": prompt},
                            {"role": "user", "content": str(row["question"])},
                            {"role": "assistant", "content": str(row["answer"])},
                        ],
                        "metadata": {"kind": "knowledge", "sample_type": "closed_book", "ablation": "unchecked"},
                    })  # fmt: skip
    for path in sorted(mix.glob("*_train_msgs_*.jsonl")):
        samples = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        kept = [sample for sample in samples if keep(sample)]
        if path.name.startswith("knowledge_"):
            kept += rejected
        (dest / path.name).write_text("".join(json.dumps(sample) + "\n" for sample in kept))
    return dest


def train_ablation(data: Path, out: Path, name: str, env: dict[str, str]) -> tuple[float, Path]:
    """Train the default student on ``data`` with cpu-small's training settings (+ the ablation's).

    Returns the wall seconds and the final model's HF folder.
    """
    _, overrides = ABLATIONS[name]
    code = f"""
import json, sys
from pathlib import Path
from taxolab.models.default import default_hf_dir
from taxolab.training.api import train
from taxolab.workflow.profiles import load_run_config, resolve_profile
config = load_run_config(None, resolve_profile("cpu-small"), {{"train": json.loads(sys.argv[1])}})
result = train(Path({str(data)!r}), model_path=default_hf_dir(), output_dir=Path({str(out)!r}),
               settings=config.train, show_progress=False)
print(result.final_dir)
"""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps({**overrides, "select_by": "last"})],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return time.monotonic() - started, Path(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ablations", action="store_true", help="also run each ablation (one training run each)")
    parser.add_argument(
        "--ablation", action="append", choices=list(ABLATIONS), help="run only this ablation (repeatable)"
    )
    parser.add_argument(
        "--from-run", type=Path, help="a finished cpu-small run folder to score and ablate instead of running"
    )
    parser.add_argument("--work-dir", type=Path, help="keep runs here (default: a temporary folder)")
    parser.add_argument("--score-only", type=Path, help="score the base and the final model of a finished run folder")
    parser.add_argument("--verbose", action="store_true", help="print every question and answer")
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED}: the shared sample data is needed for this benchmark")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-recall-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TAXOLAB_CONFIG_DIR": str(work / "config"), "TAXOLAB_DATA_DIR": str(work / "data")}
    prompt = system_prompt(env)

    def report(label: str, model_dir: Path) -> int:
        right, rows = score(model_dir, prompt)
        if args.verbose:
            for question, answer, ok in rows:
                print(f"  {'OK' if ok else '--'} {question} => {answer[:140]!r}")
        print(f"{label}: {right}/20")
        return right

    if args.score_only:
        report("base (packaged SmolLM2-135M-Instruct)", base_model(env))
        report("trained", trained_model(args.score_only))
        return
    base = report("base (packaged SmolLM2-135M-Instruct)", base_model(env))
    if args.from_run:
        main_run, seconds = args.from_run, float("nan")
    else:
        main_run = work / "run-main"
        seconds, _ = run_loop(make_taxonomy(work / "taxonomy"), main_run, env, [])
    trained = report(f"trained (cpu-small, {seconds / 60:.1f} min wall)", trained_model(main_run))
    table = [("cpu-small as shipped", trained, seconds)]
    for name in args.ablation or (list(ABLATIONS) if args.ablations else []):
        slug = re.sub(r"\W+", "-", name).strip("-")
        data = ablation_data(main_run, work / f"data-{slug}", name, prompt)
        took, final = train_ablation(data, work / f"train-{slug}", name, env)
        table.append((name, report(name, final), took))
    print()
    print(f"base: {base}/20   load average now: {os.getloadavg()[0]:.1f}")
    print(f"{'variant':34} {'right':>6} {'wall min':>9}  (ablations: training only)")
    for name, right, took in table:
        print(f"{name:34} {right:>3}/20 {took / 60:>9.1f}")


if __name__ == "__main__":
    main()
