"""Cycle time from the real stage history: how long a record takes to close, won or lost.

Definition: a record's cycle runs from its creation row (the first history row with ``TYPE_ID``
1, else its first row) to its first final-stage row after it (success or failure semantics); the
outcome is that row's semantics (deals: won / lost; leads: converted / lost), the pipeline is that
row's pipeline and the month of closing is that row's month (UTC). Records never closed have no
cycle. Per pipeline, month of closing and outcome: ``count``, ``mean_days``, ``median_days`` and
``p90_days`` (90th percentile, linear interpolation).

The window (``since`` inclusive, ``until`` exclusive) keeps the records created in it.

Example::

    fig, table = cycle_time(portal.stage_history("deal"), pipeline="General")
    table.query("outcome == 'won'")[["month", "count", "median_days"]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bitrix_frames.reports import style
from bitrix_frames.reports.common import Report, display_hints
from bitrix_frames.reports.history import History, prepare

__all__ = ["cycle_time", "cycle_time_table", "cycles"]

_DAY = pd.Timedelta(days=1)


def _outcomes(entity: str) -> dict[str, str]:
    return {"S": "won" if entity == "deal" else "converted", "F": "lost"}


def cycles(hist: History) -> pd.DataFrame:
    """One row per closed record: ``owner, pipeline, outcome, created, closed, days``."""
    rows = hist.rows
    is_creation = rows["type"].eq(1).fillna(False).astype(bool)
    has_creation = is_creation.groupby(rows["owner"]).transform("any")
    first_row = ~rows.duplicated("owner")
    start_rows = rows[is_creation | (~has_creation & first_row)].drop_duplicates("owner")
    start = start_rows.set_index("owner")[["time", "id"]].add_suffix("_start")
    joined = rows.join(start, on="owner")
    after = (joined["time"] > joined["time_start"]) | (
        (joined["time"] == joined["time_start"]) & (joined["id"] >= joined["id_start"])
    )
    final = joined[after & joined["semantic"].isin(["S", "F"])].drop_duplicates("owner")
    names = _outcomes(hist.entity)
    final = final.reset_index(drop=True)  # Series keep their dtypes, also when empty
    out = pd.DataFrame(
        {
            "owner": final["owner"],
            "pipeline": final["pipeline"],
            "outcome": final["semantic"].map(names).astype("object"),
            "created": pd.to_datetime(final["time_start"], utc=True),
            "closed": pd.to_datetime(final["time"], utc=True),
        }
    )
    out["days"] = (out["closed"] - out["created"]) / _DAY
    return out


def cycle_time_table(hist: History) -> pd.DataFrame:
    """The cycle-time table of a prepared history (definitions in the module docstring)."""
    c = cycles(hist)
    c = c[c["pipeline"].isin(hist.selected)]
    c["month"] = c["closed"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    order = {p: i for i, p in enumerate(hist.selected)}
    names = _outcomes(hist.entity)
    table = (
        c.groupby(["pipeline", "month", "outcome"])["days"]
        .agg(
            count="size",
            mean_days="mean",
            median_days="median",
            p90_days=lambda v: v.quantile(0.9),
        )
        .reset_index()
    )
    table["rank"] = table["outcome"].map({names["S"]: 0, names["F"]: 1})
    table["porder"] = table["pipeline"].map(order)
    table = table.sort_values(["porder", "month", "rank"]).reset_index(drop=True)
    table.insert(0, "pipeline_name", [hist.pipeline_label(p) for p in table["pipeline"]])
    table["month"] = table["month"].astype(str)
    table = table.rename(columns={"pipeline": "pipeline_id", "pipeline_name": "pipeline"})
    table = table[
        [
            "pipeline",
            "pipeline_id",
            "month",
            "outcome",
            "count",
            "mean_days",
            "median_days",
            "p90_days",
        ]
    ]
    return table.astype(
        {
            "pipeline_id": "Int64",
            "count": "Int64",
            "mean_days": "Float64",
            "median_days": "Float64",
            "p90_days": "Float64",
        }
    )


def _month_ticks(ax: Any, months: list[str]) -> None:
    step = max(1, int(np.ceil(len(months) / 12)))
    ticks = list(range(0, len(months), step))
    ax.set_xticks(ticks, [months[i] for i in ticks], fontsize=8)


def _draw(table: pd.DataFrame, hist: History) -> plt.Figure:
    names = _outcomes(hist.entity)
    parts = [part for _, part in table.groupby("pipeline_id", sort=False)]
    fig, axes = plt.subplots(
        max(1, len(parts)), 1, figsize=(style.WIDTH, 2.6 * max(1, len(parts)) + 0.9), squeeze=False
    )
    for ax, part in zip(axes[:, 0], parts, strict=False):
        seen = sorted(part["month"].unique())
        # every month between the first and the last closing, so gaps read as gaps
        months = [str(m) for m in pd.period_range(seen[0], seen[-1], freq="M")]
        x = np.arange(len(months))
        for shift, (sem, outcome) in zip((-0.2, 0.2), names.items(), strict=True):
            sub = part[part["outcome"] == outcome].set_index("month").reindex(months)
            ax.bar(
                x + shift,
                sub["median_days"].astype(float).fillna(0),
                width=0.4,
                color=style.semantic_color(sem),
                label=outcome,
            )
        _month_ticks(ax, months)
        ax.set_xlim(-0.6, max(len(months), 6) - 0.4)  # a lone month keeps slim bars
        style.number_axis(ax.yaxis)
        ax.set_ylabel("median days", fontsize=8)
        ax.set_title(
            f"{part['pipeline'].iloc[0]} (green: {names['S']}, red: {names['F']})",
            fontsize=10,
            loc="left",
        )
    if not parts:
        axes[0, 0].set_axis_off()
        axes[0, 0].text(0.5, 0.5, "nothing closed in this window", ha="center", va="center")
    return style.finish_history_figure(
        fig, hist, "Cycle time: creation to first final stage, by month of closing"
    )


def cycle_time(
    history: pd.DataFrame,
    pipeline: Any = None,
    since: Any = None,
    until: Any = None,
    semantics: Mapping[Any, str] | None = None,
) -> Report:
    """Days from the creation row to the first final-stage row, won vs lost, by month of closing.

    A record's cycle runs from its creation row (``TYPE_ID`` 1, else its first row) to its first
    final-stage row after it; outcome = that row's semantics (won/lost; leads: converted/lost),
    pipeline = that row's pipeline, month of closing = that row's month (UTC). Per pipeline,
    month and outcome: ``count``, ``mean_days``, ``median_days``, ``p90_days``.

    Args:
        history: ``portal.stage_history("deal")`` or ``("lead")``.
        pipeline: a pipeline id or name; ``None``: every pipeline.
        since: keep records created at or after this time (their first history row).
        until: keep records created before this time (exclusive).
        semantics: ``{stage code: "P"|"S"|"F"}`` overrides.

    Example::

        fig, table = cycle_time(portal.stage_history("deal"), since="2024-01-01")
    """
    hist = prepare(history, pipeline, since, until, semantics)
    table = cycle_time_table(hist)
    display_hints(table, count="count", mean_days="number", median_days="number")
    display_hints(table, p90_days="number")
    return Report(_draw(table, hist), table)
