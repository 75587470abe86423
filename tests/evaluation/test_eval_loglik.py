"""mmlu_branch scoring equals a brute-force per-choice log-likelihood on a tiny random-weight model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taxolab.evaluation.loglik import ChoiceRequest, load_scorer
from taxolab.evaluation.mcq import ChoiceQuestion, choice_request
from taxolab.evaluation.mmlu_branch import accuracy, find_test_files, load_questions
from taxolab.evaluation.selection import dev_selector

BruteForce = Callable[[Any, Any, ChoiceRequest], list[float]]


def write_test_dir(root: Path, rows: list[dict[str, Any]]) -> Path:
    test = root / "run" / "test"
    test.mkdir(parents=True)
    for leaf, part in (("knowledge_a", rows[:3]), ("knowledge_b", rows[3:])):
        (test / f"{leaf}.jsonl").write_text("".join(json.dumps({**row, "leaf": leaf}) + "\n" for row in part))
    return root / "run"


@pytest.mark.parametrize("mode", ["letter", "text"])
def test_batched_scores_match_brute_force(
    tiny_models: list[Path], mode: str, mcq_rows: list[dict[str, Any]], brute_force: BruteForce
) -> None:
    scorer = load_scorer(tiny_models[0], batch_size=3)
    model = AutoModelForCausalLM.from_pretrained(tiny_models[0], dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[0])
    questions = [ChoiceQuestion(q["question"], tuple(q["choices"]), q["answer"], "general") for q in mcq_rows]
    requests = [choice_request(q, mode, "general knowledge") for q in questions]
    requests.append(ChoiceRequest("", (" yes", " no maybe")))  # empty context: scored after a start token
    batched = scorer.score(requests, show=False)
    for request, got in zip(requests[:-1], batched, strict=False):
        assert got == pytest.approx(brute_force(model, tokenizer, request), abs=1e-4)
    assert all(value < 0 for value in batched[-1])
    if mode == "letter":
        assert requests[0].continuations == (" A", " B", " C", " D")
        assert requests[0].context.endswith("D. Madrid\nAnswer:")


def test_selector_picks_the_checkpoint_with_best_accuracy(
    tiny_models: list[Path], tmp_path: Path, mcq_rows: list[dict[str, Any]], brute_force: BruteForce
) -> None:
    run = write_test_dir(tmp_path, mcq_rows)
    questions = load_questions(find_test_files(run, tmp_path))
    assert {q.group for q in questions} == {"knowledge_a", "knowledge_b"} and len(questions) == 5
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[0])
    expected = []
    for folder in tiny_models:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        hits = 0
        for question in questions:
            values = brute_force(model, tokenizer, choice_request(question, "letter", question.group.replace("_", " ")))
            hits += max(range(4), key=values.__getitem__) == question.answer
        expected.append(hits / len(questions))
        assert accuracy(load_scorer(folder), questions) == pytest.approx(hits / len(questions))
    best = max(range(len(expected)), key=lambda i: (expected[i], i))
    (run / "dev").mkdir()
    (run / "test").rename(run / "dev" / "test")  # selection reads the dev split only
    selector = dev_selector(run, "mmlu_branch")
    assert selector is not None and selector(list(tiny_models)) == tiny_models[best]


def test_mmlu_branch_report_and_rerun_from_cache(
    tiny_models: list[Path],
    tmp_path: Path,
    mcq_rows: list[dict[str, Any]],
    eval_config: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taxolab.evaluation import phases
    from taxolab.evaluation.api import evaluate

    run = write_test_dir(tmp_path, mcq_rows)
    loads: list[str] = []
    real_load = phases._load_scorer

    def spy(weights: Any, role: str, ctx: Any) -> Any:
        loads.append(role)
        return real_load(weights, role, ctx)

    monkeypatch.setattr(phases, "_load_scorer", spy)
    config = eval_config(model=str(tiny_models[0]), base_model=str(tiny_models[1]), tasks_dir=run)
    first = evaluate(config, ["mmlu_branch"]).results[0]
    assert loads == ["trained", "base"]
    assert set(first.trained.groups) == {"knowledge_a", "knowledge_b"}
    assert first.trained.counts == {"knowledge_a": 3, "knowledge_b": 2}
    assert first.base is not None and first.base.model == str(tiny_models[1])
    assert sum(len(v) for v in first.summary().values()) == 2
    again = evaluate(config, ["mmlu_branch"]).results[0]
    assert loads == ["trained", "base"], "a rerun scores from the cache without loading weights"
    assert again.trained.groups == first.trained.groups and again.base == first.base


def test_sequence_logprobs_match_one_full_forward(tiny_models: list[Path]) -> None:
    """Every token's log-probability (what `model serve` answers for echo) equals a plain forward's log-softmax."""
    scorer = load_scorer(tiny_models[0], batch_size=2)
    model = AutoModelForCausalLM.from_pretrained(tiny_models[0], dtype=torch.float32).eval()
    sequences = [[5, 17, 3, 99, 42], [7], [11, 12, 13]]  # three lengths: batches are padded and reordered
    scored = scorer.sequence_logprobs(sequences, top=3)
    for sequence, got in zip(sequences, scored, strict=True):
        with torch.no_grad():
            full = torch.log_softmax(model(torch.tensor([sequence])).logits[0].float(), dim=-1)
        assert got.tokens == sequence and got.logprobs[0] is None and got.top[0] == []
        expected = [float(full[i - 1, sequence[i]]) for i in range(1, len(sequence))]
        assert got.logprobs[1:] == pytest.approx(expected, abs=1e-4)
        for position in range(1, len(sequence)):
            values, ids = torch.topk(full[position - 1], 3)
            assert [t for t, _ in got.top[position]] == ids.tolist()
            assert [v for _, v in got.top[position]] == pytest.approx(values.tolist(), abs=1e-4)
            best = got.top[position][0]
            if best[0] == sequence[position]:  # lm-eval's is_greedy compares these floats exactly
                assert best[1] == got.logprobs[position]
        assert [t for t, _ in got.next_top] == torch.topk(full[-1], 3).indices.tolist()
    with pytest.raises(ValueError, match="empty"):
        scorer.sequence_logprobs([[]])


def test_answers_are_the_same_in_any_generation_batch(tiny_models: list[Path]) -> None:
    """`evaluate.generation_batch_size` changes speed only: left-padded batches answer as one-by-one greedy does."""
    scorer = load_scorer(tiny_models[0], batch_size=1)
    conversations = [
        [{"role": "user", "content": text}]
        for text in ("Where do chickadees nest?", "Name a mineral.", "What colour is lapis lazuli, a rock?", "Hi")
    ]
    alone = scorer.answer(conversations, max_new_tokens=6)
    together = scorer.answer(conversations, max_new_tokens=6, batch_size=4)
    assert together == alone and len(alone) == 4
    selector = dev_selector(Path("missing"), "recall", generation_batch_size=4)
    assert selector is None  # no dev split: nothing to select by, whatever the batch
