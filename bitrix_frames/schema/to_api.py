"""Column value -> API value, table-driven by column kind; filters and selects checked and encoded.

Used by the loaders (filters, selects) and the write-back (``record_to_api``). Everything here is
pure: it raises a typed error *before* anything is sent.

* datetimes -> ISO 8601 with offset (``2024-05-23T16:18:25+00:00``); naive values are read as UTC,
  the timezone of the frames' datetime columns.
* dates -> ``YYYY-MM-DD``; flags -> ``"Y"``/``"N"`` (``char``) or ``1``/``0`` (boolean UFs);
* labels -> codes (:func:`.labels.code_for`), money amount + currency -> ``"300|USD"``;
* ``<NA>`` -> ``""`` (clears the field).

Filters: the key is an operator prefix plus a field; an unknown field raises :class:`FilterError`.
``LOGIC``/nested (numeric-key) sub-filters are refused: the legacy list methods drop them silently
and would return *more* rows than asked for (PROTOCOL §10).

Example::

    >>> encode_filter("deal", specs, {">=DATE_CREATE": pd.Timestamp("2024-01-01", tz="UTC"),
    ...                               "STAGE_ID": "General: Won"})
    {'>=DATE_CREATE': '2024-01-01T00:00:00+00:00', 'STAGE_ID': 'WON'}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..entities import Entity
from ..entities import entity as _entity
from ..errors import ValidationError
from .labels import LabelError, code_for
from .specs import ColumnSpec

__all__ = [
    "FilterError",
    "LabelError",
    "SelectError",
    "encode_filter",
    "encode_select",
    "record_to_api",
    "split_operator",
    "value_to_api",
]

# longest first, so "!=%" wins over "!=" and "!"
OPERATORS = (
    "!=%",
    "!%=",
    "><",
    ">=",
    "<=",
    "!=",
    "!@",
    "=%",
    "%=",
    "!%",
    ">",
    "<",
    "=",
    "!",
    "@",
    "%",
)


class FilterError(ValidationError):
    """A filter names an unknown field, uses unsupported logic or carries a value of the wrong type."""

    def __init__(self, description: str, *, key: str | None = None) -> None:
        super().__init__(description)
        self.key = key


class SelectError(ValidationError):
    """A select names a field the entity does not have."""


def split_operator(key: str) -> tuple[str, str]:
    """``">=DATE_MODIFY"`` -> (``">="``, ``"DATE_MODIFY"``)."""
    for op in OPERATORS:
        if key.startswith(op):
            return op, key[len(op) :]
    return "", key


def _missing(value: Any) -> bool:
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _iso_instant(value: Any) -> str:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.isoformat(timespec="seconds")


def _api_datetime(value: Any, spec: ColumnSpec) -> Any:
    if isinstance(value, str):
        return value
    return _iso_instant(value)


def _api_date(value: Any, spec: ColumnSpec) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.date().isoformat()


def _api_bool(value: Any, spec: ColumnSpec) -> Any:
    if isinstance(value, str):
        text = value.strip().upper()
        if text in ("Y", "1", "TRUE", "YES"):
            return spec.true_value
        if text in ("N", "0", "FALSE", "NO", ""):
            return spec.false_value
        raise ValidationError(f"{spec.name}: not a yes/no value: {value!r}")
    return spec.true_value if bool(value) else spec.false_value


def _api_int(value: Any, spec: ColumnSpec) -> Any:
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        if spec.kind == "user":
            return _user_by_name(spec, value)
        raise ValidationError(f"{spec.name}: not an integer: {value!r}")
    number = float(value)
    if not number.is_integer():
        raise ValidationError(f"{spec.name}: not an integer: {value!r}")
    return int(number)


def _user_by_name(spec: ColumnSpec, name: str) -> int:
    hits = [
        uid
        for uid, lab in zip(spec.categories or (), spec.labels or (), strict=False)
        if lab == name
    ]
    if len(hits) != 1:
        what = "ambiguous" if hits else "unknown"
        raise LabelError(f"{spec.name}: {what} user {name!r}", column=spec.name, value=name)
    return int(hits[0])


def _api_float(value: Any, spec: ColumnSpec) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{spec.name}: not a number: {value!r}") from None


def _api_category(value: Any, spec: ColumnSpec, pipeline: Any = None) -> Any:
    code = code_for(spec, value, pipeline=pipeline)
    return int(code) if isinstance(code, np.integer) else code


def _api_list(value: Any, spec: ColumnSpec) -> Any:
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    item_spec = replace(spec, kind=spec.item_kind or "object")
    return [value_to_api(item_spec, x) for x in items]


def _api_string(value: Any, spec: ColumnSpec) -> Any:
    return str(value)


def _api_object(value: Any, spec: ColumnSpec) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


ENCODERS: dict[str, Callable[[Any, ColumnSpec], Any]] = {
    "int": _api_int,
    "link": _api_int,
    "user": _api_int,
    "float": _api_float,
    "money": _api_float,
    "bool": _api_bool,
    "date": _api_date,
    "datetime": _api_datetime,
    "string": _api_string,
    "primary": _api_string,
    "category": _api_category,
    "currency_of": _api_category,
    "multifield": _api_object,
    "list": _api_list,
    "object": _api_object,
}


def value_to_api(spec: ColumnSpec, value: Any, *, pipeline: Any = None) -> Any:
    """One column value -> the value the API expects (``<NA>`` -> ``""``).

    Example::

        >>> value_to_api(specs["OPENED"], True)
        'Y'
    """
    if _missing(value):
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if spec.kind in ("category", "currency_of"):
        return _api_category(value, spec, pipeline)
    return ENCODERS[spec.kind](value, spec)


def record_to_api(
    specs: Mapping[str, ColumnSpec],
    row: Mapping[str, Any],
    columns: Iterable[str] | None = None,
    *,
    pipeline_field: str = "CATEGORY_ID",
) -> dict[str, Any]:
    """Columns of one row -> the ``fields`` object of an add/update call.

    Derived columns (``PHONE_PRIMARY``) are skipped; a money amount is joined with its
    ``<NAME>_CURRENCY`` column; stage labels are resolved in the row's pipeline.

    Example::

        >>> record_to_api(specs, {"TITLE": "x", "UF_CRM_PRICE": 300.0, "UF_CRM_PRICE_CURRENCY": "USD"})
        {'TITLE': 'x', 'UF_CRM_PRICE': '300.0|USD'}
    """
    names = list(columns) if columns is not None else list(row)
    pipeline = row.get(pipeline_field)
    out: dict[str, Any] = {}
    for name in names:
        spec = specs.get(name)
        if spec is None:
            raise ValidationError(f"unknown field {name!r}")
        if spec.derived_from:
            if spec.kind == "currency_of" and spec.derived_from not in names:
                names.append(spec.derived_from)
            continue
        value = row.get(name)
        if spec.kind == "money":
            out[name] = _money(
                spec, value, row.get(f"{name}_CURRENCY"), specs.get(f"{name}_CURRENCY")
            )
        else:
            out[name] = value_to_api(spec, value, pipeline=pipeline)
    return out


def _money(spec: ColumnSpec, amount: Any, currency: Any, cur_spec: ColumnSpec | None) -> str:
    if _missing(amount):
        return ""
    if _missing(currency):
        raise ValidationError(f"{spec.name}: an amount needs a currency in {spec.name}_CURRENCY")
    code = value_to_api(cur_spec, currency) if cur_spec is not None else str(currency)
    number = float(amount)
    text = str(int(number)) if number.is_integer() else repr(number)
    return f"{text}|{code}"


def _filter_value(spec: ColumnSpec, op: str, value: Any) -> Any:
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
        return [_filter_value(spec, op, v) for v in value]
    if value is None:
        return ""
    if "%" in op:
        return str(value)
    if spec.kind == "list":
        spec = replace(spec, kind=spec.item_kind or "string")
    if spec.kind in ("string", "primary", "multifield", "object"):
        return value
    if isinstance(value, str) and spec.kind in ("date", "datetime"):
        pd.Timestamp(value)  # raises ValueError on garbage; the text is sent as given
        return value
    return value_to_api(spec, value)


def encode_filter(
    entity: str | Entity, specs: Mapping[str, ColumnSpec], filter: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Check a filter against the metadata and encode its values; raise :class:`FilterError`.

    Example::

        >>> encode_filter("lead", specs, {"%TITLE": "shop", "OPENED": True})
        {'%TITLE': 'shop', 'OPENED': 'Y'}
    """
    ent = _entity(entity)
    if filter is None:
        return {}
    if not isinstance(filter, Mapping):
        raise FilterError(
            f"filter must be a mapping of field -> value, got {type(filter).__name__}"
        )
    out: dict[str, Any] = {}
    for key, value in filter.items():
        if not isinstance(key, str) or key.strip().isdigit() or key.upper() == "LOGIC":
            raise FilterError(
                f"{ent.list_method} does not support LOGIC/OR sub-filters (the portal silently drops "
                "them and returns more rows); run one load per branch and concatenate",
                key=str(key),
            )
        if key in ent.extra_filter_keys:
            out[key] = value
            continue
        op, name = split_operator(key)
        spec = specs.get(name)
        if name in ent.extra_filter_keys:
            out[key] = value
            continue
        if spec is None or spec.derived_from:
            raise FilterError(f"{ent.name} has no field {name!r} (filter key {key!r})", key=key)
        try:
            out[key] = _filter_value(spec, op, value)
        except LabelError as err:
            raise FilterError(f"filter {key!r}: {err.description}", key=key) from err
        except (ValidationError, ValueError, TypeError) as err:
            raise FilterError(f"filter {key!r}: bad value {value!r} ({err})", key=key) from err
    return out


def encode_select(
    entity: str | Entity, specs: Mapping[str, ColumnSpec], select: Iterable[str] | None
) -> list[str] | None:
    """Check a select list against the metadata; masks ``*`` and ``UF_*`` pass. None stays None.

    Derived column names (``PHONE_PRIMARY``) are replaced by their source field.

    Example::

        >>> encode_select("contact", specs, ["NAME", "PHONE_PRIMARY"])
        ['NAME', 'PHONE']
    """
    ent = _entity(entity)
    if select is None:
        return None
    if isinstance(select, str):
        select = [select]
    out: list[str] = []
    for name in select:
        if not isinstance(name, str):
            raise SelectError(f"select entries must be field names, got {name!r}")
        spec = specs.get(name)
        if name in ("*", "UF_*"):
            if ent.fields_format != "crm" and name == "UF_*":
                raise SelectError(f"{ent.name} select does not support the 'UF_*' mask")
            out.append(name)
        elif spec is None:
            raise SelectError(f"{ent.name} has no field {name!r} (in select)")
        else:
            out.append(spec.derived_from or name)
    return list(dict.fromkeys(out))
