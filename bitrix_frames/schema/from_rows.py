"""API records -> one Arrow record batch of the dataset schema, without a pandas frame between.

This is how loads and exports convert each response as it arrives: the records are transposed
once, and the common columns of API text go straight to Arrow arrays (integers, decimals, text,
instants, dates, flags, stages and enumerations). Any other column (lists, multifields, money,
files, unusual spellings, non-text values) takes the reference route, :func:`.to_pandas.convert_values`
then :func:`.to_arrow.column_to_arrow`, so the batch always reads back, through
:func:`.to_arrow.table_to_frame`, as the frame :func:`.to_pandas.to_frame` builds from the same
records. The direct routes exist because the reference route costs about 0.1 s of fixed pandas
overhead per batch, which made small batches (and so bounded memory) expensive.

Example::

    >>> columns = batch_columns(records, specs, "deal", ["TITLE", "STAGE_ID"])
    >>> schema = arrow_schema(specs, columns, entity="deal")
    >>> table_to_frame(pa.Table.from_batches([records_to_batch(records, specs, "deal", schema)]))
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..entities import Entity
from ..entities import entity as _entity
from .specs import ColumnSpec
from .to_arrow import _int_coded, column_to_arrow
from .to_pandas import (
    _DECIMAL_TEXT,
    _ID_SPEC,
    _INSTANT_TEXT,
    _INT_TEXT,
    _ISO,
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

__all__ = ["batch_columns", "records_to_batch"]

_MICROS = 1_000_000
_LARGE_TEXT = pa.large_string()
_NULL_TEXT = pa.scalar(None, _LARGE_TEXT)


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
            table = pa.array(self.records, type=pa.struct([(k, _LARGE_TEXT) for k in keys]))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return {}  # some value is not text: every column takes its own route
        out = {}
        for key, child in zip(keys, table.flatten(), strict=True):
            blank = pc.equal(child, "")
            out[key] = pc.if_else(blank, _NULL_TEXT, child) if pc.any(blank).as_py() else child
        return out

    def values(self, key: str) -> Sequence[Any] | None:
        """The raw values of ``key`` in record order (None: no record has the key)."""
        if self._columns is not None:
            return self._columns.get(key)
        if not any(key in r for r in self.records):
            return None
        return tuple(r.get(key) for r in self.records)


def _column(
    raw: _Raw, source: str, spec: ColumnSpec | None, f: pa.Field, *, index: bool
) -> pa.Array:
    if spec is None:  # a returned key without field metadata: JSON text of the raw value
        found = raw.values(source)
        cells = (None,) * raw.n if found is None else found
        return column_to_arrow(pd.Series(_objects(_object_series(cells)), dtype=object), f)
    direct = _DIRECT.get(spec.kind)
    values: Sequence[Any] | None = None
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


def _ints(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or f.type != pa.int64() or not _all_match(text, _INT_TEXT):
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
    local = pc.strptime(pc.utf8_slice_codeunits(text, 0, 19), format=_ISO[:-2], unit="s")
    day = pc.utf8_slice_codeunits(text, 8, 10).cast(pa.int64())
    if pc.all(pc.equal(pc.day(local), day)).as_py() is False:
        return None
    seconds = pc.strptime(text, format=_ISO, unit="s").cast(pa.int64())
    # pandas' datetime64[ns] range: instants beyond it are NaT there, so null here
    inside = pc.and_(pc.greater_equal(seconds, -_NS_SECONDS), pc.less_equal(seconds, _NS_SECONDS))
    seconds = pc.if_else(inside, seconds, pa.scalar(None, pa.int64()))
    if spec.kind == "date":
        return pc.floor(pc.divide(seconds.cast(pa.float64()), 86_400.0)).cast(pa.int32()).cast(want)
    return pc.multiply(seconds, _MICROS).cast(want)


def _flags(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if f.type != pa.bool_():
        return None
    if text is None:
        if not all(v is None or v is True or v is False for v in values):
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
    if _int_coded(spec):  # enumeration ids: whole numbers only
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
    found = pc.struct_field(pc.extract_regex(text, _MONEY_PARTS), part)
    return pc.if_else(pc.equal(found, ""), _NULL_TEXT, found)


def _money(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or f.type != pa.float64():
        return None
    return _floats(_money_part(text, "amount"), values, spec, f)


def _currency(text: pa.Array | None, values: Any, spec: ColumnSpec, f: pa.Field) -> pa.Array | None:
    if text is None or not pa.types.is_dictionary(f.type):
        return None
    return _categories(_money_part(text, "currency"), values, spec, f)


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
