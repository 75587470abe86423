"""Turn one messages sample into token ids and a loss mask, using the model's own chat template.

Which tokens carry loss is decided on the *rendered text*, not by guessing token
patterns: the template renders the conversation once, each trained message's
content is located in that text (rendering growing prefixes tells where every
message starts), and a token is trained when its character span overlaps that
content. The token right after the content (the end-of-turn marker, e.g.
``<|im_end|>``) is trained too, so the model learns to stop. This works for
any template that renders a conversation as a prefix-stable string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PRETRAINING_ROLE = "pretraining"


class SampleError(ValueError):
    """A sample that cannot be used (bad shape, template mismatch); the caller counts it."""


@dataclass(frozen=True)
class TokenizedSample:
    """Token ids and, per token, whether the model is trained to predict it."""

    input_ids: list[int]
    loss_mask: list[bool]
    variant: tuple[int, int] | None = None
    """``(index, count)``: trained only in the epochs ``e`` with ``e % count == index`` (the row's
    ``"variant": [index, count]``, written by mixing for ``mix.epoch_variants``); None: every epoch."""

    def in_epoch(self, epoch: int) -> bool:
        """Whether this sample is trained in ``epoch`` (0-based)."""
        return self.variant is None or epoch % self.variant[1] == self.variant[0]

    @property
    def loss_tokens(self) -> int:
        """Tokens that are predicted (the first token is never a target)."""
        return sum(self.loss_mask[1:])


def tokenize_sample(tokenizer: Any, row: dict[str, Any]) -> TokenizedSample:
    """Tokenise one ``{"messages": [...], "unmask": bool, "variant": [index, count]}`` row with its loss mask.

    Raises :class:`SampleError` for a row without messages, a message without role or string content,
    or a ``variant`` that is not two integers ``0 <= index < count``.
    """
    sample = _tokenize_messages(tokenizer, row)
    variant = row.get("variant")
    if variant is None:
        return sample
    if (
        not isinstance(variant, list)
        or len(variant) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in variant)
        or not 0 <= variant[0] < variant[1]
    ):
        raise SampleError("`variant` must be [index, count] with 0 <= index < count")
    return TokenizedSample(sample.input_ids, sample.loss_mask, (variant[0], variant[1]))


def _tokenize_messages(tokenizer: Any, row: dict[str, Any]) -> TokenizedSample:
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        raise SampleError("no `messages` list")
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) or "role" not in message:
            raise SampleError("each message needs a `role` and a string `content`")
    if any(m["role"] == PRETRAINING_ROLE for m in messages):
        return _tokenize_pretraining(tokenizer, messages)
    trained_roles = {"assistant", "user"} if row.get("unmask") else {"assistant"}
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    text = _render(tokenizer, plain, add_generation_prompt=False)
    spans = _trained_spans(tokenizer, plain, text, trained_roles)
    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids: list[int] = list(encoded["input_ids"])
    offsets: list[tuple[int, int]] = [tuple(o) for o in encoded["offset_mapping"]]
    mask = [False] * len(ids)
    for start, end in spans:
        last = -1
        for index, (tok_start, tok_end) in enumerate(offsets):
            if tok_end > start and tok_start < end and tok_end > tok_start:
                mask[index] = True
                last = index
        if last >= 0 and last + 1 < len(ids):
            mask[last + 1] = True  # the end-of-turn token that closes this message
    return TokenizedSample(ids, mask)


def _tokenize_pretraining(tokenizer: Any, messages: list[dict[str, Any]]) -> TokenizedSample:
    """Legacy ``pretraining`` rows: plain text trained on every token, closed by EOS."""
    text = "\n".join(m["content"] for m in messages if m["role"] == PRETRAINING_ROLE)
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    return TokenizedSample(ids, [True] * len(ids))


def _render(tokenizer: Any, messages: list[dict[str, str]], *, add_generation_prompt: bool) -> str:
    try:
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt))
    except Exception as exc:  # jinja raises its own errors for roles a template refuses
        raise SampleError(f"chat template refused the sample: {exc}") from exc


def _trained_spans(tokenizer: Any, messages: list[dict[str, str]], text: str, roles: set[str]) -> list[tuple[int, int]]:
    """Character spans of the trained messages' content in the full rendering."""
    spans = []
    for index, message in enumerate(messages):
        if message["role"] not in roles or not message["content"].strip():
            continue
        before = _render(tokenizer, messages[:index], add_generation_prompt=False) if index else ""
        if not text.startswith(before):
            raise SampleError("chat template is not prefix-stable; cannot locate trained messages")
        content = message["content"]
        start = text.find(content, len(before))
        if start < 0:  # templates that trim content
            content = content.strip()
            start = text.find(content, len(before))
        if start < 0:
            raise SampleError(f"message {index} ({message['role']}) not found in the rendered template")
        spans.append((start, start + len(content)))
    return spans
