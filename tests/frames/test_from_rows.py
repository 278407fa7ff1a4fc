"""``records_to_batch`` (per response) and ``columns_to_frame`` (at the end) give exactly the frame
:func:`to_frame` builds from the same records.

The records mix plain API text (the direct Arrow routes) with every odd value a direct route must
refuse or treat like the reference route (odd spellings, impossible or far dates, non-text values,
nulls and empty strings, list elements of every kind, multifields), so a direct route that differs
from the pandas reference shows up as a frame difference.
"""

from __future__ import annotations

import random

import pandas as pd
import pyarrow as pa
import pytest

from bitrix_frames.schema import ColumnSpec, to_frame
from bitrix_frames.schema.from_rows import batch_columns, records_to_batch
from bitrix_frames.schema.specs import KIND_DTYPES
from bitrix_frames.schema.to_arrow import arrow_schema, columns_to_frame, frame_to_batch

_INSTANTS = [
    "2024-05-23T18:18:25+02:00",
    "2024-05-23T10:00:00-05:00",
    "1960-01-01T02:00:00+03:00",
    "1969-12-31T23:59:59+00:00",
    "2024-02-29T00:00:00+03:00",
    "2026-02-29T00:00:00+03:00",
    "2026-04-31T00:00:00+03:00",
    "0000-01-01T00:00:00+00:00",
    "2262-04-11T23:47:16+00:00",
    "1677-09-21T00:12:44+00:00",
    "1677-09-21T23:59:59+00:00",
    "2262-04-11T23:47:17+00:00",
    "9999-12-31T00:00:00+03:00",
    "2024-05-23T23:30:00-14:00",
    "2024-05-23T18:18:25Z",
    "2024-05-23T18:18:25.123+02:00",
    "2024-05-23 18:18:25+02:00",
    "2024-05-23T18:18:25+0200",
    " 2024-05-23T18:18:25+02:00",
    "2024-05-23",
    "garbage",
]
_LISTS = [
    ["6", "7"],
    [],
    ["5"],
    False,
    "6",
    ["6", None],
    ["", "5"],
    ["5.0"],
    [" 5"],
    ["1e3"],
    ["007", "10"],
    [5, 6],
    [2.5],
    {"a": "5"},
    ["x"],
    ["5", "0x10"],
    ["1" * 20],
    [True],
]
"""List cells of numeric lists; an element that is no number reads as missing."""
_POOLS: dict[str, list] = {
    # ids past 2**53 are left out: the pandas route keeps them exact only when no other value
    # of the column is a fraction, so its result depends on how the rows were cut into batches
    "int": ["5", "0", "-3", "0x10", " 7", "1.5", "2.0", 7, 7.0, "abc", "+4", "1" * 20, True]
    + ["-0", "007"],
    "float": ["1.5", "0.10", "-0", "1e5", "nan", "inf", " 2", 3, 2.5, "x", "1,5", "1" * 20],
    "bool": ["Y", "N", "y", "1", "0", 1, 0, True, False, "true", " Y ", "maybe"],
    "json_bool": [True, False],
    "datetime": _INSTANTS,
    "string": ["a", "b", " ", "Ünï", 5, 1.5, True, ["x"], {"a": 1}],
    "money": ["300|USD", "12.5|EUR", "|USD", "300|", "300", "abc|XYZ", "1e3|JPY", "1|2|3"],
    "category": ["NEW", "WON", "UNKNOWN1", "C1:NEW", 5, 1.5],
    # (an id past 2**53 loses precision when odd spellings send the column through pandas)
    "int_category": ["1", "2", "0", "77", 1, "x", "1.0", "1.5", "1" * 20, "88", "-5"],
    "list": _LISTS,
    "id_list": [c for c in _LISTS if c not in (["5.0"], ["1e3"], [2.5], [" 5"])],
    "text_list": [["a", "b"], [], ["x"], False, "x", ["x", None], ["", "y"], {"a": "z"}, [" "]],
    "odd_list": [*_LISTS, ["x"], ["0x10"], ["1" * 20], [{"a": 1}], [True], ["5", 5]],
    "multifield": [
        [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+1 555", "TYPE_ID": "PHONE"}],
        [
            {"ID": "2", "VALUE_TYPE": "HOME", "VALUE": "a@b.c", "TYPE_ID": "EMAIL"},
            {"ID": "3", "VALUE_TYPE": "", "VALUE": None, "TYPE_ID": "EMAIL"},
        ],
        [],
        "x",
    ],
    "odd_multifield": [[{"ID": 2, "VALUE": "a@b.c"}], [5, {"VALUE": 1}], [{}], {"a": 1}, 7],
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
    "JB": (_spec("JB", "bool"), "json_bool"),
    "DT": (_spec("DT", "datetime"), "datetime"),
    "D": (_spec("D", "date"), "datetime"),
    "T": (_spec("T", "string"), "string"),
    "M": (_spec("M", "money"), "money"),
    "C": (_spec("C", "category", categories=("NEW", "WON")), "category"),
    "IC": (_spec("IC", "category", categories=(0, 1, 2)), "int_category"),
    "LI": (_spec("LI", "list", item_kind="int"), "list"),
    "LU": (_spec("LU", "list", item_kind="user"), "list"),
    "LC": (_spec("LC", "list", item_kind="category"), "text_list"),
    "LCX": (_spec("LCX", "list", item_kind="category"), "odd_list"),
    "LIC": (_spec("LIC", "list", item_kind="category", categories=(5, 6, 7)), "id_list"),
    "LF": (_spec("LF", "list", item_kind="float"), "list"),
    "LS": (_spec("LS", "list", item_kind="string"), "text_list"),
    "LSX": (_spec("LSX", "list", item_kind="string"), "odd_list"),
    "PH": (_spec("PH", "multifield"), "multifield"),
    "PHX": (_spec("PHX", "multifield"), "odd_multifield"),
    "O": (_spec("O", "object"), "object"),
}
_DERIVED = {
    "M_CURRENCY": _spec("M_CURRENCY", "currency_of", categories=("USD", "EUR"), derived_from="M"),
    "PH_PRIMARY": _spec("PH_PRIMARY", "primary", derived_from="PH"),
}
_SPECS = {
    "ID": _spec("ID", "int"),
    **{name: spec for name, (spec, _) in _COLUMNS.items()},
    **_DERIVED,
}


_LOSSY = ("LCX", "LSX", "PHX")
"""Arrow keeps the text of numbers in text lists (``"5"``, the pandas route the number) and
gives every multifield entry its four text keys."""


def _records(rng: random.Random, ids: list[int], plain: bool) -> list[dict]:
    records = []
    for i in ids:
        row: dict = {"ID": str(i)}
        for name, (_, pool) in _COLUMNS.items():
            values = _POOLS[pool][:2] if plain and rng.random() < 0.9 else _POOLS[pool]
            row[name] = rng.choice([*values, None, ""])
        records.append(row)
    return records


def _schema(records: list[dict], columns: list[str]) -> pa.Schema:
    return arrow_schema(_SPECS, batch_columns(records, _SPECS, "deal", columns), entity="deal")


def _batch_frame(batches: list[list[dict]], columns: list[str], *, sort: bool) -> pd.DataFrame:
    schema = _schema(batches[0], columns)
    arrays: list[list[pa.Array]] = [[] for _ in schema]
    for records in batches:
        batch = records_to_batch(records, _SPECS, "deal", schema)
        assert batch.schema.equals(schema)
        _assert_same_arrow(batch, records, columns)
        for i, column in enumerate(batch.columns):
            arrays[i].append(column)
    return columns_to_frame(schema, arrays, sort=sort)


def _assert_same_arrow(batch: pa.RecordBatch, records: list[dict], columns: list[str]) -> None:
    """The lossy columns hold what the reference route (pandas converters, then
    ``column_to_arrow``) makes of the same records (the others are compared as frames)."""
    ref = frame_to_batch(to_frame(records, _SPECS, "deal", columns), batch.schema)
    for f, got, want in zip(batch.schema, batch.columns, ref.columns, strict=True):
        if f.name not in _LOSSY:
            continue
        assert got.type == want.type, f.name
        assert repr(got.to_pylist()) == repr(want.to_pylist()), f.name


def _assert_same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    got, ref = (df.drop(columns=[c for c in _LOSSY if c in df]) for df in (got, ref))
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    for name in ref.columns:
        if ref[name].dtype == object:  # 5 vs 5.0 and [] vs None compare alike; reprs do not
            assert got[name].map(repr).tolist() == ref[name].map(repr).tolist(), name


@pytest.mark.parametrize("seed", range(30))
def test_one_batch_equals_to_frame(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    records = _records(rng, list(range(1, n + 1)), plain=rng.random() < 0.6)
    ref = to_frame(records, _SPECS, "deal", list(_COLUMNS))
    _assert_same(_batch_frame([records], list(_COLUMNS), sort=False), ref)


@pytest.mark.parametrize("seed", range(20))
def test_batches_in_any_id_order_equal_the_sorted_to_frame(seed):
    rng = random.Random(1000 + seed)
    ids = list(range(1, rng.randint(3, 90)))
    rng.shuffle(ids)
    records = _records(rng, ids, plain=rng.random() < 0.6)
    cuts = sorted(rng.sample(range(1, len(ids)), k=min(3, len(ids) - 1)))
    batches = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(ids)], strict=True)]
    unsorted = to_frame(records, _SPECS, "deal", list(_COLUMNS))
    _assert_same(_batch_frame(batches, list(_COLUMNS), sort=True), unsorted.sort_index())
    _assert_same(_batch_frame(batches, list(_COLUMNS), sort=False), unsorted)


@pytest.mark.parametrize("name", list(_COLUMNS))
def test_every_value_of_a_pool_in_one_column(name):
    pool = _POOLS[_COLUMNS[name][1]]
    values = [*pool, None, ""] * 2
    records = [{"ID": str(len(values) - i), name: v} for i, v in enumerate(values)]
    ref = to_frame(records, _SPECS, "deal", [name]).sort_index()
    for cut in (len(records), 3):
        batches = [records[i : i + cut] for i in range(0, len(records), cut)]
        _assert_same(_batch_frame(batches, [name], sort=True), ref)


def test_numeric_list_elements_that_are_no_number_and_first_day_dates_read_as_missing():
    records = [
        {"ID": "1", "LI": ["5", "x", "1" * 20, "0x10"], "LF": ["1.5", "x"], "D": "1677-09-21T00:12:44+00:00"},
        {"ID": "2", "LI": ["7"], "LF": [], "D": "1677-09-22T00:00:00+00:00"},
    ]  # fmt: skip
    for frame in (
        to_frame(records, _SPECS, "deal", ["LI", "LF", "D"]),
        _batch_frame([records], ["LI", "LF", "D"], sort=True),
    ):
        assert frame["LI"].tolist() == [[5, None, None, None], [7]]
        assert frame["LF"].tolist() == [[1.5, None], []]
        assert frame["D"].isna().tolist() == [True, False]  # flooring 1677-09-21 would wrap
        assert str(frame["D"].iloc[1].date()) == "1677-09-22"
