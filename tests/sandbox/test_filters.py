"""The shared list engine: legacy filter operators, order, and the 50-row page arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest

from bitrix_frames.sandbox.api import ApiError, Call
from bitrix_frames.sandbox.config import SandboxConfig
from bitrix_frames.sandbox.filters import Column, order_clause, split_key, where_clause
from bitrix_frames.sandbox.listing import fetch_page
from bitrix_frames.sandbox.store import Store

TZ = dt.timezone(dt.timedelta(hours=3))
COLS = {
    "ID": Column("t.id", "int"),
    "AMOUNT": Column("t.amount", "float"),
    "NAME": Column("t.name", "str"),
    "STAGE": Column("t.stage", "str", exact_like=True, order_sql="t.stage_sort"),
    "CREATED": Column("t.created", "datetime"),
    "DAY": Column("t.day", "date"),
    "FLAG": Column("t.flag", "yn"),
    "TAG": Column("t.id", "str", each_sql="SELECT tag AS value FROM tags g WHERE g.owner = t.id"),
}
ROWS = [
    # id, amount, name, stage, stage_sort, created, day, flag
    (1, 0.0, "Ivan", "NEW", 10, 1704067200, "2024-01-01", "Y"),
    (2, None, "", "WON", 90, 1706745600, "2024-02-01", "N"),
    (3, 150.5, None, "C1:NEW", 10, 1709251200, "2024-03-01", "Y"),
    (4, 20.0, "Irina_x", "LOSE", 80, None, None, "N"),
    (5, 300.0, "olga", "PREP", 20, 1714521600, "2024-05-01", "Y"),
]


@pytest.fixture(scope="module")
def store():
    s = Store()
    s.db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, amount REAL, name TEXT, stage TEXT,"
        " stage_sort INT, created INT, day TEXT, flag TEXT)"
    )
    s.db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    s.db.execute("CREATE TABLE tags (owner INT, tag TEXT)")
    s.db.executemany("INSERT INTO tags VALUES (?, ?)", [(1, "a"), (1, "b"), (3, "b"), (5, "c")])
    return s


def ids(store: Store, filt: dict, **kw) -> list[int]:
    where, args = where_clause(filt, COLS, TZ, **kw)
    return [r[0] for r in store.query(f"SELECT t.id FROM t WHERE {where} ORDER BY t.id", args)]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (">=DEADLINE", (">=", "DEADLINE")),
        ("!=%NAME", ("!=%", "NAME")),
        ("!%=NAME", ("!%=", "NAME")),
        ("=%NAME", ("=%", "NAME")),
        ("%=NAME", ("%=", "NAME")),
        ("!@ID", ("!@", "ID")),
        ("!ID", ("!", "ID")),
        ("ID", ("", "ID")),
    ],
)
def test_split_key(key, expected):
    assert split_key(key) == expected


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        ({"ID": 3}, [3]),
        ({"=ID": "3"}, [3]),
        ({"ID": [1, 5]}, [1, 5]),
        ({"@ID": ["2", "4"]}, [2, 4]),
        ({"!@ID": [2, 4]}, [1, 3, 5]),
        ({">ID": 3}, [4, 5]),
        ({">=ID": 3, "<ID": 5}, [3, 4]),
        ({"<=AMOUNT": 20}, [1, 4]),
        ({"AMOUNT": 0}, [1, 2]),  # numeric = 0 also matches NULL
        ({"NAME": ""}, [2, 3]),  # string = "" matches NULL and empty
        ({"!=NAME": ""}, [1, 4, 5]),
        ({"!NAME": "Ivan"}, [2, 3, 4, 5]),  # negation matches NULL too
        ({"%NAME": "r"}, [4]),
        ({"%NAME": "_"}, [4]),  # `_` is literal in a substring search
        ({"%NAME": "OLG"}, [5]),  # case-insensitive
        ({"=%NAME": "I%"}, [1, 4]),
        ({"%=NAME": "%a"}, [5]),
        ({"!%NAME": "r"}, [1, 2, 3, 5]),
        ({"!=%NAME": "I%"}, [2, 3, 5]),
        ({"%STAGE": "NEW"}, [1]),  # LIKE on exact_like columns is equality
        ({"!%STAGE": "NEW"}, [2, 3, 4, 5]),
        ({">=CREATED": "2024-02-01T03:00:00+03:00"}, [2, 3, 5]),
        ({">=CREATED": "2024-02-01T03:00:00"}, [2, 3, 5]),  # no offset = portal time
        ({"<CREATED": "01.02.2024"}, [1]),  # 01.02.2024 00:00 +03:00 = Jan 31 21:00 UTC
        ({">DAY": "2024-02-01"}, [3, 5]),
        ({"DAY": "2024-03-01T10:00:00+03:00"}, [3]),
        ({"FLAG": True}, [1, 3, 5]),
        ({"FLAG": "n"}, [2, 4]),
        ({"TAG": "b"}, [1, 3]),
        ({"TAG": ["a", "c"]}, [1, 5]),
        ({"!TAG": "b"}, [2, 4, 5]),
        ({"@ID": []}, []),
    ],
)
def test_operators(store, filt, expected):
    assert ids(store, filt) == expected


def test_legacy_drops_unknown_numeric_and_logic(store):
    filt = {"NOPE": 1, "LOGIC": "OR", "0": {"ID": 1}, "1": {"ID": 2}, ">ID": 3}
    assert ids(store, filt) == [4, 5]
    assert where_clause({}, COLS, TZ) == ("1", [])


def test_bad_date_matches_nothing_in_legacy_and_rejected_when_strict(store):
    # user.get docs: "If the value is not recognized as a date, the condition retrieves no records"
    assert ids(store, {">CREATED": "not a date"}) == []
    assert ids(store, {"!DAY": "32.13.2024"}) == []
    with pytest.raises(ApiError) as exc:
        where_clause({">CREATED": "not a date"}, COLS, TZ, strict=True)
    assert exc.value.code == "INVALID_ARG_VALUE"


def test_strict_rejects_unknown_key():
    with pytest.raises(ApiError) as exc:
        where_clause({"NOPE": 1}, COLS, TZ, strict=True)
    assert "NOPE" in exc.value.description
    assert exc.value.field == "NOPE"


def test_lowercase_field_names_resolve(store):
    assert ids(store, {">id": 4}) == [5]


def test_order_clause():
    assert order_clause({"id": "asc"}, COLS) == "t.id ASC"
    # strings sort case-insensitively, like MySQL
    assert order_clause({"ID": "Asc", "NAME": "desc"}, COLS) == "t.id ASC, t.name COLLATE CI DESC"
    assert order_clause({"ID": "whatever"}, COLS) == "t.id DESC"  # anything not ASC is DESC
    assert order_clause({"STAGE": "ASC"}, COLS) == "t.stage_sort ASC"
    assert order_clause({"NOPE": "ASC"}, COLS, "t.id ASC") == "t.id ASC"


# --- fetch_page ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big():
    s = Store()
    s.db.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, v INT)")
    s.db.executemany("INSERT INTO n (v) VALUES (?)", [(i % 7,) for i in range(120)])
    return s


def page(store, start, mode="legacy", where="", args=()):
    call = Call(store=store, config=SandboxConfig(), user_id=1, method="x", start=start)
    rows, total, nxt = fetch_page(
        call, from_sql="n", where=where, args=list(args), order_by="id ASC", mode=mode
    )
    return [r["id"] for r in rows], total, nxt, call


@pytest.mark.parametrize(
    ("start", "first", "count", "nxt"),
    [(0, 1, 50, 50), (49, 1, 50, 50), (75, 51, 50, 100), (100, 101, 20, None), (500, 1, 50, 50)],
)
def test_legacy_paging_rounds_down_and_falls_back(big, start, first, count, nxt):
    got, total, next_, call = page(big, start)
    assert (got[0], len(got), total, next_) == (first, count, 120, nxt)
    assert call.rows_counted == 120
    assert call.rows_returned == count
    assert call.rows_skipped == first - 1


@pytest.mark.parametrize(
    ("start", "first", "count", "nxt"), [(0, 1, 50, 50), (75, 76, 45, None), (100, 101, 20, None)]
)
def test_exact_paging(big, start, first, count, nxt):
    got, total, next_, _ = page(big, start, "exact")
    assert (got[0], len(got), total, next_) == (first, count, 120, nxt)


def test_exact_past_end_is_empty(big):
    got, total, nxt, _ = page(big, 500, "exact")
    assert (got, total, nxt) == ([], 120, None)


def test_start_minus_one_counts_nothing(big):
    got, total, nxt, call = page(big, -1, where="id > ?", args=[100])
    assert (got[0], len(got), total, nxt) == (101, 20, 0, None)
    assert call.rows_counted == 0


def test_empty_result(big):
    got, total, nxt, _ = page(big, 0, where="id > ?", args=[1000])
    assert (got, total, nxt) == ([], 0, None)


def test_keyset_export_uses_primary_key():
    s = Store()
    s.db.execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT)")
    s.db.executemany("INSERT INTO k (v) VALUES (?)", [("x",) for _ in range(100_000)])
    where, args = where_clause({">ID": 99_900}, {"ID": Column("k.id", "int")}, TZ)
    plan = " ".join(
        r[3]
        for r in s.query(
            f"EXPLAIN QUERY PLAN SELECT * FROM k WHERE {where} ORDER BY k.id ASC LIMIT 50", args
        )
    )
    assert "USING INTEGER PRIMARY KEY" in plan and "TEMP B-TREE" not in plan
    call = Call(store=s, config=SandboxConfig(), user_id=1, method="x", start=-1)
    rows, total, nxt = fetch_page(call, from_sql="k", where=where, args=args, order_by="k.id ASC")
    assert [r["id"] for r in rows][:2] == [99_901, 99_902] and len(rows) == 50
    assert (total, nxt, call.rows_counted) == (0, None, 0)


# --- operator dialects (issue 16; sources in docs/sandbox.md "Filters") ---------------------------


def test_crm_dialect_has_no_between_the_key_names_an_unknown_field(store):
    # CSqlUtil::GetFilterOperation reads "><AMOUNT" as ">" on field "<AMOUNT": dropped
    assert ids(store, {"><AMOUNT": [10, 200]}) == [1, 2, 3, 4, 5]
    assert ids(store, {"!><AMOUNT": [10, 200]}) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("dialect", ["orm", "tasks"])
def test_orm_and_tasks_between(store, dialect):
    assert ids(store, {"><AMOUNT": [10, 200]}, dialect=dialect) == [3, 4]
    assert ids(store, {"!><AMOUNT": [10, 200]}, dialect=dialect) == [1, 2, 5]
    assert ids(store, {"><DAY": ["2024-02-01", "2024-03-15"]}, dialect=dialect) == [2, 3]
    assert ids(store, {"><NAME": ["i", "j"]}, dialect=dialect) == [1, 4]  # case-insensitive
    assert ids(store, {"><AMOUNT": [10]}, dialect=dialect) == []  # not two bounds


@pytest.mark.parametrize("dialect", ["crm", "orm", "tasks"])
def test_string_equality_and_in_ignore_case(store, dialect):
    assert ids(store, {"NAME": "IVAN"}, dialect=dialect) == [1]
    assert ids(store, {"@NAME": ["OLGA", "ivan"]}, dialect=dialect) == [1, 5]
    assert ids(store, {"STAGE": "won"}, dialect=dialect) == [2]
    assert ids(store, {"!NAME": "ivAN"}, dialect=dialect) == [2, 3, 4, 5]
    assert ids(store, {">NAME": "IRINA_X"}, dialect=dialect) == [1, 5]


def test_like_family_on_every_kind(store):
    assert ids(store, {"%NAME": "RIN"}) == [4]
    assert ids(store, {"=%NAME": "i%"}) == [1, 4]
    assert ids(store, {"%=NAME": "%a"}) == [5]
    assert ids(store, {"!%NAME": "i"}) == [2, 3, 5]
    assert ids(store, {"!=%NAME": "i%"}) == [2, 3, 5]
    assert ids(store, {"%AMOUNT": "20"}) == [4]  # LIKE on numbers is equality (core)
    assert ids(store, {"%STAGE": "NE"}) == []  # exact_like: equality
    assert ids(store, {"%TAG": "b"}) == [1, 3]


def test_query_operator_search_syntax(store):
    assert ids(store, {"?NAME": "iva | olg"}) == [1, 5]
    assert ids(store, {"?NAME": "i & x"}) == [4]
    assert ids(store, {"?ID": "3"}) == [3]  # non-strings: equality (core)


def test_or_null_prefix_in_crm(store):
    assert ids(store, {"+>AMOUNT": 100}) == [2, 3, 5]


def test_user_get_ignores_three_character_operators():
    import requests

    from bitrix_frames.sandbox import Sandbox

    with Sandbox(deals=10, limits=False) as sb:

        def total(flt):
            body = requests.post(sb.webhook_url + "user.get", json={"FILTER": flt}, timeout=30)
            return body.json()["total"]

        everyone = total({})
        some = total({"><ID": [1, 3]})
        assert some == 3
        assert total({"!><ID": [1, 3]}) == everyone  # "!>" + field "<ID": unknown, dropped
        assert total({"NAME": "%"}) == 0
