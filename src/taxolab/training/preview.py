"""Show which tokens a sample trains on: what ``--debug`` prints before training.

Trained tokens are green, context tokens dim, so a wrong mask (training on the
prompt, or never on the end-of-turn token) is visible at a glance.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from taxolab.training.tokenize import TokenizedSample


def render_preview(tokenizer: Any, sample: TokenizedSample, max_tokens: int = 400) -> str:
    """Rich markup of the sample's tokens, grouped into runs of trained / not trained."""
    parts: list[str] = []
    run: list[int] = []
    trained = sample.loss_mask[0] if sample.loss_mask else False
    for token, mask in zip(sample.input_ids[:max_tokens], sample.loss_mask[:max_tokens], strict=True):
        if mask != trained and run:
            parts.append(_style(tokenizer.decode(run), trained))
            run = []
        trained = mask
        run.append(token)
    if run:
        parts.append(_style(tokenizer.decode(run), trained))
    more = (
        f"[dim] ... ({len(sample.input_ids) - max_tokens} more tokens)[/dim]"
        if len(sample.input_ids) > max_tokens
        else ""
    )
    header = f"[bold]sample[/bold] {len(sample.input_ids)} tokens, {sample.loss_tokens} trained ([green]green[/green]):"
    return header + "\n" + "".join(parts) + more


def _style(text: str, trained: bool) -> str:
    return f"[green]{escape(text)}[/green]" if trained else f"[dim]{escape(text)}[/dim]"
