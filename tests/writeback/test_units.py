"""Pieces that need no portal: diff, value conversion, multifield edits, matching, journal, and a
plan built offline from the documented ``crm.deal.fields`` sample."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from samples import SAMPLES

from bitrix_frames.errors import BadValue, WriteValidationError
from bitrix_frames.schema.specs import Dictionaries, build_specs
from bitrix_frames.schema.to_api import FilterError, encode_filter, money_to_api, value_to_api
from bitrix_frames.writeback import plan
from bitrix_frames.writeback.diff import diff, same
from bitrix_frames.writeback.journal import Journal, Outcome, default_path
from bitrix_frames.writeback.match import holds
from bitrix_frames.writeback.multifield import edits, for_add

if not SAMPLES.exists():  # the samples live outside the repo; fall back to a trimmed copy
    SAMPLES = Path(__file__).parent


def deal_fields() -> dict:
    path = SAMPLES / "crm.deal.fields.response.json"
    if path.exists():
        return json.loads(path.read_text())["result"]
    return {
        "ID": {"type": "integer", "isRequired": False, "isReadOnly": True},
        "TITLE": {"type": "string", "isRequired": False, "isReadOnly": False},
        "CATEGORY_ID": {"type": "crm_category", "isImmutable": True},
        "STAGE_ID": {"type": "crm_status", "statusType": "DEAL_STAGE"},
        "OPPORTUNITY": {"type": "double"},
        "CLOSED": {"type": "char"},
        "DATE_MODIFY": {"type": "datetime", "isReadOnly": True},
        "ASSIGNED_BY_ID": {"type": "user"},
        "BEGINDATE": {"type": "date"},
    }


DICTS = Dictionaries(
    statuses=[
        {"ID": "1", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "NEW", "NAME": "New", "SORT": "10"},
        {"ID": "2", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "WON", "NAME": "Won", "SORT": "20"},
        {
            "ID": "3",
            "ENTITY_ID": "DEAL_STAGE_1",
            "STATUS_ID": "C1:NEW",
            "NAME": "New",
            "SORT": "10",
        },
        {
            "ID": "4",
            "ENTITY_ID": "DEAL_STAGE_1",
            "STATUS_ID": "C1:WON",
            "NAME": "Won",
            "SORT": "20",
        },
    ],
    pipelines=[{"id": 0, "name": "General", "sort": 100}, {"id": 1, "name": "Sales", "sort": 200}],
    users={1: "Ann Lee", 2: "Bob Stone"},
)
SPECS = build_specs("deal", deal_fields(), DICTS)


def frame(data: dict, ids: list) -> pd.DataFrame:
    return pd.DataFrame(data, index=pd.Index(ids, dtype="Int64", name="ID"))


def test_diff_finds_adds_updates_deletes():
    before = frame({"TITLE": ["a", "b", "c"], "OPPORTUNITY": [1.0, 2.0, None]}, [1, 2, 3])
    after = before.drop(index=3)
    after.loc[1, "TITLE"] = "A"
    after.loc[2, "OPPORTUNITY"] = 2  # same value, other type: no change
    after.loc[pd.NA] = ["new", 5.0]
    d = diff(before, after, allow_deletes=True)
    assert [(r.op, r.id, r.values) for r in d.rows] == [
        ("update", 1, {"TITLE": "A"}),
        ("add", None, {"TITLE": "new", "OPPORTUNITY": 5.0}),
        ("delete", 3, {}),
    ]
    assert not d.problems
    assert [r.op for r in diff(before, after).rows] == ["update", "add"]  # no deletes by default


def test_diff_reports_duplicate_and_unknown_ids():
    before = frame({"TITLE": ["a", "b"]}, [1, 2])
    after = pd.DataFrame({"TITLE": ["a", "b", "x"]}, index=pd.Index([1, 1, 99], name="ID"))
    msgs = [(p.row, p.message) for p in diff(before, after).problems]
    assert any(r == 1 and "duplicate" in m for r, m in msgs)
    assert any(r == 99 and "not in before" in m for r, m in msgs)


def test_same_treats_na_and_numbers():
    assert same(None, float("nan")) and same(pd.NA, None) and same(1, 1.0)
    assert same([{"ID": "1"}], [{"ID": "1"}]) and not same([1], [2]) and not same(None, "")


@pytest.mark.parametrize(
    ("column", "value", "ctx", "expected"),
    [
        ("OPPORTUNITY", "12.5", {}, 12.5),
        ("CLOSED", True, {}, "Y"),
        ("CLOSED", "n", {}, "N"),
        ("STAGE_ID", "Won", {"CATEGORY_ID": 1}, "C1:WON"),
        ("STAGE_ID", "Won", {"CATEGORY_ID": 0}, "WON"),
        ("STAGE_ID", "Sales: New", {}, "C1:NEW"),
        ("ASSIGNED_BY_ID", "Bob Stone", {}, 2),
        ("BEGINDATE", pd.Timestamp("2024-08-30"), {}, "2024-08-30"),
        (
            "DATE_MODIFY",
            pd.Timestamp("2024-05-23 15:18:25", tz="UTC"),
            {},
            "2024-05-23T15:18:25+00:00",
        ),
        ("TITLE", None, {}, ""),
    ],
)
def test_cell_to_api_values(column, value, ctx, expected):
    assert value_to_api(SPECS[column], value, pipeline=ctx.get("CATEGORY_ID")) == expected


@pytest.mark.parametrize(
    ("column", "value", "ctx", "text"),
    [
        ("OPPORTUNITY", "lots", {}, "number"),
        ("CLOSED", "maybe", {}, "boolean"),
        ("STAGE_ID", "C1:WON", {"CATEGORY_ID": 0}, "pipeline"),
        ("STAGE_ID", "Nope", {}, "unknown"),
        ("ASSIGNED_BY_ID", "Nobody", {}, "unknown"),
        ("BEGINDATE", "not a date", {}, "date"),
    ],
)
def test_cell_to_api_rejects_bad_values(column, value, ctx, text):
    with pytest.raises(BadValue, match=text):
        value_to_api(SPECS[column], value, pipeline=ctx.get("CATEGORY_ID"))


def test_money_joins_amount_and_currency():
    assert (
        money_to_api(300, "USD") == "300|USD"
        and money_to_api(12.5, "EUR") == "12.5|EUR"
        and money_to_api(None, "X") == ""
    )


def test_one_converter_for_filters_and_cells():
    stage = SPECS["STAGE_ID"]
    assert value_to_api(stage, "sales: won") == "C1:WON"  # labels ignore case
    assert value_to_api(stage, "C1:WON", pipeline="Sales") == "C1:WON"  # not an id: unrestricted
    with pytest.raises(BadValue) as info:
        value_to_api(stage, "Won")  # two pipelines have a "Won"
    assert "several pipelines" in info.value.reason and info.value.column == "STAGE_ID"
    with pytest.raises(BadValue, match="no stages"):
        value_to_api(stage, "Won", pipeline=7)
    user = SPECS["ASSIGNED_BY_ID"]
    assert value_to_api(user, "2") == 2 and value_to_api(user, "ann lee") == 1
    with pytest.raises(BadValue, match="unknown user id"):
        value_to_api(user, 99)
    # a filter may still name a user the dictionary lacks (a deactivated one)
    assert encode_filter("deal", SPECS, {"ASSIGNED_BY_ID": [99, "Ann Lee"]}) == {
        "ASSIGNED_BY_ID": [99, 1]
    }
    with pytest.raises(FilterError, match="expected an integer"):
        encode_filter("deal", SPECS, {"ASSIGNED_BY_ID": 1.5})
    with pytest.raises(FilterError, match="expected a number"):
        encode_filter("deal", SPECS, {">OPPORTUNITY": True})


def test_multifield_edits_follow_protocol_section_9():
    old = [
        {"ID": "7", "VALUE": "+1", "VALUE_TYPE": "WORK"},
        {"ID": "8", "VALUE": "+2", "VALUE_TYPE": "HOME"},
    ]
    new = [{"ID": "7", "VALUE": "+1", "VALUE_TYPE": "MOBILE"}, "+3"]
    assert edits(old, new, "PHONE") == [
        {"ID": 7, "VALUE": "+1", "VALUE_TYPE": "MOBILE"},
        {"VALUE": "+3", "VALUE_TYPE": "WORK"},
        {"ID": 8, "DELETE": "Y"},
    ]
    assert edits(old, ["+1", "+2"], "PHONE") == []  # matched by value: nothing to send
    assert for_add(["a@b.io"], "EMAIL") == [{"VALUE": "a@b.io", "VALUE_TYPE": "WORK"}]
    with pytest.raises(BadValue):
        edits(old, [{"ID": 99, "VALUE": "x"}], "PHONE")


def test_holds_compares_server_formats():
    assert holds({"OPPORTUNITY": 100.0, "CLOSED": "Y"}, {"OPPORTUNITY": "100.00", "CLOSED": "Y"})
    assert holds({"BEGINDATE": "2024-08-30"}, {"BEGINDATE": "2024-08-30T03:00:00+03:00"})
    assert holds({"TITLE": ""}, {"TITLE": None})
    assert not holds({"TITLE": "a"}, {"TITLE": "b"})
    assert holds(
        {"PHONE": [{"ID": 8, "DELETE": "Y"}, {"VALUE": "+3"}]},
        {"PHONE": [{"ID": "9", "VALUE": "+3"}]},
    )


def test_journal_records_intent_and_outcome(tmp_path):
    path = default_path("https://x.bitrix24.com/rest/1/***/", "fp1")
    assert "***" not in str(path) and path.name == "fp1.sqlite"
    with Journal(tmp_path / "j.sqlite", "fp1") as j:
        j.register([("update:5", 0, "update", 5, None), ("add:0", 1, "add", None, "tok")])
        j.mark_sent(["update:5", "add:0"])
        j.mark_done({"update:5": Outcome("ok")})
    with Journal(tmp_path / "j.sqlite", "fp1") as j:  # reopened: state survives
        states = j.states()
        assert states["update:5"].state == "done" and states["add:0"].state == "sent"
        assert j.counts() == {"done": 1, "sent": 1}
    with pytest.raises(ValueError, match="another plan"):
        Journal(tmp_path / "j.sqlite", "other")


def test_offline_plan_from_documented_metadata():
    before = frame(
        {
            "TITLE": ["a", "b"],
            "STAGE_ID": ["NEW", "C1:NEW"],
            "CATEGORY_ID": [0, 1],
            "OPPORTUNITY": [1.0, 2.0],
        },
        [1, 2],
    )
    after = before.copy()
    after.loc[1, "STAGE_ID"] = "WON"
    after.loc[2, "OPPORTUNITY"] = 3.0
    p = plan(None, before, after, entity="deal", fields=deal_fields())
    assert p.counts == {"add": 0, "update": 2, "delete": 0, "complete": 0}
    assert p.changes[["id", "field"]].values.tolist() == [[1, "STAGE_ID"], [2, "OPPORTUNITY"]]
    assert "1 update" in repr(p) or "2 update" in repr(p)
    assert "<table>" in p._repr_html_()
    bad = after.copy()
    bad.loc[1, "CATEGORY_ID"] = 1
    bad["FOO"] = 1
    with pytest.raises(WriteValidationError) as exc:
        plan(None, before, bad, entity="deal", fields=deal_fields())
    probs = exc.value.problems
    assert {("CATEGORY_ID", 1), ("FOO", 1)} <= set(zip(probs["field"], probs["row"], strict=True))
