"""``taxolab run --plan``: what a run would do, before it does anything.

For each stage of :data:`taxolab.workflow.stages.STAGES`: whether it is
already done (its recorded fingerprint matches and its outputs still exist),
and an estimate of its teacher requests, tokens and wall time from counts
that are cheap to get: changed leaves, their seed examples, document chunks
(documents are fetched and chunked, which takes seconds), the scale factor,
the pipelines' teacher calls per row, and the rates in :data:`CPU_RATES` /
:data:`GPU_RATES`. Estimates of teacher work are upper bounds: every request
is counted as if no row were filtered out and every answer ran to
``generate.max_num_tokens``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from taxolab.config import Config
from taxolab.console import stdout
from taxolab.hashing import hash_json
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.manifest import RunManifest
from taxolab.workflow.run import (
    MixOutputs,
    RunOptions,
    benchmarks_for,
    convert_inputs,
    evaluate_inputs,
    generation_inputs,
    mix_inputs,
    prepare_run,
    train_inputs,
)
from taxolab.workflow.stages import STAGE, outputs_present


@dataclass(frozen=True)
class Rates:
    """Throughputs an estimate divides by, with where they come from."""

    teacher_tok_s: float
    """Generated tokens per second of the teacher server, all slots together."""
    train_tok_s: float
    """Trained tokens per second (forward + backward), all processes together."""
    score_tok_s: float
    """Tokens per second of a forward pass alone (log-likelihood scoring)."""
    source: str


CPU_RATES = Rates(
    teacher_tok_s=65.0,
    train_tok_s=100.0,
    score_tok_s=300.0,
    source=(
        "measured on a 2-core CPU machine, idle (bench/bench_teacher_utilisation.py, bench/bench_train.py): "
        "packaged 135M teacher under llama-server "
        "~65 tok/s over 4 slots; full fp32 fine-tune ~100 tok/s; a forward pass about 3x a training step"
    ),
)
GPU_RATES = Rates(
    teacher_tok_s=2000.0,
    train_tok_s=3000.0,
    score_tok_s=9000.0,
    source=(
        "assumed, not measured here: a 7B teacher under vLLM on one data-centre GPU ~2000 tok/s over its slots; "
        "a 7B full fine-tune in bf16 ~3000 tok/s per GPU"
    ),
)
TOKENS_PER_WORD = 1.3
SKILL_SAMPLE_TOKENS = 250
"""Typical tokens of a skill sample (question and answer): the skill seed examples of the sample taxonomy."""
MCQ_TOKENS = 200
CONVERT_SECONDS = 15.0
"""f16 GGUF of the default model in ~7 s on a 2-core CPU (`taxolab model convert`), quantisation a few seconds more."""
MT_BENCH_QUESTIONS = 80


@dataclass
class Estimate:
    teacher_requests: int = 0
    prompt_tokens: int = 0
    completion_tokens_max: int = 0
    train_tokens: int = 0
    seconds: float = 0.0
    basis: str = ""


@dataclass
class PlannedStage:
    name: str
    title: str
    status: str
    """``done`` (skipped on a run), ``runs``, or ``always`` (cheap stages that run every time)."""
    reads: dict[str, Any] = field(default_factory=dict)
    estimate: Estimate = field(default_factory=Estimate)


@dataclass
class RunPlan:
    run_dir: str
    profile: str | None
    budget: str | None
    rates: Rates
    stages: list[PlannedStage]
    settings: dict[str, Any]
    """The whole effective config."""
    changed: dict[str, Any]
    """``section.key`` -> value for every setting that differs from taxolab's defaults (profile, file, flags)."""

    @property
    def total(self) -> Estimate:
        todo = [s.estimate for s in self.stages if s.status != "done"]
        return Estimate(
            teacher_requests=sum(e.teacher_requests for e in todo),
            prompt_tokens=sum(e.prompt_tokens for e in todo),
            completion_tokens_max=sum(e.completion_tokens_max for e in todo),
            train_tokens=sum(e.train_tokens for e in todo),
            seconds=round(sum(e.seconds for e in todo), 1),
            basis="the stages that will run",
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = asdict(self.total)
        return data


@dataclass
class _Counts:
    """What the estimates are computed from, per leaf: the seed rows generation would start from."""

    chunks: dict[str, int] = field(default_factory=dict)
    chunk_tokens: dict[str, int] = field(default_factory=dict)
    seeds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mcq_seeds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """Generated rows if no check dropped any (an upper bound of the training samples they make)."""


def plan_workflow(config: Config, options: RunOptions) -> RunPlan:
    """The plan of ``run_workflow(config, options)``: nothing is generated, trained or written."""
    run = prepare_run(config, options)
    config, layout, leaves = run.config, run.layout, run.leaves
    manifest = RunManifest.load(layout.root)
    rates = GPU_RATES if config.train.device == "cuda" else CPU_RATES
    counts = _count(config, leaves)
    stages: list[PlannedStage] = []

    def status(name: str, inputs: Any | None) -> str:
        if inputs is None:
            return "runs"
        record = manifest.done(name, hash_json(inputs))
        return "done" if record is not None and outputs_present(record.outputs) else "runs"

    stages.append(PlannedStage("taxonomy", STAGE["taxonomy"].title, "always", estimate=Estimate(seconds=1.0)))
    items = []
    from taxolab.workflow.data import LeafData

    for leaf in leaves:
        inputs = generation_inputs(config, leaf)
        items.append(LeafData(leaf, layout.leaf_data(leaf.name, hash_json(inputs))))
        stages.append(
            PlannedStage(
                f"generate:{leaf.name}",
                f"{STAGE['generate'].title}: {leaf.name}",
                status(f"generate:{leaf.name}", inputs),
                STAGE["generate"].config_inputs(config),
                _generation_estimate(config, leaf, counts, rates),
            )
        )
    generation_done = all(s.status == "done" for s in stages[1:])
    mix_status = status("mix", mix_inputs(config, items)) if generation_done else "runs"
    stages.append(
        PlannedStage("mix", STAGE["mix"].title, mix_status, STAGE["mix"].config_inputs(config), Estimate(seconds=2.0))
    )
    train_hash = None
    train_status = "runs"
    if mix_status == "done":
        work, selection = train_inputs(config, MixOutputs.of(manifest.stages["mix"]))
        train_status = status("train", {**work, "selection": selection})
        train_hash = hash_json({**work, "selection": selection})
    stages.append(
        PlannedStage(
            "train",
            STAGE["train"].title,
            train_status,
            STAGE["train"].config_inputs(config, selection=True),
            _train_estimate(config, leaves, counts, rates),
        )
    )
    after_train = train_hash if train_status == "done" else None
    convert = convert_inputs(config, after_train) if after_train else None
    stages.append(
        PlannedStage(
            "convert",
            f"{STAGE['convert'].title} ({config.run.outtype})",
            status("convert", convert) if convert is not None else "runs",
            STAGE["convert"].config_inputs(config),
            Estimate(seconds=CONVERT_SECONDS, basis="llama.cpp converter (+ llama-quantize)"),
        )
    )
    evaluate = evaluate_inputs(config, after_train, layout, leaves) if after_train is not None else None
    stages.append(
        PlannedStage(
            "evaluate",
            f"{STAGE['evaluate'].title} ({', '.join(benchmarks_for(config))})",
            status("evaluate", evaluate) if evaluate is not None else "runs",
            STAGE["evaluate"].config_inputs(config),
            _evaluate_estimate(config, leaves, counts, rates),
        )
    )
    stages.append(PlannedStage("report", STAGE["report"].title, "always", estimate=Estimate(seconds=2.0)))
    cap = config.run.max_chunks_per_leaf
    return RunPlan(
        run_dir=str(layout.root),
        profile=config.profile,
        budget=f"at most {cap} document chunks per knowledge leaf (run.max_chunks_per_leaf)" if cap else None,
        rates=rates,
        stages=stages,
        settings=config.model_dump(mode="json"),
        changed=_changed(config.model_dump(mode="json"), Config.model_validate({}).model_dump(mode="json")),
    )


def _changed(values: dict[str, Any], defaults: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in values.items():
        default = defaults.get(key)
        if isinstance(value, dict) and isinstance(default, dict) and key != "mirrors":
            found.update(_changed(value, default, f"{prefix}{key}."))
        elif value != default:
            found[f"{prefix}{key}"] = value
    return found


def _count(config: Config, leaves: list[Leaf]) -> _Counts:
    """Chunks (documents fetched and chunked as generation would) and seed rows of each leaf."""
    from taxolab.sdg.chunks import ChunkPlan, estimated_tokens, leaf_chunks, spread
    from taxolab.sdg.library import load_pipeline_set
    from taxolab.sdg.seeds import knowledge_seeds, mcq_seeds, skill_seeds

    settings = config.generate
    pipelines = load_pipeline_set(settings.pipeline)
    chunk_plan = ChunkPlan.fit(
        settings.chunk_word_count, settings.chunk_overlap, config.serve.max_ctx_size, settings.max_num_tokens
    )
    counts = _Counts()
    for leaf in leaves:
        if leaf.is_knowledge:
            chunks = leaf_chunks(leaf, chunk_plan, estimated_tokens, config.documents)
            if config.run.max_chunks_per_leaf:
                chunks = spread(chunks, config.run.max_chunks_per_leaf)
            counts.chunks[leaf.name] = len(chunks)
            counts.chunk_tokens[leaf.name] = sum(estimated_tokens(c) for c in chunks)
            per_chunk = getattr(pipelines.for_kind(leaf.kind), "seed_rows", None) == "per_chunk"
            counts.seeds[leaf.name] = knowledge_seeds(leaf, chunks, settings.sdg_scale_factor, per_chunk=per_chunk)
            counts.mcq_seeds[leaf.name] = mcq_seeds(leaf, chunks)
        else:
            counts.seeds[leaf.name] = skill_seeds(leaf, settings.sdg_scale_factor)
        blocks = pipelines.for_kind(leaf.kind).blocks
        counts.rows[leaf.name] = _teacher_work(blocks, counts.seeds[leaf.name], config).rows
    return counts


@dataclass
class _Work:
    rows: int
    requests: int = 0
    completion_max: int = 0


def _teacher_work(blocks: Any, seeds: list[dict[str, Any]], config: Config) -> _Work:
    """The teacher requests and most tokens a pipeline asks for from these seed rows, if no row were dropped.

    Rows fan out where blocks make several of one (a span split makes one per
    span of the real chunk text; ``n`` samples and ``iterate`` multiply) and
    every row is assumed to survive the checks.
    """
    from taxolab.sdg.blocks import knowledge
    from taxolab.sdg.blocks.iterate import Iterate
    from taxolab.sdg.blocks.llm import LLMBlock

    cap = config.generate.max_num_tokens
    work = _Work(len(seeds))
    for block in blocks:
        if isinstance(block, Iterate):
            inner = _teacher_work([block.inner], [{}] * work.rows, config)
            work = _Work(
                block.config.times * inner.rows,
                work.requests + block.config.times * inner.requests,
                work.completion_max + block.config.times * inner.completion_max,
            )
        elif isinstance(block, knowledge.SplitSpans):
            spans = sum(
                len(knowledge.document_spans(str(seed.get(block.config.column, "")), min_words=block.config.min_words))
                for seed in seeds
            )
            work.rows = spans if seeds and "document" in seeds[0] else work.rows
        elif isinstance(block, LLMBlock):
            tokens = min(cap, int(block.config.gen_kwargs.get("max_tokens", cap)))
            if isinstance(block, knowledge.SpanQuestions):
                asked = block.config.questions if isinstance(block.config, knowledge.SpanQuestionsConfig) else None
                times = asked or config.generate.questions_per_span
                asks, answers = work.rows * times, work.rows * times
            else:
                asks, answers = work.rows, work.rows * int(block.config.n)
            work = _Work(answers, work.requests + asks, work.completion_max + answers * tokens)
    return work


def _generation_estimate(config: Config, leaf: Leaf, counts: _Counts, rates: Rates) -> Estimate:
    from taxolab.sdg.library import load_pipeline_set

    settings = config.generate
    pipelines = load_pipeline_set(settings.pipeline)
    seeds = counts.seeds[leaf.name]
    work = _teacher_work(pipelines.for_kind(leaf.kind).blocks, seeds, config)
    prompt = (counts.chunk_tokens[leaf.name] / max(1, counts.chunks[leaf.name])) if leaf.is_knowledge else 300
    basis = f"{len(seeds)} seed rows, {settings.pipeline} pipeline, scale factor {settings.sdg_scale_factor}"
    if leaf.is_knowledge:
        mcq = _teacher_work(pipelines.mcq.blocks, counts.mcq_seeds[leaf.name], config)
        work = _Work(work.rows, work.requests + mcq.requests, work.completion_max + mcq.completion_max)
        basis = f"{counts.chunks[leaf.name]} chunks; {basis}; {mcq.requests} test-question requests"
    return Estimate(
        teacher_requests=work.requests,
        prompt_tokens=int(work.requests * (prompt + 300)),
        completion_tokens_max=work.completion_max,
        seconds=round(work.completion_max / rates.teacher_tok_s, 1),
        basis=basis + f"; every answer at its token cap, {rates.teacher_tok_s:g} tok/s",
    )


def _train_estimate(config: Config, leaves: list[Leaf], counts: _Counts, rates: Rates) -> Estimate:
    """Samples: the generated rows (none dropped), the seed examples and (knowledge) the passages themselves."""
    train = config.train
    seeds = config.mix.seed_examples
    tokens = 0
    knowledge_tokens = 0
    samples = 0
    for leaf in leaves:
        rows = counts.rows[leaf.name] + (len(leaf.seed_examples) if seeds else 0)
        if leaf.is_knowledge:
            per_chunk = counts.chunk_tokens[leaf.name] / max(1, counts.chunks[leaf.name])
            # every pair closed-book (~100 tokens), and that share again with its passage (mix.context_ratio)
            share = config.mix.context_ratio
            per_sample = 100 + int(share * min(train.max_seq_len, int(per_chunk) + 100))
            leaf_tokens = rows * per_sample + counts.chunk_tokens[leaf.name]
            epochs = train.phase_value("knowledge", "epochs")
            knowledge_tokens += leaf_tokens
            tokens += leaf_tokens * epochs
            samples += rows + counts.chunks[leaf.name]
        else:
            epochs = train.phase_value("skills", "epochs")
            tokens += rows * min(train.max_seq_len, SKILL_SAMPLE_TOKENS) * epochs
            samples += rows
    replay = int(knowledge_tokens * config.mix.knowledge_replay)
    tokens += replay * train.phase_value("skills", "epochs")
    processes = max(1, train.nproc_per_node * train.nnodes)
    rate = rates.train_tok_s * (processes if rates is GPU_RATES else 1)
    return Estimate(
        train_tokens=tokens,
        seconds=round(tokens / rate, 1),
        basis=(
            f"~{samples} samples (generated rows{', seed examples' if seeds else ''}, knowledge passages) "
            f"x epochs per phase, knowledge replay {config.mix.knowledge_replay:g}, at {rate:g} trained tok/s"
        ),
    )


def _evaluate_estimate(config: Config, leaves: list[Leaf], counts: _Counts, rates: Rates) -> Estimate:
    """Answers from base and trained model, judgments where the benchmark uses a judge."""
    settings = config.evaluate
    knowledge = [leaf for leaf in leaves if leaf.is_knowledge]
    skills = [leaf for leaf in leaves if not leaf.is_knowledge]
    answers = judgments = 0
    score_tokens = 0
    parts = []
    for name in benchmarks_for(config):
        if name == "mmlu_branch":
            questions = sum(len(counts.mcq_seeds.get(leaf.name, [])) + len(leaf.seed_examples) for leaf in knowledge)
            score_tokens += questions * 2 * MCQ_TOKENS
            parts.append(f"mmlu_branch ~{questions} questions scored")
        elif name == "mt_bench_branch":
            questions = sum(len(leaf.seed_examples) for leaf in skills)
            answers += 2 * questions
            judgments += 2 * questions
            parts.append(f"mt_bench_branch {questions} questions")
        elif name == "recall":
            questions = sum(len(leaf.seed_examples) + counts.chunks.get(leaf.name, 0) for leaf in knowledge)
            answers += 2 * questions
            judgments += 2 * questions
            parts.append(f"recall ~{questions} questions")
        elif name == "mt_bench":
            questions = settings.mt_bench_limit or MT_BENCH_QUESTIONS
            answers += 2 * 2 * questions
            judgments += 2 * 2 * questions
            parts.append(f"mt_bench {questions} questions x 2 turns")
        elif name == "mmlu":
            questions = (settings.mmlu_limit or 250) * (len(settings.mmlu_subjects) or 57)
            questions = min(questions, settings.mmlu_sample or questions)
            score_tokens += questions * 2 * MCQ_TOKENS
            parts.append(f"mmlu ~{questions} questions scored")
        else:
            parts.append(f"{name}: not estimated")
    completion = answers * settings.max_tokens + judgments * settings.judge_max_tokens
    seconds = completion / rates.teacher_tok_s + score_tokens / rates.score_tok_s
    return Estimate(
        teacher_requests=answers + judgments,
        completion_tokens_max=completion,
        seconds=round(seconds, 1),
        basis="; ".join(parts) + ", base and trained model",
    )


def render_plan(plan: dict[str, Any]) -> None:
    """The plan for people: one line per stage, the budget, the totals and where the rates come from."""
    stdout.print(f"[bold]plan[/bold] for {plan['run_dir']} (profile: {plan['profile'] or 'none'})")
    if plan["budget"]:
        stdout.print(f"budget: {plan['budget']}")
    for stage in plan["stages"]:
        est = stage["estimate"]
        what = []
        if est["teacher_requests"]:
            what.append(f"{est['teacher_requests']} requests, <= {est['completion_tokens_max']} tokens")
        if est["train_tokens"]:
            what.append(f"~{est['train_tokens']} trained tokens")
        if stage["status"] != "done":
            what.append(f"~{_duration(est['seconds'])}")
        detail = f"  ({'; '.join(what)})" if what else ""
        stdout.print(f"  {stage['status']:>6}  {stage['title']}{detail}", highlight=False)
    total = plan["total"]
    stdout.print(
        f"to do: {total['teacher_requests']} teacher requests, <= {total['completion_tokens_max']} generated tokens, "
        f"~{total['train_tokens']} trained tokens, ~{_duration(total['seconds'])} (upper bounds)",
        highlight=False,
    )
    stdout.print(f"rates: {plan['rates']['source']}", highlight=False, soft_wrap=True)
    changed = ", ".join(f"{key}={value}" for key, value in plan["changed"].items() if not key.startswith("paths."))
    stdout.print(f"settings other than the defaults: {changed or 'none'}", highlight=False, soft_wrap=True)
    stdout.print("every effective setting: taxolab run --plan --json (key `settings`)", highlight=False)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{math.ceil(seconds)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
