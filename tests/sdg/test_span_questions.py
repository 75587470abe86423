"""Questions for answer spans: several phrasings per request, top-up for spans left short, a shared prefix.

The teacher is the real HTTP fake server (:mod:`taxolab.testing.fake_openai`) behind taxolab's own
teacher pool; the prompt-cache and ``n`` tests at the end use a real llama-server with the default model.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxolab.llm.client import _choice_tokens, normalise_base_url
from taxolab.llm.endpoint import Endpoint
from taxolab.sdg.blocks import BlockContext, build_block
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.blocks.knowledge import SpanQuestions, leaf_questions_per_span
from taxolab.sdg.library import load_pipeline_set
from taxolab.sdg.teacher import TeacherPool, TeacherSpec
from taxolab.testing.fake_openai import FakeOpenAIServer

POOL = [
    {"question": f"What is fact {i} of the chickadee?", "answer": f"Chickadee fact {i}.", "context": None}
    for i in range(5)
]
SPANS = [
    "The black-capped chickadee caches seeds in bark for the winter.",
    "Chickadees lower their body temperature on cold nights to save energy.",
]


def span_rows() -> list[dict[str, Any]]:
    return [
        {
            "leaf": "birds",
            "span": span,
            "answer": span,
            "span_id": f"0:{i}",
            "document": " ".join(SPANS),
            "document_outline": "black-capped chickadee",
            "seed_pool": POOL,
        }
        for i, span in enumerate(SPANS)
    ]


def shipped_block() -> SpanQuestions:
    knowledge = load_pipeline_set("simple").pipelines["knowledge"]
    return next(block for block in knowledge.blocks if isinstance(block, SpanQuestions))


def counting_block() -> SpanQuestions:
    """The shipped block with a top-up check that counts only what these request tests script (a question,
    standing alone): the fake's questions are told apart by a number, which the shipped check's answer rules
    (``related``, ``focus``; tested in test_question_check.py) rightly refuse."""
    block = build_block(
        {
            "block": "span_questions",
            "name": "write_questions",
            "prompt": "knowledge/question_for_span.yaml",
            "gen_kwargs": {"temperature": 0.8, "max_tokens": 64},
            "top_up": {"block": "question_check", "topic": "document_outline", "related": False, "focus": False},
        },
        BuildEnv(Path()),
    )
    assert isinstance(block, SpanQuestions)
    return block


def run_block(block: Any, server: FakeOpenAIServer, settings: dict[str, Any], slots: int = 4) -> Any:
    async def go() -> Any:
        pool = TeacherPool(TeacherSpec.of([Endpoint(server.url, server.model, slots)]))
        try:
            return await block.run(span_rows(), BlockContext(pool, "run-seed", {}, settings))
        finally:
            await pool.aclose()

    return asyncio.run(go())


def word_of(request: dict[str, Any]) -> str:
    """The span's longest word besides the leaf's subject: each span gets its own questions."""
    words = request["messages"][-1]["content"].removeprefix("Answer:").split()
    return max((w.strip(".,") for w in words if not {"chickadee", "black"} & set(re.split(r"\W", w.lower()))), key=len)


def good_questions(request: dict[str, Any]) -> str:
    return (
        f"Question: Which fact number {request.get('seed', 0) % 997} is true of the black-capped chickadee and "
        f"{word_of(request)}?"
    )


def test_all_phrasings_of_a_span_come_from_one_request_with_n_choices() -> None:
    with FakeOpenAIServer(good_questions) as server:
        out = run_block(counting_block(), server, {"questions_per_span": 3, "max_attempts_per_span": 3})
    assert [request.get("n") for request in server.requests] == [3, 3]  # one request per span, no top-up
    assert len(out.rows) == 6 and not out.dropped
    for span in SPANS:
        assert len({row["question"] for row in out.rows if row["span"] == span}) == 3


def test_rerun_asks_the_same() -> None:
    asked = []
    for _ in range(2):
        with FakeOpenAIServer(good_questions) as server:
            out = run_block(counting_block(), server, {"questions_per_span": 3})
        asked.append((sorted(r["seed"] for r in server.requests), sorted(row["question"] for row in out.rows)))
    assert asked[0] == asked[1]


def test_spans_left_short_are_asked_again_until_the_budget_and_drops_say_why() -> None:
    """First request of each span: one usable question and two that lean on an unseen text; the top-up asks
    for the two missing ones. A span whose questions never pass stops at max_attempts_per_span requests."""

    def answers(request: dict[str, Any]) -> str:
        if "temperature" in request["messages"][-1]["content"]:
            return "Question: What does this passage say?"  # never usable
        if request.get("n") == 3 and request.get("choice", 0) > 0:
            return "Question: What does the passage above say?"
        return good_questions(request)

    with FakeOpenAIServer(answers) as server:
        out = run_block(counting_block(), server, {"questions_per_span": 3, "max_attempts_per_span": 4})
    by_span: dict[str, list[int]] = {}
    for request in server.requests:
        by_span.setdefault(word_of(request), []).append(int(request.get("n") or 1))
    assert by_span["caches"] == [3, 2]  # 1 usable of 3, then the 2 missing ones: 3 usable
    assert by_span["temperature"] == [3, 3, 3, 3]  # never usable: stops at the budget of 4 requests
    questions = [row["question"] for row in out.rows if "caches" in row["span"]]
    assert len(questions) == 5 and len(set(questions)) == 4  # every answer goes on; the check drops, saying why
    check = next(
        block for block in load_pipeline_set("simple").pipelines["knowledge"].blocks if block.kind == "question_check"
    )
    kept = asyncio.run(check.run(out.rows, BlockContext(None, "s")))
    assert kept.dropped["check_questions: not_standalone"] == 2 + 12
    assert all(
        "passage" in entry["row"]["question"] for entry in kept.rejected if entry["reason"].endswith("not_standalone")
    )


def test_without_a_top_up_check_each_span_gets_one_request() -> None:
    block = build_block(
        {"block": "span_questions", "name": "ask", "prompt": "knowledge/question_for_span.yaml", "questions": 2},
        BuildEnv(Path()),
    )
    with FakeOpenAIServer(lambda request: "Question: What does this passage say?") as server:
        out = run_block(block, server, {"max_attempts_per_span": 5})
    assert [request.get("n") for request in server.requests] == [2, 2] and len(out.rows) == 4


def test_more_choices_than_slots_are_split_into_differently_seeded_requests() -> None:
    with FakeOpenAIServer(good_questions) as server:
        out = run_block(counting_block(), server, {"questions_per_span": 6, "max_attempts_per_span": 1}, slots=4)
    assert sorted(
        (r.get("n") or 1, r["seed"] - min(x["seed"] for x in server.requests if word_of(x) == word_of(r)))
        for r in server.requests
    ) == [(2, 4), (2, 4), (4, 0), (4, 0)]
    assert len({row["question"] for row in out.rows}) == 12


def test_llama_server_usage_counts_only_the_first_choice() -> None:
    assert _choice_tokens(30, ["a" * 100, "b" * 100], first_only=False) == [15, 15]
    assert _choice_tokens(30, ["a" * 100, "b" * 50, "c" * 200], first_only=True) == [30, 15, 60]
    assert _choice_tokens(0, [], first_only=True) == []


@pytest.mark.slow
def test_requests_of_one_leaf_reuse_the_cached_prefix_and_n_gives_distinct_questions(default_server: Any) -> None:
    """Real llama-server: the second span's request reads only its own tail (the leaf's turns are cached),
    and one request with n=3 gives three different questions."""
    block = shipped_block()
    prompt = block.prompts[""]
    first, second = (prompt.messages(row) for row in span_rows())
    assert first[:-1] == second[:-1]
    with httpx.Client(base_url=normalise_base_url(default_server.url), timeout=300, trust_env=False) as http:
        timings = []
        for messages in (first, second):
            body = {"model": default_server.model, "messages": messages, "max_tokens": 32, "seed": 1, "id_slot": 0}
            timings.append(http.post("/chat/completions", json=body).json()["timings"])
        assert timings[1]["prompt_n"] * 4 < timings[0]["prompt_n"]
        assert timings[1]["prompt_n"] < 40 and timings[1]["cache_n"] >= timings[0]["prompt_n"] - 40
        body = {
            "model": default_server.model,
            "messages": second,
            "n": 3,
            "seed": 2,
            "temperature": 0.8,
            "max_tokens": 48,
        }
        choices = http.post("/chat/completions", json=body).json()["choices"]
    texts = [re.sub(r"\s+", " ", c["message"]["content"]).strip().lower() for c in choices]
    assert len(texts) == 3 and len(set(texts)) == 3


@pytest.mark.parametrize(
    ("spans", "per_span", "per_leaf", "wanted"),
    [
        (210, 3, 700, 3),  # the chickadee leaf: as many as questions_per_span
        (150, 3, 700, 4),
        (86, 3, 700, 8),  # zebu: 700 // 86 = 8
        (69, 3, 700, 8),  # lapis lazuli: 10, capped at MAX_QUESTIONS_PER_SPAN
        (69, 10, 700, 10),  # never fewer than questions_per_span
        (69, 3, 0, 3),  # off
        (0, 3, 700, 3),  # no spans counted
    ],
)
def test_questions_per_span_of_a_leaf_follow_its_span_count(
    spans: int, per_span: int, per_leaf: int, wanted: int
) -> None:
    assert leaf_questions_per_span(spans, per_span, per_leaf) == wanted
