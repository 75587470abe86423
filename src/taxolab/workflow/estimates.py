"""What each stage of ``taxolab run`` would cost, for ``taxolab run --plan``.

Estimates come from counts that are cheap to get: changed leaves, their seed
examples, document chunks (documents are fetched and chunked, which takes
seconds), the scale factor, the pipelines' teacher calls per row. They are
divided by a throughput per stage: the one this run folder measured the last
time the stage ran (``run.json``, :mod:`taxolab.workflow.throughput`) when it
has one ("measured"), else the constants :data:`CPU_RATES` / :data:`GPU_RATES`
("default rate"). They are predictions, not bounds: the answers and rows a
pipeline yields, the tokens per answer and the forms per fact are expected
values measured on a real run (the constants below say which), so that the plan
of the chickadee leaf lands within 1.5x of the measured run (issue 18). The
upper bound of teacher work (every answer at its token cap) is kept beside it
(``completion_tokens_max``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from taxolab.config import Config
from taxolab.errors import TaxolabError
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.manifest import RunManifest, StageRecord
from taxolab.workflow.stages import Estimate


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
    teacher_tok_s=70.0,
    train_tok_s=150.0,
    score_tok_s=300.0,
    source=(
        "measured on a 2-core CPU machine, idle, cpu-small on the chickadee leaf (bench/bench_knowledge_recall.py, "
        "2026-12-04): packaged 135M teacher under llama-server 72 generated tok/s over 4 slots (n choices, prompt "
        "cache); full fp32 fine-tune 157 trained tok/s over the whole train stage (checkpoint selection included; "
        "bf16 autocast on the later AVX-512 BF16 machine, where fp32 ran 129-141: 150, 2026-12-05); "
        "a forward pass about 3x a training step; evaluation 1.7 questions/s"
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
SKILL_SAMPLE_TOKENS = 250
"""Typical tokens of a skill sample (question and answer): the skill seed examples of the sample taxonomy."""
MCQ_TOKENS = 200
CONVERT_SECONDS = 15.0
"""f16 GGUF of the default model in ~7 s on a 2-core CPU (`taxolab model convert`), quantisation a few seconds more."""
MT_BENCH_QUESTIONS = 80
MT_BENCH_REFERENCE_QUESTIONS = 30
CPU_EVAL_QUESTIONS_S = 1.7
"""Evaluation questions per second (each model's answers counted) on 2 idle cores, no cache: the chickadee run
of README (600 questions in 5.9 min, 2026-12-04). GPUs: the token-rate estimate instead."""

# Expected values of the answer-first knowledge pipeline and its mix, measured on the chickadee leaf (198 spans,
# 17 chunks; SmolLM2-135M teacher, cpu-small, 2026-12-04): 1,585 questions asked in 623 requests, 265 kept
# (187 trained, 78 held out), mean 21 generated tokens per question against a 64-token cap; the knowledge mix of
# 478 samples per epoch (closed-book 201 at ~55 tokens, fill-in 197 at ~80, reverse 26 at ~65, passages 17 and
# permuted passages 34 at their chunk's length).
TOP_UP_SHARE = 0.83
"""Of the questions the top-up may ask again (``max_attempts_per_span`` - 1 rounds), the share it does ask."""
ANSWER_TOKEN_SHARE = 0.33
"""Generated tokens per answer over its ``max_tokens`` cap (questions: 21 of 64)."""
TRAINED_ROWS_PER_SPAN = 0.94
"""Question-answer rows that pass the checks and are not held out, per document span."""
SAMPLE_TOKENS = {
    "closed_book": 55,
    "fill_in": 80,
    "fill_in_item": 60,
    "wh_question": 65,
    "entity_question": 60,
    "cue_question": 74,
    "reverse": 65,
}
"""Trained tokens of one knowledge sample of each kind (chat template included). ``fill_in_item``: a fill-in
answered with its item alone (``mix.fill_in_answer: item``), 0.75x the whole-sentence one (the chickadee run's
195 fill-ins: 14,655 tokens against 19,616, SmolLM2 tokenizer and chat template, 2026-12-05)."""
WH_QUESTIONS_PER_SPAN = 0.8
"""Wh-questions per span for each one allowed (salient items that occur once run out: zebu 119 of 152 at 2)."""
ENTITY_QUESTIONS_PER_SPAN = 0.9
"""Entity-keyed questions per span for each one allowed (keys run out: zebu 129 of 152 at 2, lapis lazuli 124 of 130)."""
CUE_QUESTIONS_PER_SPAN = 0.79
"""Cue questions per span for each one allowed (salient items run out: zebu 118 of 150 at 2, 8,686 tokens, 2026-12-05)."""
REVERSE_SHARE = 0.13
"""Spans whose subject is the leaf's (the reverse question is built only for those)."""


@dataclass(frozen=True)
class MeasuredRate:
    """A stage's throughput as a run folder last measured it: ``per_second`` ``unit``s over ``seconds``."""

    per_second: float
    unit: str
    seconds: float
    where: str = "this run folder"

    def describe(self) -> str:
        return f"measured {self.per_second:,.1f} {self.unit}/s over {self.seconds:,.0f} s in {self.where}"


RATE_MODELS = {
    "generate": ("models.teacher", "generate.teacher_model", "generate.endpoint_urls", "serve"),
    "train": ("models.student", "train.device", "train.nproc_per_node", "train.method", "train.precision"),
    "evaluate": ("models.student", "models.judge", "evaluate.device", "evaluate.batch_size"),
}
"""What must match for another run folder's measured rate to stand for this run's (same machine assumed)."""


def measured_rates(manifest: RunManifest, config: dict[str, Any] | None = None) -> dict[str, MeasuredRate]:
    """Per stage kind (``generate``, ``train``, ``evaluate``), the throughput recorded in ``run.json``.

    The leaves' generation stages count together (their amounts over their
    seconds). A kind with no recorded throughput (never ran, or counted
    nothing) is absent. Where this folder has none, the newest other run
    folder beside it (same runs dir) whose recorded config matches ``config``
    on :data:`RATE_MODELS` lends its rate (``where`` names it).
    """
    found = _rates(manifest.stages, "this run folder")
    if config is None:
        return found
    siblings = []
    for path in manifest.path.parent.parent.glob(f"*/{manifest.path.name}"):
        if path.parent == manifest.path.parent:
            continue
        try:
            other = RunManifest.load(path.parent)
        except TaxolabError:
            continue
        siblings.append(other)
    siblings.sort(key=lambda other: str(other.info.get("started", "")), reverse=True)
    for other in siblings:
        recorded = other.info.get("config") or {}
        for kind, rate in _rates(other.stages, f"run {other.path.parent.name}").items():
            if kind not in found and all(_at(recorded, key) == _at(config, key) for key in RATE_MODELS[kind]):
                found[kind] = rate
    return found


def _rates(stages: dict[str, StageRecord], where: str) -> dict[str, MeasuredRate]:
    totals: dict[str, tuple[float, float, str]] = {}
    for name, record in stages.items():
        done = record.outputs.get("throughput") or {}
        if not done.get("amount") or not done.get("seconds"):
            continue
        kind = name.partition(":")[0]
        amount, seconds, _ = totals.get(kind, (0.0, 0.0, ""))
        totals[kind] = (amount + float(done["amount"]), seconds + float(done["seconds"]), str(done["unit"]))
    return {
        kind: MeasuredRate(amount / seconds, unit, seconds, where)
        for kind, (amount, seconds, unit) in totals.items()
        if kind in RATE_MODELS
    }


def _at(config: dict[str, Any], key: str) -> Any:
    section, _, name = key.partition(".")
    value = config.get(section)
    return value.get(name) if name and isinstance(value, dict) else value


@dataclass
class _Counts:
    """What the estimates are computed from, per leaf: the seed rows generation would start from."""

    chunks: dict[str, int] = field(default_factory=dict)
    chunk_tokens: dict[str, int] = field(default_factory=dict)
    seeds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mcq_seeds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """Generated rows if no check dropped any (an upper bound of the training samples they make)."""
    spans: dict[str, int] = field(default_factory=dict)
    """Answer spans (facts) of a knowledge leaf's chunks."""


@dataclass
class _Work:
    rows: int
    requests: int = 0
    completion_max: int = 0
    completion: float = 0.0
    """Expected generated tokens (:data:`ANSWER_TOKEN_SHARE` of each answer's cap)."""


class Estimator:
    """The estimate of each stage of one run (``config`` effective, ``leaves`` the changed ones).

    Counting chunks fetches and chunks the documents, so it is done once, on
    the first estimate asked for; a run that never plans never counts.
    ``manifest`` is the run folder's record, whose measured rates (or those of
    a run beside it with the same models, :func:`measured_rates`) replace the
    defaults stage by stage.
    """

    def __init__(self, config: Config, leaves: list[Leaf], manifest: RunManifest) -> None:
        self.config = config
        self.leaves = leaves
        self.rates = GPU_RATES if config.train.device == "cuda" else CPU_RATES
        self.measured = measured_rates(manifest, config.model_dump(mode="json"))

    @functools.cached_property
    def counts(self) -> _Counts:
        """Chunks (documents fetched and chunked as generation would) and seed rows of each leaf."""
        from taxolab.sdg.chunks import ChunkPlan, leaf_chunks, spread
        from taxolab.sdg.generate import teacher_token_counter
        from taxolab.sdg.seeds import knowledge_seeds, mcq_seeds, skill_seeds
        from taxolab.sdg.spans import document_spans

        config = self.config
        settings = config.generate
        chunk_plan = ChunkPlan.fit(
            settings.chunk_word_count, settings.chunk_overlap, config.serve.max_ctx_size, settings.max_num_tokens
        )
        counts = _Counts()
        tokens = teacher_token_counter(config)  # the counter generation chunks with, so the chunks are the same
        for leaf in self.leaves:
            if leaf.is_knowledge:
                chunks = leaf_chunks(leaf, chunk_plan, tokens, config.documents)
                if config.run.max_chunks_per_leaf:
                    chunks = spread(chunks, config.run.max_chunks_per_leaf)
                counts.chunks[leaf.name] = len(chunks)
                counts.chunk_tokens[leaf.name] = sum(tokens(c) for c in chunks)
                counts.spans[leaf.name] = sum(len(document_spans(chunk)) for chunk in chunks)
                per_chunk = getattr(self.pipelines.for_kind(leaf.kind), "seed_rows", None) == "per_chunk"
                counts.seeds[leaf.name] = knowledge_seeds(leaf, chunks, settings.sdg_scale_factor, per_chunk=per_chunk)
                counts.mcq_seeds[leaf.name] = mcq_seeds(leaf, chunks)
            else:
                counts.seeds[leaf.name] = skill_seeds(leaf, settings.sdg_scale_factor)
            blocks = self.pipelines.for_kind(leaf.kind).blocks
            counts.rows[leaf.name] = self._teacher_work(blocks, counts.seeds[leaf.name]).rows
        return counts

    @functools.cached_property
    def pipelines(self) -> Any:
        from taxolab.sdg.library import load_pipeline_set

        return load_pipeline_set(self.config.generate.pipeline)

    def _rate(self, kind: str, default: float, unit: str) -> tuple[float, str]:
        """(per second, how it is described) for stage ``kind``: measured in this folder, else ``default``."""
        measured = self.measured.get(kind)
        if measured is not None and measured.unit == unit and measured.per_second > 0:
            return measured.per_second, measured.describe()
        return default, f"default rate {default:g} {unit}/s"

    def _teacher_work(self, blocks: Any, seeds: list[dict[str, Any]]) -> _Work:
        """The teacher requests and most tokens a pipeline asks for from these seed rows, if no row were dropped.

        Rows fan out where blocks make several of one (a span split makes one per
        span of the real chunk text; ``n`` samples and ``iterate`` multiply) and
        every row is assumed to survive the checks.
        """
        from taxolab.sdg.blocks import knowledge
        from taxolab.sdg.blocks.iterate import Iterate
        from taxolab.sdg.blocks.llm import LLMBlock

        config = self.config
        cap = config.generate.max_num_tokens
        work = _Work(len(seeds))
        for block in blocks:
            if isinstance(block, Iterate):
                inner = self._teacher_work([block.inner], [{}] * work.rows)
                times = block.config.times
                work = _Work(
                    times * inner.rows,
                    work.requests + times * inner.requests,
                    work.completion_max + times * inner.completion_max,
                    work.completion + times * inner.completion,
                )
            elif isinstance(block, knowledge.SplitSpans):
                work.rows = block.count(seeds) if seeds and "document" in seeds[0] else work.rows
            elif isinstance(block, LLMBlock):
                tokens = min(cap, int(block.config.gen_kwargs.get("max_tokens", cap)))
                if isinstance(block, knowledge.SpanQuestions):
                    asked = block.config.questions if isinstance(block.config, knowledge.SpanQuestionsConfig) else None
                    times = asked or knowledge.leaf_questions_per_span(
                        work.rows, config.generate.questions_per_span, config.generate.questions_per_leaf
                    )
                    # one request of n choices per span, then top-ups for spans left short (measured share)
                    rounds = 1.0
                    if isinstance(block.config, knowledge.SpanQuestionsConfig) and block.config.top_up is not None:
                        rounds += (config.generate.max_attempts_per_span - 1) * TOP_UP_SHARE
                    asks, answers = round(work.rows * rounds), round(work.rows * times * rounds)
                else:
                    asks, answers = work.rows, work.rows * int(block.config.n)
                work = _Work(
                    answers,
                    work.requests + asks,
                    work.completion_max + answers * tokens,
                    work.completion + answers * tokens * ANSWER_TOKEN_SHARE,
                )
        return work

    def taxonomy(self) -> Estimate:
        return Estimate(seconds=1.0)

    def report(self) -> Estimate:
        return Estimate(seconds=2.0)

    def mix(self) -> Estimate:
        return Estimate(seconds=2.0)

    def convert(self) -> Estimate:
        return Estimate(seconds=CONVERT_SECONDS, basis="llama.cpp converter (+ llama-quantize)")

    def generation(self, leaf: Leaf) -> Estimate:
        """Teacher requests and completion tokens (each at its cap) of one leaf's pipeline, test questions included."""
        settings = self.config.generate
        counts = self.counts
        seeds = counts.seeds[leaf.name]
        work = self._teacher_work(self.pipelines.for_kind(leaf.kind).blocks, seeds)
        prompt = (counts.chunk_tokens[leaf.name] / max(1, counts.chunks[leaf.name])) if leaf.is_knowledge else 300
        basis = f"{len(seeds)} seed rows, {settings.pipeline} pipeline, scale factor {settings.sdg_scale_factor}"
        if leaf.is_knowledge:
            mcq = self._teacher_work(self.pipelines.mcq.blocks, counts.mcq_seeds[leaf.name])
            work = _Work(
                work.rows,
                work.requests + mcq.requests,
                work.completion_max + mcq.completion_max,
                work.completion + mcq.completion,
            )
            basis = (
                f"{counts.chunks[leaf.name]} chunks, {counts.spans[leaf.name]} spans; {basis}; "
                f"{mcq.requests} test-question requests"
            )
        rate, source = self._rate("generate", self.rates.teacher_tok_s, "tokens")
        return Estimate(
            teacher_requests=work.requests,
            prompt_tokens=int(work.requests * (prompt + 300)),
            completion_tokens=round(work.completion),
            completion_tokens_max=work.completion_max,
            seconds=round(work.completion / rate, 1),
            basis=basis + f"; answers at {ANSWER_TOKEN_SHARE:.0%} of their token cap, top-ups as measured",
            rate=source,
        )

    def train(self) -> Estimate:
        """Trained tokens of the mix the leaves are expected to give, over the trainer's rate.

        Knowledge: the question rows expected to pass the checks (:data:`TRAINED_ROWS_PER_SPAN`), the seed
        examples, the passages with their permuted orders, and the teacher-free forms of ``mix.forms`` per fact
        (:data:`SAMPLE_TOKENS`), each knowledge epoch, plus the skills phase's replay when there are skills leaves; skills: the generated rows.
        """
        config = self.config
        counts = self.counts
        train = config.train
        seeds = config.mix.seed_examples
        tokens = 0
        knowledge_tokens = 0
        samples = 0
        for leaf in self.leaves:
            if leaf.is_knowledge:
                mix = config.mix
                spans, chunks, chunk_tokens = (
                    counts.spans[leaf.name],
                    counts.chunks[leaf.name],
                    counts.chunk_tokens[leaf.name],
                )
                per_chunk = chunk_tokens / max(1, chunks)
                rows = round(spans * TRAINED_ROWS_PER_SPAN) if "questions" in mix.forms else 0
                rows += len(leaf.seed_examples) if seeds else 0
                # every pair closed-book, and that share again with its passage (mix.context_ratio)
                with_context = rows * mix.context_ratio * min(train.max_seq_len, per_chunk + 100)
                orders = 1 + (mix.passage_permutations if "permuted_passages" in mix.forms else 0)
                # one fill-in per fact, and about 0.3 more per further one allowed (salient items run out)
                fill_ins = spans * (min(1, mix.fill_in_per_fact) + 0.3 * max(0, mix.fill_in_per_fact - 1))
                fill_ins = fill_ins if "fill_in" in mix.forms else 0
                wh = spans * WH_QUESTIONS_PER_SPAN * mix.wh_questions_per_fact if "wh_questions" in mix.forms else 0
                entity = (
                    spans * ENTITY_QUESTIONS_PER_SPAN * mix.entity_questions_per_fact
                    if "entity_questions" in mix.forms
                    else 0
                )
                cue = spans * CUE_QUESTIONS_PER_SPAN * mix.cue_questions_per_fact if "cue_questions" in mix.forms else 0
                reverse = spans * REVERSE_SHARE if "reverse" in mix.forms else 0
                leaf_tokens = int(
                    rows * SAMPLE_TOKENS["closed_book"]
                    + with_context
                    + chunk_tokens * orders
                    + fill_ins * SAMPLE_TOKENS["fill_in" if mix.fill_in_answer == "sentence" else "fill_in_item"]
                    + wh * SAMPLE_TOKENS["wh_question"]
                    + entity * SAMPLE_TOKENS["entity_question"]
                    + cue * SAMPLE_TOKENS["cue_question"]
                    + reverse * SAMPLE_TOKENS["reverse"]
                )
                knowledge_tokens += leaf_tokens
                samples += round(rows + chunks * orders + fill_ins + wh + entity + cue + reverse)
            else:
                rows = counts.rows[leaf.name] + (len(leaf.seed_examples) if seeds else 0)
                epochs = train.phase_value("skills", "epochs")
                tokens += rows * min(train.max_seq_len, SKILL_SAMPLE_TOKENS) * epochs
                samples += rows
        tokens += knowledge_tokens * train.phase_epochs("knowledge", knowledge_tokens)
        # the skills mix replays knowledge samples only beside skills samples (mixing.training_sets)
        with_skills = any(not leaf.is_knowledge for leaf in self.leaves)
        replay_share = config.mix.knowledge_replay if with_skills else 0.0
        replay = int(knowledge_tokens * replay_share)
        tokens += replay * train.phase_value("skills", "epochs")
        processes = max(1, train.nproc_per_node * train.nnodes)
        default = self.rates.train_tok_s * (processes if self.rates is GPU_RATES else 1)
        rate, source = self._rate("train", default, "tokens")
        return Estimate(
            train_tokens=tokens,
            seconds=round(tokens / rate, 1),
            basis=(
                f"~{samples} samples (rows expected to pass the checks{', seed examples' if seeds else ''}, "
                f"knowledge passages and forms) x epochs per phase, knowledge replay {replay_share:g}"
            ),
            rate=source,
        )

    def evaluate(self, benchmarks: list[str]) -> Estimate:
        """Answers from base and trained model, judgments where the benchmark uses a judge.

        With a measured rate (questions/s, each model's answers counted, as
        :func:`taxolab.workflow.throughput.evaluated_questions` counts them) the
        time is the questions over it; else generated tokens over the teacher's
        rate plus scored tokens over the forward-pass rate.
        """
        settings = self.config.evaluate
        counts = self.counts
        knowledge = [leaf for leaf in self.leaves if leaf.is_knowledge]
        skills = [leaf for leaf in self.leaves if not leaf.is_knowledge]
        answers = judgments = 0
        score_tokens = 0
        asked = 0
        parts = []
        for name in benchmarks:
            if name == "mmlu_branch":
                questions = sum(
                    len(counts.mcq_seeds.get(leaf.name, [])) + len(leaf.seed_examples) for leaf in knowledge
                )
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
            elif name == "mt_bench_reference":
                questions = MT_BENCH_REFERENCE_QUESTIONS
                score_tokens += questions * 2 * MCQ_TOKENS
                parts.append(f"mt_bench_reference {questions} reference answers scored")
            elif name == "mmlu":
                questions = (settings.mmlu_limit or 250) * (len(settings.mmlu_subjects) or 57)
                questions = min(questions, settings.mmlu_sample or questions)
                score_tokens += questions * 2 * MCQ_TOKENS
                parts.append(f"mmlu ~{questions} questions scored")
            else:
                questions = 0
                parts.append(f"{name}: not estimated")
            asked += 2 * questions
        completion = answers * settings.max_tokens + judgments * settings.judge_max_tokens
        default = completion / self.rates.teacher_tok_s + score_tokens / self.rates.score_tok_s
        measured = self.measured.get("evaluate")
        if measured is not None and measured.unit == "questions" and measured.per_second > 0 and asked:
            seconds, source = asked / measured.per_second, measured.describe()
        elif self.rates is CPU_RATES and asked:
            seconds, source = asked / CPU_EVAL_QUESTIONS_S, f"default rate {CPU_EVAL_QUESTIONS_S:g} questions/s"
        else:
            seconds = default
            source = f"default rates {self.rates.teacher_tok_s:g} generated, {self.rates.score_tok_s:g} scored tok/s"
        return Estimate(
            teacher_requests=answers + judgments,
            completion_tokens_max=completion,
            seconds=round(seconds, 1),
            basis="; ".join(parts) + ", base and trained model",
            rate=source,
        )
