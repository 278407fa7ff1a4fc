"""Notebook widgets: a filter panel built from the column metadata of any loaded entity frame.

Example::

    import bitrix_frames as bf
    from bitrix_frames.widgets import FilterPanel
    portal = bf.connect()
    panel = FilterPanel(portal.deals(), users=portal.users(), chart=True)
    panel                      # in Jupyter: multi-selects, date ranges, sliders, search, toggles
    panel.value                # filtered DataFrame
    panel.server_filter()      # {"@STAGE_ID": [...], ">=DATE_CREATE": "...", "%TITLE": "..."}
    explorer = PipelineExplorer(portal.stage_history("deal"), portal.deals())
"""

from __future__ import annotations

from bitrix_frames.widgets.controls import Control
from bitrix_frames.widgets.embed import panel_html
from bitrix_frames.widgets.explorer import PipelineExplorer
from bitrix_frames.widgets.meta import ColumnInfo, describe
from bitrix_frames.widgets.panel import FilterPanel, filter_panel

__all__ = [
    "ColumnInfo",
    "Control",
    "FilterPanel",
    "PipelineExplorer",
    "describe",
    "filter_panel",
    "panel_html",
]
