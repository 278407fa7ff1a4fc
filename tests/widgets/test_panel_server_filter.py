"""Against a live sandbox: the server filter of a panel reloads exactly the rows the panel keeps."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from bitrix_frames.portal import connect
from bitrix_frames.sandbox import Sandbox
from bitrix_frames.widgets import FilterPanel

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def portal():
    with Sandbox(limits=False) as sb, connect(sb.webhook_url) as p:
        yield p


@pytest.fixture(scope="module")
def deals(portal) -> pd.DataFrame:
    return portal.deals()


def _same_rows(panel: FilterPanel, portal) -> None:
    kept = panel.value
    reloaded = panel.reload(portal)
    assert 0 < len(kept) < len(panel.df)
    assert sorted(reloaded.index) == sorted(kept.index)


def test_choice_labels_come_from_the_portal(deals: pd.DataFrame) -> None:
    panel = FilterPanel(deals)
    stages = dict(panel.controls["STAGE_ID"].info.options)
    assert stages["General: Deal successful"] == "WON"
    assert stages["Partners: Deal successful"] == "C1:WON"
    assert dict(panel.controls["CATEGORY_ID"].info.options) == {
        "Partners": 1,
        "Renewals": 2,
        "General": 0,
    }
    users = panel.controls["ASSIGNED_BY_ID"].info.options
    assert all(isinstance(code, int) and " " in label for label, code in users)


def test_stage_and_user_filters_reload_the_same_rows(deals: pd.DataFrame, portal) -> None:
    panel = FilterPanel(deals)
    panel.controls["STAGE_ID"].select("General: Deal successful", "Renewals: Renewed")
    first_user = panel.controls["ASSIGNED_BY_ID"].info.options[1][0]
    panel.controls["ASSIGNED_BY_ID"].select(first_user)
    assert set(panel.server_filter()) == {"@STAGE_ID", "@ASSIGNED_BY_ID"}
    assert set(panel.value["STAGE_ID"].astype(str)) <= {"WON", "C2:WON"}
    panel.reset()
    panel.controls["STAGE_ID"].select("General: Deal successful", "Renewals: Renewed")
    _same_rows(panel, portal)


def test_dates_amounts_text_flags_reload_the_same_rows(deals: pd.DataFrame, portal) -> None:
    panel = FilterPanel(deals)
    created = deals["DATE_CREATE"].sort_values()
    mid = created.iloc[len(created) // 2].date()
    panel.controls["DATE_CREATE"].start.value = mid
    panel.controls["DATE_CREATE"].end.value = mid + dt.timedelta(days=120)
    _same_rows(panel, portal)
    amount = panel.controls["OPPORTUNITY"].widget
    amount.value = (5000.0, 30000.0)
    _same_rows(panel, portal)
    panel.controls["CLOSED"].widget.value = False
    _same_rows(panel, portal)
    panel.reset()
    panel.controls["TITLE"].widget.value = "order"
    assert panel.server_filter() == {"%TITLE": "order"}
    _same_rows(panel, portal)
    panel.reset()
    panel.controls["CLOSEDATE"].end.value = deals["CLOSEDATE"].median().date()
    assert "<CLOSEDATE" in panel.server_filter()
    _same_rows(panel, portal)


def test_task_panel_uses_the_task_filter_dialect(portal) -> None:
    tasks = portal.tasks()
    panel = FilterPanel(tasks)
    panel.controls["STATUS"].select("In Progress", "Pending")
    assert panel.server_filter() == {"STATUS": [3, 2]} or panel.server_filter() == {
        "STATUS": [2, 3]
    }
    _same_rows(panel, portal)
    panel.reset()
    panel.controls["TITLE"].widget.value = "call"
    assert panel.server_filter() == {"TITLE": "%call%"}
    if len(panel.value):
        assert sorted(panel.reload(portal).index) == sorted(panel.value.index)
