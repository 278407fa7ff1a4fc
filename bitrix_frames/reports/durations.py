"""Time in stage from the real stage history: how long records stay at each stage.

Definitions: a *stay* is one history row until the same record's next history row (in any
pipeline). Per pipeline and stage in pipeline order (every stage, failure and success included):
``count`` = closed stays (with a next row), their ``median`` and 90th percentile (``p90``, linear
interpolation as ``pandas.Series.quantile(0.9)``) in days or hours; ``open`` = stays with no next
row yet, counted separately and never mixed into the durations.

The window (``since`` inclusive, ``until`` exclusive) keeps the records created in it.

Example::

    fig, table = time_in_stage(portal.stage_history("deal"), pipeline="General", unit="days")
    table[["stage", "count", "median_days", "p90_days", "open"]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from bitrix_frames.errors import ReportInputError
from bitrix_frames.reports import style
from bitrix_frames.reports.common import Report, display_hints
from bitrix_frames.reports.history import History, prepare

__all__ = ["stays", "time_in_stage", "time_in_stage_table"]

_UNITS = {"days": pd.Timedelta(days=1), "hours": pd.Timedelta(hours=1)}


def stays(hist: History) -> pd.DataFrame:
    """One row per history row: ``owner, pipeline, stage, start, end`` (``end`` NaT: open)."""
    rows = hist.rows
    out = rows[["owner", "pipeline", "stage", "semantic"]].copy()
    out["start"] = rows["time"]
    out["end"] = rows.groupby("owner", sort=False)["time"].shift(-1)
    return out


def time_in_stage_table(hist: History, unit: str = "days") -> pd.DataFrame:
    """The time-in-stage table of a prepared history (definitions in the module docstring)."""
    if unit not in _UNITS:
        raise ReportInputError(f"unit must be 'days' or 'hours', not {unit!r}")
    s = stays(hist)
    closed = s[s["end"].notna()].copy()
    closed["length"] = (closed["end"] - closed["start"]) / _UNITS[unit]
    stats = closed.groupby("stage")["length"].agg(
        count="size", median="median", p90=lambda v: v.quantile(0.9)
    )
    open_ = s[s["end"].isna()].groupby("stage").size()
    rows = []
    for pipe in hist.selected:
        for code in hist.stages.get(pipe, []):
            n = int(stats["count"].get(code, 0)) if code in stats.index else 0
            rows.append(
                {
                    "pipeline": hist.pipeline_label(pipe),
                    "pipeline_id": pipe,
                    "stage": hist.labels.get(code, str(code)),
                    "stage_id": code,
                    "semantics": hist.semantics.get(code, "P"),
                    "count": n,
                    f"median_{unit}": float(stats.at[code, "median"]) if n else float("nan"),
                    f"p90_{unit}": float(stats.at[code, "p90"]) if n else float("nan"),
                    "open": int(open_.get(code, 0)),
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "pipeline",
            "pipeline_id",
            "stage",
            "stage_id",
            "semantics",
            "count",
            f"median_{unit}",
            f"p90_{unit}",
            "open",
        ],
    )
    return table.astype(
        {
            "pipeline_id": "Int64",
            "count": "Int64",
            "open": "Int64",
            f"median_{unit}": "Float64",
            f"p90_{unit}": "Float64",
        }
    )


def _draw(table: pd.DataFrame, hist: History, unit: str) -> plt.Figure:
    shown = table[table["count"] > 0]
    parts = [part for _, part in shown.groupby("pipeline_id", sort=False)]
    sizes = [len(p) for p in parts] or [1]
    fig, axes = plt.subplots(
        len(sizes),
        1,
        figsize=(style.WIDTH, 0.42 * sum(sizes) + 1.1 * len(sizes) + 0.9),
        gridspec_kw={"height_ratios": sizes},
        squeeze=False,
    )
    short = unit[0]
    for ax, part in zip(axes[:, 0], parts, strict=False):
        ypos = list(range(len(part)))[::-1]
        med = part[f"median_{unit}"].astype(float)
        p90 = part[f"p90_{unit}"].astype(float)
        ax.barh(ypos, med, color=[style.semantic_color(s) for s in part["semantics"]])
        ax.hlines(ypos, med, p90, color="#555555", linewidth=1.5)
        ax.plot(p90, ypos, "|", color="#555555", markersize=10)
        ax.set_yticks(ypos, [style.wrap(s) for s in part["stage"]], fontsize=9)
        for y, m, p, n, o in zip(ypos, med, p90, part["count"], part["open"], strict=True):
            tail = f", {int(o):,} open" if o else ""
            ax.annotate(
                f"{m:,.1f} {short} (p90 {p:,.1f}) · {int(n):,} stay{'s' if n != 1 else ''}{tail}",
                (p, y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, max(1.0, float(p90.max()) * 1.02))
        ax.set_title(str(part["pipeline"].iloc[0]), fontsize=10, loc="left")
        ax.set_xlabel(f"{unit} in stage (bar: median, line to the 90th percentile)", fontsize=8)
        style.number_axis(ax.xaxis)
    if not parts:
        axes[0, 0].set_axis_off()
        axes[0, 0].text(0.5, 0.5, "no closed stays in this window", ha="center", va="center")
    return style.finish_history_figure(fig, hist, "Time in stage from the stage history")


def time_in_stage(
    history: pd.DataFrame,
    pipeline: Any = None,
    since: Any = None,
    until: Any = None,
    unit: str = "days",
    semantics: Mapping[Any, str] | None = None,
) -> Report:
    """Per stage: count, median and 90th percentile of stay durations; open stays apart.

    A stay is one history row until the same record's next history row. Per pipeline and stage
    in pipeline order: ``count`` of closed stays, ``median_<unit>`` and ``p90_<unit>`` (90th
    percentile, linear interpolation) of their durations, and ``open`` = stays with no next row
    yet (counted separately, not mixed into the durations).

    Args:
        history: ``portal.stage_history("deal")`` or ``("lead")``.
        pipeline: a pipeline id or name; ``None``: every pipeline.
        since: keep records created at or after this time (their first history row).
        until: keep records created before this time (exclusive).
        unit: ``"days"`` or ``"hours"``.
        semantics: ``{stage code: "P"|"S"|"F"}`` overrides.

    Example::

        fig, table = time_in_stage(portal.stage_history("deal"), unit="hours")
    """
    hist = prepare(history, pipeline, since, until, semantics)
    table = time_in_stage_table(hist, unit)
    display_hints(table, count="count", open="count")
    display_hints(table, **{f"median_{unit}": "number", f"p90_{unit}": "number"})
    return Report(_draw(table, hist, unit), table)
