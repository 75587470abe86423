"""Teacher question requests: taxolab's generation vs the same prompts sent bare to llama-server, one run.

The answer-first knowledge pipeline asks the teacher for questions about each span of a document
(``span_questions``). This bench takes the spans of the chickadee leaf's seed contexts
(../shared/data/taxonomy) and the default model on llama-server with the same flags as a run
(``serve.max_ctx_size`` per slot, ``serve.parallel`` slots), a fresh server per side so no side
inherits another's prompt cache, and runs:

- ``before``  (bare): the old layout, few-shot turns picked per span, K separate ``n=1`` requests;
- ``shared``  (bare): the leaf's turns fixed for every span (span last), K separate ``n=1`` requests;
- ``bare``    (bare): fixed turns, one request with ``n=K`` per span: exactly what taxolab sends;
- ``taxolab``: the ``span_questions`` block through taxolab's teacher pool, first pass only;
- ``top-up``:  the same with ``generate.max_attempts_per_span`` requests per span at most.

Per side: wall seconds, requests, prompt tokens sent and evaluated (not taken from the cache) per
request, completion tokens per second (counted by the server's own tokenizer), distinct usable
questions per second (the pipeline's question check, per span), and spans with at least K usable.
Ratios: taxolab / bare (overhead of taxolab's path on the same prompts) and shared, bare / before.

    .venv/bin/python bench/bench_teacher_prompts.py [--quick] [--questions 3] [--spans N]

Other load on the machine changes every side; the sides run one after the other, so compare
ratios from one run, and run it on an otherwise idle machine (``uptime`` first).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from taxolab.config import load_config
from taxolab.llm.client import Completion, normalise_base_url
from taxolab.llm.server import ServerHandle, start_server
from taxolab.models.default import default_gguf_path
from taxolab.sdg.blocks import BlockContext, build_block
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.blocks.knowledge import SpanQuestions
from taxolab.sdg.library import load_pipeline_set
from taxolab.sdg.prompts import PromptConfig
from taxolab.sdg.seeds import seed_pool
from taxolab.sdg.spans import document_spans
from taxolab.sdg.teacher import TeacherPool, TeacherSpec
from taxolab.taxonomy import load_leaf
from taxolab.text import normalize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LEAF = "knowledge/science/animals/birds/black_capped_chickadee"


@dataclass
class Side:
    name: str
    seconds: float = 0.0
    requests: int = 0
    prompt_sent: int = 0
    prompt_evaluated: int = 0
    completion_tokens: int = 0
    questions: dict[str, set[str]] = field(default_factory=dict)  # span -> usable questions (normalised)
    texts: list[str] = field(default_factory=list)


def spans_of_leaf(limit: int) -> tuple[list[dict[str, Any]], str]:
    root = SHARED / "taxonomy"
    leaf = load_leaf(root / LEAF / "qna.yaml", root)
    pool = seed_pool(leaf)
    rows: list[dict[str, Any]] = []
    for index, example in enumerate(leaf.seed_examples):
        for number, span in enumerate(document_spans(example.context or "")):
            rows.append(
                {
                    "leaf": leaf.name,
                    "span": span,
                    "answer": span,
                    "span_id": f"{index}:{number}",
                    "document": example.context or "",
                    "document_outline": (leaf.document_outline or "").strip(),
                    "seed_pool": pool,
                }
            )
    unique = list({row["span"]: row for row in rows}.values())
    return unique[:limit] if limit else unique, leaf.name


def old_turns(prompt: PromptConfig, row: dict[str, Any]) -> list[dict[str, str]]:
    """The layout before: the seed turns picked by the span's own text, so prompts share only the system."""
    spec = prompt.seed_turns
    assert spec is not None
    key = hashlib.sha256(json.dumps([row["span_id"], row["span"], row["document"]]).encode()).hexdigest()
    picked = random.Random(key).sample(row["seed_pool"], spec.count)
    messages = [{"role": "system", "content": prompt.system.render(**row).strip()}]
    for e in picked:
        flat = {k: " ".join(str(v or "").split()) for k, v in e.items()}
        messages += [
            {"role": "user", "content": spec.user.render(**flat).strip()},
            {"role": "assistant", "content": spec.assistant.render(**flat).strip()},
        ]
    return [*messages, prompt.messages(row)[-1]]


def usable(block: SpanQuestions, check: Any, rows: list[dict[str, Any]], texts: list[str]) -> set[str]:
    """Distinct questions of ``texts`` (answers for ``rows[0]``'s span) that pass the pipeline's check."""
    parsed = [{**rows[0], **record} for text in texts for record in block.parsers[""].parse(text)[:1]]
    kept = asyncio.run(check.run(parsed, BlockContext(None, "bench")))
    return {normalize(r["question"]) for r in kept.rows}


async def bare_side(
    name: str,
    server: ServerHandle,
    rows: list[dict[str, Any]],
    messages_of: Callable[[dict[str, Any]], list[dict[str, str]]],
    *,
    k: int,
    n: int,
    gen: dict[str, Any],
    concurrency: int,
) -> tuple[Side, dict[str, list[str]]]:
    side = Side(name)
    answers: dict[str, list[str]] = {row["span"]: [] for row in rows}
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=normalise_base_url(server.url), timeout=600, trust_env=False) as http:

        async def one(row: dict[str, Any], seed: int, choices: int) -> None:
            body = {"model": server.model, "messages": messages_of(row), "seed": seed, **gen}
            if choices > 1:
                body["n"] = choices
            async with limit:
                response = await http.post("/chat/completions", json=body)
            if response.status_code != 200:
                raise SystemExit(f"{name}: llama-server answered {response.status_code}: {response.text[:300]}")
            data = response.json()
            side.requests += 1
            side.prompt_sent += int(data["usage"]["prompt_tokens"])
            side.prompt_evaluated += int(data["timings"]["prompt_n"])
            answers[row["span"]] += [str(c["message"]["content"] or "") for c in data["choices"]]

        started = time.perf_counter()
        jobs = [one(row, 1000 * i + j, n) for i, row in enumerate(rows) for j in range(k // n)]
        await asyncio.gather(*jobs)
        side.seconds = time.perf_counter() - started
    return side, answers


class RecordingPool(TeacherPool):
    """taxolab's pool, keeping every answer's text (for the token count)."""

    texts: list[str]

    async def send(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        got = await super().send(messages, n=n, **kwargs)
        self.texts += [c.text for c in got]
        return got


async def taxolab_side(
    name: str, server: ServerHandle, rows: list[dict[str, Any]], block: SpanQuestions, *, k: int, attempts: int
) -> tuple[Side, dict[str, list[str]]]:
    pool = RecordingPool(TeacherSpec.of([server.endpoint]))
    pool.texts = []
    ctx = BlockContext(pool, "bench", {}, {"questions_per_span": k, "max_attempts_per_span": attempts})
    started = time.perf_counter()
    out = await block.run(rows, ctx)
    seconds = time.perf_counter() - started
    stats = pool.endpoints.stats
    side = Side(name, seconds, stats.requests, stats.prompt_tokens, stats.prompt_tokens - stats.cached_prompt_tokens)
    side.texts = pool.texts
    answers: dict[str, list[str]] = {row["span"]: [] for row in rows}
    for row in out.rows:
        answers[row["span"]].append(row["_raw"][block.name])
    for entry in out.rejected:
        answers[entry["row"]["span"]].append(entry["row"]["_raw"][block.name])
    await pool.aclose()
    return side, answers


def count_tokens(server: ServerHandle, texts: list[str]) -> int:
    with httpx.Client(base_url=normalise_base_url(server.url).removesuffix("/v1"), timeout=60, trust_env=False) as http:
        return sum(len(http.post("/tokenize", json={"content": text}).json()["tokens"]) for text in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 spans (a minute or two per side when idle).")
    parser.add_argument("--spans", type=int, default=0, help="Only the first N spans (0: all, ~45).")
    parser.add_argument("--questions", type=int, default=3, help="Questions per span (K, at most the slots).")
    parser.add_argument("--attempts", type=int, default=3, help="max_attempts_per_span of the top-up side.")
    args = parser.parse_args()
    config = load_config(None, {})
    ctx_size, parallel, k = config.serve.max_ctx_size, config.serve.parallel, args.questions
    rows, _ = spans_of_leaf(6 if args.quick else args.spans)
    knowledge = load_pipeline_set("simple").pipelines["knowledge"]
    block = next(b for b in knowledge.blocks if isinstance(b, SpanQuestions))
    check = build_block(
        {"name": "check", **(block.config.top_up or {"block": "question_check"})},  # type: ignore[attr-defined]
        BuildEnv(Path()),
    )
    prompt = block.prompts[""]
    gen = {**block.config.gen_kwargs}
    print(f"{len(rows)} spans of the chickadee leaf, K={k} questions per span, {parallel} slots x {ctx_size} ctx")

    def new_layout(row: dict[str, Any]) -> list[dict[str, str]]:
        return prompt.messages(row)

    sides: list[Side] = []
    plan: list[tuple[str, Any]] = [
        (
            "before",
            lambda s: bare_side(
                "before", s, rows, lambda r: old_turns(prompt, r), k=k, n=1, gen=gen, concurrency=parallel
            ),
        ),
        ("shared", lambda s: bare_side("shared", s, rows, new_layout, k=k, n=1, gen=gen, concurrency=parallel)),
        ("bare", lambda s: bare_side("bare", s, rows, new_layout, k=k, n=k, gen=gen, concurrency=parallel)),
        ("taxolab", lambda s: taxolab_side("taxolab", s, rows, block, k=k, attempts=1)),
        ("top-up", lambda s: taxolab_side("top-up", s, rows, block, k=k, attempts=args.attempts)),
    ]
    for name, run in plan:
        with start_server(default_gguf_path(), ctx_size=ctx_size, parallel=parallel) as server:
            side, answers = asyncio.run(run(server))
            texts = side.texts or [t for ts in answers.values() for t in ts]
            side.completion_tokens = count_tokens(server, texts)
        for row in rows:
            side.questions[row["span"]] = usable(block, check, [row], answers[row["span"]])
        sides.append(side)
        print(f"  {name}: {side.seconds:.1f} s", flush=True)

    def kept(side: Side) -> int:
        return sum(len(q) for q in side.questions.values())

    print(
        f"\n{'side':8} {'wall s':>7} {'req':>5} {'prompt/req':>10} {'eval/req':>8} {'prompt tok/s':>12} "
        f"{'eval tok/s':>10} {'compl tok/s':>11} {'usable':>6} {'usable/s':>8} {'spans>=K':>8}"
    )
    for s in sides:
        full = sum(len(q) >= k for q in s.questions.values())
        print(
            f"{s.name:8} {s.seconds:7.1f} {s.requests:5d} {s.prompt_sent / max(1, s.requests):10.1f} "
            f"{s.prompt_evaluated / max(1, s.requests):8.1f} {s.prompt_sent / s.seconds:12.1f} "
            f"{s.prompt_evaluated / s.seconds:10.1f} {s.completion_tokens / s.seconds:11.1f} {kept(s):6d} "
            f"{kept(s) / s.seconds:8.2f} {full:5d}/{len(rows)}"
        )
    by = {s.name: s for s in sides}

    def ratio(a: str, b: str, of: Callable[[Side], float]) -> str:
        return f"{of(by[a]) / max(of(by[b]), 1e-9):.2f}"

    def completion_rate(s: Side) -> float:
        return s.completion_tokens / s.seconds

    def usable_rate(s: Side) -> float:
        return kept(s) / s.seconds

    print(
        f"\ntaxolab / bare (same prompts): completion tok/s {ratio('taxolab', 'bare', completion_rate)}, "
        f"usable questions/s {ratio('taxolab', 'bare', usable_rate)}"
    )
    for name in ("shared", "bare", "top-up"):
        print(
            f"{name} / before: usable questions/s {ratio(name, 'before', usable_rate)}, "
            f"wall {ratio(name, 'before', lambda s: s.seconds)}, usable {ratio(name, 'before', kept)}"
        )


if __name__ == "__main__":
    main()
