"""State tests of the filter panel on a typed frame: set controls, check .value and the filter."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from bitrix_frames.widgets import FilterPanel


def test_controls_follow_metadata(deals: pd.DataFrame) -> None:
    panel = FilterPanel(deals)
    kinds = {name: ctl.info.kind for name, ctl in panel.controls.items()}
    assert kinds == {
        "CATEGORY_ID": "choice",
        "STAGE_ID": "choice",
        "ASSIGNED_BY_ID": "choice",
        "CURRENCY_ID": "choice",
        "OPPORTUNITY": "number",
        "DATE_CREATE": "datetime",
        "CLOSEDATE": "datetime",
        "CLOSED": "bool",
        "TITLE": "text",
    }
    stage = panel.controls["STAGE_ID"].widget
    # labels in SORT order, duplicates across pipelines disambiguated by code
    assert [label for label, _ in stage.options][:4] == [
        "New · General",
        "Preparation",
        "Won · General",
        "Lost · General",
    ]
    assert dict(panel.controls["CATEGORY_ID"].widget.options) == {"General": 0, "Wholesale": 1}
    assert panel.controls["ASSIGNED_BY_ID"].widget.options[0] == ("Anna Petrova", 1)
    assert stage.description == "Deal Stage"
    assert len(panel.value) == 6 and panel.server_filter() == {}
    assert "<b>6</b> of 6 rows" in panel.count.value


def test_choice_filters_rows_and_server(deals: pd.DataFrame) -> None:
    panel = FilterPanel(deals)
    panel.controls["STAGE_ID"].select("Won · General", "C1:WON")
    assert list(panel.value.index) == [12, 15, 16]
    panel.controls["ASSIGNED_BY_ID"].select("Anna Petrova")
    assert list(panel.value.index) == [16]
    assert panel.server_filter() == {"@STAGE_ID": ["WON", "C1:WON"], "@ASSIGNED_BY_ID": [1]}
    assert "<b>1</b> of 6 rows" in panel.count.value
    # the kept frame keeps the typed dtypes
    assert isinstance(panel.value["STAGE_ID"].dtype, pd.CategoricalDtype)
    with pytest.raises(KeyError):
        panel.controls["STAGE_ID"].select("Nonexistent")


def test_date_range_is_inclusive_and_matches_server(deals: pd.DataFrame) -> None:
    panel = FilterPanel(deals)
    ctl = panel.controls["DATE_CREATE"]
    ctl.start.value = dt.date(2024, 2, 11)
    ctl.end.value = dt.date(2024, 3, 15)
    assert list(panel.value.index) == [13, 14, 15]
    assert panel.server_filter() == {
        ">=DATE_CREATE": "2024-02-11T00:00:00+00:00",
        "<DATE_CREATE": "2024-03-16T00:00:00+00:00",
    }
    close = panel.controls["CLOSEDATE"]
    close.end.value = dt.date(2024, 3, 20)
    assert list(panel.value.index) == [14, 15][1:]  # 14 closes 2024-03-31
    assert panel.server_filter()["<CLOSEDATE"] == "2024-03-21"


def test_number_text_bool(deals: pd.DataFrame) -> None:
    panel = FilterPanel(deals)
    amount = panel.controls["OPPORTUNITY"].widget
    assert (amount.min, amount.max) == (40.0, 15000.0)
    amount.value = (100.0, 2500.0)
    assert list(panel.value.index) == [11, 12, 15]
    assert panel.server_filter() == {">=OPPORTUNITY": 100.0, "<=OPPORTUNITY": 2500.0}
    amount.value = (100.0, 15000.0)  # upper bound at the maximum: only the lower one is sent
    assert panel.server_filter() == {">=OPPORTUNITY": 100.0}
    panel.controls["TITLE"].widget.value = "boiler"
    assert list(panel.value.index) == [11]
    assert panel.server_filter()["%TITLE"] == "boiler"
    panel.reset()
    panel.controls["CLOSED"].widget.value = False
    assert list(panel.value.index) == [11, 14]
    assert panel.server_filter() == {"CLOSED": "N"}


def test_table_and_chart_show_labels(deals: pd.DataFrame) -> None:
    panel = FilterPanel(deals, chart="STAGE_ID")
    panel.controls["CATEGORY_ID"].select("Wholesale")
    html = panel.table.outputs[0]["data"]["text/html"]
    assert "Wholesale" in html and "Clara Schmidt" in html and "C1:WON" not in html
    assert panel.chart.outputs, "chart rendered"
    assert repr(panel) == "FilterPanel(deal: 3 of 6 rows)"
