"""Won revenue by responsible user, labelled with user names.

Example::

    fig, table = revenue_by_user(portal.deals(), rates, users=portal.users())
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
    semantics_of,
)
from bitrix_frames.reports.labels import label_map, user_names
from bitrix_frames.schema.labels import unknown_label

__all__ = ["revenue_by_user"]


def revenue_by_user(
    deals: pd.DataFrame,
    rates: Rates | None = None,
    users: pd.DataFrame | Mapping[Any, str] | None = None,
    semantics: dict | None = None,
) -> Report:
    """Sum of won deal amounts per ``ASSIGNED_BY_ID``, largest first.

    Example::

        fig, table = revenue_by_user(deals, rates, users=portal.users())
        table.iloc[0]["user"]   # the best seller's name
    """
    sem = semantics_of(deals, semantics=semantics)
    won = deals[(sem == "S").to_numpy()]
    names = label_map(deals, "ASSIGNED_BY_ID", user_names(users))
    amount = (
        rates.convert(won["OPPORTUNITY"], won["CURRENCY_ID"])
        if rates is not None
        else won["OPPORTUNITY"].astype("Float64")
    )
    ids = won["ASSIGNED_BY_ID"].astype("Int64")
    frame = pd.DataFrame(
        {
            "user_id": ids.to_numpy(),
            "amount": amount.to_numpy(),
            "currency": rates.base
            if rates is not None
            else won["CURRENCY_ID"].astype("object").to_numpy(),
        }
    )
    table = (
        frame.groupby(["user_id", "currency"])
        .agg(won_deals=("amount", "size"), amount=("amount", "sum"))
        .reset_index()
    )
    table.insert(
        0,
        "user",
        [names.get(u, names.get(int(u), unknown_label(u))) for u in table["user_id"]],
    )
    table["amount"] = table["amount"].astype("Float64").round(2)  # sums of cents stay cents
    table = table.sort_values(["amount", "user"], ascending=[False, True]).reset_index(drop=True)
    table = table.astype({"user_id": "Int64", "won_deals": "Int64", "amount": "Float64"})
    wide = table.pivot_table(index="user", columns="currency", values="amount", aggfunc="sum")
    wide = wide.fillna(0).astype(float)
    wide = wide.loc[wide.sum(axis=1).sort_values().index]
    fig, ax = style.figure(rows=len(wide), per_row=0.36, extra=1.4)
    wide.plot.barh(ax=ax, stacked=True, legend=rates is None)
    ax.set_yticks(range(len(wide)), [style.wrap(u, 28, 1) for u in wide.index], fontsize=9)
    style.amount_axis(ax.xaxis)
    ax.set_xlabel(f"won amount ({rates.base})" if rates else "won amount (per currency)")
    ax.set_ylabel("")
    if rates is None:
        ax.legend(title="Currency", fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title(
        style.title("Won revenue by responsible", "deals won as loaded", amount_note(rates)),
        fontsize=11,
    )
    fig.tight_layout()
    return Report(fig, display_hints(table, won_deals="count"))
