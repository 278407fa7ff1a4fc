"""A saved panel page holds that panel only, with its table library inside (works offline)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bitrix_frames.widgets import FilterPanel, panel_html


def test_saved_page_holds_only_its_panel(deals: pd.DataFrame, tmp_path: Path) -> None:
    other = FilterPanel(deals)  # alive in the same kernel, not saved
    panel = FilterPanel(deals.head(3))
    page = panel_html(panel, tmp_path / "panel.html", script_url="embed.js").read_text()
    assert panel.widget.model_id in page
    assert other.widget.model_id not in page and other.table.model_id not in page
    assert "unpkg.com" not in page and "cdn.jsdelivr" not in page  # the table needs no network
    assert "15,000.00 USD" not in page and "100.00 USD" in page  # only the saved rows
