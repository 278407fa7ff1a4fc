"""Leads by source and status.

Example::

    fig, table = leads_by_source(portal.leads())
    table   # source, status, leads
"""

from __future__ import annotations

import pandas as pd

from bitrix_frames.reports import style
from bitrix_frames.reports.common import Report
from bitrix_frames.reports.labels import labelled

__all__ = ["leads_by_source"]


def leads_by_source(leads: pd.DataFrame) -> Report:
    """Count leads per source (bars) split by status (stack), with labels for both.

    Example::

        fig, table = leads_by_source(leads)
    """
    source = labelled(leads, "SOURCE_ID").astype("object").fillna("(no source)")
    status = labelled(leads, "STATUS_ID")
    status_order = (
        list(status.cat.categories)
        if isinstance(status.dtype, pd.CategoricalDtype)
        else sorted(status.dropna().unique())
    )
    frame = pd.DataFrame({"source": source.to_numpy(), "status": status.astype("object")})
    table = frame.groupby(["source", "status"]).size().rename("leads").reset_index()
    order = {s: i for i, s in enumerate(status_order)}
    table = table.sort_values(
        ["source", "status"], key=lambda s: s.map(order) if s.name == "status" else s
    ).reset_index(drop=True)
    table["leads"] = table["leads"].astype("Int64")
    wide = table.pivot_table(index="source", columns="status", values="leads", aggfunc="sum")
    wide = wide.reindex(columns=[s for s in status_order if s in wide.columns]).fillna(0)
    wide = wide.loc[wide.sum(axis=1).sort_values().index].astype(int)
    fig, ax = style.figure(rows=len(wide), per_row=0.36, extra=1.4)
    wide.plot.barh(ax=ax, stacked=True, colormap="tab20")
    ax.set_yticks(range(len(wide)), [style.wrap(s, 24, 1) for s in wide.index], fontsize=9)
    style.count_axis(ax.xaxis)
    ax.set_xlabel("leads")
    ax.set_ylabel("")
    ax.legend(title="Status", fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title(style.title("Leads by source and status", "leads as loaded"), fontsize=11)
    fig.tight_layout()
    return Report(fig, table)
