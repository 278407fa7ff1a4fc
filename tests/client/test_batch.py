"""batch: encoding reaches the server intact, >50 commands split, references, per-command errors."""

from __future__ import annotations

from bitrix_frames import errors as E


def test_more_than_fifty_commands_are_split(sandbox, client):
    before = sandbox.stats()["sub_calls"].get("batch", 0)
    res = client.batch({f"g{i}": ("crm.deal.get", {"id": i + 1}) for i in range(120)})
    assert not res.errors
    assert [int(res.result[f"g{i}"]["ID"]) for i in range(120)] == list(range(1, 121))
    assert sandbox.stats()["sub_calls"]["batch"] - before == 3  # 50 + 50 + 20


def test_list_form_and_totals(client):
    res = client.batch([("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}})])
    assert len(res.result["0"]) == 50 and res.total["0"] >= 1200 and res.next["0"] == 50


def test_references_between_commands(client):
    res = client.batch(
        {
            "first": ("crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID"], "start": -1}),
            "after": (
                "crm.deal.list",
                {
                    "order": {"ID": "ASC"},
                    "filter": {">ID": "$result[first][49][ID]"},
                    "select": ["ID"],
                    "start": -1,
                },
            ),
            "one": ("crm.deal.get", {"id": "$result[after][0][ID]"}),
        }
    )
    assert not res.errors
    assert int(res.result["after"][0]["ID"]) == int(res.result["first"][49]["ID"]) + 1
    assert res.result["one"]["ID"] == res.result["after"][0]["ID"]


def test_per_command_errors_are_bitrix_errors(client):
    res = client.batch(
        {
            "ok": ("crm.deal.get", {"id": 1}),
            "missing": ("crm.deal.get", {"id": 99_999_999}),
            "bad": ("crm.deal.list", {"filter": "x"}),
            "nomethod": ("crm.nothing", {}),
        }
    )
    assert set(res.result) == {"ok"}
    assert isinstance(res.errors["missing"], E.NotFound)
    assert isinstance(res.errors["bad"], E.InvalidArgument)
    assert isinstance(res.errors["nomethod"], E.MethodNotFound)
    assert res.errors["missing"].method == "crm.deal.get"


def test_halt_stops_at_first_error(client):
    res = client.batch(
        {
            "a": ("crm.deal.get", {"id": 1}),
            "b": ("crm.deal.get", {"id": 99_999_999}),
            "c": ("crm.deal.get", {"id": 2}),
        },
        halt=True,
    )
    assert set(res.result) == {"a"} and set(res.errors) == {"b"}


def test_values_survive_the_query_encoding(client):
    title = "Ünïcode & co + 100% [x] #1?"
    res = client.batch(
        {
            "add": (
                "crm.deal.add",
                {"fields": {"TITLE": title, "OPENED": "N", "COMMENTS": None, "OPPORTUNITY": 12.5}},
            ),
            "get": ("crm.deal.get", {"id": "$result[add]"}),
        }
    )
    assert not res.errors
    deal = res.result["get"]
    assert deal["TITLE"] == title and deal["OPENED"] == "N"
    assert float(deal["OPPORTUNITY"]) == 12.5
    client.call("crm.deal.delete", id=res.result["add"])


def test_none_and_booleans_in_filters(client):
    # True -> "1", None -> "" (kept): a filter on an empty value must not silently vanish
    res = client.batch(
        {
            "all": ("crm.deal.list", {"select": ["ID"], "start": 0}),
            "none": ("crm.deal.list", {"select": ["ID"], "filter": {"TITLE": None}, "start": 0}),
            "ids": ("crm.deal.list", {"select": ["ID"], "filter": {"@ID": [1, 2, 3]}}),
        }
    )
    assert not res.errors
    assert res.total["none"] < res.total["all"]
    assert sorted(int(r["ID"]) for r in res.result["ids"]) == [1, 2, 3]
