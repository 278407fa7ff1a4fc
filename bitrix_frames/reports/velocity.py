"""Pipeline velocity: how much money the pipeline turns into won deals per day.

Definition, per pipeline (and per currency when no ``rates`` are given):
``velocity = open deals × win rate × average won amount ÷ average won cycle time``, where
``open deals`` = deals at a working stage now; ``win rate = won / (won + lost)`` of the deals now
closed; ``average won amount`` = mean ``OPPORTUNITY`` of the won deals (converted to the base
currency with ``rates``); ``average won cycle time`` = mean days from creation to the first
success-stage row of the deals won in that pipeline, from the stage history (every currency). The
result is an amount per day.

Example::

    fig, table = velocity(portal.deals(), portal.stage_history("deal"), rates)
    table[["pipeline", "open_deals", "win_rate", "avg_won_amount", "avg_won_days", "amount_per_day"]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bitrix_frames.reports import style
from bitrix_frames.reports.common import (
    Rates,
    Report,
    amount_note,
    display_hints,
    pipeline_names,
)
from bitrix_frames.reports.cycle import cycles
from bitrix_frames.reports.history import prepare
from bitrix_frames.reports.winrate import record_semantics

__all__ = ["velocity"]

COLUMNS = [
    "pipeline",
    "pipeline_id",
    "currency",
    "open_deals",
    "won",
    "lost",
    "win_rate",
    "avg_won_amount",
    "avg_won_days",
    "amount_per_day",
]


def velocity(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    rates: Rates | None = None,
    *,
    pipeline: Any = None,
    semantics: Mapping[Any, str] | None = None,
) -> Report:
    """Open deals × win rate × average won amount ÷ average won cycle time, per pipeline.

    ``open_deals`` = deals at a working stage; ``win_rate = won / (won + lost)``; ``avg_won_amount``
    = mean ``OPPORTUNITY`` of won deals (in the base currency with ``rates``, else one row per
    currency); ``avg_won_days`` = mean days from the creation row to the first success-stage row of
    the deals won in that pipeline (stage history, every currency); ``amount_per_day`` = the product, an
    amount per day.

    Example::

        fig, table = velocity(deals, portal.stage_history("deal"), rates, pipeline="General")
    """
    hist = prepare(history, pipeline, semantics=semantics)
    won_days = cycles(hist)
    won_days = won_days[won_days["outcome"] == "won"].groupby("pipeline")["days"].mean()
    sem = record_semantics(deals, semantics)
    pipes = (
        pd.to_numeric(deals["CATEGORY_ID"].astype("object"), errors="coerce").fillna(0)
        if "CATEGORY_ID" in deals.columns
        else pd.Series(0, index=deals.index)
    )
    amount = (
        rates.convert(deals["OPPORTUNITY"], deals["CURRENCY_ID"])
        if rates is not None
        else deals["OPPORTUNITY"].astype("Float64")
    )
    currency = (
        pd.Series(rates.base, index=deals.index)
        if rates is not None
        else deals["CURRENCY_ID"].astype("object")
    )
    work = pd.DataFrame(
        {
            "pipeline": pipes.astype("int64").to_numpy(),
            "currency": currency.to_numpy(),
            "sem": sem.to_numpy(),
            "amount": amount.astype("Float64").to_numpy(),
        }
    )
    names = pipeline_names(deals) if "CATEGORY_ID" in deals.columns else {0: "General"}
    rows = []
    for pipe in hist.selected:
        part = work[work["pipeline"] == pipe]
        for cur in sorted(part["currency"].dropna().unique().tolist(), key=str) or [""]:
            sub = part[part["currency"] == cur]
            won = sub[sub["sem"] == "S"]
            n_won, n_lost = len(won), int((sub["sem"] == "F").sum())
            rate = n_won / (n_won + n_lost) if n_won + n_lost else float("nan")
            avg_amount = float(won["amount"].mean()) if n_won else float("nan")
            days = float(won_days.get(pipe, float("nan")))
            n_open = int((sub["sem"] == "P").sum())
            amount_per_day = (
                n_open * rate * avg_amount / days if days and days > 0 else float("nan")
            )
            rows.append(
                {
                    "pipeline": names.get(pipe, hist.pipeline_label(pipe)),
                    "pipeline_id": pipe,
                    "currency": cur,
                    "open_deals": n_open,
                    "won": n_won,
                    "lost": n_lost,
                    "win_rate": rate,
                    "avg_won_amount": avg_amount,
                    "avg_won_days": days,
                    "amount_per_day": amount_per_day,
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS).astype(
        {
            "pipeline_id": "Int64",
            "open_deals": "Int64",
            "won": "Int64",
            "lost": "Int64",
            "win_rate": "Float64",
            "avg_won_amount": "Float64",
            "avg_won_days": "Float64",
            "amount_per_day": "Float64",
        }
    )
    display_hints(table, open_deals="count", won="count", lost="count")
    display_hints(table, win_rate="percent", avg_won_days="number")
    return Report(_draw(table, rates), table)


def _draw(table: pd.DataFrame, rates: Rates | None) -> Any:
    shown = table[table["amount_per_day"].notna()].iloc[::-1]
    fig, ax = style.figure(rows=max(1, len(shown)), per_row=0.42, extra=1.6)
    ypos = list(range(len(shown)))
    value = shown["amount_per_day"].astype(float)
    ax.barh(ypos, value, color=style.semantic_color("S"))
    labels = [
        style.wrap(f"{p} ({c})" if rates is None else p, 26, 2)
        for p, c in zip(shown["pipeline"], shown["currency"], strict=True)
    ]
    ax.set_yticks(ypos, labels, fontsize=9)
    for y, v, c in zip(ypos, value, shown["currency"], strict=True):
        ax.annotate(
            f"{v:,.0f} {c}/day",
            (v, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, max(1.0, float(value.max()) * 1.02) if len(value) else 1.0)
    style.amount_axis(ax.xaxis)
    ax.set_xlabel("won amount per day: open × win rate × avg won amount ÷ avg won days", fontsize=8)
    if not len(shown):
        ax.text(
            0.5, 0.5, "no pipeline with won deals", ha="center", va="center", transform=ax.transAxes
        )
    ax.set_title(
        style.title("Pipeline velocity", "open deals now", f"amounts {amount_note(rates)}"),
        fontsize=11,
    )
    fig.tight_layout()
    style.keep_texts_inside(fig)
    return fig
