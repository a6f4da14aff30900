"""PNG charts for asset pages (matplotlib, Agg canvas: no display, no pyplot global state).

matplotlib is imported when a chart is drawn, not with the module: every Dagster run worker and
the UI's code server import the code location, and matplotlib alone was ~0.6 s of that.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PricePoint = tuple[dt.date, Decimal | None, Decimal | None, Decimal | None]
"""(day, market value, FMV low, FMV high)."""


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _dates(ax: Axes, days: Sequence[dt.date]) -> None:
    """At most six day ticks, labelled month-day (no intra-day ticks for short ranges)."""
    from matplotlib.dates import date2num

    unique = sorted(set(days))
    if not unique:
        return
    step = max(1, math.ceil(len(unique) / 6))
    ticks = unique[::step]
    ax.set_xticks(date2num(ticks))
    ax.set_xticklabels([d.strftime("%m-%d") for d in ticks])


def _amounts(ax: Axes) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"))


def price_history_png(series: Mapping[str, Sequence[PricePoint]], title: str) -> bytes:
    """Small multiples: one panel per product, market value with its FMV band shaded."""
    names = list(series)[:6]
    cols = 2 if len(names) > 1 else 1
    rows = max(1, math.ceil(len(names) / cols))
    fig = _figure(5.2 * cols, 2.4 * rows)
    fig.suptitle(title, fontsize=10)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        points = [(day, value, low, high) for day, value, low, high in series[name] if value is not None]
        days: list[Any] = [p[0] for p in points]  # matplotlib plots dates; its stubs only list numbers
        ax.plot(days, [float(p[1]) for p in points], marker="o", markersize=2.5, linewidth=1.2,
                label="market value")
        lows = [float(low if low is not None else value) for _, value, low, _ in points]
        highs = [float(high if high is not None else value) for _, value, _, high in points]
        ax.fill_between(days, lows, highs, alpha=0.25, label="FMV band")
        ax.set_title(name[:60], fontsize=8)
        ax.tick_params(labelsize=7)
        _dates(ax, days)
        _amounts(ax)
        ax.grid(alpha=0.3)
    if not names:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no snapshots yet", ha="center", va="center")
        ax.set_axis_off()
    fig.tight_layout()
    return figure_png(fig)


def success_rate_png(series: Mapping[str, Sequence[tuple[dt.date, float | None]]], title: str) -> bytes:
    """One line per vendor: share of its searches that succeeded, by day."""
    fig = _figure(6.4, 3.0)
    ax = fig.add_subplot(1, 1, 1)
    all_days: list[dt.date] = []
    for vendor, points in sorted(series.items()):
        kept = [(d, r) for d, r in points if r is not None]
        all_days += [d for d, _ in kept]
        days: list[Any] = [d for d, _ in kept]  # matplotlib plots dates; its stubs only list numbers
        ax.plot(days, [100 * r for _, r in kept], marker="o", markersize=3, linewidth=1.2, label=vendor)
    ax.set_ylim(-5, 105)
    ax.set_ylabel("successful searches (%)", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=7)
    _dates(ax, all_days)
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return figure_png(fig)
