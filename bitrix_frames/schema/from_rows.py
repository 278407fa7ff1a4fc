"""API records -> one Arrow record batch of the dataset schema, without a pandas frame between.

This is how loads and exports convert each response as it arrives: the text columns of all
records are read in one Arrow struct conversion, and the common columns go straight to Arrow
arrays (integers, decimals, text, instants, dates, flags, stages, enumerations, money, and
multiple fields whose cells are lists of plain text). Any other column (multifields, files,
unusual spellings, non-text values) takes the reference route, :func:`.to_pandas.convert_values`
then :func:`.to_arrow.column_to_arrow`, so the batch always reads back, through
:func:`.to_arrow.table_to_frame`, as the frame :func:`.to_pandas.to_frame` builds from the same
records (``tests/frames/test_from_rows.py`` checks it on odd values of every kind). The direct
routes exist because the reference route costs about 0.1 s of fixed pandas overhead per batch,
which made small batches (and so bounded memory) expensive.

Example::

    >>> columns = batch_columns(records, specs, "deal", ["TITLE", "STAGE_ID"])
    >>> schema = arrow_schema(specs, columns, entity="deal")
    >>> table_to_frame(pa.Table.from_batches([records_to_batch(records, specs, "deal", schema)]))
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..entities import Entity
from ..entities import entity as _entity
from .specs import ColumnSpec, int_coded
from .to_arrow import column_to_arrow
from .to_pandas import (
    _DECIMAL_TEXT,
    _FIRST_DAY_SECONDS,
    _ID_SPEC,
    _INSTANT_TEXT,
    _INT_TEXT,
    _LIST_ITEMS,
    _NS_SECONDS,
    _all_match,
    _arrow_text,
    _flag,
    _object_series,
    _objects,
    _raw_columns,
    _wanted_columns,
    convert_values,
)
from .to_pandas import (
    _ITEM as _LIST_ITEM_PARSERS,
)

__all__ = ["batch_columns", "records_to_batch"]

_TEXT = pa.string()
_SECONDS = pa.timestamp("s", tz="UTC")
_JSON_FLAGS = {bool, type(None)}


def batch_columns(
    records: Sequence[Mapping[str, Any]],
    specs: Mapping[str, ColumnSpec],
    entity: str | Entity,
    columns: Iterable[str] | None,
) -> list[str]:
    """The frame's columns (index excluded) for these records, as :func:`.to_pandas.to_frame`
    orders them: the selected ``columns``, then the returned keys, derived columns after their
    source."""
    ent = _entity(entity)
    raw = _raw_columns(list(records[:1]), ent, specs)
    return [c for c in _wanted_columns(raw, specs, ent, columns) if c != ent.id_field]


def records_to_batch(
    records: Sequence[Mapping[str, Any]],
    specs: Mapping[str, ColumnSpec],
    entity: str | Entity,
    schema: pa.Schema,
) -> pa.RecordBatch:
    """``records`` as one record batch of ``schema`` (index first, as :func:`.to_arrow.arrow_schema`
    builds it); fields of the schema no record carries come out empty, keys outside it are dropped.
    """
    ent = _entity(entity)
    enabled = gc.isenabled()
    gc.disable()  # nothing here makes cycles; full GC passes over the records cost a lot
    try:
        fields = []
        for i, f in enumerate(schema):
            spec = specs.get(f.name) or (_ID_SPEC if i == 0 else None)
            source = spec.derived_from if spec is not None and spec.derived_from else f.name
            fields.append((f, spec, source))
        raw = _Raw(records, ent, specs, [s for _, spec, s in fields if _texty(spec)])
        arrays = [
            _column(raw, source, spec, f, index=i == 0)
            for i, (f, spec, source) in enumerate(fields)
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)
    finally:
        if enabled:
            gc.enable()


def _texty(spec: ColumnSpec | None) -> bool:
    """Columns read as text in one pass over the records."""
    return spec is not None and spec.kind in _DIRECT


class _Raw:
    """The records' values per key: text columns through one Arrow struct conversion (the
    records are read in C++, no Python tuple per column), the others per key on demand."""

    def __init__(
        self,
        records: Sequence[Mapping[str, Any]],
        ent: Entity,
        specs: Mapping[str, ColumnSpec],
        text_keys: list[str],
    ) -> None:
        self.records, self.n = records, len(records)
        self.plain = not ent.camel_response and all(type(r) is dict for r in records)
        self._columns: dict[str, Sequence[Any]] | None = None
        if not self.plain:
            self._columns = _raw_columns(list(records), ent, specs)
        self.text = self._struct(list(dict.fromkeys(text_keys))) if self.plain else {}

    def _struct(self, keys: list[str]) -> dict[str, pa.Array]:
        # keys whose first value is text (user-field flags come as JSON booleans, for example)
        first = self.records[0] if self.records else {}
        keys = [k for k in keys if k in first and (first[k] is None or type(first[k]) is str)]
        if not keys:
            return {}
        try:
            table = pa.array(self.records, type=pa.struct([(k, _TEXT) for k in keys]))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return {}  # some value is not text: every column takes its own route
        if not isinstance(table, pa.StructArray):  # beyond 2 GB of text: chunked
            return {}
        out = {}
        for key, child in zip(keys, table.flatten(), strict=True):
            out[key] = child if child.null_count == len(child) else _blank_to_null(child)
        return out

    def values(self, key: str) -> Sequence[Any] | None:
        """The raw values of ``key`` in record order (None: no record has the key)."""
        if self._columns is not None:
            return self._columns.get(key)
        records = self.records
        if not records or (key not in records[0] and not any(key in r for r in records)):
            return None
        return [r.get(key) for r in records]


def _blank_to_null(text: pa.Array) -> pa.Array:
    """``""`` -> null (the text unchanged when it holds none)."""
    blank = pc.equal(text, "")
    if not pc.any(blank).as_py():
        return text
    return pc.if_else(blank, pa.scalar(None, text.type), text)


def _column(
    raw: _Raw, source: str, spec: ColumnSpec | None, f: pa.Field, *, index: bool
) -> pa.Array:
    if spec is None:  # a returned key without field metadata: JSON text of the raw value
        found = raw.values(source)
        cells = (None,) * raw.n if found is None else found
        return column_to_arrow(pd.Series(_objects(_object_series(cells)), dtype=object), f)
    direct = _DIRECT.get(spec.kind)
    values: Sequence[Any] | None = None
    if spec.kind == "list":
        values = raw.values(source)
        out = _lists(values, spec, f) if values is not None else None
        if out is not None:
            return out
    if direct is not None:
        text = raw.text.get(source)
        if text is None:
            values = raw.values(source)
            text = _arrow_text(values) if values is not None else None
        if text is not None or values is not None:
            out = direct(text, values, spec, f)
            if out is not None:
                return out
    if values is None:
        values = raw.values(source)
    cells = (None,) * raw.n if values is None else values
    col = convert_values(cells, spec)
    if index:  # to_frame's index: ids, never NA-masked links
        return pa.array(col.astype("Int64"), type=pa.int64())
    return column_to_arrow(col.reset_index(drop=True), f)


# --- direct routes: API text -> Arrow (None: take the reference route) ------------------------


def _int_text(text: pa.Array) -> bool:
    """Every value matches :data:`_INT_TEXT`; unsigned digits are checked without the regex."""
    if pc.all(pc.ascii_is_decimal(text)).as_py() is not False:
        longest = pc.max(pc.binary_length(text)).as_py()
        if longest is None or longest <= 18:
            return True
    return _all_match(text, _INT_TEXT)


def _ints(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or f.type != pa.int64() or not _int_text(text):
        return None
    out = text.cast(pa.int64())
    if spec.kind == "link":  # lists render an empty link as "0"
        out = pc.if_else(pc.equal(out, 0), pa.scalar(None, pa.int64()), out)
    return out


def _floats(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or f.type != pa.float64() or not _all_match(text, _DECIMAL_TEXT):
        return None
    return text.cast(pa.float64())


def _strings(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or f.type != pa.string():
        return None
    return text.cast(pa.string())


def _instants(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    """The API's ISO instants -> UTC ``timestamp[us]`` or the UTC calendar ``date32``
    (the reference route's rules: impossible days and other spellings go there)."""
    want = pa.date32() if spec.kind == "date" else pa.timestamp("us", tz="UTC")
    if text is None or f.type != want or not _all_match(text, _INSTANT_TEXT):
        return None
    try:  # Arrow's ISO parser refuses impossible days (02-30), where pandas gives NaT
        utc = text.cast(_SECONDS)
    except pa.ArrowInvalid:
        return None
    seconds = utc.view(pa.int64())
    bounds = pc.min_max(seconds)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    # pandas' datetime64[ns] range: instants beyond it are NaT there, so null here; so is a date
    # whose instant is inside but whose day starts before it (1677-09-21)
    first = _FIRST_DAY_SECONDS if spec.kind == "date" else -_NS_SECONDS
    if low is not None and (low < first or high > _NS_SECONDS):
        inside = pc.and_(pc.greater_equal(seconds, first), pc.less_equal(seconds, _NS_SECONDS))
        utc = pc.if_else(inside, utc, pa.scalar(None, _SECONDS))
    return utc.cast(want)  # a date: the UTC calendar day (floored, also before 1970)


def _flags(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if f.type != pa.bool_():
        return None
    if text is None:
        if not set(map(type, values)) <= _JSON_FLAGS:
            return None
        return pa.array(values, type=pa.bool_())
    encoded = text.dictionary_encode()
    lookup = [_flag(v) for v in encoded.dictionary.to_pylist()]
    table = pa.array([None if v is pd.NA else v for v in lookup], type=pa.bool_())
    return table.take(encoded.indices)


def _categories(
    text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field
) -> pa.Array | None:
    if text is None:
        return None
    if int_coded(spec):  # enumeration ids: whole numbers only
        return _ints(text, values, spec, f)
    if not pa.types.is_dictionary(f.type):
        return None
    encoded = text.dictionary_encode()
    return pa.DictionaryArray.from_arrays(
        encoded.indices.cast(pa.int32()), encoded.dictionary.cast(pa.string())
    )


_MONEY_PARTS = r"(?s)^(?P<amount>[^|]*)(?:\|(?P<currency>.*))?$"


def _money_part(text: pa.Array, part: str) -> pa.Array:
    """``"300|USD"`` -> ``"300"`` or ``"USD"`` (as ``str.partition``; an empty part is null)."""
    return _blank_to_null(pc.struct_field(pc.extract_regex(text, _MONEY_PARTS), part))


def _money(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or f.type != pa.float64():
        return None
    return _floats(_money_part(text, "amount"), values, spec, f)


def _currency(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or not pa.types.is_dictionary(f.type):
        return None
    return _categories(_money_part(text, "currency"), values, spec, f)


def _lists(values: Sequence[Any], spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    """Multiple fields whose cells are lists of plain text (or empty: None, "", False) ->
    ``list<int64|double|string>`` from one flat cast; anything else takes the reference route."""
    typ = f.type
    if not pa.types.is_list(typ):
        return None
    item = _LIST_ITEMS.get(spec.item_kind or "")
    if item is not None:
        pattern, value_type = item
        if typ.value_type != value_type:
            return None
    elif typ.value_type != _TEXT or (spec.item_kind or "") in _LIST_ITEM_PARSERS:
        return None
    if not all(type(v) is list or v is None or v is False or v == "" for v in values):
        return None
    cells = [v if type(v) is list else () for v in values]
    flat = list(chain.from_iterable(cells))
    try:
        text = pa.array(flat, type=_TEXT)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if text.null_count:  # the reference route drops null and "" elements
        return None
    if item is None:
        if pc.any(pc.equal(text, "")).as_py():
            return None
        parsed = text
    elif not _all_match(text, pattern):
        return None
    else:
        parsed = text.cast(value_type)
    offsets = np.zeros(len(cells) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, cells), dtype=np.int32, count=len(cells)), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), parsed, type=typ)


_DIRECT: dict[str, Callable[[pa.Array | None, Any, ColumnSpec, pa.Field], pa.Array | None]] = {
    "int": _ints,
    "link": _ints,
    "user": _ints,
    "float": _floats,
    "string": _strings,
    "datetime": _instants,
    "date": _instants,
    "bool": _flags,
    "category": _categories,
    "money": _money,
    "currency_of": _currency,
}
"""Kinds with a direct route; the rest always take the reference route."""
