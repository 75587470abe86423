"""Does the student learn? The cpu-small loop on three real knowledge leaves, scored on 60 questions it never saw.

What it runs: one ``taxolab run --profile cpu-small`` on a taxonomy of three
knowledge leaves, each document read offline from the ``Summit_knowledge`` git
bundle in ``../shared/data`` at the commit its leaf names:

- ``chickadee``: ``knowledge/science/animals/birds/black_capped_chickadee`` of
  the public taxonomy (``chickadee.md``);
- ``zebu``: ``knowledge/science/animals/mammals/zebu`` (``zebu.md``) and
- ``lapis_lazuli``: ``knowledge/science/geology/minerals/lapis_lazuli``
  (``lapis_lazuli.md``), two leaves written for this bench as a contributor
  would (``bench/data/leaves/``: qna.yaml v3, five contexts of three Q&A each).

Then the base model and the trained model answer, closed-book and greedy, 20
questions per leaf (``bench/data/<leaf>_questions.yaml``): written by hand from
the whole document, none among the leaf's seed questions, and read by nothing
in taxolab, so they can never reach a training file. An answer is right when it
holds one phrase of every key group (the bench's own rule; the product's
``recall`` figure from the run's evaluation is printed beside it).

It prints, per leaf and in total, base and trained right answers with Wilson
95% intervals and the exact McNemar p-value of the paired difference
(:mod:`taxolab.evaluation.stats`), the wall time and throughput of each stage
(from the run's ``run.json``), and with ``--ablations`` a table of the same
questions after one lever is changed at a time:

- ``without <kind>`` for each knowledge form kind in the run's ``mix.forms``
  (read from the run's effective config, so the rows follow the product; none
  when the setting is absent), and ``fewer forms`` (the teacher's question
  phrasings only): ``taxolab run`` again in a folder seeded with the main run's
  generation (no teacher request), with ``--set mix.forms=[...]``, so it
  re-mixes, retrains and evaluates only recall;
- ``old question check`` (pairs the question check now drops for a reason the
  old check did not have are added back: an approximation, the old check's
  ``unrelated`` rule changed too) and ``without question checks`` (every
  question-check reject added back), ``without answer-first pairs``,
  ``without pretraining passages`` and ``fewer epochs``: the main run's own mix
  files changed in that one way and trained with cpu-small's training settings.

Cost on 2 idle cores: the three-leaf run ~1.5 h, each ablation ~20-35 min.

    .venv/bin/python bench/bench_knowledge_recall.py                  # 3 leaves, 60 questions
    .venv/bin/python bench/bench_knowledge_recall.py --leaf chickadee # one leaf (<= 30 min is the target)
    .venv/bin/python bench/bench_knowledge_recall.py --ablations      # + the ablation table
    .venv/bin/python bench/bench_knowledge_recall.py --quick          # smoke: one leaf, tiny settings
    .venv/bin/python bench/bench_knowledge_recall.py --score-only RUN_DIR --json   # rescore a finished run
    .venv/bin/python bench/bench_knowledge_recall.py --leaf zebu --set mix.passage_permutations=3   # a lever
    .venv/bin/python bench/bench_knowledge_recall.py --leaf zebu --lever mix.fill_in_answer=item   # paired

``--lever KEY=VALUE`` (repeatable) reruns ``taxolab run`` on the main run's generation with one setting
changed (no teacher request; evaluating recall only, as the form ablations do), so the variant and the main run differ only in that setting and in training
noise: its row gives the questions it gained and lost against the main run, and its own recall.

Measured 2026-12-04 (cpu-small, fp32, one leaf per run, idle): chickadee 14/20 in 35.6 min, zebu 7/20 in
16.3 min, lapis_lazuli 10/20 in 15.3 min (31/60), base 0/60; zebu with ``mix.fill_in_per_fact=3
mix.passage_permutations=3`` 10/20 in 19.7 min; zebu with ``train.knowledge_epochs=8`` 9/20 in 32.2 min; lapis_lazuli
with ``train.knowledge_epochs=8 train.knowledge_token_budget=240000`` 11/20 in 25.4 min (docs/train.md).
2026-12-05, selection keeping the last checkpoint unless an earlier one is better beyond chance: zebu 9/20
in 15.6 min, lapis_lazuli 7/20 in 13.3 min (30/60 with chickadee's 14). Chunks cut only between sentences
(2026-12-05, shipped): chickadee 12/20 in 33.0 min, zebu 8/20 in 16.3 min, lapis_lazuli 12/20 in 16.7 min
(32/60); ``mix.forms`` with ``entity_questions`` added: zebu 10/20 in 18.9 min, lapis_lazuli 7/20 in 17.9 min.
Seed text unwrapped, few-shot turns most like the task, one permuted passage order (stop 28, a day when training ran
at about half the previous day's tokens/s, so its minutes do not compare): chickadee 12/20 (51.9 min, 201k trained
tokens against 236k), zebu 9/20 (25.0 min); the same code the next morning (b0b9e88): chickadee 9/20 in 31.7 min,
zebu 8/20 in 16.1 min, lapis_lazuli 11/20 in 18.9 min (28/60, base 0/60); zebu with 8 questions per span
(``generate.questions_per_leaf=700``) 9/20 in 29.2 min. 2026-12-05 afternoon: chickadee with
``mix.fill_in_answer=item`` 15/20 in 32.6 min (training at 145 tokens/s); zebu's morning generation retrained
(paired, the way ``--lever`` runs): as shipped 7/20 (8 the first time: 4 right only then, 3 only now), with
``mix.fill_in_answer=item`` 5/20, with it and ``mix.fill_in_per_fact=2`` 7/20; docs/train.md. 2026-12-05 evening,
``train.threads=2``: zebu 7/20 and lapis_lazuli 7/20 with the forms before cue questions; each generation retrained
with ``cue_questions`` added (now a default form): zebu 11/20 (+5 -1), lapis_lazuli 14/20 (+8 -1, ``--lever``);
chickadee with them, fresh, 12/20 in 49.1 min (290k trained tokens).
2026-12-05 night, ``train.precision`` auto = bf16 autocast on this AVX-512 BF16 CPU: lapis_lazuli's generation
retrained (``--lever train.precision=bf16``) 14/20 as in fp32, without ``fill_in`` 11/20; chickadee fresh 15/20 in
41.9 min (training 32.5 min for 293k tokens at 150 tokens/s); that generation with ``train.knowledge_epochs=3``
(``--lever``) 10/20 (+0 -5). 2026-12-05 late night, the AMX Xeon, bf16, fresh generations: zebu 10/20 in 21.2 min
(torch threads sleeping at once), then with the bounded OpenMP spin and fused AdamW chickadee 14/20 in 38.5 min
(generation 8.4, training 27.2 for 293k tokens at 179 tokens/s, evaluation 2.8) and lapis_lazuli 9/20 in 15.7 min:
33/60, base 0/60. 2026-12-06, with the glibc heap rule and batched dev answers (ddb51e9): chickadee 15/20 in
37.2 min on the AMX Xeon (generation 9.8, training 25.0 for 294k tokens at 196 tokens/s, evaluation 2.2); then,
on a 2-core AMD EPYC with AVX2 only (no AVX-512, so fp32 training at 105 tokens/s), zebu 9/20 in 27.1 min and
lapis_lazuli 12/20 in 25.6 min: 36/60, base 0/60. On that AMD EPYC, six knowledge epochs with six variants
against four, each stored generation retrained with two training seeds (``--set train.seed=7 --set
mix.epoch_variants=6 --lever train.knowledge_epochs=4 --lever train.knowledge_epochs=6``): 50/80 against 44/80
(+12 -6); cpu-small since gives short documents six (zebu fresh: 12/20 in 30.9 min, training 24.6 min for 178k
tokens at 121 tokens/s; the run's own recall 82%, base 12%; lapis_lazuli fresh: 13/20 in 33.4 min, training 26.8
min for 173k tokens at 108 tokens/s, own recall 69%): 40/60 with the chickadee figure above. A second fresh
lapis_lazuli run after empty brackets were dropped from documents: 15/20 in 34.8 min (training 28.1 min for 172k
tokens at 102 tokens/s, own recall 70%): 42/60 with the latest run of each leaf (base 0/60).

Everything stays on 127.0.0.1: the teacher is the packaged model served by
llama.cpp, the documents come from the local bundle.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATA = Path(__file__).parent / "data"
DOC_REPO = "https://github.com/juliadenham/Summit_knowledge"
TAXOLAB = [sys.executable, "-m", "taxolab.cli.main"]


@dataclass(frozen=True)
class BenchLeaf:
    """One knowledge leaf of the bench: its taxonomy path, the folder its qna.yaml is copied from, its questions."""

    name: str
    path: str
    source: Path
    questions: Path

    @property
    def group(self) -> str:
        """The leaf's name in taxolab's files and results (``knowledge_science_..._zebu``)."""
        return self.path.replace("/", "_")


LEAVES = {
    leaf.name: leaf
    for leaf in (
        BenchLeaf(
            "chickadee",
            "knowledge/science/animals/birds/black_capped_chickadee",
            SHARED / "taxonomy" / "knowledge/science/animals/birds/black_capped_chickadee",
            DATA / "chickadee_questions.yaml",
        ),
        BenchLeaf(
            "zebu", "knowledge/science/animals/mammals/zebu", DATA / "leaves" / "zebu", DATA / "zebu_questions.yaml"
        ),
        BenchLeaf(
            "lapis_lazuli",
            "knowledge/science/geology/minerals/lapis_lazuli",
            DATA / "leaves" / "lapis_lazuli",
            DATA / "lapis_lazuli_questions.yaml",
        ),
    )
}

# `--quick`: one leaf, one chunk per leaf, one knowledge epoch, recall only: a smoke of the whole loop.
QUICK_SETTINGS = [
    "run.max_chunks_per_leaf=1",
    "train.knowledge_epochs=1",
    "run.forgetting=false",
    "evaluate.benchmarks=[recall]",
]
# Ablation runs (`taxolab run` again) score only the bench questions and the product's recall.
ABLATION_RUN_SETTINGS = ["run.forgetting=false", "evaluate.benchmarks=[recall]"]

# Drop reasons of the question check before issue 16 (the `check_questions` block of the pipelines).
OLD_QUESTION_CHECK_REASONS = {"not_standalone", "not_a_question", "answer_in_question", "unrelated", "copied_example"}
QUESTION_CHECK_BLOCKS = {"check_questions", "write_questions"}  # the blocks whose drops are question-check drops
# The form kind that needs the teacher: "fewer forms" keeps only it (the knowledge mix before issue 16).
TEACHER_FORMS = ["questions"]


def _meta(sample: dict[str, Any]) -> dict[str, Any]:
    return sample.get("metadata") or {}


# Ablations made from the main run's own mix files (same generated data, same seed), trained with the
# cpu-small training settings: (keep(sample), train overrides).
FILE_ABLATIONS: dict[str, tuple[Callable[[dict[str, Any]], bool], dict[str, Any]]] = {
    "without answer-first pairs": (lambda s: _meta(s).get("dataset_type") != "answer_first", {}),
    "without pretraining passages": (lambda s: _meta(s).get("sample_type") != "passage", {}),
    "old question check": (lambda s: True, {}),  # rejects of the new reasons are added back, see add_back
    "without question checks": (lambda s: True, {}),  # every question-check reject is added back
    "fewer epochs (knowledge 1)": (lambda s: True, {"knowledge_epochs": 1}),
}
FORM_ABLATION = "forms"  # --ablation forms: the `without <kind>` rows and `fewer forms`


# --- the loop ---------------------------------------------------------------------------------------------


def make_taxonomy(dest: Path, leaves: list[BenchLeaf]) -> Path:
    """A git repo holding only ``leaves`` (committed, so ``--taxonomy-base empty`` sees them)."""
    for leaf in leaves:
        leaf_dir = dest / leaf.path
        leaf_dir.mkdir(parents=True)
        for item in leaf.source.iterdir():
            shutil.copy2(item, leaf_dir / item.name)
    git = ["git", "-C", str(dest), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bench leaves: " + ", ".join(x.name for x in leaves)], check=True)
    return dest


def run_loop(taxonomy: Path, out: Path, env: dict[str, str], extra: list[str]) -> float:
    """``taxolab run`` once (``extra``: ``--set`` assignments); returns its wall time (s)."""
    command = [
        *TAXOLAB, "run", "--taxonomy-path", str(taxonomy), "--taxonomy-base", "empty", "--profile", "cpu-small",
        "--mirror", f"{DOC_REPO}={SHARED / 'summit_knowledge.bundle'}", "--output-dir", str(out), "--json",
    ]  # fmt: skip
    for item in extra:
        command += ["--set", item]
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    (out / "bench-stderr.log").write_text(done.stderr)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"taxolab run failed ({done.returncode}), log in {out / 'bench-stderr.log'}:\n{tail}")
    return seconds


def results_of(run_dir: Path) -> dict[str, Any]:
    """The run's ``eval/results.json`` (raises SystemExit naming the folder when it is not a finished run)."""
    path = run_dir / "eval" / "results.json"
    if not path.is_file():
        raise SystemExit(f"{run_dir}: no eval/results.json; is this a finished `taxolab run` folder?")
    return dict(json.loads(path.read_text()))


def trained_model(run_dir: Path) -> Path:
    """The HF folder of the run's final model: the one its evaluation compared with the base model."""
    return Path(results_of(run_dir)["model"])


def run_config(run_dir: Path) -> dict[str, Any]:
    """The effective config the run recorded in its ``run.json`` (``{}`` when absent)."""
    path = run_dir / "run.json"
    return dict(json.loads(path.read_text()).get("info", {}).get("config") or {}) if path.is_file() else {}


def run_taxonomy(run_dir: Path) -> Path | None:
    """The taxonomy folder the run was made from (``run.json`` options), None when not recorded."""
    path = run_dir / "run.json"
    if not path.is_file():
        return None
    options = json.loads(path.read_text()).get("info", {}).get("options") or {}
    return Path(options["taxonomy_path"]) if options.get("taxonomy_path") else None


def run_leaves(run_dir: Path) -> list[str]:
    """The bench leaves a finished run was made from (its ``run.json`` taxonomy stage); all when not recorded."""
    path = run_dir / "run.json"
    steps = (json.loads(path.read_text()).get("steps") or {}) if path.is_file() else {}
    groups = {str(leaf.get("name")) for leaf in steps.get("taxonomy", {}).get("outputs", {}).get("leaves", [])}
    return [name for name, leaf in LEAVES.items() if leaf.group in groups] or list(LEAVES)


def stage_times(run_dir: Path) -> list[dict[str, Any]]:
    """Each stage of the run's ``run.json``: ``{"stage", "seconds", "throughput"}`` (throughput may be None)."""
    path = run_dir / "run.json"
    if not path.is_file():
        return []
    steps = json.loads(path.read_text()).get("steps") or {}
    return [
        {
            "stage": name,
            "seconds": float(step.get("seconds") or 0.0),
            "throughput": step.get("outputs", {}).get("throughput"),
        }
        for name, step in steps.items()
    ]


def product_recall(run_dir: Path, leaves: list[BenchLeaf]) -> dict[str, Any]:
    """The run's own ``recall`` benchmark (held-out phrasings, its own rule): base and trained, per leaf and overall.

    ``{"overall": {"base": r, "trained": r}, "<leaf>": {...}}``; ``{}`` when the run did not evaluate recall.
    """
    recall = results_of(run_dir).get("results", {}).get("recall")
    if not recall:
        return {}
    figures: dict[str, Any] = {"overall": {m: recall.get(m, {}).get("overall") for m in ("base", "trained")}}
    for leaf in leaves:
        figures[leaf.name] = {m: recall.get(m, {}).get("groups", {}).get(leaf.group) for m in ("base", "trained")}
    return figures


# --- scoring ------------------------------------------------------------------------------------------------


def load_questions(leaf: BenchLeaf) -> list[dict[str, Any]]:
    """The leaf's hand-written questions: ``[{"question": str, "keys": [[phrase, ...], ...]}]``."""
    return list(yaml.safe_load(leaf.questions.read_text())["questions"])


def normalise(text: str) -> str:
    """Lower case, en/em dashes as ``-``, runs of whitespace as one space."""
    return re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u2014", "-")).lower()


def is_right(answer: str, keys: list[list[Any]]) -> bool:
    """The bench's rule: the answer holds at least one phrase of every key group (after :func:`normalise`)."""
    text = normalise(answer)
    return all(any(normalise(str(phrase)) in text for phrase in group) for group in keys)


def answer_all(model_dir: Path, system_prompt: str, questions: list[str], batch: int = 10) -> list[str]:
    """Greedy closed-book answers (at most 64 new tokens each) from the HF model in ``model_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "system", "content": system_prompt}, {"role": "user", "content": q}],
            tokenize=False,
            add_generation_prompt=True,
        )
        for q in questions
    ]
    answers: list[str] = []
    for start in range(0, len(prompts), batch):
        encoded = tokenizer(prompts[start : start + batch], return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model.generate(
                **encoded,
                max_new_tokens=64,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            )
        answers += tokenizer.batch_decode(out[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
    return [answer.strip() for answer in answers]


def score(model_dir: Path, system_prompt: str, leaves: list[BenchLeaf]) -> dict[str, list[dict[str, Any]]]:
    """Every leaf's questions answered by one model: ``{leaf: [{"question", "answer", "right"}]}``."""
    asked = [(leaf.name, q) for leaf in leaves for q in load_questions(leaf)]
    answers = answer_all(model_dir, system_prompt, [str(q["question"]) for _, q in asked])
    rows: dict[str, list[dict[str, Any]]] = {leaf.name: [] for leaf in leaves}
    for (name, q), answer in zip(asked, answers, strict=True):
        rows[name].append({"question": q["question"], "answer": answer, "right": is_right(answer, q["keys"])})
    return rows


def compare(base: dict[str, list[dict[str, Any]]], trained: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per leaf and ``total``: right counts, rates with Wilson 95% intervals, exact McNemar p (paired)."""
    from taxolab.evaluation.stats import compare_paired

    def one(b: list[dict[str, Any]], t: list[dict[str, Any]]) -> dict[str, Any]:
        c = compare_paired([r["right"] for r in b], [r["right"] for r in t])
        return {
            "n": c.n,
            "base": {"right": c.both + c.only_base, "rate": c.base_rate, "interval": [c.base_interval.low, c.base_interval.high]},
            "trained": {
                "right": c.both + c.only_trained,
                "rate": c.trained_rate,
                "interval": [c.trained_interval.low, c.trained_interval.high],
            },
            "only_trained": c.only_trained,
            "only_base": c.only_base,
            "p_value": c.p_value,
            "change": c.change,
        }  # fmt: skip

    table = {name: one(base[name], trained[name]) for name in trained}
    table["total"] = one([r for n in trained for r in base[n]], [r for n in trained for r in trained[n]])
    return table


# --- ablations ------------------------------------------------------------------------------------------------


def form_kinds(run_dir: Path) -> list[str] | None:
    """The run's ``mix.forms`` (the knowledge form kinds it trained), or None when this taxolab has no such setting."""
    forms = run_config(run_dir).get("mix", {}).get("forms")
    return None if forms is None else [str(kind) for kind in forms]


def form_variants(kinds: list[str]) -> dict[str, list[str]]:
    """``{"without <kind>": the other kinds}`` for each kind, and ``fewer forms``: the teacher's phrasings only."""
    variants = {f"without {kind}": [k for k in kinds if k != kind] for kind in kinds}
    fewer = [k for k in kinds if k in TEACHER_FORMS]
    if fewer and fewer != kinds:
        variants["fewer forms (questions only)"] = fewer
    return variants


def ablation_taxonomy(main_run: Path, work: Path, leaves: list[BenchLeaf]) -> Path:
    """The taxonomy the main run was made from; where that folder is gone, one made once under ``work``."""
    taxonomy = run_taxonomy(main_run)
    if taxonomy is not None and taxonomy.is_dir():
        return taxonomy
    made = work / "taxonomy-ablations"
    return made if made.is_dir() else make_taxonomy(made, leaves)


def seed_variant_run(main_run: Path, dest: Path) -> Path:
    """A run folder holding the main run's generation and manifest, so ``taxolab run`` there asks no teacher."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(main_run / "run.json", dest / "run.json")
    for part in ("leaves", "mix"):  # the mix too: a train-only lever reuses it as the main run did
        if (main_run / "data" / part).exists() and not (dest / "data" / part).exists():
            shutil.copytree(main_run / "data" / part, dest / "data" / part)
    return dest


def add_back(run_dir: Path, name: str, prompt: str) -> list[dict[str, Any]]:
    """Closed-book samples of the question-check rejects the ablation ``name`` trains after all."""
    samples = []
    for path in sorted(run_dir.glob("data/leaves/*/*/dropped/*.jsonl")):
        for line in path.read_text().splitlines():
            item = json.loads(line)
            row = item.get("row") or {}
            block, _, reason = str(item.get("reason", "")).rpartition(": ")
            checked = block in QUESTION_CHECK_BLOCKS or reason in OLD_QUESTION_CHECK_REASONS
            if not checked or not (row.get("question") and row.get("answer")):
                continue
            if name == "old question check" and reason in OLD_QUESTION_CHECK_REASONS:
                continue
            samples.append({
                "messages": [
                    {"role": "system", "content": prompt},
                    {"role": "user", "content": str(row["question"])},
                    {"role": "assistant", "content": str(row["answer"])},
                ],
                "metadata": {"kind": "knowledge", "sample_type": "closed_book", "ablation": name},
            })  # fmt: skip
    return samples


def ablation_data(run_dir: Path, dest: Path, name: str, prompt: str) -> Path:
    """The run's mix files with one ingredient removed (or question-check rejects added back)."""
    keep, _ = FILE_ABLATIONS[name]
    extra = add_back(run_dir, name, prompt) if "question check" in name else []
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted((run_dir / "data" / "mix").glob("*_train_msgs_*.jsonl")):
        samples = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        kept = [sample for sample in samples if keep(sample)]
        if path.name.startswith("knowledge_"):
            kept += extra
        (dest / path.name).write_text("".join(json.dumps(sample) + "\n" for sample in kept))
    return dest


def train_ablation(data: Path, out: Path, name: str, env: dict[str, str]) -> tuple[float, Path]:
    """Train the default student on ``data`` with cpu-small's training settings (+ the ablation's).

    Returns the wall seconds and the final model's HF folder.
    """
    _, overrides = FILE_ABLATIONS[name]
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


def slug(name: str) -> str:
    return re.sub(r"\W+", "-", name).strip("-")


# --- printing -------------------------------------------------------------------------------------------------


def _pct(rate: float | None) -> str:
    return "   -" if rate is None else f"{100 * rate:3.0f}%"


def _cell(side: dict[str, Any], n: int) -> str:
    low, high = side["interval"]
    return f"{side['right']:>2}/{n} {_pct(side['rate'])} [{100 * low:2.0f}-{100 * high:3.0f}]"


def print_scores(table: dict[str, Any], recall: dict[str, Any]) -> None:
    """Per leaf and total: base, trained (Wilson 95%), McNemar p, and the product's recall figure beside."""
    from taxolab.evaluation.stats import format_p

    print(f"{'leaf':13} {'base  (95% interval)':>22} {'trained (95% interval)':>23} {'McNemar':>9}   product recall")
    for name, row in table.items():
        figures = recall.get("overall" if name == "total" else name) or {}
        product = f"{_pct(figures.get('base'))} -> {_pct(figures.get('trained'))}" if figures else "(not evaluated)"
        print(
            f"{name:13} {_cell(row['base'], row['n']):>22} {_cell(row['trained'], row['n']):>23} "
            f"{format_p(row['p_value']):>9}   {product}"
        )


def print_stages(stages: list[dict[str, Any]]) -> None:
    """Wall time per stage of the run, with its throughput where the stage counts work."""
    print(f"{'stage':62} {'wall min':>8}  throughput")
    for stage in stages:
        rate = stage["throughput"] or {}
        said = f"{rate['amount']:.0f} {rate['unit']} at {rate['per_second']}/s" if rate.get("unit") else ""
        print(f"{stage['stage'][:62]:62} {stage['seconds'] / 60:>8.1f}  {said}")
    print(f"{'total':62} {sum(s['seconds'] for s in stages) / 60:>8.1f}")


def print_ablations(rows: list[dict[str, Any]], n: int) -> None:
    print(f"{'variant':40} {'right':>7} {'delta':>6} {'wall min':>9}  how")
    shipped = rows[0]["right"] if rows else 0
    for row in rows:
        if row.get("skipped"):
            print(f"{row['variant']:40} {'-':>7} {'-':>6} {'-':>9}  skipped: {row['skipped']}")
            continue
        recall = "-" if row.get("recall") is None else f"{row['recall']:.0%}"
        paired = f" (+{row['gained']} -{row['lost']} questions; own recall {recall})" if "gained" in row else ""
        print(
            f"{row['variant']:40} {row['right']:>3}/{n} {row['right'] - shipped:>+6} "
            f"{row['seconds'] / 60:>9.1f}  {row['how']}{paired}"
        )


# --- main -----------------------------------------------------------------------------------------------------


def system_prompt(env: dict[str, str], run_dir: Path | None = None) -> str:
    """The mix system prompt the run trained with (else the config's): every question is asked with it."""
    if run_dir is not None and run_config(run_dir).get("mix", {}).get("system_prompt"):
        return str(run_config(run_dir)["mix"]["system_prompt"])
    done = subprocess.run([*TAXOLAB, "config", "show", "--json"], env=env, capture_output=True, text=True, check=True)
    return str(json.loads(done.stdout)["mix"]["system_prompt"])


def base_model(env: dict[str, str]) -> Path:
    code = "from taxolab.models.default import default_hf_dir; print(default_hf_dir(prepare=True))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return Path(done.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--leaf", action="append", choices=list(LEAVES), help="only this leaf (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smoke: one leaf (chickadee), one chunk, one epoch")
    parser.add_argument("--ablations", action="store_true", help="also run every ablation (one training each)")
    parser.add_argument(
        "--ablation", action="append", choices=[*FILE_ABLATIONS, FORM_ABLATION], help="only this ablation (repeatable)"
    )
    parser.add_argument(
        "--lever",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="also rerun on the main run's generation with this setting changed (repeatable, one run each)",
    )
    parser.add_argument("--from-run", type=Path, help="a finished cpu-small run folder to score and ablate")
    parser.add_argument("--score-only", type=Path, help="score the base and the final model of a finished run folder")
    parser.add_argument("--base-model", type=Path, help="HF folder of the base model (default: the packaged one)")
    parser.add_argument("--work-dir", type=Path, help="keep runs here (default: a temporary folder)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting for the main run (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--verbose", action="store_true", help="print every question and answer")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    finished = args.score_only or args.from_run
    names = args.leaf or (run_leaves(finished) if finished else ["chickadee"] if args.quick else list(LEAVES))
    leaves = [LEAVES[name] for name in names]
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED}: the shared sample data (taxonomy, Summit_knowledge bundle) is needed")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-recall-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TAXOLAB_CONFIG_DIR": str(work / "config"), "TAXOLAB_DATA_DIR": str(work / "data")}
    extra = (QUICK_SETTINGS if args.quick else []) + args.set

    main_run = finished or work / "run-main"
    wall = None
    if not finished:
        wall = run_loop(make_taxonomy(work / "taxonomy", leaves), main_run, env, extra)
    prompt = system_prompt(env, main_run)
    base_rows = score(args.base_model or base_model(env), prompt, leaves)
    trained_rows = score(trained_model(main_run), prompt, leaves)
    table = compare(base_rows, trained_rows)
    n = table["total"]["n"]
    result: dict[str, Any] = {
        "run_dir": str(main_run),
        "leaves": names,
        "quick": args.quick,
        "settings": extra,
        "wall_seconds": wall,
        "scores": table,
        "product_recall": product_recall(main_run, leaves),
        "stages": stage_times(main_run),
        "answers": {"base": base_rows, "trained": trained_rows},
    }
    if args.ablations or args.ablation or args.lever:
        result["ablations"] = ablations(
            args, main_run, work=work, env=env, prompt=prompt, leaves=leaves, shipped=trained_rows
        )
    result["load_average"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(result, indent=1))
        return
    if args.verbose:
        for label, rows in (("base", base_rows), ("trained", trained_rows)):
            for name in names:
                for r in rows[name]:
                    print(
                        f"  {label:7} {name:12} {'OK' if r['right'] else '--'} {r['question']} => {r['answer'][:120]!r}"
                    )
    print(f"run folder: {main_run}   load average now: {result['load_average']:.1f}")
    print_scores(table, result["product_recall"])
    print()
    print_stages(result["stages"])
    if "ablations" in result:
        print()
        print_ablations(result["ablations"], n)


def ablations(
    args: argparse.Namespace,
    main_run: Path,
    *,
    work: Path,
    env: dict[str, str],
    prompt: str,
    leaves: list[BenchLeaf],
    shipped: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The ablation table's rows: ``{"variant", "right", "seconds", "how"}`` or ``{"variant", "skipped"}``.

    ``shipped``: the main run's trained answers (:func:`score`). A ``--lever`` row also carries
    ``gained``/``lost`` (questions right only in the variant / only in the main run: the paired view, as
    both trained on the same generation) and ``recall`` (the variant run's own held-out figure).
    """
    chosen = args.ablation or ([] if args.lever and not args.ablations else [FORM_ABLATION, *FILE_ABLATIONS])
    main_right = sum(r["right"] for rows_ in shipped.values() for r in rows_)
    rows: list[dict[str, Any]] = [
        {"variant": "cpu-small as shipped", "right": main_right, "seconds": sum(s["seconds"] for s in stage_times(main_run)), "how": "taxolab run"}
    ]  # fmt: skip
    for lever in args.lever:
        folder = seed_variant_run(main_run, work / f"run-lever-{slug(lever)}")
        settings = [*(QUICK_SETTINGS if args.quick else []), *ABLATION_RUN_SETTINGS, *args.set, lever]
        seconds = run_loop(ablation_taxonomy(main_run, work, leaves), folder, env, settings)
        variant = score(trained_model(folder), prompt, leaves)
        pairs = [
            (a["right"], b["right"]) for name in shipped for a, b in zip(shipped[name], variant[name], strict=True)
        ]
        recall = product_recall(folder, leaves).get("overall", {}).get("trained")
        rows.append(
            {"variant": f"with {lever}", "right": sum(b for _, b in pairs), "seconds": seconds,
             "how": f"taxolab run --set {lever}", "gained": sum(b and not a for a, b in pairs),
             "lost": sum(a and not b for a, b in pairs), "recall": recall}
        )  # fmt: skip

    def right_of(model: Path) -> int:
        return sum(r["right"] for rows_ in score(model, prompt, leaves).values() for r in rows_)

    if FORM_ABLATION in chosen:
        kinds = form_kinds(main_run)
        variants = form_variants(kinds or [])
        if kinds is None:
            rows.append({"variant": "form kinds (mix.forms)", "skipped": "this taxolab has no mix.forms setting"})
        elif not any(name.startswith("fewer forms") for name in variants):
            rows.append({"variant": "fewer forms", "skipped": f"mix.forms {kinds} has no teacher kind {TEACHER_FORMS}"})
        for name, keep in variants.items():
            folder = seed_variant_run(main_run, work / f"run-{slug(name)}")
            settings = [
                *(QUICK_SETTINGS if args.quick else []),
                *ABLATION_RUN_SETTINGS,
                f"mix.forms=[{', '.join(keep)}]",
            ]
            seconds = run_loop(ablation_taxonomy(main_run, work, leaves), folder, env, settings)
            rows.append({"variant": name, "right": right_of(trained_model(folder)), "seconds": seconds, "how": "taxolab run --set mix.forms"})  # fmt: skip
    for name in [c for c in chosen if c in FILE_ABLATIONS]:
        data = ablation_data(main_run, work / f"data-{slug(name)}", name, prompt)
        seconds, final = train_ablation(data, work / f"train-{slug(name)}", name, env)
        rows.append(
            {"variant": name, "right": right_of(final), "seconds": seconds, "how": "mix files changed, trained"}
        )
    return rows


if __name__ == "__main__":
    main()
