"""Won and lost deals by month of closing, with their amounts.

Example::

    fig, table = won_lost_by_month(portal.deals(), rates)
    table   # month, outcome, deals, amount, currency
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
    semantics_of,
)

__all__ = ["won_lost_by_month"]


def _close_month(deals: pd.DataFrame) -> pd.Series:
    when = None
    for col in ("CLOSEDATE", "MOVED_TIME", "DATE_MODIFY"):
        if col in deals.columns:
            values = pd.to_datetime(deals[col])
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_localize(None)
            when = values if when is None else when.fillna(values)
    if when is None:
        raise KeyError("deals need CLOSEDATE, MOVED_TIME or DATE_MODIFY")
    return when.dt.to_period("M")


def won_lost_by_month(
    deals: pd.DataFrame, rates: Rates | None = None, semantics: dict | None = None
) -> Report:
    """Closed deals per month (``CLOSEDATE``, else ``MOVED_TIME``): counts and amounts.

    Example::

        fig, table = won_lost_by_month(deals, rates)
    """
    sem = semantics_of(deals, semantics=semantics)
    closed = deals[sem.isin(["S", "F"]).to_numpy()]
    outcome = sem[sem.isin(["S", "F"])].map({"S": "won", "F": "lost"}).to_numpy()
    amount = (
        rates.convert(closed["OPPORTUNITY"], closed["CURRENCY_ID"])
        if rates is not None
        else closed["OPPORTUNITY"].astype("Float64")
    )
    frame = pd.DataFrame(
        {
            "month": _close_month(closed).to_numpy(),
            "outcome": outcome,
            "amount": amount.to_numpy(),
            "currency": rates.base
            if rates is not None
            else closed["CURRENCY_ID"].astype("object").to_numpy(),
        }
    )
    table = (
        frame.groupby(["month", "outcome", "currency"], dropna=True)
        .agg(deals=("outcome", "size"), amount=("amount", "sum"))
        .reset_index()
        .sort_values(["month", "outcome", "currency"], ascending=[True, False, True])
        .reset_index(drop=True)
    )
    table["month"] = table["month"].astype(str)
    # sums of cent amounts are cents: 79216.23, not the float sum's 79216.23000000001
    table["amount"] = table["amount"].astype("Float64").round(2)
    table = table.astype({"deals": "Int64", "amount": "Float64"})
    counts = table.pivot_table(
        index="month", columns="outcome", values="deals", aggfunc="sum", fill_value=0
    )
    counts = counts.reindex(columns=["won", "lost"], fill_value=0)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(style.WIDTH, 6.2), sharex=True)
    colors = [style.semantic_color("S"), style.semantic_color("F")]
    counts.astype(int).plot.bar(ax=ax1, color=colors, legend=False)
    style.count_axis(ax1.yaxis)
    ax1.set_ylabel("deals")
    months = list(counts.index)
    ax1.set_title(
        style.title(
            "Won (green) and lost (red) deals by month of closing",
            f"closed {months[0]} – {months[-1]}" if months else "nothing closed",
        ),
        fontsize=11,
    )
    amounts = table.pivot_table(
        index="month", columns="outcome", values="amount", aggfunc="sum", fill_value=0
    ).reindex(index=counts.index, columns=["won", "lost"], fill_value=0)
    amounts.astype(float).plot.bar(ax=ax2, color=colors, legend=False)
    style.amount_axis(ax2.yaxis)
    ax2.set_ylabel(f"amount ({rates.base})" if rates else "amount (mixed currencies)")
    ax2.set_title(f"Amounts {amount_note(rates)}", fontsize=10)
    ax2.set_xlabel("")
    ax2.tick_params(axis="x", labelrotation=90, labelsize=8)
    fig.tight_layout()
    return Report(fig, display_hints(table, deals="count"))
