"""Pipeline explorer: pick a pipeline, a date window and owners; three history reports follow.

The funnel (:func:`~bitrix_frames.reports.stage_conversion`), time in stage
(:func:`~bitrix_frames.reports.time_in_stage`) and cycle time
(:func:`~bitrix_frames.reports.cycle_time`) figures and tables are recomputed together whenever a
control changes. The window is the reports' window: records *created* from the first day to the
last day (both included); owners come from the deal (or lead) frame's ``ASSIGNED_BY_ID``, since
the stage history has no owner.

Example::

    from bitrix_frames.widgets import PipelineExplorer
    ex = PipelineExplorer(portal.stage_history("deal"), portal.deals(), users=portal.users())
    ex                                   # display it in Jupyter
    ex.pipeline.value = 1                # or pick in the drop-down
    ex.owners.select("Anna Petrova")
    ex.value                             # the filtered history (typed, as loaded)
    ex.tables["conversion"]              # the funnel's table for that selection
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Image, display

from bitrix_frames.reports import cycle_time, stage_conversion, time_in_stage
from bitrix_frames.reports.common import Report
from bitrix_frames.reports.history import prepare
from bitrix_frames.reports.html import table_html
from bitrix_frames.reports.labels import label_map, user_names
from bitrix_frames.widgets.controls import ChoiceControl
from bitrix_frames.widgets.meta import ColumnInfo

__all__ = ["PipelineExplorer"]

_REPORTS: dict[str, tuple[str, Callable[..., Report]]] = {
    "conversion": ("Stage conversion", stage_conversion),
    "time_in_stage": ("Time in stage", time_in_stage),
    "cycle_time": ("Cycle time", cycle_time),
}


class PipelineExplorer:
    """Stage conversion, time in stage and cycle time of one pipeline, filtered together.

    Args:
        history: ``portal.stage_history("deal")`` (or ``("lead")``).
        records: the deal (or lead) frame, for the owner filter (``ASSIGNED_BY_ID``); ``None``: no
            owner filter.
        users: a users frame or ``{id: name}`` to label owners.
        unit: ``"days"`` or ``"hours"`` for time in stage.

    Attributes:
        pipeline: the pipeline drop-down (value = pipeline id).
        start, end: the window's date pickers (end day included).
        owners: the owner multi-select (a filter control: ``.select("Anna Petrova")``).
        reports: ``{"conversion" | "time_in_stage" | "cycle_time": Report}`` of the selection.

    Example::

        ex = PipelineExplorer(history, deals)
        ex.start.value = datetime.date(2026, 1, 1)
        ex.tables["time_in_stage"]
    """

    def __init__(
        self,
        history: pd.DataFrame,
        records: pd.DataFrame | None = None,
        *,
        users: pd.DataFrame | Mapping[Any, str] | None = None,
        unit: str = "days",
    ) -> None:
        self.history = history
        self.records = records
        self.unit = unit
        hist = prepare(history)
        self._entity = hist.entity
        options = [(hist.pipeline_label(p), p) for p in hist.selected]
        self.pipeline = widgets.Dropdown(
            options=options, value=options[0][1], description="Pipeline"
        )
        self.start = widgets.DatePicker(description="created from")
        self.end = widgets.DatePicker(description="to")
        self.owners = ChoiceControl(self._owner_info(records, users))
        self.reports: dict[str, Report] = {}
        self._outputs = {name: widgets.Output() for name in _REPORTS}
        self.count = widgets.HTML()
        tabs = widgets.Tab(children=[self._outputs[n] for n in _REPORTS])
        for i, (title, _f) in enumerate(_REPORTS.values()):
            tabs.set_title(i, title)
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<h3>{hist.entity.capitalize()} pipeline explorer</h3>"),
                widgets.HBox([self.pipeline, self.start, self.end]),
                self.owners.view,
                self.count,
                tabs,
            ]
        )
        for w in (self.pipeline, self.start, self.end):
            w.observe(lambda _c: self.refresh(), names="value")
        self.owners.observe(lambda _c: self.refresh())
        self.refresh()

    @staticmethod
    def _owner_info(
        records: pd.DataFrame | None, users: pd.DataFrame | Mapping[Any, str] | None
    ) -> ColumnInfo:
        ids: list[Any] = []
        names: dict[Any, str] = {}
        if records is not None and "ASSIGNED_BY_ID" in records.columns:
            ids = sorted(int(v) for v in records["ASSIGNED_BY_ID"].dropna().unique())
            names = label_map(records, "ASSIGNED_BY_ID", user_names(users))
        options = tuple((names.get(i, f"User {i}"), i) for i in ids)
        return ColumnInfo(
            "ASSIGNED_BY_ID",
            "choice",
            "Owner",
            "ASSIGNED_BY_ID",
            options=options,
            labels=tuple((i, names.get(i, f"User {i}")) for i in ids),
        )

    # --- state -------------------------------------------------------------------------
    @property
    def since(self) -> pd.Timestamp | None:
        """The window's start (UTC midnight of the first day), or ``None``."""
        return _day(self.start.value)

    @property
    def until(self) -> pd.Timestamp | None:
        """The window's end, exclusive (UTC midnight after the last day), or ``None``."""
        day = self.end.value
        return _day(day + dt.timedelta(days=1)) if day is not None else None

    def _owned(self) -> pd.DataFrame:
        """The history restricted to the records of the selected owners."""
        if not self.owners.active or self.records is None:
            return self.history
        keep = self.records.index[self.owners.mask(self.records["ASSIGNED_BY_ID"])]
        owners = pd.to_numeric(self.history["OWNER_ID"], errors="coerce")
        return self.history[owners.isin(set(int(i) for i in keep)).to_numpy()]

    @property
    def value(self) -> pd.DataFrame:
        """The filtered history, typed as loaded: rows in the chosen pipeline of the records
        created in the window and owned by the selected owners."""
        owned = self._owned()
        hist = prepare(owned, self.pipeline.value, self.since, self.until)
        kept = set(hist.rows["owner"].dropna().astype(int))
        owners = pd.to_numeric(owned["OWNER_ID"], errors="coerce")
        mask = owners.isin(kept)
        if "CATEGORY_ID" in owned.columns:
            pipes = pd.to_numeric(owned["CATEGORY_ID"].astype("object"), errors="coerce")
            mask &= pipes == self.pipeline.value
        return owned[mask.to_numpy()]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The three report tables of the current selection."""
        return {name: report.table for name, report in self.reports.items()}

    def refresh(self) -> None:
        """Recompute the three reports from the current controls and redraw them."""
        owned = self._owned()
        args = {"pipeline": self.pipeline.value, "since": self.since, "until": self.until}
        for name, (_title, build) in _REPORTS.items():
            extra = {"unit": self.unit} if name == "time_in_stage" else {}
            report = build(owned, **args, **extra)
            self.reports[name] = report
            out = self._outputs[name]
            out.outputs = ()
            out.append_display_data(Image(data=_png(report.figure), format="png"))
            out.append_display_data(HTML(table_html(report.table)))
        shown = self.value
        n = int(pd.to_numeric(shown["OWNER_ID"], errors="coerce").nunique())
        self.count.value = (
            f"<b>{n:,}</b> {self._entity}s in this pipeline, <b>{len(shown):,}</b> history rows"
        )

    def _ipython_display_(self) -> None:
        display(self.widget)

    def __repr__(self) -> str:
        return (
            f"PipelineExplorer({self._entity}: pipeline {self.pipeline.label!r}, "
            f"{len(self.value)} history rows)"
        )


def _day(value: dt.date | None) -> pd.Timestamp | None:
    if value is None:
        return None
    return pd.Timestamp(value.year, value.month, value.day, tz="UTC")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()
