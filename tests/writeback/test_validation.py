"""Bad input is refused before anything is sent: one WriteValidationError naming row and field
for each of more than 40 distinct mistakes, while the portal stays byte-for-byte unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from wb_helpers import client as make_client
from wb_helpers import dump, write_calls

from bitrix_frames.errors import WriteValidationError
from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan


@pytest.fixture(scope="module")
def portal():
    with Sandbox(deals=40, limits=False) as sb, make_client(sb) as c:
        frames = {e: load(c, e) for e in ("deal", "lead", "contact", "company", "task", "user")}
        yield sb, c, frames


def setv(frame: pd.DataFrame, row, column: str, value) -> pd.DataFrame:
    """Set one cell, widening the column to object so that any bad value fits."""
    out = frame.copy()
    if column not in out.columns:
        out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out[column] = out[column].astype(object)
    out.at[row, column] = value
    return out


def add(frame: pd.DataFrame, **values) -> pd.DataFrame:
    row = pd.DataFrame(
        {k: [v] for k, v in values.items()}, index=pd.Index([pd.NA], dtype="Int64", name="ID")
    )
    return pd.concat([frame, row])


def uf(frame: pd.DataFrame, title: str) -> str:
    """The code of the user field titled ``title`` (seeded codes look like UF_CRM_1684312345678)."""
    return next(c for c, t in frame.bitrix.title_map().items() if t == title)


def first(frame, where: Callable | None = None):
    return frame.index[where(frame)][0] if where else frame.index[0]


def in_pipeline(n):
    return lambda d: d["CATEGORY_ID"] == n


def open_task(t):
    return t["STATUS"].astype("Int64").isin([2, 3])


# Each case: (name, entity of the frames, builder(frame) -> (after, plan kwargs), row, field).
# The row is a callable of the frame (an ID) or a fixed string (new rows, whole-frame problems).
CASES = [
    # --- deals: columns, read-only, immutable -------------------------------------------------
    ("unknown column", "deal", lambda d: (setv(d, first(d), "FOO", 1), {}), first, "FOO"),
    ("unknown column on new row", "deal", lambda d: (add(d, TITLE="x", BAR=2), {}), "new#", "BAR"),
    (
        "read-only DATE_CREATE",
        "deal",
        lambda d: (setv(d, first(d), "DATE_CREATE", pd.Timestamp("2020-01-01", tz="UTC")), {}),
        first,
        "DATE_CREATE",
    ),
    (
        "read-only STAGE_SEMANTIC_ID",
        "deal",
        lambda d: (setv(d, first(d), "STAGE_SEMANTIC_ID", "S"), {}),
        first,
        "STAGE_SEMANTIC_ID",
    ),
    (
        "read-only IS_NEW",
        "deal",
        lambda d: (setv(d, first(d), "IS_NEW", not bool(d.iloc[0]["IS_NEW"])), {}),
        first,
        "IS_NEW",
    ),
    (
        "read-only on add",
        "deal",
        lambda d: (add(d, TITLE="x", DATE_CREATE=pd.Timestamp("2020-01-01", tz="UTC")), {}),
        "new#",
        "DATE_CREATE",
    ),
    (
        "immutable CATEGORY_ID",
        "deal",
        lambda d: (setv(d, first(d, in_pipeline(0)), "CATEGORY_ID", 1), {}),
        lambda d: first(d, in_pipeline(0)),
        "CATEGORY_ID",
    ),
    # --- deals: values -------------------------------------------------------------------------
    (
        "double not a number",
        "deal",
        lambda d: (setv(d, first(d), "OPPORTUNITY", "lots"), {}),
        first,
        "OPPORTUNITY",
    ),
    (
        "double infinite",
        "deal",
        lambda d: (setv(d, first(d), "OPPORTUNITY", float("inf")), {}),
        first,
        "OPPORTUNITY",
    ),
    (
        "integer with fraction",
        "deal",
        lambda d: (setv(d, first(d), "PROBABILITY", 12.5), {}),
        first,
        "PROBABILITY",
    ),
    (
        "integer from text",
        "deal",
        lambda d: (setv(d, first(d), "PROBABILITY", "abc"), {}),
        first,
        "PROBABILITY",
    ),
    (
        "unknown stage label",
        "deal",
        lambda d: (setv(d, first(d), "STAGE_ID", "Nope"), {}),
        first,
        "STAGE_ID",
    ),
    (
        "stage of another pipeline",
        "deal",
        lambda d: (setv(d, first(d, in_pipeline(1)), "STAGE_ID", "C2:WON"), {}),
        lambda d: first(d, in_pipeline(1)),
        "STAGE_ID",
    ),
    (
        "general stage in pipeline 2",
        "deal",
        lambda d: (setv(d, first(d, in_pipeline(2)), "STAGE_ID", "WON"), {}),
        lambda d: first(d, in_pipeline(2)),
        "STAGE_ID",
    ),
    (
        "unknown deal type",
        "deal",
        lambda d: (setv(d, first(d), "TYPE_ID", "NOPE"), {}),
        first,
        "TYPE_ID",
    ),
    (
        "unknown currency",
        "deal",
        lambda d: (setv(d, first(d), "CURRENCY_ID", "XXX"), {}),
        first,
        "CURRENCY_ID",
    ),
    (
        "unknown user id",
        "deal",
        lambda d: (setv(d, first(d), "ASSIGNED_BY_ID", 99999), {}),
        first,
        "ASSIGNED_BY_ID",
    ),
    (
        "unknown user name",
        "deal",
        lambda d: (setv(d, first(d), "ASSIGNED_BY_ID", "Nobody Here"), {}),
        first,
        "ASSIGNED_BY_ID",
    ),
    (
        "bad date",
        "deal",
        lambda d: (setv(d, first(d), "BEGINDATE", "not a date"), {}),
        first,
        "BEGINDATE",
    ),
    (
        "number as date",
        "deal",
        lambda d: (setv(d, first(d), "CLOSEDATE", 12345), {}),
        first,
        "CLOSEDATE",
    ),
    (
        "bad boolean",
        "deal",
        lambda d: (setv(d, first(d), "IS_RECURRING", "maybe"), {}),
        first,
        "IS_RECURRING",
    ),
    (
        "boolean out of range",
        "deal",
        lambda d: (setv(d, first(d), "OPENED", 2), {}),
        first,
        "OPENED",
    ),
    (
        "negative link",
        "deal",
        lambda d: (setv(d, first(d), "COMPANY_ID", -5), {}),
        first,
        "COMPANY_ID",
    ),
    (
        "link from text",
        "deal",
        lambda d: (setv(d, first(d), "COMPANY_ID", "abc"), {}),
        first,
        "COMPANY_ID",
    ),
    (
        "list as text",
        "deal",
        lambda d: (setv(d, first(d), "TITLE", ["a", "b"]), {}),
        first,
        "TITLE",
    ),
    (
        "unknown UF enum option",
        "deal",
        lambda d: (setv(d, first(d), uf(d, "Priority"), "Galactic"), {}),
        first,
        "@Priority",
    ),
    (
        "unknown item in UF enum list",
        "deal",
        lambda d: (setv(d, first(d), uf(d, "Sales channels"), ["Pigeon"]), {}),
        first,
        "@Sales channels",
    ),
    (
        "bad UF money amount",
        "deal",
        lambda d: (setv(d, first(d), uf(d, "Client budget"), "much"), {}),
        first,
        "@Client budget",
    ),
    (
        "bad UF boolean",
        "deal",
        lambda d: (setv(d, first(d), uf(d, "Contract signed"), "perhaps"), {}),
        first,
        "@Contract signed",
    ),
    (
        "bad UF date",
        "deal",
        lambda d: (setv(d, first(d), uf(d, "Expected payment date"), "31/31/2024"), {}),
        first,
        "@Expected payment date",
    ),
    (
        "unknown UF employee",
        "deal",
        lambda d: (setv(d, first(d), uf(d, "Account manager"), 424242), {}),
        first,
        "@Account manager",
    ),
    # --- index / IDs -----------------------------------------------------------------------------
    ("duplicate index", "deal", lambda d: (pd.concat([d, d.iloc[[0]]]), {}), first, "ID"),
    (
        "ID not in before",
        "deal",
        lambda d: (
            pd.concat([d, d.iloc[[0]].set_axis(pd.Index([987654], dtype="Int64", name="ID"))]),
            {},
        ),
        lambda d: 987654,
        "ID",
    ),
    (
        "ID not an integer",
        "deal",
        lambda d: (d.set_axis(pd.Index(["abc", *d.index[1:]], dtype=object, name="ID")), {}),
        lambda d: "abc",
        "ID",
    ),
    (
        "negative ID",
        "deal",
        lambda d: (d.set_axis(pd.Index([-3, *d.index[1:]], dtype="Int64", name="ID")), {}),
        lambda d: -3,
        "ID",
    ),
    (
        "NaN ID in the ID column",
        "deal",
        lambda d: (setv(d.assign(ID=d.index.astype("Float64")), first(d), "ID", float("nan")), {}),
        first,
        "ID",
    ),
    (
        "ID column disagrees with index",
        "deal",
        lambda d: (setv(d.assign(ID=d.index), first(d), "ID", 777777), {}),
        first,
        "ID",
    ),
    (
        "ID column on a new row",
        "deal",
        lambda d: (add(d.assign(ID=d.index), TITLE="x", ID=5), {}),
        "new#",
        "ID",
    ),
    ("duplicate index in before", "deal", "before-dup", first, "ID"),
    # --- wrong entity --------------------------------------------------------------------------
    (
        "deals given as leads",
        "deal",
        lambda d: (setv(d, first(d), "TITLE", "x"), {"entity": "lead"}),
        "*",
        "entity",
    ),
    (
        "users cannot be written",
        "user",
        lambda u: (setv(u, first(u), "NAME", "x"), {}),
        "*",
        "entity",
    ),
    ("unknown entity name", "deal", lambda d: (d, {"entity": "spaceship"}), "*", "entity"),
    # --- leads: dictionaries and multifields -------------------------------------------------------
    (
        "unknown lead status",
        "lead",
        lambda f: (setv(f, first(f), "STATUS_ID", "NOPE"), {}),
        first,
        "STATUS_ID",
    ),
    (
        "unknown lead source",
        "lead",
        lambda f: (setv(f, first(f), "SOURCE_ID", "Carrier pigeon"), {}),
        first,
        "SOURCE_ID",
    ),
    (
        "unknown honorific",
        "lead",
        lambda f: (setv(f, first(f), "HONORIFIC", "Dr. Dr."), {}),
        first,
        "HONORIFIC",
    ),
    (
        "multifield element of another row",
        "lead",
        lambda f: (setv(f, first(f), "PHONE", [{"ID": 999999, "VALUE": "+1"}]), {}),
        first,
        "PHONE",
    ),
    (
        "invalid e-mail",
        "lead",
        lambda f: (setv(f, first(f), "EMAIL", ["not-an-email"]), {}),
        first,
        "EMAIL",
    ),
    (
        "unknown phone VALUE_TYPE",
        "lead",
        lambda f: (setv(f, first(f), "PHONE", [{"VALUE": "+1", "VALUE_TYPE": "SATELLITE"}]), {}),
        first,
        "PHONE",
    ),
    (
        "multifield ID on a new row",
        "lead",
        lambda f: (add(f, TITLE="x", PHONE=[{"ID": 5, "VALUE": "+1"}]), {}),
        "new#",
        "PHONE",
    ),
    (
        "multifield not a list",
        "contact",
        lambda c: (setv(c, first(c), "PHONE", 5), {}),
        first,
        "PHONE",
    ),
    (
        "bad UF boolean on lead",
        "lead",
        lambda f: (setv(f, first(f), uf(f, "Qualified"), "sometimes"), {}),
        first,
        "@Qualified",
    ),
    # --- required fields ----------------------------------------------------------------------------
    (
        "company without TITLE",
        "company",
        lambda c: (add(c, COMMENTS="no title"), {}),
        "new#",
        "TITLE",
    ),
    ("task without TITLE", "task", lambda t: (add(t, RESPONSIBLE_ID=1), {}), "new#", "TITLE"),
    (
        "task without RESPONSIBLE_ID",
        "task",
        lambda t: (add(t, TITLE="x"), {}),
        "new#",
        "RESPONSIBLE_ID",
    ),
    (
        "task TITLE emptied",
        "task",
        lambda t: (setv(t, first(t), "TITLE", None), {}),
        first,
        "TITLE",
    ),
    # --- tasks ------------------------------------------------------------------------------------
    (
        "unknown task status",
        "task",
        lambda t: (setv(t, first(t), "STATUS", 9), {}),
        first,
        "STATUS",
    ),
    (
        "read-only task CHANGED_DATE",
        "task",
        lambda t: (setv(t, first(t), "CHANGED_DATE", pd.Timestamp("2020-01-01", tz="UTC")), {}),
        first,
        "CHANGED_DATE",
    ),
    (
        "immutable task CREATED_BY",
        "task",
        lambda t: (setv(t, first(t), "CREATED_BY", 2 if t.iloc[0]["CREATED_BY"] != 2 else 3), {}),
        first,
        "CREATED_BY",
    ),
    (
        "new task already completed",
        "task",
        lambda t: (add(t, TITLE="x", RESPONSIBLE_ID=1, STATUS=5), {}),
        "new#",
        "STATUS",
    ),
    (
        "unknown task responsible",
        "task",
        lambda t: (setv(t, first(t, open_task), "RESPONSIBLE_ID", 31337), {}),
        lambda t: first(t, open_task),
        "RESPONSIBLE_ID",
    ),
    (
        "bad task deadline",
        "task",
        lambda t: (setv(t, first(t), "DEADLINE", "tomorrow-ish"), {}),
        first,
        "DEADLINE",
    ),
    (
        "bad task priority",
        "task",
        lambda t: (setv(t, first(t), "PRIORITY", "urgent!!"), {}),
        first,
        "PRIORITY",
    ),
]


def test_there_are_at_least_forty_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize(
    ("name", "entity", "build", "row", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_before_sending(portal, name, entity, build, row, field):
    sb, client, frames = portal
    before = frames[entity]
    if build == "before-dup":
        before, after, kw = pd.concat([before, before.iloc[[0]]]), before, {}
        before.attrs = frames[entity].attrs
    else:
        after, kw = build(before)
    expected_row = row(frames[entity]) if callable(row) else row
    if field.startswith("@"):  # a user field named by its title
        field = uf(frames[entity], field[1:])
    state = dump(sb)
    sb.reset_stats()
    with pytest.raises(WriteValidationError) as exc:
        plan(client, before, after, **kw)
    probs = exc.value.problems
    assert field in set(probs["field"]), (name, probs)
    rows_for_field = [str(r) for r in probs.loc[probs["field"] == field, "row"]]
    if expected_row == "new#":
        assert any(r.startswith("new#") for r in rows_for_field), (name, probs)
    else:
        assert str(expected_row) in rows_for_field, (name, probs)
    assert f"field {field}" in str(exc.value) and "nothing was sent" in str(exc.value)
    assert sb.config.secret not in str(exc.value)
    assert not write_calls(sb)
    assert dump(sb) == state


def test_all_problems_are_collected_at_once(portal):
    sb, client, frames = portal
    deals = frames["deal"]
    a, b = deals.index[:2]
    after = setv(setv(deals, a, "OPPORTUNITY", "lots"), b, "STAGE_ID", "Nope")
    after = add(after, TITLE="x", DATE_CREATE=pd.Timestamp("2020-01-01", tz="UTC"))
    with pytest.raises(WriteValidationError) as exc:
        plan(client, deals, after)
    got = set(zip(exc.value.problems["row"].astype(str), exc.value.problems["field"], strict=True))
    assert {(str(a), "OPPORTUNITY"), (str(b), "STAGE_ID")} <= got
    assert any(r.startswith("new#") and f == "DATE_CREATE" for r, f in got)
