"""PNG charts as data URIs, so an HTML report is one self-contained file (no network, no side files).

matplotlib's Agg backend renders without a display; each figure is closed
after rendering so long runs do not accumulate memory.
"""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

TRAINED_COLOUR = "#2f6fdf"
BASE_COLOUR = "#a0a7b4"


def figure_to_data_uri(figure: Figure) -> str:
    """PNG bytes of ``figure`` as a ``data:`` URI; the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def paired_bars(
    groups: list[str],
    trained: list[float | None],
    base: list[float | None] | None,
    *,
    title: str,
    scale: tuple[float, float],
    trained_label: str = "trained",
    base_label: str = "base",
) -> str:
    """Horizontal bars per group, base beside trained, on the benchmark's own scale."""
    height = max(2.2, 0.42 * len(groups) * (2 if base else 1) + 1.2)
    figure, axes = plt.subplots(figsize=(8, height))
    positions = list(range(len(groups)))
    bar = 0.38 if base else 0.6
    axes.barh(
        [p - (bar / 2 if base else 0) for p in positions],
        [v or 0.0 for v in trained],
        height=bar,
        color=TRAINED_COLOUR,
        label=trained_label,
    )
    if base:
        axes.barh(
            [p + bar / 2 for p in positions], [v or 0.0 for v in base], height=bar, color=BASE_COLOUR, label=base_label
        )
    axes.set_yticks(positions, [_short(g) for g in groups])
    axes.invert_yaxis()
    axes.set_xlim(min(0.0, scale[0]), scale[1])
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    return figure_to_data_uri(figure)


def radar(
    categories: list[str],
    trained: list[float | None],
    base: list[float | None] | None,
    *,
    title: str,
    scale: tuple[float, float],
    trained_label: str = "trained",
    base_label: str = "base",
) -> str:
    """A radar (spider) chart of scores per category: MT-Bench's usual picture."""
    angles = [2 * math.pi * i / len(categories) for i in range(len(categories))]
    figure = plt.figure(figsize=(5.5, 5.5))
    axes = figure.add_subplot(polar=True)
    for values, colour, label in ((base, BASE_COLOUR, base_label), (trained, TRAINED_COLOUR, trained_label)):
        if values is None:
            continue
        points = [v or 0.0 for v in values]
        axes.plot([*angles, angles[0]], [*points, points[0]], color=colour, linewidth=2, label=label)
        axes.fill([*angles, angles[0]], [*points, points[0]], color=colour, alpha=0.15)
    axes.set_xticks(angles, categories)
    axes.set_ylim(0, scale[1])
    axes.set_title(title, pad=18)
    axes.legend(loc="upper right", bbox_to_anchor=(1.25, 1.1), fontsize="small")
    return figure_to_data_uri(figure)


def _short(text: str, width: int = 42) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]
