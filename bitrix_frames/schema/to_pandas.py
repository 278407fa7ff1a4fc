"""API records -> typed DataFrame, one vectorised converter per column kind (table :data:`CONVERTERS`).

:func:`to_frame` never builds an object DataFrame: the records are transposed once into one tuple of
values per field, and each tuple goes to pyarrow in a single call when it holds only strings.
From there

* ``int``/``link``/``user``/``float`` columns of plain decimal text are cast by pyarrow;
* ``string`` columns keep the pyarrow array as their storage;
* the other scalar kinds (flags, categories, money, dates, instants) are dictionary-encoded, only
  the distinct values go through :data:`CONVERTERS`, and ``take`` spreads the result back;
* integer-like list columns parse all their elements in one pyarrow cast.

Anything else (mixed Python types, unusual text, dicts) is converted by :data:`CONVERTERS` on an
object Series, the code :func:`convert_column` runs, so both routes give identical columns.

Example::

    >>> df = to_frame(client.list("crm.deal.list"), specs, "deal")
    >>> df.index.name, df["STAGE_ID"].dtype
    ('ID', CategoricalDtype(...))
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..entities import Entity, camel_to_upper
from ..entities import entity as _entity
from .specs import DATE_DTYPE, DATETIME_DTYPE, STRING_DTYPE, ColumnSpec, int_coded

__all__ = ["CONVERTERS", "convert_column", "convert_values", "empty_column", "to_frame"]

_ISO = "%Y-%m-%dT%H:%M:%S%z"
_TRUE = {"Y", "y", "1", 1, "true", "True", "TRUE", "yes"}
_FALSE = {"N", "n", "0", 0, "false", "False", "FALSE", "no"}


def _blank_to_none(values: np.ndarray) -> np.ndarray:
    """``""`` and empty containers -> None (object array, copied only when needed)."""
    mask = (values == "") if values.dtype == object else None
    if mask is not None and mask.any():
        values = values.copy()
        values[mask] = None
    return values


def _objects(s: pd.Series) -> np.ndarray:
    return _blank_to_none(s.to_numpy(dtype=object, na_value=None))


def _blank_to_na(s: pd.Series) -> pd.Series:
    """``""`` -> NA without leaving the column's storage (object or pyarrow strings)."""
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        blank = s.eq("").fillna(False).to_numpy(dtype=bool)
        if blank.any():
            return s.mask(blank)
    return s


def _numbers(s: pd.Series) -> pd.Series:
    # to_numeric works on the raw storage (pyarrow strings on pandas 3: no Python objects made)
    return pd.to_numeric(_blank_to_na(s), errors="coerce")


def _int_values(s: pd.Series, *, whole_only: bool = False) -> pd.Series:
    """Numbers -> ``Int64``: fractions rounded (NA with ``whole_only``); unparsable or beyond int64 -> NA.

    Example::

        >>> _int_values(pd.Series(["5", "2.6", "1" * 20, "x"], dtype=object)).tolist()
        [5, 3, <NA>, <NA>]
    """
    num = _numbers(s)
    if num.dtype.kind == "i":
        return num.astype("Int64")
    if num.dtype.kind == "f" and num.notna().any():
        exact = _exact_ints(s, num.notna().to_numpy(dtype=bool))
        if exact is not None:
            return exact
    # uint64 (past int64), floats and their nullable forms: through float64, where NaN is NA
    num = num.astype("float64")
    keep = num.abs() < _INT64_LIMIT
    if whole_only:
        keep &= num % 1 == 0
    return num.where(keep).astype("Float64").round().astype("Int64")


_INT64_LIMIT = 2.0**63


def _exact_ints(s: pd.Series, present: np.ndarray) -> pd.Series | None:
    """``Int64`` without a float detour when every parsed value is an integer (NA made it float).

    Keeps ids past 2**53 exact, as the pyarrow route of :func:`convert_values` does.
    """
    ints = _numbers(s[present])
    if ints.dtype.kind != "i":
        return None
    values = np.zeros(len(s), dtype=np.int64)
    values[present] = ints.to_numpy(dtype=np.int64)
    return pd.Series(pd.arrays.IntegerArray(values, ~present), index=s.index)


def _to_int(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    out = _int_values(s)
    if spec.kind == "link":  # lists render an empty link as "0"
        out = out.mask(out == 0)
    return out


def _to_float(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    return _numbers(s).astype("Float64")


def _to_bool(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    lookup = np.array([_flag(u) for u in uniques] + [pd.NA], dtype=object)
    return pd.Series(pd.array(lookup[codes], dtype="boolean"), index=s.index)


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return pd.NA


def _parse_instants(s: pd.Series) -> pd.Series:
    """ISO strings with offsets -> UTC; a fixed format first, the general ISO parser for the rest."""
    raw = _blank_to_na(s)
    if raw.dtype != object and not isinstance(raw.dtype, pd.StringDtype):
        raw = raw.astype(object)
    out = _utc_ns(pd.to_datetime(raw, format=_ISO, utc=True, errors="coerce"))
    missed = out.isna() & raw.notna()
    if missed.any():
        retry = pd.to_datetime(raw[missed].astype(str), format="ISO8601", utc=True, errors="coerce")
        out[missed] = _utc_ns(retry)
    return out


_NS_RANGE = (pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC"))


def _utc_ns(instants: pd.Series) -> pd.Series:
    """UTC instants at ns resolution (pandas 3 parses to s/us); out of its range -> NaT.

    pandas 2.2 already coerces a far date (``9999-12-31``) to NaT; pandas 3 would raise on the cast.
    """
    if instants.dtype != DATETIME_DTYPE:
        inside = (instants >= _NS_RANGE[0]) & (instants <= _NS_RANGE[1])
        instants = instants.where(inside).astype(DATETIME_DTYPE)
    return instants


def _to_datetime(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    return _parse_instants(s)


_FIRST_DAY = pd.Timestamp.min.ceil("D").tz_localize("UTC")
"""The first whole day pandas' nanosecond range holds (1677-09-22)."""


def _to_date(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    # 00:00 UTC rendered in the portal offset (PROTOCOL §17): the UTC calendar date is the date.
    # An instant of 1677-09-21 is in range but its day is not (flooring it would wrap around).
    instants = _parse_instants(s)
    instants = instants.where(instants >= _FIRST_DAY)
    return instants.dt.tz_localize(None).dt.floor("D").astype(DATE_DTYPE)


def _to_string(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype):
        return _blank_to_na(s).astype(STRING_DTYPE)
    values = _objects(s)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = np.array([_text(v) for v in values], dtype=object)
    return pd.Series(pd.array(values, dtype=STRING_DTYPE), index=s.index)


def _text(value: Any) -> str | None:
    if value is None or value == "" or (isinstance(value, (dict, list)) and not value):
        return None
    return value if isinstance(value, str) else str(value)


def _categorical(values: pd.Series, categories: tuple) -> pd.Categorical:
    """Known categories first, in their order; unknown values appended (never silently lost)."""
    cats = pd.Index(list(dict.fromkeys(categories))) if categories else pd.Index([], dtype=object)
    arr = values.to_numpy(dtype=object, na_value=None)
    present = pd.notna(arr)
    codes = cats.get_indexer(arr) if len(cats) else np.full(len(arr), -1, dtype=np.intp)
    lost = (codes == -1) & present
    if lost.any():
        cats = pd.Index([*cats, *pd.unique(arr[lost])])
        codes = cats.get_indexer(arr)
    codes[~present] = -1
    return pd.Categorical.from_codes(codes, categories=cats)


def _category_values(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    if spec.categories and all(isinstance(c, (int, np.integer)) for c in spec.categories):
        ints = _int_values(s, whole_only=True)  # ids: "2.0" is 2, "1.5" is no id
        return ints.astype(object).where(ints.notna(), None)
    raw = _blank_to_na(s)
    if raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) not in (
        "string",
        "empty",
    ):
        raw = raw.where(raw.isna(), raw.astype(str))
    return raw


def _to_category(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    values = _category_values(s, spec)
    return pd.Series(_categorical(values, spec.categories or ()), index=s.index)


def _money_parts(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``"300|USD"`` -> (amount text, currency); parsed once per distinct value."""
    codes, uniques = pd.factorize(_blank_to_na(s), use_na_sentinel=True)
    parts = [str(u).partition("|") for u in uniques]
    amount = np.array([p[0] or None for p in parts] + [None], dtype=object)[codes]
    currency = np.array([p[2] or None for p in parts] + [None], dtype=object)[codes]
    return pd.Series(amount, index=s.index, dtype=object), pd.Series(
        currency, index=s.index, dtype=object
    )


def _to_money(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    return _numbers(_money_parts(s)[0]).astype("Float64")


def _to_currency_of(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    return pd.Series(_categorical(_money_parts(s)[1], spec.categories or ()), index=s.index)


def _to_multifield(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    values = [list(v) if isinstance(v, list) else [] for v in _objects(s)]
    return pd.Series(values, index=s.index, dtype=object)


def _to_primary(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    first = [
        (v[0].get("VALUE") or None)
        if isinstance(v, list) and v and isinstance(v[0], dict)
        else None
        for v in _objects(s)
    ]
    return pd.Series(pd.array(first, dtype=STRING_DTYPE), index=s.index)


def file_id(value: Any) -> Any:
    """A file field value (``{"id": 12, "showUrl": ...}``, ``12`` or ``"12"``) -> its file id."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "" or value is False:
        return None
    return int(float(value))


def _to_file(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    ids = [file_id(v) for v in _objects(s)]
    return pd.Series(pd.array(ids, dtype="Int64"), index=s.index)


def _whole(value: Any) -> int:
    """A list element as an integer: digits exactly, anything else through float."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return int(float(value))


_ITEM = {
    "file": file_id,
    "int": _whole,
    "user": _whole,
    "link": _whole,
    "category": lambda v: int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v,
    "float": float,
}


_NUMERIC_ITEMS = frozenset({"int", "user", "link", "file", "float"})
_INT64 = (-(2**63), 2**63 - 1)


def _fits_number(value: Any) -> bool:
    """A list element a ``list<int64>`` or ``list<double>`` holds as it is."""
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return not isinstance(value, (int, np.integer)) or bool(_INT64[0] <= value <= _INT64[1])


def _sequence(v: Any) -> list:
    if isinstance(v, list):
        return v
    if v is None or v == "" or v is False:
        return []
    return list(v.values()) if isinstance(v, dict) else [v]


def _to_list(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    seqs = [_sequence(v) for v in _objects(s)]
    flat = list(chain.from_iterable(seqs))
    if spec.item_kind in _ITEM and flat:
        # one vectorised parse of every element, then cut back into rows
        num = pd.to_numeric(pd.Series(flat, dtype=object), errors="coerce")
        # whole numbers only while a float holds them exactly (larger ones: one by one below)
        exact = spec.item_kind == "float" or ((num % 1 == 0) & (num.abs() <= 2**53)).all()
        if not num.isna().any() and exact:
            # float elements stay floats even when every one is integral ("6" -> 6.0)
            parsed = num.astype("float64" if spec.item_kind == "float" else "int64").tolist()
            out, pos = [], 0
            for seq in seqs:
                out.append(parsed[pos : pos + len(seq)])
                pos += len(seq)
            return pd.Series(out, index=s.index, dtype=object)
    item = _ITEM.get(spec.item_kind or "", lambda v: v)
    # Elements of a numeric list that are no number (or past 64 bits) read as missing, like the
    # same value in a scalar column: a list<int64|double> column cannot hold them.
    numeric = spec.item_kind in _NUMERIC_ITEMS or (spec.item_kind == "category" and int_coded(spec))

    def conv(seq: list) -> list:
        out = []
        for x in seq:
            if x is None or x == "":
                continue
            try:
                value = item(x)
            except (TypeError, ValueError, OverflowError):
                value = x
            if numeric and isinstance(value, bool):
                value = int(value)  # as the vectorised parse above reads it
            elif numeric and not _fits_number(value):
                value = None
            out.append(value)
        return out

    return pd.Series([conv(seq) for seq in seqs], index=s.index, dtype=object)


def _to_object(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    values = _objects(s)
    return pd.Series(values, index=s.index, dtype=object)


CONVERTERS: dict[str, Callable[[pd.Series, ColumnSpec], pd.Series]] = {
    "int": _to_int,
    "link": _to_int,
    "user": _to_int,
    "float": _to_float,
    "money": _to_money,
    "currency_of": _to_currency_of,
    "bool": _to_bool,
    "date": _to_date,
    "datetime": _to_datetime,
    "string": _to_string,
    "primary": _to_primary,
    "category": _to_category,
    "multifield": _to_multifield,
    "list": _to_list,
    "object": _to_object,
    "file": _to_file,
}


def convert_column(raw: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Raw API values of one column -> the typed column of ``spec``."""
    return CONVERTERS[spec.kind](raw, spec)


def empty_column(spec: ColumnSpec, index: pd.Index) -> pd.Series:
    """An all-NA column with the dtype ``spec`` gives (for fields no row returned)."""
    return convert_column(pd.Series([None] * len(index), index=index, dtype=object), spec)


# --- fast routes: whole columns of API text through pyarrow ------------------------------------

_INT_TEXT = r"^-?[0-9]{1,18}$"
"""Integers both pyarrow and ``to_numeric`` read the same way (pyarrow alone also takes ``0x10``)."""
_DECIMAL_TEXT = r"^-?[0-9]+(?:\.[0-9]+)?$"
"""Plain decimals; both parsers round them correctly (no ``nan``/``inf``/exponent spellings)."""
_INSTANT_TEXT = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+-]([01][0-9]|2[0-3]):[0-5][0-9]$"
)
"""The API's instants exactly (``2024-05-23T18:18:25+02:00``); other spellings take pandas' route."""
_NS_SECONDS = 9_223_372_036
_FIRST_DAY_SECONDS = -(_NS_SECONDS // 86_400) * 86_400
"""1677-09-22T00:00Z: the first day whose midnight is inside pandas' nanosecond range."""
"""Whole seconds that fit ``datetime64[ns]`` (pandas' NaT lies beyond, as :func:`_utc_ns` says)."""
_LARGE_TEXT = pa.large_string()
_NULL_TEXT = pa.scalar(None, _LARGE_TEXT)
_LIST_ITEMS: dict[str, tuple[str, pa.DataType]] = {
    "int": (_INT_TEXT, pa.int64()),
    "user": (_INT_TEXT, pa.int64()),
    "link": (_INT_TEXT, pa.int64()),
    "category": (_INT_TEXT, pa.int64()),
    "float": (_DECIMAL_TEXT, pa.float64()),
}
"""List element kind -> (text every element must match, pyarrow type it is cast to)."""
_PER_ROW_KINDS = frozenset({"multifield", "primary", "list", "object", "file"})


def _object_series(values: Sequence[Any]) -> pd.Series:
    """Raw values as an object Series (list and dict values stay single cells)."""
    return pd.Series(list(values), dtype=object)


def _arrow_text(values: Sequence[Any]) -> pa.Array | None:
    """``values`` as a pyarrow ``large_string`` array with ``""`` as null; None unless all str/None.

    Example::

        >>> _arrow_text(("1", "", None)).to_pylist()
        ['1', None, None]
    """
    try:
        text = pa.array(values, type=_LARGE_TEXT)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    blank = pc.equal(text, "")
    if pc.any(blank).as_py():
        text = pc.if_else(blank, _NULL_TEXT, text)
    return text


def _all_match(text: pa.Array, pattern: str) -> bool:
    """Every non-null value of ``text`` matches the regular expression ``pattern``."""
    return pc.all(pc.match_substring_regex(text, pattern)).as_py() is not False


def _filled(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Writable numpy values (nulls as 0) and the null mask of a numeric pyarrow array."""
    values = arr.fill_null(0).to_numpy(zero_copy_only=False, writable=True)
    return values, arr.is_null().to_numpy(zero_copy_only=False)


def _text_to_int(text: pa.Array, spec: ColumnSpec) -> pd.api.extensions.ExtensionArray | None:
    """``Int64`` from integer text (a link's ``"0"`` is NA); None when some value is not plain."""
    if not _all_match(text, _INT_TEXT):
        return None
    values, mask = _filled(text.cast(pa.int64()))
    if spec.kind == "link":  # lists render an empty link as "0"
        mask |= values == 0
    return pd.arrays.IntegerArray(values, mask)


def _text_to_float(text: pa.Array, spec: ColumnSpec) -> pd.api.extensions.ExtensionArray | None:
    """``Float64`` from plain decimal text; None when some value is spelled otherwise."""
    if not _all_match(text, _DECIMAL_TEXT):
        return None
    values, mask = _filled(text.cast(pa.float64()))
    return pd.arrays.FloatingArray(values, mask)


def _text_to_string(text: pa.Array, spec: ColumnSpec) -> pd.api.extensions.ExtensionArray:
    """The pyarrow text itself becomes the ``string`` column's storage."""
    return pd.array(text, dtype=STRING_DTYPE)


def _text_to_instants(text: pa.Array, spec: ColumnSpec) -> pd.api.extensions.ExtensionArray | None:
    """UTC instants (``datetime``) or UTC calendar dates (``date``) from the API's ISO text.

    None when some value is spelled otherwise or names an impossible day (pyarrow would roll
    ``02-30`` over to March where pandas gives NaT): pandas' route then handles the column.
    """
    if not _all_match(text, _INSTANT_TEXT):
        return None
    local = pc.strptime(pc.utf8_slice_codeunits(text, 0, 19), format=_ISO[:-2], unit="s")
    day = pc.utf8_slice_codeunits(text, 8, 10).cast(pa.int64())
    if pc.all(pc.equal(pc.day(local), day)).as_py() is False:
        return None
    utc = pc.strptime(text, format=_ISO, unit="s").cast(pa.int64())
    seconds, missing = _filled(utc)
    missing |= (seconds < -_NS_SECONDS) | (seconds > _NS_SECONDS)
    if spec.kind == "date":  # the UTC calendar date (see _to_date)
        seconds -= seconds % 86_400
        missing |= seconds < -_NS_SECONDS
    nanos = seconds * 1_000_000_000
    nanos[missing] = np.iinfo(np.int64).min  # NaT
    out = pd.array(nanos.view("M8[ns]"))
    return out if spec.kind == "date" else out.tz_localize("UTC")


_DISTINCT_CONVERTERS: dict[str, Callable[[pa.Array, ColumnSpec], Any]] = {
    "date": _text_to_instants,
    "datetime": _text_to_instants,
}
"""Kinds whose distinct values have a pyarrow route too (tried before :data:`CONVERTERS`)."""

_TEXT_CONVERTERS: dict[str, Callable[[pa.Array, ColumnSpec], Any]] = {
    "int": _text_to_int,
    "link": _text_to_int,
    "user": _text_to_int,
    "float": _text_to_float,
    "string": _text_to_string,
}


def _via_distinct(
    text: pa.Array, values: Sequence[Any], spec: ColumnSpec
) -> pd.api.extensions.ExtensionArray:
    """Convert each distinct value once with :data:`CONVERTERS`, then ``take`` per row.

    Every converter works value by value, so converting the distinct values gives the same result
    as converting the column. Mostly-distinct columns are converted whole instead.
    """
    encoded = text.dictionary_encode()
    distinct = encoded.dictionary
    fast = _DISTINCT_CONVERTERS.get(spec.kind)
    small = fast(distinct, spec) if fast is not None else None
    if small is None:
        if 2 * len(distinct) > len(text):
            return CONVERTERS[spec.kind](_object_series(values), spec).array
        small = CONVERTERS[spec.kind](pd.Series(distinct.to_pylist(), dtype=object), spec).array
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return small.take(codes, allow_fill=True)


def _list_fast(values: Sequence[Any], spec: ColumnSpec) -> list[list] | None:
    """Numeric list cells parsed in one pyarrow cast; None unless every element is plain text."""
    item = _LIST_ITEMS.get(spec.item_kind or "")
    if item is None:
        return None
    seqs = [v if type(v) is list else _sequence(v) for v in values]
    flat = list(chain.from_iterable(seqs))
    if not flat:
        return None
    try:
        text = pa.array(flat, type=_LARGE_TEXT)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    pattern, arrow_type = item
    if text.null_count or not _all_match(text, pattern):
        return None
    parsed = text.cast(arrow_type).to_numpy(zero_copy_only=False).tolist()
    ends = list(accumulate(map(len, seqs)))
    return [parsed[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def convert_values(values: Sequence[Any], spec: ColumnSpec) -> pd.Series:
    """Raw API values of one column (any sequence) -> the typed column of ``spec``.

    Same result as ``convert_column(pd.Series(values, dtype=object), spec)``, faster on API text.

    Example::

        >>> convert_values(("5", "", None), spec_of_an_int_field).tolist()
        [5, <NA>, <NA>]
    """
    if spec.kind == "list":
        lists = _list_fast(values, spec)
        if lists is not None:
            return pd.Series(lists, dtype=object)
    if spec.kind not in _PER_ROW_KINDS:
        text = _arrow_text(values)
        if text is not None:
            fast = _TEXT_CONVERTERS.get(spec.kind)
            out = fast(text, spec) if fast is not None else None
            if out is None:
                out = _via_distinct(text, values, spec)
            return pd.Series(out, copy=False)
    return convert_column(_object_series(values), spec)


# --- records -> frame ---------------------------------------------------------------------------


def _field_values(records: list[Mapping[str, Any]]) -> dict[str, Sequence[Any]]:
    """Records -> {key: values in record order}; keys ordered like ``pd.DataFrame(records)`` does.

    Records with the same keys (the usual case) are transposed by ``itemgetter`` + ``zip``; a
    missing key reads as None.
    """
    if not records:
        return {}
    if not any(isinstance(r, dict) for r in records):  # pandas sorts the keys of other mappings
        keys = sorted(dict.fromkeys(chain.from_iterable(records)))
    else:
        keys = list(records[0])
        if len(keys) > 1 and set(map(len, records)) == {len(keys)}:
            try:
                return dict(
                    zip(keys, zip(*map(itemgetter(*keys), records), strict=True), strict=True)
                )
            except KeyError:
                pass
        keys = list(dict.fromkeys(chain.from_iterable(records)))
    if not keys:
        return {}
    rows = [tuple(map(r.get, keys)) for r in records]
    return dict(zip(keys, zip(*rows, strict=True), strict=True))


def _raw_columns(
    records: list[Mapping[str, Any]], ent: Entity, specs: Mapping[str, ColumnSpec]
) -> dict[str, Sequence[Any]]:
    """Per-field raw values under the frame's column names (camelCase keys renamed, first wins)."""
    raw = _field_values(records)
    if not ent.camel_response:
        return raw
    by_api = {s.api_name: s.name for s in specs.values() if not s.derived_from}
    out: dict[str, Sequence[Any]] = {}
    for key, values in raw.items():
        if key not in ent.drop_response_keys:
            out.setdefault(by_api.get(key, camel_to_upper(key)), values)
    return out


def to_frame(
    records: Iterable[Mapping[str, Any]],
    specs: Mapping[str, ColumnSpec],
    entity: str | Entity,
    columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Typed frame indexed by ``ID`` (``Int64``) from list/get records.

    ``columns`` are the field names the frame must have even when no record carries them (the
    selected fields); keys returned but unknown to ``specs`` are kept as object columns.

    Example::

        >>> df = to_frame([{"ID": "1", "OPPORTUNITY": "10.00"}], specs, "deal", ["OPPORTUNITY"])
        >>> df.dtypes["OPPORTUNITY"]
        Float64Dtype()
    """
    ent = _entity(entity)
    records = records if isinstance(records, list) else list(records)
    # Building many small lists next to 100k record dicts triggers full cyclic-GC passes over all
    # of them (measured: a third of the conversion time); nothing here creates cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _to_frame(records, specs, ent, columns)
    finally:
        if enabled:
            gc.enable()


def _wanted_columns(
    raw: Mapping[str, Any],
    specs: Mapping[str, ColumnSpec],
    ent: Entity,
    columns: Iterable[str] | None,
) -> list[str]:
    """Selected columns, then returned ones; each derived column right after its source."""
    returned = list(raw) if ent.keep_unknown_keys else [c for c in raw if c in specs]
    wanted = list(dict.fromkeys([*(columns or []), *returned]))
    for name in list(wanted):
        for spec in specs.values():
            if spec.derived_from == name and spec.name not in wanted:
                wanted.insert(wanted.index(name) + 1, spec.name)
    return wanted


def _to_frame(
    records: list[Mapping[str, Any]],
    specs: Mapping[str, ColumnSpec],
    ent: Entity,
    columns: Iterable[str] | None,
) -> pd.DataFrame:
    raw = _raw_columns(records, ent, specs)
    id_field = ent.id_field
    index = pd.Index(
        convert_values(raw.get(id_field, ()), specs.get(id_field) or _ID_SPEC), name=id_field
    )
    missing = (None,) * len(records)
    data: dict[str, pd.Series] = {}
    for name in _wanted_columns(raw, specs, ent, columns):
        if name == id_field:
            continue
        spec = specs.get(name)
        values = raw.get(spec.derived_from if spec and spec.derived_from else name, missing)
        col = (
            pd.Series(_objects(_object_series(values)), dtype=object)
            if spec is None
            else convert_values(values, spec)
        )
        data[name] = col.set_axis(index)
    # every Series shares the same index object, so no alignment happens (duplicates are safe)
    return pd.DataFrame(data, index=index)


_ID_SPEC = ColumnSpec(name="ID", title="ID", type="integer", kind="int", dtype="Int64")
