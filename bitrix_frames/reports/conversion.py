"""Stage conversion from the real stage history (``portal.stage_history()``).

Definitions, per pipeline and per stage in pipeline order (working stages, then the success
stage; failure stages are never "further"):

- ``entered``: distinct records with at least one history row at that stage;
- ``advanced``: those of them with a later history row at a stage further in the same pipeline
  (the success stage included);
- ``conversion = advanced / entered`` (empty at the success stage, where nothing is further);
- ``lost``: those of them with a failure-stage row whose previous history row is at that stage
  (lost *from* that stage); ``lost_share = lost / entered``.

The window (``since`` inclusive, ``until`` exclusive) keeps the records created in it: those whose
first history row falls in ``[since, until)``; all their rows count.

Example::

    fig, table = stage_conversion(portal.stage_history("deal"), pipeline="General")
    table[["stage", "entered", "advanced", "conversion", "lost_share"]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from bitrix_frames.reports import style
from bitrix_frames.reports.common import Report, display_hints
from bitrix_frames.reports.history import History, prepare

__all__ = ["conversion_table", "stage_conversion"]

COLUMNS = [
    "pipeline",
    "pipeline_id",
    "stage",
    "stage_id",
    "semantics",
    "entered",
    "advanced",
    "conversion",
    "lost",
    "lost_share",
]


def conversion_table(hist: History) -> pd.DataFrame:
    """The conversion table of a prepared history (see the module docstring for definitions)."""
    rows = hist.rows
    pos_of: dict[Any, int] = {}
    for pipe in hist.stages:
        pos_of.update({code: i for i, code in enumerate(hist.order(pipe))})
    work = rows[["owner", "pipeline", "stage", "semantic"]].copy()
    work["pos"] = work["stage"].map(lambda c: pos_of.get(c, -1)).astype("int64")
    work.loc[work["semantic"] == "F", "pos"] = -1
    # the furthest position reached by a strictly later row of the same record in the same pipeline
    rev = work.iloc[::-1]
    after = rev.groupby(["owner", "pipeline"], sort=False)["pos"].shift(1, fill_value=-1)
    after = after.groupby([rev["owner"], rev["pipeline"]], sort=False).cummax()
    work["further_after"] = after.reindex(work.index)
    work["advanced"] = work["further_after"] > work["pos"]
    prev = rows.groupby("owner", sort=False)["stage"].shift(1)
    prev_pipe = rows.groupby("owner", sort=False)["pipeline"].shift(1)
    lost_from = prev[(rows["semantic"] == "F") & (prev_pipe == rows["pipeline"])]
    lost_owners = pd.DataFrame({"stage": lost_from, "owner": rows.loc[lost_from.index, "owner"]})
    lost = lost_owners.groupby("stage")["owner"].nunique()
    entered = work.groupby("stage")["owner"].nunique()
    advanced = work[work["advanced"]].groupby("stage")["owner"].nunique()
    out = []
    for pipe in hist.selected:
        for code in hist.order(pipe):
            n_in = int(entered.get(code, 0))
            n_adv = int(advanced.get(code, 0))
            n_lost = int(lost.get(code, 0))
            out.append(
                {
                    "pipeline": hist.pipeline_label(pipe),
                    "pipeline_id": pipe,
                    "stage": hist.labels.get(code, str(code)),
                    "stage_id": code,
                    "semantics": hist.semantics.get(code, "P"),
                    "entered": n_in,
                    "advanced": n_adv,
                    # nothing is further than the success stage: no rate to show there
                    "conversion": n_adv / n_in
                    if n_in and hist.semantics.get(code) != "S"
                    else float("nan"),
                    "lost": n_lost,
                    "lost_share": n_lost / n_in if n_in else float("nan"),
                }
            )
    table = pd.DataFrame(out, columns=COLUMNS)
    return table.astype(
        {
            "pipeline_id": "Int64",
            "entered": "Int64",
            "advanced": "Int64",
            "lost": "Int64",
            "conversion": "Float64",
            "lost_share": "Float64",
        }
    )


def _draw(table: pd.DataFrame, hist: History) -> plt.Figure:
    parts = [(name, part) for name, part in table.groupby("pipeline_id", sort=False)]
    sizes = [max(len(p), 1) for _, p in parts] or [1]
    fig, axes = plt.subplots(
        len(sizes),
        1,
        figsize=(style.WIDTH, 0.42 * sum(sizes) + 1.1 * len(sizes) + 0.9),
        gridspec_kw={"height_ratios": sizes},
        squeeze=False,
    )
    for ax, (_pid, part) in zip(axes[:, 0], parts, strict=True):
        ypos = list(range(len(part)))[::-1]
        sems = part["semantics"].tolist()
        ax.barh(
            ypos,
            part["entered"].astype(int),
            color=[style.semantic_color(s, light=True) for s in sems],
        )
        ax.barh(
            ypos,
            part["advanced"].astype(int),
            color=[style.semantic_color(s) for s in sems],
            height=0.5,
        )
        ax.set_yticks(ypos, [style.wrap(s) for s in part["stage"]], fontsize=9)
        for y, row in zip(ypos, part.itertuples(), strict=True):
            if row.entered == 0:
                text = "not entered"
            elif row.semantics == "S":
                text = f"{int(row.entered):,} {'won' if hist.entity == 'deal' else 'converted'}"
            else:
                text = f"{row.conversion:.0%} advanced · {row.lost_share:.0%} lost"
            ax.annotate(
                text,
                (float(row.entered), y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        style.count_axis(ax.xaxis)
        ax.set_xlim(0, max(1.0, float(part["entered"].max()) * 1.02))
        ax.set_title(str(part["pipeline"].iloc[0]), fontsize=10, loc="left")
        ax.set_xlabel(f"{hist.noun} (light: entered the stage, dark: advanced further)", fontsize=8)
    return style.finish_history_figure(fig, hist, "Stage conversion from the stage history")


def stage_conversion(
    history: pd.DataFrame,
    pipeline: Any = None,
    since: Any = None,
    until: Any = None,
    semantics: Mapping[Any, str] | None = None,
) -> Report:
    """Per pipeline and stage in pipeline order: how many records entered, advanced, were lost.

    Per pipeline and stage in pipeline order, ``entered`` = distinct records with at least one
    history row at that stage; ``advanced`` = those of them with a later history row at a stage
    further in the same pipeline (success stage included; failure stages are never further);
    ``conversion = advanced / entered`` (empty at the success stage: nothing is further); ``lost`` = those of them with a failure-stage row whose
    previous history row is at that stage, ``lost_share = lost / entered``.

    Args:
        history: ``portal.stage_history("deal")`` or ``portal.stage_history("lead")`` (statuses;
            one pipeline, "Leads").
        pipeline: a pipeline id or name; ``None``: every pipeline.
        since: keep records created at or after this time (their first history row).
        until: keep records created before this time (exclusive).
        semantics: ``{stage code: "P"|"S"|"F"}`` overrides (else the history's semantic column).

    Example::

        fig, table = stage_conversion(portal.stage_history("deal"), pipeline=0,
                                      since="2024-01-01", until="2024-07-01")
    """
    hist = prepare(history, pipeline, since, until, semantics)
    table = conversion_table(hist)
    display_hints(table, entered="count", advanced="count", lost="count", conversion="percent")
    display_hints(table, lost_share="percent")
    return Report(_draw(table, hist), table)
