"""Win rate by owner, source or any other column of a deal (or lead) frame.

Definition: per group of ``by``, ``won`` = records at a success stage now, ``lost`` = at a failure
stage, ``open`` = at a working stage; ``win_rate = won / (won + lost)`` (open records are left
out; empty when nothing is closed). For leads, success is the converted status.

Example::

    fig, table = win_rate(portal.deals(), by="ASSIGNED_BY_ID", users=portal.users())
    win_rate(portal.leads(), by="SOURCE_ID")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bitrix_frames.errors import ReportInputError
from bitrix_frames.reports import style
from bitrix_frames.reports.common import Report, display_hints, pipeline_names, semantics_of
from bitrix_frames.reports.labels import caption, label_map, user_names

__all__ = ["record_semantics", "win_rate"]


def record_semantics(frame: pd.DataFrame, semantics: Mapping[Any, str] | None = None) -> pd.Series:
    """``"P"``/``"S"``/``"F"`` per deal (``STAGE_ID``) or lead (``STATUS_ID``) of a frame."""
    if "STAGE_ID" in frame.columns:
        return semantics_of(frame, "STAGE_ID", "STAGE_SEMANTIC_ID", semantics)
    if "STATUS_ID" in frame.columns:
        return semantics_of(frame, "STATUS_ID", "STATUS_SEMANTIC_ID", semantics)
    raise ReportInputError("expected a deal frame (STAGE_ID) or a lead frame (STATUS_ID)")


def _pick_pipeline(frame: pd.DataFrame, pipeline: Any) -> tuple[pd.DataFrame, str | None]:
    if pipeline is None or "CATEGORY_ID" not in frame.columns:
        return frame, None
    names = pipeline_names(frame)
    pid = next((k for k, v in names.items() if v == pipeline), None)
    if pid is None:
        try:
            pid = int(pipeline)
        except (TypeError, ValueError) as exc:
            raise ReportInputError(f"no pipeline {pipeline!r}") from exc
    cats = pd.to_numeric(frame["CATEGORY_ID"].astype("object"), errors="coerce")
    return frame[(cats == pid).to_numpy()], names.get(pid, f"Pipeline {pid}")


def win_rate(
    frame: pd.DataFrame,
    by: str = "ASSIGNED_BY_ID",
    *,
    users: pd.DataFrame | Mapping[Any, str] | None = None,
    pipeline: Any = None,
    semantics: Mapping[Any, str] | None = None,
) -> Report:
    """Won, lost, open and ``win_rate = won / (won + lost)`` per value of ``by``.

    Per group of ``by`` (owner, source or any categorical column): ``won`` = records at a
    success stage, ``lost`` = at a failure stage, ``open`` = at a working stage, ``closed`` =
    ``won + lost`` and ``win_rate = won / closed`` (open records left out). Groups are labelled
    (user names for user columns); records without a value form the group ``(none)``.

    Args:
        frame: ``portal.deals()`` or ``portal.leads()`` (success = converted).
        by: the column to group by (``ASSIGNED_BY_ID``, ``SOURCE_ID``, ``TYPE_ID``...).
        users: ``portal.users()`` or ``{id: name}`` for user columns.
        pipeline: deals of one pipeline only (id or name).
        semantics: ``{stage code: "P"|"S"|"F"}`` overrides.

    Example::

        fig, table = win_rate(deals, by="SOURCE_ID", pipeline="General")
    """
    if by not in frame.columns:
        raise ReportInputError(f"no column {by!r} to group by")
    frame, pipe_name = _pick_pipeline(frame, pipeline)
    sem = record_semantics(frame, semantics).to_numpy()
    key = frame[by].astype("object")
    names = label_map(frame, by, user_names(users))
    work = pd.DataFrame(
        {
            "key": key.where(key.notna(), None).to_numpy(),
            "won": sem == "S",
            "lost": sem == "F",
            "open": sem == "P",
        }
    )
    work["key"] = work["key"].map(lambda v: "(none)" if v is None or pd.isna(v) else v)
    table = work.groupby("key", sort=False)[["won", "lost", "open"]].sum().reset_index()
    table.insert(
        0,
        "group",
        [k if k == "(none)" else names.get(k, names.get(_int(k), str(k))) for k in table["key"]],
    )
    table = table.rename(columns={"key": "group_id"})
    table["closed"] = table["won"] + table["lost"]
    table["win_rate"] = (table["won"] / table["closed"].where(table["closed"] > 0)).astype(
        "Float64"
    )
    table = table.sort_values(["win_rate", "closed", "group"], ascending=[False, False, True])
    table = table.reset_index(drop=True).astype(
        {"won": "Int64", "lost": "Int64", "open": "Int64", "closed": "Int64"}
    )
    table["group_id"] = table["group_id"].astype("object")
    fig = _draw(table, caption(frame, by), pipe_name, "deals" if "STAGE_ID" in frame else "leads")
    display_hints(table, won="count", lost="count", open="count", closed="count")
    return Report(fig, display_hints(table, win_rate="percent"))


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _draw(table: pd.DataFrame, by: str, pipe: str | None, noun: str) -> Any:
    shown = table[table["closed"] > 0].iloc[::-1]
    fig, ax = style.figure(rows=max(1, len(shown)), per_row=0.36, extra=1.5)
    ypos = list(range(len(shown)))
    rate = shown["win_rate"].astype(float)
    ax.barh(ypos, rate, color=style.semantic_color("S"))
    ax.set_yticks(ypos, [style.wrap(g, 28, 1) for g in shown["group"]], fontsize=9)
    for y, r, w, c in zip(ypos, rate, shown["won"], shown["closed"], strict=True):
        ax.annotate(
            f"{r:.0%} · {int(w):,} of {int(c):,} closed",
            (r, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, 1.0)
    style.percent_axis(ax.xaxis)
    ax.set_xlabel(f"win rate: won ÷ (won + lost) {noun}", fontsize=8)
    if not len(shown):
        ax.text(0.5, 0.5, "nothing closed", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(
        style.title(
            f"Win rate by {by}", pipe or "all pipelines", f"{noun} as loaded, open ones left out"
        ),
        fontsize=11,
    )
    fig.tight_layout()
    style.keep_texts_inside(fig)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])  # room for labels, but no tick beyond 100 %
    return fig
