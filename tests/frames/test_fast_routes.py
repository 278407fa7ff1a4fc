"""``to_frame``'s pyarrow routes give exactly what ``convert_column`` gives on an object Series.

Random records mix plain API text (the fast routes) with every odd value a route must refuse
(hex, spaces, exponents, Python numbers and bools, dicts, impossible dates...), so a wrong fast path
shows up as a difference against the per-column reference.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from bitrix_frames.schema import ColumnSpec, convert_column, to_frame
from bitrix_frames.schema.specs import KIND_DTYPES
from bitrix_frames.schema.to_pandas import convert_values

_INSTANTS = [
    "2024-05-23T18:18:25+02:00",
    "2024-05-23T10:00:00-05:00",
    "2024-05-23T18:18:25Z",
    "2024-05-23T18:18:25.123+02:00",
    " 2024-05-23T18:18:25+02:00",
    "2026-02-30T00:00:00+03:00",
    "2024-05-23",
    "9999-12-31T00:00:00+03:00",
    "garbage",
]
_POOLS: dict[str, list] = {
    "int": ["5", "0", "-3", "0x10", " 7", "1.5", "2.0", 7, 7.0, "abc", "+4", "1" * 20, True]
    + [str(2**53 + 1)],
    "float": ["1.5", "0.10", "-0", "1e5", "nan", "inf", " 2", 3, 2.5, "x", "1,5", "1" * 20],
    "bool": ["Y", "N", "y", "1", "0", 1, 0, True, False, "true", " Y ", "maybe"],
    "datetime": _INSTANTS,
    "string": ["a", "b", " ", 5, 1.5, True, ["x"], {"a": 1}],
    "money": ["300|USD", "12.5|EUR", "|USD", "300|", "300", "abc|XYZ", "1e3|JPY"],
    "category": ["NEW", "WON", "UNKNOWN1", "C1:NEW", 5, 1.5],
    "int_category": ["1", "2", "0", "77", 1, "x", "1.0", "1.5", str(2**53 + 1), "1" * 20],
    "list": [["6", "7"], [], False, "6", ["6", None], ["", "5"], ["5.0"], [5, 6], {"a": "5"}],
    "object": [[1], {"a": 1}, "z", 5],
}


def _spec(name: str, kind: str, **kw) -> ColumnSpec:
    return ColumnSpec(name=name, title=name, type=kind, kind=kind, dtype=KIND_DTYPES[kind], **kw)


# column -> (spec, pool of raw values)
_COLUMNS: dict[str, tuple[ColumnSpec, str]] = {
    "I": (_spec("I", "int"), "int"),
    "L": (_spec("L", "link"), "int"),
    "U": (_spec("U", "user", categories=(1, 2, 3)), "int"),
    "F": (_spec("F", "float"), "float"),
    "B": (_spec("B", "bool"), "bool"),
    "DT": (_spec("DT", "datetime"), "datetime"),
    "D": (_spec("D", "date"), "datetime"),
    "T": (_spec("T", "string"), "string"),
    "M": (_spec("M", "money"), "money"),
    "C": (_spec("C", "category", categories=("NEW", "WON")), "category"),
    "IC": (_spec("IC", "category", categories=(0, 1, 2)), "int_category"),
    "LI": (_spec("LI", "list", item_kind="int"), "list"),
    "LC": (_spec("LC", "list", item_kind="category"), "list"),
    "LF": (_spec("LF", "list", item_kind="float"), "list"),
    "LS": (_spec("LS", "list", item_kind="string"), "list"),
    "O": (_spec("O", "object"), "object"),
}
_SPECS = {"ID": _spec("ID", "int"), **{name: spec for name, (spec, _) in _COLUMNS.items()}}


def _assert_same(got: pd.Series, ref: pd.Series) -> None:
    pd.testing.assert_series_equal(got, ref, check_names=False, check_exact=True)
    if ref.dtype == object:  # 5 vs 5.0 compare equal; the reprs do not
        assert got.map(repr).tolist() == ref.map(repr).tolist()


@pytest.mark.parametrize("seed", range(40))
def test_to_frame_equals_per_column_reference(seed):
    rng = random.Random(seed)
    n = rng.randint(0, 12)
    plain = rng.random() < 0.5  # half the runs use mostly API text, so the fast routes do apply
    records = []
    for i in range(n):
        row = {"ID": str(i + 1)}
        for name, (_, pool) in _COLUMNS.items():
            values = _POOLS[pool][:2] if plain and rng.random() < 0.8 else _POOLS[pool]
            row[name] = rng.choice([*values, None, ""])
        records.append(row)
    df = to_frame(records, _SPECS, "deal", list(_COLUMNS))
    for name, (spec, _) in _COLUMNS.items():
        ref = convert_column(pd.Series([r[name] for r in records], dtype=object), spec)
        _assert_same(df[name].reset_index(drop=True), ref)


@pytest.mark.parametrize(("name", "values"), [(n, _POOLS[p]) for n, (_, p) in _COLUMNS.items()])
def test_each_route_alone_equals_reference(name, values):
    spec = _COLUMNS[name][0]
    column = tuple([*values, None, ""] * 3)
    _assert_same(
        convert_values(column, spec), convert_column(pd.Series(column, dtype=object), spec)
    )


def test_plain_text_columns_take_the_arrow_routes():
    text = ("12", "", None, "7")
    assert convert_values(text, _spec("I", "int")).tolist() == [12, pd.NA, pd.NA, 7]
    assert convert_values(("0", "3"), _spec("L", "link")).isna().tolist() == [True, False]
    assert convert_values(("1.25", None), _spec("F", "float")).tolist() == [1.25, pd.NA]
    strings = convert_values(("a", "", None), _spec("T", "string"))
    assert str(strings.dtype) == "string" and strings.isna().tolist() == [False, True, True]
    stages = convert_values(
        ("WON", "X", "WON", None), _spec("C", "category", categories=("A", "WON"))
    )
    assert list(stages.cat.categories) == ["A", "WON", "X"]
    assert stages.cat.codes.tolist() == [1, 2, 1, -1]


def test_float_list_elements_stay_floats():
    spec = _spec("LF", "list", item_kind="float")
    for convert in (convert_values, lambda v, s: convert_column(pd.Series(v, dtype=object), s)):
        assert convert((["6", "2.5"], ["7"]), spec).tolist() == [[6.0, 2.5], [7.0]]
        assert all(isinstance(x, float) for x in convert((["6"],), spec)[0])


def test_instants_mixing_seconds_and_fractions_and_far_dates():
    spec = _spec("DT", "datetime")
    raw = pd.Series(
        ["2024-05-23T18:18:25+02:00", "2024-05-23T18:18:25.123+02:00", "9999-12-31T00:00:00+03:00"],
        dtype=object,
    )
    out = convert_column(raw, spec)
    assert str(out.dtype) == "datetime64[ns, UTC]"
    assert out[1] == pd.Timestamp("2024-05-23T16:18:25.123Z")
    assert pd.isna(out[2])  # beyond datetime64[ns]: NaT (pandas 2.2 and 3 alike)


def test_records_with_different_keys_keep_first_seen_order():
    records = [{"ID": "1", "B": "Y"}, {"ID": "2", "EXTRA": "e", "I": "5"}]
    df = to_frame(records, _SPECS, "deal")
    assert list(df.columns) == ["B", "EXTRA", "I"]  # deals keep unknown keys
    assert df["B"].tolist() == [True, pd.NA] and df["I"].tolist() == [pd.NA, 5]


def test_impossible_days_are_nat_like_pandas():
    column = ("2024-02-29T10:00:00+03:00", "2026-02-30T00:00:00+03:00", "2024-05-23T18:18:25+02:00")
    for kind in ("datetime", "date"):
        spec = _spec("X", kind)
        out = convert_values(column, spec)
        _assert_same(out, convert_column(pd.Series(column, dtype=object), spec))
        assert out.isna().tolist() == [False, True, False]
    assert convert_values(column[:1], _spec("X", "date"))[0] == pd.Timestamp("2024-02-29")
