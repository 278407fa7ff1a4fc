"""A filter panel for any loaded entity frame, built from its column metadata.

Example::

    from bitrix_frames.widgets import FilterPanel
    panel = FilterPanel(deals, users=portal.users())
    panel                                   # display it in Jupyter
    panel.controls["STAGE_ID"].select("Won")
    panel.value                             # the filtered typed DataFrame
    panel.server_filter()                   # {"@STAGE_ID": ["WON", "C1:WON"]} -> reload with it
    portal.deals(filter=panel.server_filter())
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Image, display

from bitrix_frames.display import column_specs
from bitrix_frames.entities import Entity, entity
from bitrix_frames.reports.labels import caption, entity_of, labelled
from bitrix_frames.schema.specs import ColumnSpec
from bitrix_frames.schema.to_api import encode_filter
from bitrix_frames.widgets.controls import Control, make_control
from bitrix_frames.widgets.meta import describe
from bitrix_frames.widgets.table import bundle_html, table_html

__all__ = ["FilterPanel", "filter_panel"]


def _registered(name: str | None) -> Entity | None:
    try:
        return entity(name) if name else None
    except ValueError:
        return None


class FilterPanel:
    """Metadata-driven filters over a typed entity frame, with a live count, table and chart.

    Args:
        df: a frame loaded by ``portal.deals()`` & co. (typed; labels from its metadata).
        columns: columns to filter on; ``None`` picks the usual ones, ``"all"`` takes every
            filterable column.
        labels: extra ``{column: {code: label}}``.
        users: a users frame or ``{id: name}`` to label user-id columns.
        chart: a choice column to chart counts by (``True``: the first one; ``None``: no chart).
        head: rows per page of the table (it sorts, searches and pages through every kept row).
        tz: time zone of the table's datetimes (default: the portal's, see
            :func:`bitrix_frames.display.portal_tz`).

    Example::

        panel = FilterPanel(deals, chart="STAGE_ID")
        panel.controls["OPPORTUNITY"].widget.value = (1000, 50000)
        len(panel.value), panel.server_filter()
    """

    def __init__(
        self,
        df: pd.DataFrame,
        columns: Sequence[str] | str | None = None,
        *,
        labels: Mapping[str, Mapping[Any, str]] | None = None,
        users: pd.DataFrame | Mapping[Any, str] | None = None,
        chart: str | bool | None = None,
        head: int = 10,
        tz: Any = None,
    ) -> None:
        self.df = df
        self.entity = entity_of(df)
        self.head = head
        self.tz = tz
        self.specs = column_specs(df)
        ent = _registered(self.entity)
        dialect = ent.filter_dialect if ent is not None else "crm"
        self.columns = describe(df, columns, labels=labels, users=users)
        self.controls: dict[str, Control] = {
            info.name: make_control(info, df[info.name], dialect) for info in self.columns
        }
        self._extra_labels = {
            info.name: dict(info.labels) for info in self.columns if info.kind == "choice"
        }
        self._captions = {i.name: i.caption for i in self.columns}
        if "TITLE" in df.columns:
            self._captions.setdefault("TITLE", caption(df, "TITLE"))
        choice_cols = [i.name for i in self.columns if i.kind == "choice"]
        if chart is True:
            chart = choice_cols[0] if choice_cols else None
        self.chart_column: str | None = chart if isinstance(chart, str) else None
        self.count = widgets.HTML()
        # the table library, once: tables re-rendered on every change then stay small
        self.bundle = widgets.Output(layout=widgets.Layout(height="0px", overflow="hidden"))
        self.bundle.append_display_data(HTML(bundle_html()))
        self.table = widgets.Output()
        self.chart = widgets.Output()
        reset = widgets.Button(description="Reset", icon="undo")
        reset.on_click(lambda _b: self.reset())
        boxes = [ctl.view for ctl in self.controls.values()]
        title = (self.entity or "rows").capitalize()
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<h3>{title}: filters</h3>"),
                widgets.GridBox(
                    boxes,
                    layout=widgets.Layout(
                        grid_template_columns="repeat(2, minmax(320px, 1fr))", grid_gap="6px"
                    ),
                ),
                widgets.HBox([self.count, reset]),
                self.bundle,
                self.table,
                self.chart,
            ]
        )
        for ctl in self.controls.values():
            ctl.observe(lambda _change: self.refresh())
        self.refresh()

    # --- state -------------------------------------------------------------------------
    def mask(self) -> pd.Series:
        """Boolean mask of the rows kept by all active controls."""
        keep = pd.Series(True, index=self.df.index)
        for name, ctl in self.controls.items():
            if ctl.active:
                keep &= ctl.mask(self.df[name])
        return keep

    @property
    def value(self) -> pd.DataFrame:
        """The filtered frame (same dtypes and metadata as the input)."""
        return self.df[self.mask()]

    def server_filter(self) -> dict[str, Any]:
        """The Bitrix ``filter`` equivalent to the current selection, to reload with.

        The controls give codes and values; the client's filter encoder
        (:func:`bitrix_frames.schema.encode_filter`) makes them API values, as a load would.

        Example::

            portal.deals(filter=panel.server_filter())
        """
        out: dict[str, Any] = {}
        for ctl in self.controls.values():
            out.update(ctl.server())
        if self.entity is None or not self.specs or _registered(self.entity) is None:
            return out  # a frame without metadata: nothing to encode against
        return encode_filter(self.entity, self.specs, out)

    def reload(self, portal: Any, **kwargs: Any) -> pd.DataFrame:
        """Load the same rows from the portal with :meth:`server_filter` (server-side).

        Example::

            fresh = panel.reload(portal)
        """
        ent = _registered(self.entity)
        loader = getattr(portal, ent.plural, None) if ent is not None else None
        if loader is None:
            raise ValueError(f"don't know how to reload entity {self.entity!r}")
        return loader(filter=self.server_filter(), **kwargs)

    def reset(self) -> None:
        """Clear every control."""
        for ctl in self.controls.values():
            w = ctl.widget
            if hasattr(ctl, "start"):
                ctl.start.value = None  # type: ignore[attr-defined]
                ctl.end.value = None  # type: ignore[attr-defined]
            elif isinstance(w, widgets.SelectMultiple):
                w.value = ()
            elif isinstance(w, (widgets.FloatRangeSlider, widgets.IntRangeSlider)):
                w.value = (w.min, w.max)
            elif isinstance(w, widgets.Text):
                w.value = ""
            elif isinstance(w, widgets.ToggleButtons):
                w.value = None
        self.refresh()

    # --- display -----------------------------------------------------------------------
    def labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A display copy of ``frame`` with labels instead of codes in the filtered columns."""
        out = frame.copy()
        for name, extra in self._extra_labels.items():
            out[name] = labelled(frame, name, extra)
        return out

    def _table_specs(self) -> dict[str, ColumnSpec]:
        """The frame's specs, plus the labels given to the panel (``labels=``, ``users=``)."""
        specs = dict(self.specs)
        for name, extra in self._extra_labels.items():
            spec = specs.get(name)
            if spec is None or not extra:
                continue
            cats = tuple(spec.categories or ())
            added = tuple(c for c in extra if c not in set(cats))
            own = dict(zip(cats, spec.labels or (), strict=False))
            codes = cats + added
            specs[name] = replace(
                spec,
                kind=spec.kind if spec.kind in ("category", "user", "currency_of") else "category",
                categories=codes,
                labels=tuple(str(extra.get(c, own.get(c, c))) for c in codes),
                pipelines=spec.pipelines if not added else None,
                short_labels=spec.short_labels if not added else None,
            )
        return specs

    def _shown_columns(self) -> list[str]:
        first = [c for c in ("TITLE", "NAME", "LAST_NAME") if c in self.df.columns]
        return first + [c for c in self.controls if c not in first]

    def refresh(self) -> None:
        """Recompute the count, the table and the chart from the current control values."""
        kept = self.value
        self.count.value = f"<b>{len(kept):,}</b> of {len(self.df):,} rows"
        shown = kept[self._shown_columns()]
        # append_display_data works with and without a kernel (and survives HTML embedding)
        self.table.outputs = ()
        self.table.append_display_data(
            HTML(table_html(shown, self._table_specs(), tz=self.tz, page_length=self.head))
        )
        if self.chart_column:
            self.chart.outputs = ()
            self.chart.append_display_data(Image(data=self._chart_png(kept), format="png"))

    def _chart_png(self, kept: pd.DataFrame) -> bytes:
        col = self.chart_column or ""
        counts = labelled(kept, col, self._extra_labels.get(col)).value_counts(sort=False)
        counts = counts[counts > 0]
        fig, ax = plt.subplots(figsize=(7, 0.28 * len(counts) + 1.2))
        try:
            counts.iloc[::-1].plot.barh(ax=ax, color="#2f7ed8")
            ax.set_title(f"Rows by {self.controls[col].info.caption}")
            ax.set_ylabel("")
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=80)
        finally:
            plt.close(fig)
        return buf.getvalue()

    def _ipython_display_(self) -> None:
        display(self.widget)

    def __repr__(self) -> str:
        return f"FilterPanel({self.entity or 'frame'}: {len(self.value)} of {len(self.df)} rows)"


def filter_panel(df: pd.DataFrame, **kwargs: Any) -> FilterPanel:
    """Shortcut for :class:`FilterPanel`.

    Example::

        panel = filter_panel(portal.leads(), chart=True)
    """
    return FilterPanel(df, **kwargs)
