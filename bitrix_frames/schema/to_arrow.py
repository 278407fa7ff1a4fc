"""Typed frames <-> Arrow: one Arrow schema per dataset, derived from the field metadata.

The schema is what our Parquet files, partitioned exports and streamed batches carry, so that plain
``pd.read_parquet``, pyarrow, DuckDB and Polars read them with real types, without our reader:

==========================================  ===============================  ======================
column kind (:data:`.specs.KINDS`)           Arrow type                       plain ``pd.read_parquet``
==========================================  ===============================  ======================
int, link, user                             ``int64``                        ``Int64``
float, money (amount)                       ``float64``                      ``Float64``
bool                                        ``bool``                         ``boolean``
datetime                                    ``timestamp[us, tz=UTC]``        ``datetime64[ns, UTC]``
date                                        ``date32``                       object (``datetime.date``)
string, primary                             ``string``                       ``string``
category with text codes (stages...)        ``dictionary<int32, string>``    ``category``
category with integer ids (enums...)        ``int64``                        ``Int64``
list (multiple fields)                      ``list<int64|double|string>``    object (arrays)
multifield (PHONE...)                       ``list<struct<ID, VALUE_TYPE,    object (arrays of dicts)
                                            VALUE, TYPE_ID: string>>``
object (files, bindings)                    ``string`` (JSON text)           ``string``
==========================================  ===============================  ======================

Money is ``float64``: Bitrix keeps amounts as ``decimal(18,2)`` and renders them as text, every
such value up to 10**13 survives float64 exactly to the cent when printed back with two decimals,
the frames already hold ``Float64``, and a ``decimal128`` would reach pandas as object
``Decimal`` values (and make sums slow). Integer-coded categories (pipelines, enumeration ids)
are plain ``int64`` because Parquet keeps dictionary encoding only for text.

Each field carries ``bitrix`` metadata (the column spec as JSON: title, kind, allowed values and
their labels) and ``title``; the schema carries ``bitrix_frames`` (entity, ``attrs["bitrix"]``
with the masked portal URL, never the secret) and ``pandas`` metadata (so ``pd.read_parquet``
rebuilds the ``ID`` index and the nullable dtypes). :func:`table_to_frame` gives back exactly
the frame :mod:`.to_pandas` builds (dates as ``datetime64[ns]``, categories with every allowed
value, Python lists and dicts).

Example::

    >>> table = frame_to_table(deals)
    >>> table.schema.field("STAGE_ID").type
    DictionaryType(dictionary<values=string, indices=int32, ordered=0>)
    >>> table_to_frame(table).equals(deals)
    True
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .specs import (
    DATE_DTYPE,
    DATETIME_DTYPE,
    STRING_DTYPE,
    ColumnSpec,
    int_coded,
    spec_from_dict,
)

__all__ = [
    "FORMAT",
    "META_KEY",
    "arrow_schema",
    "arrow_type",
    "frame_to_batch",
    "frame_to_table",
    "table_to_frame",
]

META_KEY = b"bitrix_frames"
FIELD_KEY = b"bitrix"
FORMAT = 2
"""Version of the file layout (1: JSON text lists, pandas-only dtypes; 2: this module)."""

MULTIFIELD_KEYS = ("ID", "VALUE_TYPE", "VALUE", "TYPE_ID")
_MULTIFIELD = pa.list_(pa.struct([(k, pa.string()) for k in MULTIFIELD_KEYS]))
_INT_ITEMS = frozenset({"int", "user", "link", "file"})
_SCALARS: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "link": pa.int64(),
    "user": pa.int64(),
    "file": pa.int64(),  # file ids
    "float": pa.float64(),
    "money": pa.float64(),
    "bool": pa.bool_(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "string": pa.string(),
    "primary": pa.string(),
    "object": pa.string(),
    "multifield": _MULTIFIELD,
}
_TEXT_DICT = pa.dictionary(pa.int32(), pa.string())
_BY_DTYPE: dict[str, pa.DataType] = {
    "Int64": pa.int64(),
    "Float64": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    DATE_DTYPE: pa.date32(),
    DATETIME_DTYPE: pa.timestamp("us", tz="UTC"),
}


def arrow_type(spec: ColumnSpec) -> pa.DataType:
    """The Arrow type of a column (see the module table).

    Example::

        >>> arrow_type(specs["OPPORTUNITY"])
        DataType(double)
    """
    if spec.kind in _SCALARS:
        return _SCALARS[spec.kind]
    if spec.kind in ("category", "currency_of"):
        return pa.int64() if int_coded(spec) else _TEXT_DICT
    if spec.kind != "list" and spec.dtype in _BY_DTYPE:  # kinds added later (file ids: Int64)
        return _BY_DTYPE[spec.dtype]
    if spec.kind == "list":
        item = spec.item_kind or "string"
        if item in _INT_ITEMS or (item == "category" and int_coded(spec)):
            return pa.list_(pa.int64())
        if item in ("float", "money"):
            return pa.list_(pa.float64())
        return pa.list_(pa.string())
    return pa.string()


def _field(spec: ColumnSpec) -> pa.Field:
    meta = {FIELD_KEY: json.dumps(spec.to_dict(), default=str).encode(), b"title": spec.title}
    return pa.field(spec.name, arrow_type(spec), nullable=True, metadata=meta)


def _unknown_spec(name: str) -> ColumnSpec:
    """A column with no field metadata (a key the API returned, or one the user added)."""
    return ColumnSpec(name=name, title=name, type="", kind="object", dtype="object")


def _pandas_meta(schema: pa.Schema, index: str) -> bytes:
    """``pandas`` schema metadata: plain ``pd.read_parquet`` rebuilds the index and dtypes."""
    columns = []
    for f in schema:
        spec = _spec_of(f)
        numpy_type, pandas_type = "object", "object"
        meta: dict[str, Any] | None = None
        if pa.types.is_dictionary(f.type):
            pandas_type, numpy_type = "categorical", "int32"
            meta = {"num_categories": len(spec.categories or ()), "ordered": False}
        elif pa.types.is_timestamp(f.type):
            pandas_type, numpy_type, meta = "datetimetz", DATETIME_DTYPE, {"timezone": "UTC"}
        elif pa.types.is_date(f.type):
            pandas_type = "date"
        elif pa.types.is_integer(f.type):
            pandas_type, numpy_type = "int64", "Int64"
        elif pa.types.is_floating(f.type):
            pandas_type, numpy_type = "float64", "Float64"
        elif pa.types.is_boolean(f.type):
            pandas_type, numpy_type = "bool", "boolean"
        elif pa.types.is_string(f.type):
            pandas_type, numpy_type = "unicode", "string[pyarrow]"
        elif pa.types.is_list(f.type):
            pandas_type = f"list[{f.type.value_type}]"
        columns.append(
            {
                "name": f.name,
                "field_name": f.name,
                "pandas_type": pandas_type,
                "numpy_type": numpy_type,
                "metadata": meta,
            }
        )
    return json.dumps(
        {
            "index_columns": [index],
            "column_indexes": [],
            "columns": columns,
            "creator": {"library": "pyarrow", "version": pa.__version__},
            "pandas_version": pd.__version__,
        }
    ).encode()


def arrow_schema(
    specs: Mapping[str, ColumnSpec] | Iterable[ColumnSpec],
    columns: Iterable[str],
    *,
    entity: str,
    attrs: Mapping[str, Any] | None = None,
    index: str = "ID",
) -> pa.Schema:
    """The dataset schema: ``index`` (``int64``) then ``columns``, with field and schema metadata.

    ``attrs`` is the frame's ``attrs`` (its ``bitrix`` entry names only the masked portal URL).

    Example::

        >>> arrow_schema(specs, ["TITLE", "STAGE_ID"], entity="deal").names
        ['ID', 'TITLE', 'STAGE_ID']
    """
    by_name = dict(specs) if isinstance(specs, Mapping) else {s.name: s for s in specs}
    id_spec = ColumnSpec(name=index, title=index, type="integer", kind="int", dtype="Int64")
    fields = [_field(by_name.get(index, id_spec))]
    fields += [_field(by_name.get(c) or _unknown_spec(c)) for c in columns if c != index]
    schema = pa.schema(fields)
    extra = {"format": FORMAT, "entity": entity, "index": index, "attrs": dict(attrs or {})}
    return schema.with_metadata(
        {
            META_KEY: json.dumps(extra, default=json_default).encode(),
            b"pandas": _pandas_meta(schema, index),
        }
    )


def json_default(value: Any) -> Any:
    """``json.dumps`` ``default=`` for attrs and cells: dates, numpy scalars and arrays."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _spec_of(f: pa.Field) -> ColumnSpec:
    raw = (f.metadata or {}).get(FIELD_KEY)
    return spec_from_dict(json.loads(raw)) if raw else _unknown_spec(f.name)


# --- pandas -> Arrow ---------------------------------------------------------------------------


def _json_text(values: Iterable[Any]) -> pa.Array:
    return pa.array(
        [None if _missing(v) else json.dumps(v, default=json_default) for v in values],
        type=pa.string(),
    )


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, (list, dict, str)) and bool(pd.isna(value)))


def _dictionary(col: pd.Series) -> pa.Array:
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy(dtype=np.int32)
        cats = [str(c) for c in col.cat.categories]
    else:
        codes_, uniques = pd.factorize(col.astype(object), use_na_sentinel=True)
        codes, cats = codes_.astype(np.int32), [str(u) for u in uniques]
    indices = pa.array(codes, mask=codes < 0, type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(cats, type=pa.string()))


def _int_array(col: pd.Series) -> pa.Array:
    values = col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col
    return pa.array(pd.to_numeric(values, errors="coerce").astype("Int64"), type=pa.int64())


def _multifield(col: pd.Series) -> pa.Array:
    rows: list[list[dict[str, str | None]] | None] = []
    for cell in col.tolist():
        if not isinstance(cell, (list, tuple)):
            rows.append(None if _missing(cell) else [])
            continue
        rows.append(
            [
                {k: None if d.get(k) is None else str(d.get(k)) for k in MULTIFIELD_KEYS}
                for d in cell
                if isinstance(d, dict)
            ]
        )
    return pa.array(rows, type=_MULTIFIELD)


def _list(col: pd.Series, typ: pa.ListType) -> pa.Array:
    cells = [
        None if not isinstance(c, (list, tuple, np.ndarray)) and _missing(c) else list(c)
        for c in col.tolist()
    ]
    try:
        return pa.array(cells, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        if pa.types.is_string(typ.value_type):
            text = [
                None if c is None else [None if x is None else str(x) for x in c] for c in cells
            ]
            return pa.array(text, type=typ)
        raise


def column_to_arrow(col: pd.Series, f: pa.Field) -> pa.Array:
    """One frame column as an Arrow array of the field's type."""
    typ = f.type
    if pa.types.is_dictionary(typ):
        return _dictionary(col)
    if pa.types.is_list(typ):
        return _multifield(col) if typ == _MULTIFIELD else _list(col, typ)
    if pa.types.is_timestamp(typ):
        return pa.array(col, from_pandas=True).cast(typ, safe=False)
    if pa.types.is_date(typ):
        return pa.array(col, from_pandas=True).cast(pa.timestamp("s"), safe=False).cast(typ)
    if pa.types.is_integer(typ):
        return _int_array(col)
    if pa.types.is_string(typ) and (col.dtype == object or _spec_of(f).kind == "object"):
        if _spec_of(f).kind == "object":
            return _json_text(col.tolist())
        return pa.array(col.astype(STRING_DTYPE), type=typ, from_pandas=True)
    if pa.types.is_string(typ) and isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    out = pa.array(col, type=typ, from_pandas=True)  # pyarrow-backed columns come back chunked
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def frame_to_batch(df: pd.DataFrame, schema: pa.Schema) -> pa.RecordBatch:
    """Rows of a typed frame as one record batch of ``schema`` (index first)."""
    attrs, df.attrs = df.attrs, {}  # pandas deep-copies attrs on every column access
    try:
        arrays = [pa.array(pd.Series(df.index).astype("Int64"), type=pa.int64())]
        for f in list(schema)[1:]:
            if f.name in df.columns:
                col = df[f.name].reset_index(drop=True)
            else:
                col = pd.Series([None] * len(df), dtype=object)
            arrays.append(column_to_arrow(col, f))
    finally:
        df.attrs = attrs
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def schema_of_frame(df: pd.DataFrame) -> pa.Schema:
    """The schema of a typed frame from its ``attrs`` (field specs) and its columns."""
    meta = df.attrs.get("bitrix") or {}
    specs = {name: spec_from_dict(d) for name, d in (meta.get("fields") or {}).items()}
    for name in df.columns:
        if name not in specs:
            specs[name] = _guess_spec(name, df[name])
    return arrow_schema(
        specs,
        list(df.columns),
        entity=str(meta.get("entity", "")),
        attrs=df.attrs,
        index=df.index.name or "ID",
    )


def _guess_spec(name: str, col: pd.Series) -> ColumnSpec:
    """A spec for a column without field metadata, from its dtype (object: JSON text)."""
    dtype = col.dtype
    kind = "object"
    if isinstance(dtype, pd.CategoricalDtype):
        cats = tuple(c.item() if hasattr(c, "item") else c for c in dtype.categories)
        return ColumnSpec(
            name=name, title=name, type="", kind="category", dtype="category", categories=cats
        )
    if isinstance(dtype, pd.DatetimeTZDtype):
        kind = "datetime"
    elif dtype.kind == "M":
        kind = "date"
    elif pd.api.types.is_bool_dtype(dtype):
        kind = "bool"
    elif pd.api.types.is_integer_dtype(dtype):
        kind = "int"
    elif pd.api.types.is_float_dtype(dtype):
        kind = "float"
    elif isinstance(dtype, pd.StringDtype):
        kind = "string"
    return ColumnSpec(name=name, title=name, type="", kind=kind, dtype=str(dtype))


def frame_to_table(df: pd.DataFrame, schema: pa.Schema | None = None) -> pa.Table:
    """A typed frame as an Arrow table of its dataset schema (see module doc).

    Example::

        >>> frame_to_table(deals).schema.field("CLOSEDATE").type
        DataType(date32[day])
    """
    schema = schema or schema_of_frame(df)
    return pa.Table.from_batches([frame_to_batch(df, schema)], schema=schema)


# --- Arrow -> pandas ---------------------------------------------------------------------------


def _categorical(arr: pa.ChunkedArray, spec: ColumnSpec) -> pd.Categorical:
    """Codes against the spec's allowed values (unknown values appended, never lost); each
    distinct value is looked up once, then the codes are gathered with numpy."""
    known = list(dict.fromkeys(spec.categories or ()))
    cats = pd.Index(known) if known else pd.Index([], dtype=object)
    whole = int_coded(spec)
    extra: dict[Any, int] = {}

    def lookup(values: list) -> np.ndarray:
        if whole:
            values = [None if v is None else int(v) for v in values]
        out = cats.get_indexer(values) if len(cats) else np.full(len(values), -1, np.intp)
        for i, v in enumerate(values):
            if out[i] == -1 and v is not None:
                out[i] = len(cats) + extra.setdefault(v, len(extra))
        return out

    parts = []
    for chunk in arr.chunks:
        if pa.types.is_dictionary(chunk.type):
            table = np.append(lookup(chunk.dictionary.to_pylist()), -1)
            indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            parts.append(table[indices])
        else:
            encoded = chunk.dictionary_encode()
            table = np.append(lookup(encoded.dictionary.to_pylist()), -1)
            indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            parts.append(table[indices])
    codes = np.concatenate(parts) if parts else np.array([], dtype=np.intp)
    if extra:
        cats = pd.Index([*cats, *extra])
    return pd.Categorical.from_codes(codes, categories=cats)


def column_to_pandas(arr: pa.ChunkedArray, f: pa.Field) -> Any:
    """One Arrow column back to the frame's dtype (the inverse of :func:`column_to_arrow`)."""
    spec = _spec_of(f)
    typ = arr.type
    if spec.kind in ("category", "currency_of"):
        return _categorical(arr, spec)
    if pa.types.is_dictionary(typ):
        return arr.to_pandas().array
    if pa.types.is_timestamp(typ):
        return pd.DatetimeTZDtype("ns", "UTC").__from_arrow__(arr)
    if pa.types.is_date(typ):
        ns = pc.cast(arr, pa.timestamp("ns")).to_numpy()
        return pd.array(ns.astype(DATE_DTYPE))
    if pa.types.is_integer(typ):
        return pd.Int64Dtype().__from_arrow__(pc.cast(arr, pa.int64()))
    if pa.types.is_floating(typ):
        return pd.Float64Dtype().__from_arrow__(pc.cast(arr, pa.float64()))
    if pa.types.is_boolean(typ):
        return pd.BooleanDtype().__from_arrow__(arr)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        if spec.kind == "object":
            out = np.empty(len(arr), dtype=object)
            out[:] = [None if v is None else json.loads(v) for v in arr.to_pylist()]
            return out
        return STRING_DTYPE.__from_arrow__(arr)
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        out = np.empty(len(arr), dtype=object)
        out[:] = _pylists(arr)
        return out
    return arr.to_pandas().array


def _pylists(arr: pa.ChunkedArray) -> list[list]:
    """List cells as Python lists (null -> ``[]``); lists of numbers or text are sliced out of
    one flat conversion instead of ``to_pylist`` building a scalar per element."""
    out: list[list] = []
    for chunk in arr.chunks:
        flat = chunk.flatten()
        simple = (
            pa.types.is_integer(flat.type)
            or pa.types.is_floating(flat.type)
            or pa.types.is_string(flat.type)
            or pa.types.is_large_string(flat.type)
        )
        if chunk.null_count or flat.null_count or not simple:
            out += [[] if v is None else v for v in chunk.to_pylist()]
            continue
        items = flat.to_numpy(zero_copy_only=False).tolist()
        ends = pc.subtract(chunk.offsets, chunk.offsets[0]).to_numpy().tolist()
        out += [items[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]
    return out


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """The typed frame of a table written by :func:`frame_to_table` (dtypes, attrs restored).

    Columns of hive partitions (read back as dictionaries of text) are cast back first.
    """
    meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
    index_name = meta.get("index") or table.schema.field(0).name
    index = pd.Index(
        pd.Int64Dtype().__from_arrow__(pc.cast(table.column(index_name), pa.int64())),
        name=index_name,
    )
    data = {}
    for f in table.schema:
        if f.name == index_name:
            continue
        data[f.name] = pd.Series(column_to_pandas(table.column(f.name), f), index=index, copy=False)
    df = pd.DataFrame(data, index=index)
    df.attrs = meta.get("attrs") or {}
    return df


def columns_to_frame(
    schema: pa.Schema, columns: list[list[pa.Array]], *, sort: bool = False
) -> pd.DataFrame:
    """The typed frame of ``schema`` from its columns' arrays (``columns[i]``: the arrays of
    field *i*, index first), as :func:`table_to_frame` gives it; ``sort``: rows in index order.

    Each column's arrays are dropped from ``columns`` once converted, and rows are put in order
    column by column, so the peak is about the frame plus one column, not twice the frame.
    """
    enabled = gc.isenabled()
    gc.disable()  # list columns make a list per row; cyclic-GC passes over them cost a lot
    try:
        return _columns_to_frame(schema, columns, sort=sort)
    finally:
        if enabled:
            gc.enable()


def _columns_to_frame(
    schema: pa.Schema, columns: list[list[pa.Array]], *, sort: bool
) -> pd.DataFrame:
    meta = json.loads((schema.metadata or {}).get(META_KEY, b"{}"))
    first = schema.field(0)
    ids = pc.cast(pa.chunked_array(columns[0], type=first.type), pa.int64())
    columns[0] = []
    order = None
    if sort and ids.null_count == 0 and len(ids):
        values = ids.to_numpy()
        if not bool(np.all(values[1:] >= values[:-1])):
            order = np.argsort(values, kind="stable")
            ids = pa.chunked_array([pa.array(values[order])], type=pa.int64())
    index = pd.Index(pd.Int64Dtype().__from_arrow__(ids), name=meta.get("index") or first.name)
    take = None if order is None else pa.array(order)
    pool = pa.default_memory_pool()
    data = {}
    for i, f in enumerate(schema):
        if i == 0:
            continue
        arr = pa.chunked_array(columns[i], type=f.type)
        columns[i] = []
        # categories append unknown values in arrival order, so they are read before sorting
        arrival = _spec_of(f).kind in ("category", "currency_of")
        if take is not None and not arrival:
            arr = arr.take(take)  # one chunk, in index order
        elif arr.num_chunks > 1:
            arr = pa.chunked_array([arr.combine_chunks()])  # one conversion, not one per chunk
        values = column_to_pandas(arr, f)
        if take is not None and arrival:
            values = values.take(order)
        data[f.name] = pd.Series(values, index=index, copy=False)
        del arr, values
        # Arrow's allocator keeps what a column's conversion freed; handing it back per column
        # lowered the peak of a 100,000-deal load by ~7 MB (docs/performance.md)
        pool.release_unused()
    df = pd.DataFrame(data, index=index, copy=False)  # a dict is copied by default
    if sort and order is None and not df.index.is_monotonic_increasing:
        df = df.sort_index()  # ids with NA: pandas puts them last
    df.attrs = meta.get("attrs") or {}
    return df
