"""Readable figures at notebook width: one place for sizes, colours, axis formats and labels.

Every report draws through these helpers so that all figures share the same rules: at most
:data:`WIDTH` inches wide, long stage names wrapped, amounts with thousands separators, counts on
integer ticks, annotations kept inside their axes, colours by stage semantics, and titles that say
which pipeline, which window and which currency.

Example::

    from bitrix_frames.reports import style
    fig, ax = style.figure(rows=6)
    style.amount_axis(ax.xaxis)
    style.keep_texts_inside(fig)
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

if TYPE_CHECKING:
    from bitrix_frames.reports.history import History

__all__ = [
    "COLORS",
    "WIDTH",
    "amount_axis",
    "count_axis",
    "keep_texts_inside",
    "number_axis",
    "percent_axis",
    "semantic_color",
    "title",
    "window_text",
    "wrap",
]

#: Figure width in inches: fits a notebook cell (about 900 px at 100 dpi) and the docs column.
WIDTH = 9.0

#: Colours by stage semantics: working stages blue, success green, failure red.
COLORS = {"P": "#2f7ed8", "S": "#3aa757", "F": "#d9534f"}
LIGHT = {"P": "#a9c8ee", "S": "#a8dcb5", "F": "#efb1af"}


def semantic_color(semantic: Any, light: bool = False) -> str:
    """The colour of a stage semantic (``"P"``, ``"S"``, ``"F"``); unknown -> working blue."""
    table = LIGHT if light else COLORS
    return table.get(str(semantic), table["P"])


def wrap(label: Any, width: int = 22, lines: int = 2) -> str:
    """Wrap a long label onto at most ``lines`` lines of ``width`` characters (ellipsis beyond).

    Example::

        wrap("Prepayment invoice awaiting approval")   # "Prepayment invoice\\nawaiting approval"
    """
    text = str(label)
    return textwrap.fill(text, width=width, max_lines=lines, placeholder="…") if text else text


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{value:,.0f}"


def amount_axis(axis: Axis) -> None:
    """Amounts (and any large number): thousands separators, no scientific offset."""
    axis.set_major_formatter(FuncFormatter(_thousands))


number_axis = amount_axis


def count_axis(axis: Axis) -> None:
    """Counts: integer ticks only, with thousands separators."""
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    axis.set_major_formatter(FuncFormatter(_thousands))


def percent_axis(axis: Axis) -> None:
    """Shares between 0 and 1 shown as percentages."""
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def window_text(
    since: Any = None, until: Any = None, span: Sequence[Any] | None = None, what: str = "created"
) -> str:
    """``"created 2024-01-01 – 2024-03-31"``; open ends from ``span`` (the data's first/last)."""

    def day(value: Any, end: bool = False) -> str:
        ts = pd.Timestamp(value)
        if end and ts == ts.normalize():  # until is exclusive: show the last day included
            ts = ts - pd.Timedelta(days=1)
        return f"{ts:%Y-%m-%d}"

    lo = since if since is not None else (span[0] if span else None)
    hi = until if until is not None else (span[1] if span else None)
    if lo is None and hi is None:
        return "all time"
    left = day(lo) if lo is not None and not pd.isna(lo) else "…"
    right = day(hi, end=until is not None) if hi is not None and not pd.isna(hi) else "…"
    return f"{what} {left} – {right}"


def title(what: str, *details: str | None) -> str:
    """A two-line title: the measure, then pipeline · window · currency (empty parts skipped)."""
    rest = " · ".join(d for d in details if d)
    return f"{what}\n{rest}" if rest else what


def figure(rows: int = 1, per_row: float = 0.42, extra: float = 1.6) -> tuple[Figure, Axes]:
    """A notebook-width figure whose height grows with the number of bar rows."""
    fig, ax = plt.subplots(figsize=(WIDTH, max(2.8, per_row * rows + extra)))
    return fig, ax


def _texts(ax: Axes) -> Iterable[Any]:
    return [t for t in ax.texts if t.get_visible() and t.get_text()]


def keep_texts_inside(fig: Figure, pad: float = 8.0) -> None:
    """Widen the x limits of each axes until every annotation at a bar end lies inside it.

    Annotations placed at bar ends in offset points can run past the right edge; this measures
    each one with the renderer and solves for the right limit that leaves room for it.
    """
    for _ in range(3):  # tick labels may change width after a new limit: settle in a few rounds
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        moved = False
        for ax in fig.axes:
            box = ax.get_window_extent(renderer)
            lo, hi = ax.get_xlim()
            need = hi
            for text in _texts(ax):
                extent = text.get_window_extent(renderer)
                if extent.x1 <= box.x1 - pad / 2:
                    continue
                anchor = getattr(text, "xy", None)
                if anchor is None:
                    continue
                x = float(anchor[0])
                anchor_px = ax.transData.transform((x, 0))[0]
                tail = extent.x1 - anchor_px  # offset + text width, in pixels
                room = box.width - pad - tail
                if room <= 1 or x <= lo:
                    continue
                need = max(need, lo + (x - lo) * box.width / room)
            if need > hi * (1 + 1e-9):
                ax.set_xlim(lo, need)
                moved = True
        if not moved:
            return


def finish_history_figure(fig: Figure, hist: History, what: str) -> Figure:
    """The common ending of a stage-history figure: its title (the report, the pipeline or "all
    pipelines", the window), a tight layout, and every text kept inside its axes.

    Example::

        return finish_history_figure(fig, hist, "Time in stage from the stage history")
    """
    which = hist.pipeline_label(hist.selected[0]) if len(hist.selected) == 1 else "all pipelines"
    window = window_text(hist.since, hist.until, hist.span, f"{hist.noun} created")
    fig.suptitle(title(what, which, window), fontsize=11)
    fig.tight_layout()
    keep_texts_inside(fig)
    return fig
