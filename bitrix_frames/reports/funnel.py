"""Pipeline funnel: deals and amount per stage, one panel per pipeline.

Example::

    from bitrix_frames import reports
    fig, table = reports.funnel(portal.deals(), rates=reports.Rates.from_portal(portal))
    table.head()   # pipeline, stage, stage_id, deals, amount, currency
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from bitrix_frames.reports import style
from bitrix_frames.reports.common import (
    Rates,
    Report,
    amount_note,
    display_hints,
    pipeline_names,
    pipeline_of,
    semantics_of,
    stage_order,
)
from bitrix_frames.reports.labels import short_label_map

__all__ = ["funnel", "funnel_table"]


def funnel_table(deals: pd.DataFrame, rates: Rates | None = None) -> pd.DataFrame:
    """Tidy funnel: one row per (pipeline, stage[, currency]) in stage order, zero rows kept.

    With ``rates`` amounts are in the base currency; without, one row per currency.
    """
    stages = stage_order(deals)
    pipes = pipeline_of(deals)
    names = pipeline_names(deals)
    labels = short_label_map(deals, "STAGE_ID")
    frame = pd.DataFrame(
        {
            "stage_id": deals["STAGE_ID"].astype("object"),
            "amount": deals["OPPORTUNITY"].astype("Float64"),
            "currency": deals["CURRENCY_ID"].astype("object")
            if "CURRENCY_ID" in deals.columns
            else "",
        }
    )
    if rates is not None:
        frame["amount"] = rates.convert(deals["OPPORTUNITY"], deals["CURRENCY_ID"])
        frame["currency"] = rates.base
    currencies = sorted(frame["currency"].dropna().unique().tolist()) or [""]
    grouped = frame.groupby(["stage_id", "currency"], dropna=False).agg(
        deals=("stage_id", "size"), amount=("amount", "sum")
    )
    rows = []
    for code in stages:
        for cur in currencies:
            n, amt = (0, 0.0)
            if (code, cur) in grouped.index:
                n, amt = grouped.loc[(code, cur), ["deals", "amount"]]
            if rates is None and n == 0 and cur != currencies[0]:
                continue
            pipe = pipes.get(code, 0)
            rows.append(
                {
                    "pipeline": names.get(pipe, f"Pipeline {pipe}"),
                    "pipeline_id": pipe,
                    "stage": labels.get(code, str(code)),
                    "stage_id": code,
                    "deals": int(n),
                    "amount": round(float(amt), 2),
                    "currency": cur,
                }
            )
    out = pd.DataFrame(rows)
    out = out.astype({"deals": "Int64", "amount": "Float64", "pipeline_id": "Int64"})
    return display_hints(out, deals="count")


def funnel(deals: pd.DataFrame, rates: Rates | None = None) -> Report:
    """Draw the funnel of every pipeline: bars = deals per stage, labels = amount.

    Example::

        fig, table = funnel(deals, rates)
        fig.savefig("funnel.png")
    """
    table = funnel_table(deals, rates)
    by_stage = (
        table.groupby(["pipeline_id", "pipeline", "stage_id", "stage"], sort=False)
        .agg(deals=("deals", "sum"))
        .reset_index()
    )
    pipelines = list(dict.fromkeys(by_stage["pipeline"]))
    sem = dict(zip(deals["STAGE_ID"].astype("object"), semantics_of(deals), strict=True))
    sizes = [max(1, int((by_stage["pipeline"] == p).sum())) for p in pipelines] or [1]
    fig, axes = plt.subplots(
        len(sizes),
        1,
        figsize=(style.WIDTH, 0.42 * sum(sizes) + 1.0 * len(sizes) + 0.9),
        gridspec_kw={"height_ratios": sizes},
        squeeze=False,
    )
    for ax, pipe in zip(axes[:, 0], pipelines, strict=False):
        part = by_stage[by_stage["pipeline"] == pipe]
        amounts = table[table["pipeline"] == pipe]
        ypos = range(len(part))[::-1]
        colors = [style.semantic_color(sem.get(code, "P")) for code in part["stage_id"]]
        ax.barh(list(ypos), part["deals"].astype(int), color=colors)
        ax.set_yticks(list(ypos), [style.wrap(s) for s in part["stage"]], fontsize=9)
        for y, code, n in zip(ypos, part["stage_id"], part["deals"], strict=True):
            cell = amounts[amounts["stage_id"] == code]
            text = ", ".join(
                f"{a:,.0f} {c}" for a, c in zip(cell["amount"], cell["currency"], strict=True) if a
            )
            if text:
                ax.annotate(
                    text,
                    (float(n), y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
        ax.set_xlim(0, max(1.0, float(part["deals"].max()) * 1.02))
        style.count_axis(ax.xaxis)
        ax.set_title(str(pipe), fontsize=10, loc="left")
        ax.set_xlabel("deals now at the stage (label: their amount)", fontsize=8)
    fig.suptitle(
        style.title(
            "Deal funnel by stage (blue working, green won, red lost)",
            "all pipelines" if len(pipelines) != 1 else str(pipelines[0]),
            "deals as loaded",
            f"amounts {amount_note(rates)}",
        ),
        fontsize=11,
    )
    fig.tight_layout()
    style.keep_texts_inside(fig)
    return Report(fig, table)
