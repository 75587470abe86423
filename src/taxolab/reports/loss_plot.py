"""A PNG of a training loss curve, drawn headless (Agg) so it works on servers and in CI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taxolab import fsio


def plot_loss(rows: Sequence[dict[str, Any]], out: Path, *, title: str = "training loss") -> Path | None:
    """Loss (and a smoothed line) against samples seen; nothing is written without rows."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["samples_seen"] for r in rows]
    ys = [r["loss"] for r in rows]
    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    axes.plot(xs, ys, color="#9ab", linewidth=1, label="loss per step")
    if len(ys) >= 5:
        axes.plot(xs, _smooth(ys, max(2, len(ys) // 10)), color="#c33", linewidth=2, label="moving average")
    axes.set_xlabel("samples seen")
    axes.set_ylabel("loss per trained token")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    with fsio.atomic_open(Path(out), "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)
    return Path(out)


def _smooth(values: Sequence[float], window: int) -> list[float]:
    out = []
    for i in range(len(values)):
        part = values[max(0, i - window + 1) : i + 1]
        out.append(sum(part) / len(part))
    return out
