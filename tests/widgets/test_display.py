"""The display formatter: what a person reads in the panel, plans, report tables and the demo."""

from __future__ import annotations

import pandas as pd
import pytest

from bitrix_frames.display import column_specs, display_frame, format_value, sort_keys
from bitrix_frames.reports.labels import label_map, user_names
from bitrix_frames.schema.labels import code_to_label, label_series, label_to_code
from bitrix_frames.schema.specs import ColumnSpec


def test_cells_read_like_a_person_writes_them(deals: pd.DataFrame) -> None:
    before = deals.copy()
    shown = display_frame(deals, tz="+03:00")
    assert list(shown.columns)[:4] == ["Title", "Pipeline", "Deal Stage", "Responsible"]
    row = shown.loc[12]
    assert row["Amount"] == "2,500.00 EUR"  # separator, precision, the row's currency
    assert shown.loc[16, "Amount"] == "15,000.00 USD"
    assert shown.loc[14, "Amount"] == ""  # NA is blank
    assert shown.loc[16, "Title"] == ""
    assert row["Creation Date"] == "2024-02-11 02:30"  # 23:30 UTC in the portal's +03:00
    assert row["Close Date"] == "2024-02-28" and shown.loc[13, "Close Date"] == ""
    assert (row["Closed"], shown.loc[11, "Closed"]) == ("Yes", "No")
    assert (row["Deal Stage"], row["Responsible"], row["Pipeline"]) == (
        "Won",
        "Boris Ivanov",
        "General",
    )
    pd.testing.assert_frame_equal(deals, before)  # the typed frame is untouched
    assert str(deals["DATE_CREATE"].dt.tz) == "UTC"


def test_time_zone_comes_from_the_loaded_frame(deals: pd.DataFrame) -> None:
    assert display_frame(deals).loc[12, "Creation Date"] == "2024-02-10 23:30"  # no offset: UTC
    deals.attrs["bitrix"]["utc_offset"] = "-05:00"
    assert display_frame(deals).loc[12, "Creation Date"] == "2024-02-10 18:30"


def test_values_without_metadata() -> None:
    table = pd.DataFrame(
        {
            "user_id": pd.array([1234, 7], dtype="Int64"),
            "deals": [1200, 3],
            "amount": [1234567.891, None],
            "currency": ["USD", "EUR"],
            "opened": ["Y", "N"],
            "flag": [True, False],
        }
    )
    shown = display_frame(table, titles=False)
    assert shown["user_id"].tolist() == ["1234", "7"]  # ids keep their digits
    assert shown["deals"].tolist() == ["1,200", "3"]
    assert shown["amount"].tolist() == ["1,234,567.89 USD", ""]
    assert shown["opened"].tolist() == ["Yes", "No"] and shown["flag"].tolist() == ["Yes", "No"]
    assert display_frame(table[["amount"]], currency="RUB")["amount"][0] == "1,234,567.89 RUB"
    stamp = pd.Timestamp("2026-09-18T07:21:55Z")
    assert format_value(stamp, tz="+03:00") == "2026-09-18 10:21"
    assert format_value(stamp, tz="Europe/Berlin") == "2026-09-18 09:21"


def test_one_fallback_for_unknown_codes(deals: pd.DataFrame) -> None:
    specs = column_specs(deals)
    stage, user = specs["STAGE_ID"], specs["ASSIGNED_BY_ID"]
    assert code_to_label(stage, "C1:WON") == "Won" and code_to_label(user, 2.0) == "Boris Ivanov"
    assert code_to_label(stage, "C9:GONE") == "#C9:GONE"
    assert code_to_label(user, 99) == "#99"
    assert format_value(99, user) == "#99"
    assert label_to_code(stage, "Won", pipeline=1) == "C1:WON"
    odd = pd.Series(["WON", "C9:GONE"])
    assert label_series(odd, stage).tolist() == ["Won (WON)", "#C9:GONE"]
    assert user_names(pd.DataFrame({"ID": [5], "NAME": [None], "LAST_NAME": [""]})) == {5: "#5"}
    with_unknown = deals.copy()
    with_unknown["STAGE_ID"] = with_unknown["STAGE_ID"].cat.add_categories(["C9:GONE"])
    assert label_map(with_unknown, "STAGE_ID")["C9:GONE"] == "#C9:GONE"


def test_sort_keys_sort_by_value(deals: pd.DataFrame) -> None:
    keys = sort_keys(deals)
    assert keys["OPPORTUNITY"].tolist() == [100.0, 2500.0, 40.0, None, 900.0, 15000.0]
    assert keys["STAGE_ID"].tolist() == [0, 2, 3, 4, 5, 5]  # dictionary (SORT) order
    assert keys["DATE_CREATE"].iloc[0] == int(pd.Timestamp("2024-01-05T10:00Z").timestamp())
    assert "CLOSED" not in keys and "TITLE" not in keys  # their text sorts right


def test_plan_html_shows_formatted_changes() -> None:
    from bitrix_frames.writeback import plan

    fields = {
        "ID": {"type": "integer", "isReadOnly": True, "title": "ID"},
        "TITLE": {"type": "string", "title": "Title"},
        "OPPORTUNITY": {"type": "double", "title": "Amount"},
        "CLOSED": {"type": "char", "title": "Closed"},
    }
    before = pd.DataFrame(
        {"TITLE": ["a"], "OPPORTUNITY": [1.0], "CLOSED": ["N"]},
        index=pd.Index([1], dtype="Int64", name="ID"),
    )
    after = before.copy()
    after.loc[1, "OPPORTUNITY"] = 1234567.5
    after.loc[1, "CLOSED"] = "Y"
    html = plan(None, before, after, entity="deal", fields=fields)._repr_html_()
    assert "<table>" in html
    assert "1,234,567.50" in html and "1.00" in html
    assert ">Yes<" in html and ">No<" in html and ">Amount<" in html  # field titles


def test_spec_dicts_from_any_version_load() -> None:
    df = pd.DataFrame({"X": [1]})
    df.attrs["bitrix"] = {"fields": {"X": {"title": "Ex", "type": "integer", "future_key": 1}}}
    spec = column_specs(df)["X"]
    assert isinstance(spec, ColumnSpec) and (spec.kind, spec.title) == ("int", "Ex")


@pytest.mark.parametrize("empty", [None, pd.NA, float("nan"), "", [], pd.NaT])
def test_empty_is_blank(empty) -> None:
    assert format_value(empty) == ""
