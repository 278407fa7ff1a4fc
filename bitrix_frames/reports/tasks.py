"""Tasks by status per responsible, with the overdue ones counted.

A task is overdue when its deadline has passed and it is neither completed (5), awaiting
control (4) nor declined (7).

Example::

    fig, table = tasks_by_status(portal.tasks(), users=portal.users())
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bitrix_frames.reports import style
from bitrix_frames.reports.common import Report
from bitrix_frames.reports.labels import label_map, user_names
from bitrix_frames.schema.labels import unknown_label

__all__ = ["TASK_STATUSES", "tasks_by_status"]

#: Task status codes (``status`` / ``REAL_STATUS``) -> labels, PROTOCOL §15.
TASK_STATUSES: dict[int, str] = {
    1: "New",
    2: "Pending",
    3: "In progress",
    4: "Awaiting control",
    5: "Completed",
    6: "Deferred",
    7: "Declined",
}
_DONE = {4, 5, 7}


def _col(tasks: pd.DataFrame, *names: str) -> str:
    for name in names:
        if name in tasks.columns:
            return name
    raise KeyError(f"tasks frame has none of {names}")


def tasks_by_status(
    tasks: pd.DataFrame,
    users: pd.DataFrame | Mapping[Any, str] | None = None,
    now: pd.Timestamp | str | None = None,
) -> Report:
    """Stacked bars of task statuses per responsible, overdue counts in the table and labels.

    ``now`` (default: the current time) decides what is overdue; pass it for reproducible output.

    Example::

        fig, table = tasks_by_status(tasks, now="2025-01-01T00:00:00Z")
    """
    status_col = _col(tasks, "STATUS", "REAL_STATUS", "status")
    resp_col = _col(tasks, "RESPONSIBLE_ID", "responsibleId")
    deadline_col = _col(tasks, "DEADLINE", "deadline")
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize("UTC")
    codes = pd.to_numeric(tasks[status_col].astype("object"), errors="coerce").astype("Int64")
    status_labels = {**TASK_STATUSES, **_int_keys(label_map(tasks, status_col))}
    deadline = pd.to_datetime(tasks[deadline_col], utc=True)
    overdue = (deadline < now_ts).fillna(False) & ~codes.isin(list(_DONE)).fillna(False)
    names = label_map(tasks, resp_col, user_names(users))
    resp = tasks[resp_col].astype("Int64")
    frame = pd.DataFrame(
        {
            "responsible_id": resp.to_numpy(),
            "status_code": codes.to_numpy(),
            "overdue": overdue.astype(bool).to_numpy(),
        }
    )
    table = (
        frame.groupby(["responsible_id", "status_code"])
        .agg(tasks=("overdue", "size"), overdue=("overdue", "sum"))
        .reset_index()
    )
    table.insert(
        0,
        "responsible",
        [names.get(u, names.get(int(u), unknown_label(u))) for u in table["responsible_id"]],
    )
    table.insert(2, "status", [status_labels.get(int(c), str(c)) for c in table["status_code"]])
    table = table.astype(
        {"responsible_id": "Int64", "status_code": "Int64", "tasks": "Int64", "overdue": "Int64"}
    )
    order = [
        status_labels[c] for c in sorted(status_labels) if status_labels[c] in set(table["status"])
    ]
    wide = table.pivot_table(index="responsible", columns="status", values="tasks", aggfunc="sum")
    wide = wide.reindex(columns=order).fillna(0).astype(int)
    late = table.groupby("responsible")["overdue"].sum()
    wide = wide.loc[wide.sum(axis=1).sort_values().index]
    fig, ax = style.figure(rows=len(wide), per_row=0.36, extra=1.4)
    wide.plot.barh(ax=ax, stacked=True, colormap="tab10")
    ax.set_yticks(range(len(wide)), [style.wrap(w, 28, 1) for w in wide.index], fontsize=9)
    for y, who in enumerate(wide.index):
        n = int(late.get(who, 0))
        if n:
            ax.annotate(
                f"{n} overdue",
                (wide.loc[who].sum(), y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color="#d9534f",
            )
    ax.set_xlabel("tasks")
    ax.set_ylabel("")
    style.count_axis(ax.xaxis)
    ax.legend(title="Status", fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title(
        style.title("Tasks by status per responsible", f"overdue (red) as of {now_ts:%Y-%m-%d}"),
        fontsize=11,
    )
    fig.tight_layout()
    style.keep_texts_inside(fig)
    return Report(fig, table)


def _int_keys(mapping: Mapping[Any, str]) -> dict[int, str]:
    out = {}
    for key, value in mapping.items():
        try:
            out[int(key)] = value
        except (TypeError, ValueError):
            continue
    return {k: v for k, v in out.items() if v != str(k)}
