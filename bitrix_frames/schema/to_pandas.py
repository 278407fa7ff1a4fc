"""API records -> typed DataFrame, one vectorised converter per column kind (table :data:`CONVERTERS`).

The frame is built once from the records, then every column is converted as a whole
(``to_numeric``, ``to_datetime`` with a fixed format, ``Categorical`` with known categories, a
``factorize`` + lookup for flags); per-cell Python runs only for list-valued columns.

Example::

    >>> df = to_frame(client.list("crm.deal.list"), specs, "deal")
    >>> df.index.name, df["STAGE_ID"].dtype
    ('ID', CategoricalDtype(...))
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..entities import Entity, camel_to_upper
from ..entities import entity as _entity
from .specs import DATE_DTYPE, DATETIME_DTYPE, STRING_DTYPE, ColumnSpec

__all__ = ["CONVERTERS", "convert_column", "empty_column", "to_frame"]

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


def _to_int(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    num = _numbers(s)
    out = (
        num.astype("Float64").round().astype("Int64")
        if num.dtype.kind == "f"
        else num.astype("Int64")
    )
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
    out = pd.to_datetime(raw, format=_ISO, utc=True, errors="coerce")
    missed = out.isna() & raw.notna()
    if missed.any():
        retry = pd.to_datetime(raw[missed].astype(str), format="ISO8601", utc=True, errors="coerce")
        out[missed] = retry
    return out.astype(DATETIME_DTYPE)


def _to_datetime(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    return _parse_instants(s)


def _to_date(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    # 00:00 UTC rendered in the portal offset (PROTOCOL §17): the UTC calendar date is the date
    return _parse_instants(s).dt.tz_localize(None).dt.floor("D").astype(DATE_DTYPE)


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
        ints = _numbers(s).astype("Float64").astype("Int64")
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


_ITEM = {
    "int": lambda v: int(float(v)),
    "user": lambda v: int(float(v)),
    "link": lambda v: int(float(v)),
    "category": lambda v: int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v,
    "float": float,
}


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
        if not num.isna().any() and (spec.item_kind == "float" or (num % 1 == 0).all()):
            parsed = num.tolist() if spec.item_kind == "float" else num.astype("int64").tolist()
            out, pos = [], 0
            for seq in seqs:
                out.append(parsed[pos : pos + len(seq)])
                pos += len(seq)
            return pd.Series(out, index=s.index, dtype=object)
    item = _ITEM.get(spec.item_kind or "", lambda v: v)

    def conv(seq: list) -> list:
        out = []
        for x in seq:
            if x is None or x == "":
                continue
            try:
                out.append(item(x))
            except (TypeError, ValueError):
                out.append(x)
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
}


def convert_column(raw: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Raw API values of one column -> the typed column of ``spec``."""
    return CONVERTERS[spec.kind](raw, spec)


def empty_column(spec: ColumnSpec, index: pd.Index) -> pd.Series:
    """An all-NA column with the dtype ``spec`` gives (for fields no row returned)."""
    return convert_column(pd.Series([None] * len(index), index=index, dtype=object), spec)


def _raw_frame(
    records: list[Mapping[str, Any]], ent: Entity, specs: Mapping[str, ColumnSpec]
) -> pd.DataFrame:
    raw = pd.DataFrame(records) if records else pd.DataFrame()
    if ent.camel_response and len(raw.columns):
        by_api = {s.api_name: s.name for s in specs.values() if not s.derived_from}
        raw = raw.drop(columns=[c for c in ent.drop_response_keys if c in raw.columns])
        raw.columns = [by_api.get(c, camel_to_upper(c)) for c in raw.columns]
        raw = raw.loc[:, ~raw.columns.duplicated()]
    return raw


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


def _to_frame(
    records: list[Mapping[str, Any]],
    specs: Mapping[str, ColumnSpec],
    ent: Entity,
    columns: Iterable[str] | None,
) -> pd.DataFrame:
    raw = _raw_frame(records, ent, specs)
    returned = (
        list(raw.columns) if ent.keep_unknown_keys else [c for c in raw.columns if c in specs]
    )
    wanted = list(dict.fromkeys([*(columns or []), *returned]))
    for name in list(wanted):  # derived columns follow their source
        for spec in specs.values():
            if spec.derived_from == name and spec.name not in wanted:
                wanted.insert(wanted.index(name) + 1, spec.name)
    id_field = ent.id_field
    index_src = raw[id_field] if id_field in raw.columns else pd.Series([], dtype=object)
    index = pd.Index(
        _to_int(index_src.reset_index(drop=True), specs.get(id_field) or _ID_SPEC), name=id_field
    )
    data: dict[str, pd.Series] = {}
    for name in wanted:
        if name == id_field:
            continue
        spec = specs.get(name)
        src_name = spec.derived_from if spec is not None and spec.derived_from else name
        if src_name in raw.columns:
            src = raw[src_name].reset_index(drop=True)
        else:
            src = pd.Series([None] * len(index), dtype=object)
        col = pd.Series(_objects(src), dtype=object) if spec is None else convert_column(src, spec)
        data[name] = col.set_axis(index)
    # every Series shares the same index object, so no alignment happens (duplicates are safe)
    return pd.DataFrame(data, index=index)


_ID_SPEC = ColumnSpec(name="ID", title="ID", type="integer", kind="int", dtype="Int64")
