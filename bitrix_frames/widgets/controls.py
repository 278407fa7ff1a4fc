"""One filter control per column kind: a widget, a row mask and the equivalent server filter.

Every control has ``.widget`` (what is displayed), ``.active`` (does it filter anything),
``.mask(series)`` (rows kept locally) and ``.server()`` (the Bitrix filter keys doing the same
on the portal). ``server()`` holds codes and Python values (``True``, timestamps, ids): the
client's filter encoder (:func:`bitrix_frames.schema.encode_filter`) turns them into what the API
expects, as for any filter a user writes.

Example::

    ctl = make_control(ColumnInfo("TITLE", "text", "Title", "TITLE"), deals["TITLE"])
    ctl.text.value = "boiler"
    ctl.server()          # {"%TITLE": "boiler"}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets as widgets
import pandas as pd

from bitrix_frames.widgets.meta import ColumnInfo

__all__ = [
    "BoolControl",
    "ChoiceControl",
    "Control",
    "DateRangeControl",
    "NumberRangeControl",
    "TextControl",
    "make_control",
]

_STYLE = {"description_width": "initial"}


class Control:
    """Base class: a filter on one column."""

    info: ColumnInfo
    widget: widgets.Widget
    #: "crm" (legacy CRM lists: ``@FIELD`` for lists, ``%FIELD`` for text) or "plain" (tasks).
    dialect: str = "crm"

    @property
    def view(self) -> widgets.Widget:
        """What the panel displays (``widget`` unless the control adds a readout)."""
        return self.widget

    @property
    def active(self) -> bool:
        """Whether the control currently removes any rows."""
        raise NotImplementedError

    def mask(self, series: pd.Series) -> pd.Series:
        """Boolean mask of the rows kept (all ``True`` when inactive)."""
        raise NotImplementedError

    def server(self) -> dict[str, Any]:
        """Bitrix filter keys equivalent to :meth:`mask` (empty when inactive)."""
        raise NotImplementedError

    def observe(self, callback: Any) -> None:
        """Call ``callback`` whenever the user changes the control."""
        for child in self._inputs():
            child.observe(callback, names="value")

    def _inputs(self) -> list[widgets.Widget]:
        return [self.widget]


class ChoiceControl(Control):
    """Multi-select of labelled codes (stages, statuses, sources, users, enums, pipelines)."""

    def __init__(self, info: ColumnInfo) -> None:
        self.info = info
        self.widget = widgets.SelectMultiple(
            options=list(info.options),
            value=(),
            rows=min(8, max(3, len(info.options))),
            description=info.caption,
            style=_STYLE,
        )

    @property
    def active(self) -> bool:
        return bool(self.widget.value)

    def select(self, *labels_or_codes: Any) -> None:
        """Select options by label or by code.

        Example::

            panel.controls["STAGE_ID"].select("Won", "LOSE")
        """
        by_label = dict(self.info.options)
        codes = {c for _, c in self.info.options}
        chosen = []
        for item in labels_or_codes:
            if item in by_label:
                chosen.append(by_label[item])
            elif item in codes:
                chosen.append(item)
            else:
                raise KeyError(f"{self.info.name}: no option {item!r}")
        self.widget.value = tuple(chosen)

    def mask(self, series: pd.Series) -> pd.Series:
        if not self.active:
            return pd.Series(True, index=series.index)
        return series.isin(list(self.widget.value)).fillna(False).astype(bool)

    def server(self) -> dict[str, Any]:
        if not self.active:
            return {}
        key = f"@{self.info.field}" if self.dialect == "crm" else self.info.field
        return {key: list(self.widget.value)}


def _series_tz(series: pd.Series) -> Any:
    return getattr(series.dtype, "tz", None)


class DateRangeControl(Control):
    """Two date pickers; the end date is inclusive (rows before the next midnight)."""

    def __init__(self, info: ColumnInfo, series: pd.Series) -> None:
        self.info = info
        self.tz = _series_tz(series)
        self.start = widgets.DatePicker(description="from", style=_STYLE)
        self.end = widgets.DatePicker(description="to", style=_STYLE)
        self.widget = widgets.VBox(
            [widgets.HTML(f"<b>{info.caption}</b>"), widgets.HBox([self.start, self.end])]
        )

    def _inputs(self) -> list[widgets.Widget]:
        return [self.start, self.end]

    @property
    def active(self) -> bool:
        return self.start.value is not None or self.end.value is not None

    def _bound(self, day: dt.date) -> pd.Timestamp:
        ts = pd.Timestamp(day.year, day.month, day.day)
        return ts.tz_localize(self.tz) if self.tz is not None else ts

    def mask(self, series: pd.Series) -> pd.Series:
        keep = pd.Series(True, index=series.index)
        values = pd.to_datetime(series)
        if self.start.value is not None:
            keep &= (values >= self._bound(self.start.value)).fillna(False).astype(bool)
        if self.end.value is not None:
            upper = self._bound(self.end.value + dt.timedelta(days=1))
            keep &= (values < upper).fillna(False).astype(bool)
        return keep

    def server(self) -> dict[str, Any]:
        # tz-aware columns: the instant at midnight in the column's zone; dates: that date
        out: dict[str, Any] = {}
        if self.start.value is not None:
            out[f">={self.info.field}"] = self._bound(self.start.value)
        if self.end.value is not None:
            out[f"<{self.info.field}"] = self._bound(self.end.value + dt.timedelta(days=1))
        return out


class NumberRangeControl(Control):
    """A range slider over the column's observed minimum and maximum (inclusive)."""

    def __init__(self, info: ColumnInfo, series: pd.Series) -> None:
        self.info = info
        values = pd.to_numeric(series, errors="coerce").dropna()
        lo = float(values.min()) if len(values) else 0.0
        hi = float(values.max()) if len(values) else 0.0
        if hi <= lo:
            hi = lo + 1.0
        self.integer = pd.api.types.is_integer_dtype(series.dtype)
        if self.integer:
            self.widget = widgets.IntRangeSlider(
                value=(int(lo), int(hi)),
                min=int(lo),
                max=int(hi),
                description=info.caption,
                style=_STYLE,
                continuous_update=False,
                readout=False,
            )
        else:
            self.widget = widgets.FloatRangeSlider(
                value=(lo, hi),
                min=lo,
                max=hi,
                step=(hi - lo) / 1000,
                description=info.caption,
                style=_STYLE,
                continuous_update=False,
                readout=False,
            )
        self.full = (self.widget.min, self.widget.max)
        # our own readout: formatted in Python, so it reads the same in every front end
        self.readout = widgets.HTML(layout=widgets.Layout(min_width="12em"))
        self._box = widgets.HBox([self.widget, self.readout])
        self.widget.observe(lambda _c: self._update_readout(), names="value")
        self._update_readout()

    @property
    def view(self) -> widgets.Widget:
        return self._box

    def _update_readout(self) -> None:
        lo, hi = self.widget.value
        fmt = "{:,.0f}" if self.integer else "{:,.2f}"
        self.readout.value = f"{fmt.format(lo)} – {fmt.format(hi)}"

    @property
    def active(self) -> bool:
        lo, hi = self.widget.value
        return lo > self.full[0] or hi < self.full[1]

    def mask(self, series: pd.Series) -> pd.Series:
        if not self.active:
            return pd.Series(True, index=series.index)
        lo, hi = self.widget.value
        values = pd.to_numeric(series, errors="coerce")
        keep = pd.Series(True, index=series.index)
        if lo > self.full[0]:
            keep &= (values >= lo).fillna(False).astype(bool)
        if hi < self.full[1]:
            keep &= (values <= hi).fillna(False).astype(bool)
        return keep

    def server(self) -> dict[str, Any]:
        if not self.active:
            return {}
        lo, hi = self.widget.value
        out: dict[str, Any] = {}
        if lo > self.full[0]:
            out[f">={self.info.field}"] = lo
        if hi < self.full[1]:
            out[f"<={self.info.field}"] = hi
        return out


class TextControl(Control):
    """Case-insensitive substring search."""

    def __init__(self, info: ColumnInfo) -> None:
        self.info = info
        self.widget = widgets.Text(
            value="", placeholder="contains…", description=info.caption, style=_STYLE
        )
        self.text = self.widget

    @property
    def active(self) -> bool:
        return bool(self.widget.value.strip())

    def mask(self, series: pd.Series) -> pd.Series:
        if not self.active:
            return pd.Series(True, index=series.index)
        needle = self.widget.value.strip()
        found = series.astype("string").str.contains(needle, case=False, regex=False)
        return found.fillna(False).astype(bool)

    def server(self) -> dict[str, Any]:
        if not self.active:
            return {}
        needle = self.widget.value.strip()
        if self.dialect == "crm":
            return {f"%{self.info.field}": needle}
        return {self.info.field: f"%{needle}%"}


class BoolControl(Control):
    """Any / Yes / No toggle."""

    def __init__(self, info: ColumnInfo) -> None:
        self.info = info
        self.widget = widgets.ToggleButtons(
            options=[("Any", None), ("Yes", True), ("No", False)],
            value=None,
            description=info.caption,
            style=_STYLE,
        )

    @property
    def active(self) -> bool:
        return self.widget.value is not None

    def mask(self, series: pd.Series) -> pd.Series:
        if not self.active:
            return pd.Series(True, index=series.index)
        values = series.map({"Y": True, "N": False, True: True, False: False})
        return (values == self.widget.value).fillna(False).astype(bool)

    def server(self) -> dict[str, Any]:
        if not self.active:
            return {}
        return {self.info.field: bool(self.widget.value)}


def make_control(info: ColumnInfo, series: pd.Series, dialect: str = "crm") -> Control:
    """Build the control for a described column.

    Example::

        make_control(describe(deals, ["STAGE_ID"])[0], deals["STAGE_ID"])
    """
    ctl: Control
    if info.kind == "choice":
        ctl = ChoiceControl(info)
    elif info.kind == "datetime":
        ctl = DateRangeControl(info, series)
    elif info.kind == "number":
        ctl = NumberRangeControl(info, series)
    elif info.kind == "bool":
        ctl = BoolControl(info)
    else:
        ctl = TextControl(info)
    ctl.dialect = dialect
    return ctl
