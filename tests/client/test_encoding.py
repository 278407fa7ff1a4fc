"""PHP-bracket encoding of batch command queries, checked against the sandbox's parse_str."""

from __future__ import annotations

import datetime as dt
import decimal

from bitrix_frames.encoding import build_query, command, scalar
from bitrix_frames.sandbox.phpquery import parse_query


def test_scalars():
    assert [scalar(v) for v in (None, True, False, 5, 2.5, "x")] == ["", "1", "0", "5", "2.5", "x"]
    assert scalar(dt.date(2024, 3, 2)) == "2024-03-02"
    assert scalar(decimal.Decimal("10.50")) == "10.50"


def test_round_trip_through_php_parse_str():
    params = {
        "filter": {">ID": 5, "@STAGE_ID": ["NEW", "WON"], "=%TITLE": "a&b c+d%[x]#?", "UF_X": None},
        "select": ["ID", "TITLE"],
        "fields": {
            "FLAG": True,
            "OFF": False,
            "PHONE": [{"VALUE": "+1 555", "VALUE_TYPE": "WORK"}],
        },
        "start": -1,
    }
    parsed = parse_query(build_query(params))
    assert parsed["filter"] == {
        ">ID": "5",
        "@STAGE_ID": {"0": "NEW", "1": "WON"},
        "=%TITLE": "a&b c+d%[x]#?",
        "UF_X": "",
    }
    assert parsed["select"] == {"0": "ID", "1": "TITLE"}
    assert parsed["fields"]["FLAG"] == "1" and parsed["fields"]["OFF"] == "0"
    assert parsed["fields"]["PHONE"]["0"] == {"VALUE": "+1 555", "VALUE_TYPE": "WORK"}
    assert parsed["start"] == "-1"


def test_empty_containers():
    # top level: omitted; nested: an array that matches nothing rather than a dropped key
    assert build_query({"filter": {}, "select": []}) == ""
    assert parse_query(build_query({"filter": {"@ID": []}})) == {"filter": {"@ID": {"0": ""}}}


def test_references_pass_through_untouched():
    q = command("crm.deal.list", {"filter": {">ID": "$result[c0][49][ID]"}, "start": -1})
    assert q == "crm.deal.list?filter[%3EID]=$result[c0][49][ID]&start=-1"
    assert command("user.current") == "user.current"
