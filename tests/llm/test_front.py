"""The front of `taxolab model serve` in front of a scripted engine: fast, exact, offline.

The engine is `taxolab.testing.fake_openai` on 127.0.0.1 (it speaks llama.cpp's
HTTP); the prompt log-probabilities come from a tiny random-weight model with
the default model's real tokenizer. tests/llm/test_serve_lmeval.py runs the
same front before the real llama.cpp server and lm-eval.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxolab.evaluation.loglik import LoglikScorer, load_scorer
from taxolab.llm.front import FrontServer
from taxolab.testing.fake_openai import FakeOpenAIServer


@pytest.fixture(scope="module")
def tiny_scorer(tmp_path_factory: pytest.TempPathFactory, default_hf_model: Path) -> LoglikScorer:
    """A 2-layer random-weight Llama with the default model's tokenizer (a few hundred KB)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(default_hf_model)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256, tie_word_embeddings=True,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return load_scorer(folder, device="cpu")


@pytest.fixture
def engine() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(model="tiny.Q4_1") as server:
        yield server


@pytest.fixture
def front(engine: FakeOpenAIServer, tiny_scorer: LoglikScorer) -> Iterator[FrontServer]:
    with FrontServer(engine.url.removesuffix("/v1"), "127.0.0.1", 0, scorer=lambda: tiny_scorer) as server:
        yield server


def post(front: FrontServer, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(front.url + path, json=body, headers=headers, timeout=60)


def test_models_by_id(front: FrontServer) -> None:
    assert httpx.get(front.url + "/models", timeout=10).json()["data"][0]["id"] == "tiny.Q4_1"
    found = httpx.get(front.url + "/models/tiny.Q4_1", timeout=10)
    assert found.status_code == 200 and found.json()["id"] == "tiny.Q4_1"
    missing = httpx.get(front.url + "/models/gpt-4", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "model 'gpt-4' is not served here; served: 'tiny.Q4_1'"


@pytest.mark.parametrize("path", ["/completions", "/chat/completions"])
def test_unknown_model_is_404_and_never_reaches_the_engine(
    front: FrontServer, engine: FakeOpenAIServer, path: str
) -> None:
    body: dict[str, Any] = {"prompt": "one two"} if path == "/completions" else {"messages": [{"role": "user", "content": "one two"}]}  # fmt: skip
    refused = post(front, path, {**body, "model": "gpt-4"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "model_not_found"
    assert "'tiny.Q4_1'" in refused.json()["error"]["message"]
    assert engine.requests == []
    assert post(front, path, {**body, "model": "tiny.Q4_1"}).status_code == 200
    assert post(front, path, body).status_code == 200  # no name: the one served model answers
    assert len(engine.requests) == 2


def test_embeddings_are_501_with_a_reason(front: FrontServer) -> None:
    answer = post(front, "/embeddings", {"model": "tiny.Q4_1", "input": "hello"})
    assert answer.status_code == 501
    assert "embeddings are not served by `taxolab model serve`" in answer.json()["error"]["message"]


def test_streaming_passes_through(front: FrontServer) -> None:
    body = {"model": "tiny.Q4_1", "messages": [{"role": "user", "content": "one two three"}], "stream": True}
    with httpx.stream("POST", front.url + "/chat/completions", json=body, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    words = [json.loads(e[6:])["choices"][0]["delta"]["content"].strip() for e in events[:-1]]
    assert words == ["three", "two", "one"] and events[-1] == "data: [DONE]"


def test_api_key_is_required_and_forwarded(engine: FakeOpenAIServer, tiny_scorer: LoglikScorer) -> None:
    root = engine.url.removesuffix("/v1")
    with FrontServer(root, "127.0.0.1", 0, api_key="s3cret", scorer=lambda: tiny_scorer) as front:
        assert httpx.get(front.url + "/models", timeout=10).status_code == 401
        assert httpx.get(front.root_url + "/health", timeout=10).status_code == 200
        ok = httpx.get(front.url + "/models", headers={"Authorization": "Bearer s3cret"}, timeout=10)
        assert ok.status_code == 200


def test_echo_returns_prompt_logprobs_in_the_openai_shape(
    front: FrontServer, engine: FakeOpenAIServer, tiny_scorer: LoglikScorer
) -> None:
    """lm-eval's log-likelihood request: echo, logprobs 1, max_tokens 1, token-id prompts in a batch."""
    tokenizer = tiny_scorer.tokenizer
    prompts = [tokenizer("Question: 2+2?\nAnswer: 4")["input_ids"], tokenizer("The sky is blue")["input_ids"]]
    body = {"model": "tiny.Q4_1", "prompt": prompts, "max_tokens": 1, "logprobs": 1, "echo": True, "temperature": 0}
    answer = post(front, "/completions", body)
    assert answer.status_code == 200, answer.text
    expected = tiny_scorer.sequence_logprobs(prompts, top=1)
    for choice, ids, scores in zip(answer.json()["choices"], prompts, expected, strict=True):
        logprobs = choice["logprobs"]
        n = len(ids)
        assert choice["text"].startswith(tokenizer.decode(ids))
        assert logprobs["token_logprobs"][0] is None and logprobs["top_logprobs"][0] is None
        assert logprobs["token_logprobs"][1:n] == pytest.approx(scores.logprobs[1:], abs=1e-5)
        assert "".join(logprobs["tokens"][:n]) == tokenizer.decode(ids)
        assert logprobs["text_offset"][:n] == [len(tokenizer.decode(ids[:i])) for i in range(n)]
        for top, value in zip(logprobs["top_logprobs"][1:n], logprobs["token_logprobs"][1:n], strict=True):
            assert len(top) == 1 and max(top.values()) >= value
    # the engine generated after each prompt, from the prompt's own token ids
    assert [r["prompt"] for r in engine.requests] == prompts and all("echo" not in r for r in engine.requests)
    text = post(front, "/completions", {"prompt": "The sky is blue", "echo": True, "logprobs": 0, "max_tokens": 0})
    only_prompt = text.json()["choices"][0]
    assert only_prompt["text"] == "The sky is blue" and only_prompt["logprobs"]["top_logprobs"][1] == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stream": True}, "`echo` with `stream` is not supported"),
        ({"logprobs": 99}, "`logprobs` must be an integer from 0 to 20"),
        ({"prompt": [["a"]]}, "`prompt` must be a string"),
        ({"prompt": [10**9]}, "token ids outside the vocabulary"),
        ({"n": 2}, "n=1"),
        ({"max_tokens": "lots"}, "`max_tokens` must be a whole number"),
        ({"n": "two"}, "malformed request (ValueError"),
    ],
)
def test_echo_requests_it_cannot_answer_are_400(front: FrontServer, change: dict[str, Any], message: str) -> None:
    answer = post(front, "/completions", {"prompt": "Hi there", "echo": True, "logprobs": 1, **change})
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_echo_without_a_scorer_goes_to_the_engine(engine: FakeOpenAIServer) -> None:
    """vLLM answers echo itself: with no scorer the request passes through untouched."""
    with FrontServer(engine.url.removesuffix("/v1"), "127.0.0.1", 0, scorer=None) as front:
        assert post(front, "/completions", {"prompt": "one two", "echo": True, "logprobs": 1}).status_code == 200
    assert engine.requests[-1]["echo"] is True


def test_a_taken_port_is_one_clear_error(engine: FakeOpenAIServer) -> None:
    from taxolab.errors import TaxolabError

    root = engine.url.removesuffix("/v1")
    with FrontServer(root, "127.0.0.1", 0) as first, pytest.raises(TaxolabError, match="pass another --port"):
        FrontServer(root, "127.0.0.1", first.port)


def test_tokenizer_routes_serve_lm_evals_remote_tokenizer(front: FrontServer, tiny_scorer: LoglikScorer) -> None:
    """vLLM's /tokenizer_info, /tokenize, /detokenize: lm-eval then needs no local tokenizer (its `remote` backend)."""
    lm_eval_utils = pytest.importorskip("lm_eval.utils")
    tokenizer = tiny_scorer.tokenizer
    info = httpx.get(front.root_url + "/tokenizer_info", timeout=10).json()
    assert info["eos_token"] == tokenizer.eos_token and info["chat_template"] == tokenizer.chat_template
    ids = httpx.post(front.root_url + "/tokenize", json={"prompt": "Hello world", "add_special_tokens": False}).json()
    assert ids["tokens"] == tokenizer("Hello world", add_special_tokens=False)["input_ids"]
    text = httpx.post(front.root_url + "/detokenize", json={"tokens": ids["tokens"]}).json()
    assert text["prompt"] == text["content"] == "Hello world"
    llama_shape = httpx.post(front.root_url + "/tokenize", json={"content": "Hello"}, timeout=10)
    assert llama_shape.status_code == 404  # llama.cpp's own /tokenize body goes to the engine (the fake has none)
    assert lm_eval_utils.check_remote_tokenizer_support(front.url + "/completions")
    remote = lm_eval_utils.RemoteTokenizer(front.url + "/completions")
    assert remote.eos_token_id == tokenizer.eos_token_id
