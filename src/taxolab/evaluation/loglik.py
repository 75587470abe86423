"""Log-likelihood scoring of continuations with a model's own weights (no server).

Multiple-choice benchmarks ask "how likely does the model find each answer
after this question?" - one forward pass per distinct input answers that, no
generation needed. Inputs are de-duplicated (the four letter choices of an
MMLU question share one input: the question itself), sorted by length so a
batch wastes little padding, and only the hidden states at the scored
positions go through the (large) vocabulary projection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from taxolab.console import progress
from taxolab.errors import TaxolabError


@dataclass(frozen=True)
class ChoiceRequest:
    """One question: a context and the candidate continuations to compare."""

    context: str
    continuations: tuple[str, ...]


@dataclass(frozen=True)
class TokenLogprobs:
    """Each token of one sequence scored given the tokens before it (OpenAI's ``echo`` + ``logprobs``).

    ``logprobs[i]`` is log p(tokens[i] | tokens[:i]) in nats; ``logprobs[0]`` is
    None (the first token has no context). ``top[i]`` holds the ``top`` most
    likely (token id, log-probability) pairs at position ``i`` (empty at 0),
    taken from the same distribution, so a token that is the argmax has exactly
    the largest value there. ``next_top`` is that list for the token after the
    sequence (the model's first generated token under greedy decoding).
    """

    tokens: list[int]
    logprobs: list[float | None]
    top: list[list[tuple[int, float]]]
    next_top: list[tuple[int, float]]


@dataclass
class _Target:
    request: int
    choice: int
    positions: list[int]
    tokens: list[int]


class LoglikScorer:
    """Sum of log-probabilities of each continuation given its context."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 8) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = next(model.parameters()).device
        self.pad_id = _pad_id(tokenizer)

    def encode(self, request: ChoiceRequest) -> tuple[list[int], list[list[int]]]:
        """Token ids of the context and of each continuation (tokenised apart, as lm-eval does)."""
        context = list(self.tokenizer(request.context)["input_ids"]) if request.context else []
        if not context:
            context = [self._start_token()]
        conts = [list(self.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in request.continuations]
        return context, conts

    def score(
        self, requests: Sequence[ChoiceRequest], *, label: str = "scoring", show: bool = True
    ) -> list[list[float]]:
        """For each request, the summed log-probability of each continuation."""
        inputs: dict[tuple[int, ...], list[_Target]] = {}
        for index, request in enumerate(requests):
            context, conts = self.encode(request)
            for choice, cont in enumerate(conts):
                if not cont:
                    raise ValueError(f"empty continuation {request.continuations[choice]!r}")
                sequence = tuple(context + cont[:-1])
                first = len(context) - 1
                positions = list(range(first, first + len(cont)))
                inputs.setdefault(sequence, []).append(_Target(index, choice, positions, cont))
        scores = [[0.0] * len(r.continuations) for r in requests]
        ordered = sorted(inputs, key=len, reverse=True)
        with progress(disable=not show, transient=True) as bar:
            task = bar.add_task(label, total=len(requests))
            done: set[int] = set()
            for start in range(0, len(ordered), self.batch_size):
                batch = ordered[start : start + self.batch_size]
                for sequence, logprobs in zip(batch, self._forward(batch, inputs), strict=True):
                    for target in inputs[sequence]:
                        scores[target.request][target.choice] = logprobs[(target.request, target.choice)]
                        done.add(target.request)
                bar.update(task, completed=len(done))
        return scores

    @torch.inference_mode()
    def sequence_logprobs(self, sequences: Sequence[Sequence[int]], *, top: int = 0) -> list[TokenLogprobs]:
        """Log-probability of every token of each sequence (token ids) given the tokens before it.

        One forward pass per batch of ``batch_size`` sequences (sorted by
        length); ``top`` (>= 0) alternatives are kept per position. Raises
        ValueError for an empty sequence.
        """
        if any(not seq for seq in sequences):
            raise ValueError("cannot score an empty token sequence")
        results: list[TokenLogprobs | None] = [None] * len(sequences)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]), reverse=True)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = [tuple(int(t) for t in sequences[i]) for i in rows]
            logits_at = self._logits_function(*self._padded(batch))
            for row, (index, seq) in enumerate(zip(rows, batch, strict=True)):
                logprobs = torch.log_softmax(logits_at(row, list(range(len(seq)))).float(), dim=-1)
                targets = torch.tensor(seq[1:], dtype=torch.long)
                chosen = logprobs[torch.arange(len(seq) - 1), targets].tolist()
                best = _top_pairs(logprobs, top)
                results[index] = TokenLogprobs(list(seq), [None, *chosen], [[], *best[:-1]], best[-1])
        return [r for r in results if r is not None]

    def _padded(self, batch: Sequence[tuple[int, ...]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded ids and attention mask of shape (len(batch), longest), on the model's device."""
        width = max(len(seq) for seq in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        return ids.to(self.device), mask.to(self.device)

    @torch.inference_mode()
    def _forward(
        self, batch: list[tuple[int, ...]], inputs: dict[tuple[int, ...], list[_Target]]
    ) -> list[dict[tuple[int, int], float]]:
        logits_at = self._logits_function(*self._padded(batch))
        results = []
        for row, seq in enumerate(batch):
            targets = inputs[seq]
            positions = sorted({p for t in targets for p in t.positions})
            index = {p: i for i, p in enumerate(positions)}
            logits = logits_at(row, positions).float()
            logprobs = torch.log_softmax(logits, dim=-1)
            per_choice: dict[tuple[int, int], float] = {}
            for target in targets:
                rows = torch.tensor([index[p] for p in target.positions])
                cols = torch.tensor(target.tokens)
                per_choice[(target.request, target.choice)] = float(logprobs[rows, cols].sum())
            results.append(per_choice)
        return results

    def _logits_function(self, ids: torch.Tensor, mask: torch.Tensor) -> Callable[[int, list[int]], torch.Tensor]:
        """Logits at chosen positions of each row.

        Where the model is a plain decoder plus a vocabulary head, run the
        decoder and project only the scored positions (the head is ~10% of a
        small model's compute per position, and its full output is the
        largest tensor by far); otherwise fall back to the full logits.
        """
        decoder = getattr(self.model, getattr(self.model, "base_model_prefix", ""), None)
        head = self.model.get_output_embeddings()
        if decoder is not None and head is not None and not getattr(self.model.config, "final_logit_softcapping", None):
            hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state
            return lambda row, positions: head(hidden[row, positions])
        logits = self.model(input_ids=ids, attention_mask=mask).logits
        return lambda row, positions: logits[row, positions]

    @torch.inference_mode()
    def answer(
        self,
        conversations: Sequence[Sequence[dict[str, str]]],
        *,
        max_new_tokens: int,
        label: str = "answering",
        batch_size: int | None = None,
    ) -> list[str]:
        """Greedy answers of the same loaded weights to chat ``conversations`` (role/content dicts), one string each.

        The prompt is the tokenizer's chat template with the generation
        prompt; batches of ``batch_size`` (default: the scorer's) are
        left-padded, shortest prompts first. This makes the
        scorer one handle for both log-likelihood and generation on the same
        weights (checkpoint selection by recall uses it).
        """
        tokenizer = self.tokenizer
        texts = [
            tokenizer.apply_chat_template(list(conv), tokenize=False, add_generation_prompt=True)
            for conv in conversations
        ]
        answers = [""] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = batch_size or self.batch_size
        side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        try:
            with progress(transient=True) as bar:
                task = bar.add_task(label, total=len(texts))
                for start in range(0, len(order), size):
                    chunk = order[start : start + size]
                    batch = tokenizer(
                        [texts[i] for i in chunk], return_tensors="pt", padding=True, add_special_tokens=False
                    ).to(self.device)
                    output = self.model.generate(
                        **batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=self.pad_id
                    )
                    width = batch["input_ids"].shape[1]
                    for row, i in enumerate(chunk):
                        answers[i] = tokenizer.decode(output[row, width:], skip_special_tokens=True).strip()
                    bar.advance(task, len(chunk))
        finally:
            tokenizer.padding_side = side
        return answers

    def _start_token(self) -> int:
        for name in ("bos_token_id", "eos_token_id"):
            value = getattr(self.tokenizer, name, None)
            if value is not None:
                return int(value)
        return 0


def _top_pairs(logprobs: torch.Tensor, k: int) -> list[list[tuple[int, float]]]:
    """The ``k`` largest (token id, log-probability) pairs of each row of ``logprobs`` (positions x vocab)."""
    if k <= 0:
        return [[] for _ in range(logprobs.shape[0])]
    values, ids = torch.topk(logprobs, min(k, logprobs.shape[-1]), dim=-1)
    return [
        list(zip(row_ids, row_values, strict=True))
        for row_ids, row_values in zip(ids.tolist(), values.tolist(), strict=True)
    ]


def _pad_id(tokenizer: Any) -> int:
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            return int(value)
    return 0


def load_scorer(path: Path, *, gguf_file: str | None = None, device: str = "auto", batch_size: int = 8) -> LoglikScorer:
    """Load an HF folder (or a GGUF inside ``path``) in fp32 on CPU, bf16 on GPU, ready to score."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    dtype = torch.float32 if target == "cpu" else torch.bfloat16
    extra: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **extra)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **extra)
    except (OSError, ValueError, ImportError, KeyError, RuntimeError) as exc:
        # transformers says why in its message (missing file, unknown architecture, needs bitsandbytes):
        # keep that one line, drop the stack
        reason = " ".join(str(exc).split())[:300]
        raise TaxolabError(
            f"{path}: transformers cannot load this model for scoring ({type(exc).__name__}: {reason}); "
            "pass an HF folder or GGUF of a causal language model with --model/--base-model"
        ) from None
    model.to(target)  # type: ignore[arg-type]  # transformers types `to` through a decorator wrapper
    return LoglikScorer(model, tokenizer, batch_size=batch_size)
