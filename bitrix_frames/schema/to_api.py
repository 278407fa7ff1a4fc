"""Column value -> API value, table-driven by column kind; filters and selects checked and encoded.

The one converter of this direction: used by the loaders (filters, selects) and the write-back
(``value_to_api``/``money_to_api`` per cell). Everything here is pure: a value the API would not
accept raises :class:`~bitrix_frames.errors.BadValue` *before* anything is sent; its ``reason``
says what was expected, and the write-back turns it into a problem naming row and field.

* integers and links -> int, 32-bit (a link is never negative; ``PROBABILITY`` 0-100); doubles ->
  float rounded to the places the portal stores (``spec.precision``), below 10**15, never
  inf/NaN; number text must be plain (``"1234.5"``): ``"1,234"`` or ``"1 234"`` is refused as
  ambiguous; texts -> str (a list or dict, a NUL character or a lone surrogate is refused);
* datetimes -> ISO 8601 with offset (``2024-05-23T16:18:25+00:00``); naive values are read as UTC,
  the timezone of the frames' datetime columns; dates -> ``YYYY-MM-DD``: an aware midnight keeps
  its own calendar date, a time of day is refused; date text must be ISO 8601 (``"03/04/2027"``
  is refused as ambiguous); years outside 1900-2199 are refused; numbers are refused;
* flags (True/False, Y/N, 1/0, yes/no) -> ``"Y"``/``"N"`` (``char``) or ``1``/``0`` (boolean UFs);
  NA in a flag is refused (the portal would store it as ``N``);
* statuses, stages, pipelines, currencies, enumerations: code or label -> code
  (:func:`.labels.code_for`; deal stages within the row's pipeline); users: id or full name -> id;
* money amount + currency -> ``"300|USD"``; multiple fields -> lists, item by item;
* ``<NA>`` -> ``""`` (clears the field; ``[]`` for multiple fields), except in flags.

Filters: the key is an operator prefix plus a field; an unknown field raises :class:`FilterError`.
``LOGIC``/nested (numeric-key) sub-filters are refused: the legacy list methods drop them silently
and would return *more* rows than asked for (PROTOCOL §10).

Example::

    >>> encode_filter("deal", specs, {">=DATE_CREATE": pd.Timestamp("2024-01-01", tz="UTC"),
    ...                               "STAGE_ID": "General: Won"})
    {'>=DATE_CREATE': '2024-01-01T00:00:00+00:00', 'STAGE_ID': 'WON'}
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..encoding import batch_would_rewrite
from ..entities import Entity
from ..entities import entity as _entity
from ..errors import BadValue, ValidationError
from .labels import LabelError, code_for
from .specs import ColumnSpec

__all__ = [
    "BadValue",
    "FilterError",
    "LabelError",
    "SelectError",
    "encode_filter",
    "encode_select",
    "money_to_api",
    "record_to_api",
    "split_operator",
    "value_to_api",
]

# longest first, so "!=%" wins over "!=" and "!"
OPERATORS = (
    "!><",
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
    "?",
)

# What each list method's core really evaluates (docs/sandbox.md "Filters"): legacy CRM lists parse
# keys with CSqlUtil::GetFilterOperation (no between: "><X" names an unknown field "<X" and the
# portal silently drops the condition); user.get reads at most two operator characters; tasks use
# CTasks::MkOperationFilter. Anything outside a method's set would be ignored or misread by the
# portal, so it is refused here.
_ALL = frozenset(OPERATORS) | {""}
METHOD_OPERATORS: dict[str, frozenset[str]] = {
    "crm": _ALL - {"><", "!><"},
    "user.get": _ALL - {"!><", "!=%", "!%="},
    "tasks.task.list": _ALL - {"=%", "%=", "!=%", "!%="},
}


def method_operators(list_method: str) -> frozenset[str]:
    """Filter operator prefixes ``list_method`` evaluates (``""`` = equality).

    >>> "><" in method_operators("crm.deal.list")
    False
    """
    if list_method in METHOD_OPERATORS:
        return METHOD_OPERATORS[list_method]
    legacy_crm = list_method.startswith("crm.") and not list_method.startswith(
        ("crm.item.", "crm.type.", "crm.stagehistory.")
    )
    return METHOD_OPERATORS["crm"] if legacy_crm else _ALL


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


def is_missing(value: Any) -> bool:
    """True for None, NaN, NA, NaT (never for lists, dicts or arrays)."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, dict, set, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_TRUE = {"y", "yes", "true", "1", "on"}
_FALSE = {"n", "no", "false", "0", "off"}

# Plain decimal text only: "1234", "-12.5", "1e3". "1,234" (a thousands separator or a decimal
# comma?) and "1 234" are refused rather than guessed.
_NUMBER_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
# ISO 8601 only: "2027-03-04", "2027-03-04T10:30", "2027-03-04 10:30:00+03:00", "...Z".
# "03/04/2027" (March 4 or April 3?) and "04.03.2027" are refused rather than guessed.
_ISO_TEXT = re.compile(
    r"\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?\s*"
)
INT_RANGE = (-(2**31), 2**31 - 1)
"""Integer columns are 32-bit in the portal's database (MySQL ``INT``)."""
AMOUNT_LIMIT = 1e15
"""Doubles and amounts must stay below this magnitude: money columns are ``DECIMAL(18,2)`` and a
double keeps cents exact only up to about 10**13; bigger numbers are typos more often than sales."""
YEARS = (1900, 2199)
"""Dates and datetimes outside these years are refused (year 1 from a zero, 20270 from a typo)."""
FIELD_RANGES: dict[str, tuple[float, float]] = {"PROBABILITY": (0, 100)}
"""Per-field ranges the portal's forms enforce (a percentage)."""


def _to_bool(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue(f"expected a boolean (True/False, Y/N, 1/0), got {value!r}", value=value)


def _number_text(value: str) -> float:
    if not _NUMBER_TEXT.fullmatch(value):
        if "," in value or " " in value.strip() or "\u00a0" in value:
            raise BadValue(
                f"ambiguous number {value!r}: write it with a dot for decimals and no "
                "thousands separators (1234 or 1.234), or as a number",
                value=value,
            )
        raise BadValue(f"expected a number, got {value!r}", value=value)
    return float(value)


def _to_int(value: Any) -> int:
    number: float | None = None
    if isinstance(value, (bool, np.bool_)):
        pass
    elif isinstance(value, (int, np.integer)):
        return int(value)
    elif isinstance(value, (float, np.floating, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        number = _number_text(value)
    if number is not None and math.isfinite(number) and number.is_integer():
        return int(number)
    raise BadValue(f"expected an integer, got {value!r}", value=value)


def _to_float(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise BadValue(f"expected a number, got {value!r}", value=value)
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        try:
            number = float(value)
        except OverflowError:
            raise BadValue(f"number out of range: {value!r}", value=value) from None
    elif isinstance(value, str):
        number = _number_text(value)
    else:
        raise BadValue(f"expected a number, got {value!r}", value=value)
    if not math.isfinite(number):
        raise BadValue(f"expected a finite number, got {value!r}", value=value)
    return number


def _in_range(spec: ColumnSpec, number: float, low: float, high: float) -> None:
    low, high = FIELD_RANGES.get(spec.name, (low, high))
    if not low <= number <= high:
        raise BadValue(f"out of range: {number:g} (allowed {low:g} to {high:g})", value=number)


def _to_timestamp(value: Any) -> pd.Timestamp:
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise BadValue(f"expected a date/time, got {value!r}", value=value)
    if isinstance(value, str) and not _ISO_TEXT.fullmatch(value):
        raise BadValue(
            f"ambiguous or unknown date {value!r}: write dates as ISO 8601 "
            "(2027-03-04 or 2027-03-04T10:30:00+03:00) or pass a date/Timestamp",
            value=value,
        )
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise BadValue(f"expected a date/time, got {value!r}", value=value) from None
    if pd.isna(stamp):
        raise BadValue(f"expected a date/time, got {value!r}", value=value)
    if not YEARS[0] <= stamp.year <= YEARS[1]:
        raise BadValue(
            f"date out of range: {stamp.date()} (allowed years {YEARS[0]} to {YEARS[1]})",
            value=value,
        )
    return stamp


def _api_datetime(value: Any, spec: ColumnSpec) -> str:
    stamp = _to_timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.isoformat(timespec="seconds")  # the portal keeps seconds


def _api_date(value: Any, spec: ColumnSpec) -> str:
    """A calendar date. An aware midnight keeps its own calendar date (never shifted to UTC);
    a value with a time of day is refused: which day it means depends on a time zone."""
    stamp = _to_timestamp(value)
    if stamp != stamp.normalize():
        raise BadValue(
            f"a date field takes a calendar date, got {value!r} with a time of day "
            "(use .normalize() or .date())",
            value=value,
        )
    return stamp.date().isoformat()


def _api_bool(value: Any, spec: ColumnSpec) -> Any:
    return spec.true_value if _to_bool(value) else spec.false_value


def _api_int(value: Any, spec: ColumnSpec) -> int:
    number = _to_int(value)
    _in_range(spec, number, *INT_RANGE)
    return number


def _api_link(value: Any, spec: ColumnSpec) -> int:
    ident = _to_int(value)
    if not 0 <= ident <= INT_RANGE[1]:
        raise BadValue(f"expected an id, got {value!r}", value=value)
    return ident


def _user_name(value: Any) -> bool:
    return isinstance(value, str) and not value.strip().isdigit()


def _api_user(value: Any, spec: ColumnSpec) -> int:
    if _user_name(value):
        if not spec.categories:
            raise BadValue(f"expected a user id, got {value!r} (no user names loaded)", value=value)
        return int(code_for(spec, value))
    ident = _to_int(value)
    if not 0 < ident <= INT_RANGE[1]:
        raise BadValue(f"expected a user id, got {value!r}", value=value)
    if spec.categories and ident not in spec.categories:
        raise BadValue(f"unknown user id {ident}", value=value)
    return ident


def _api_float(value: Any, spec: ColumnSpec) -> float:
    """A double at the precision the portal stores, so that re-planning an edit finds no change."""
    number = _to_float(value)
    _in_range(spec, number, -AMOUNT_LIMIT, AMOUNT_LIMIT)
    return number if spec.precision is None else round_places(number, spec.precision)


def round_places(number: float, places: int) -> float:
    """Round half away from zero on the decimal text, as a person would (1.005 -> 1.01).

    Example::

        >>> round_places(2.675, 2)
        2.68
    """
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)) + 0.0


def _api_string(value: Any, spec: ColumnSpec) -> str:
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        # bytes, objects, containers: their str() is a Python repr, not what anyone meant
        raise BadValue(f"expected text, got {type(value).__name__}", value=value)
    return check_text(str(value), url=spec.type == "url")


_URL = re.compile(r"(https?://)?[^\s/$.?#@]+\.[^\s]+|https?://[^\s]+", re.IGNORECASE)


def check_text(text: str, *, url: bool = False) -> str:
    """Text the portal stores as given: no NUL (cut by the database), no lone surrogates (not
    UTF-8); a ``url`` field must look like one. Returns ``text`` unchanged.

    Example::

        >>> check_text("Price: 10 USD")
        'Price: 10 USD'
    """
    if "\x00" in text:
        raise BadValue(
            "text contains a NUL character (the database would cut it there)", value=text
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadValue("text is not valid Unicode (lone surrogate)", value=text) from None
    if url and text and not _URL.fullmatch(text.strip()):
        raise BadValue(f"not a web address: {text!r}", value=text)
    return text


def _api_object(value: Any, spec: ColumnSpec) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value  # files, bindings: as given


def _api_list(value: Any, spec: ColumnSpec, pipeline: Any = None) -> list[Any]:
    if is_missing(value):
        return []
    items = list(value) if isinstance(value, (list, tuple, set, np.ndarray)) else [value]
    item_spec = replace(spec, kind=spec.item_kind or "string")
    return [value_to_api(item_spec, x, pipeline=pipeline) for x in items if not is_missing(x)]


def _api_file(value: Any, spec: ColumnSpec) -> Any:
    """A file cell -> the documented upload forms: a file id keeps the stored file
    (``{"id": 12}``), ``(name, bytes)`` uploads a new one (``{"fileData": [name, base64]}``)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], bytes | bytearray):
        return {"fileData": [str(value[0]), base64.b64encode(bytes(value[1])).decode("ascii")]}
    return {"id": _to_int(value)}


ENCODERS: dict[str, Callable[[Any, ColumnSpec], Any]] = {
    "file": _api_file,
    "int": _api_int,
    "link": _api_link,
    "user": _api_user,
    "float": _api_float,
    "money": _api_float,
    "bool": _api_bool,
    "date": _api_date,
    "datetime": _api_datetime,
    "string": _api_string,
    "primary": _api_string,
    "multifield": _api_object,
    "object": _api_object,
}


def value_to_api(spec: ColumnSpec, value: Any, *, pipeline: Any = None) -> Any:
    """One column value -> the value the API expects; raise :class:`BadValue` if it has none.

    ``<NA>`` -> ``""`` (clears the field; ``[]`` for a multiple field). ``pipeline`` is the row's
    ``CATEGORY_ID``: deal stage labels are resolved within it. Money amounts need their currency,
    see :func:`money_to_api`; multifield edits are built by the write-back.

    Example::

        >>> value_to_api(specs["OPENED"], True)
        'Y'
        >>> value_to_api(specs["STAGE_ID"], "Won", pipeline=1)
        'C1:WON'
    """
    try:
        if spec.kind == "list":
            return _api_list(value, spec, pipeline)
        if is_missing(value):
            if spec.kind == "bool":
                raise BadValue(
                    "a yes/no field cannot be emptied (NA): set True or False", value=value
                )
            return ""
        if isinstance(value, (np.bool_, np.number)):
            value = value.item()
        if spec.kind in ("category", "currency_of"):
            return code_for(spec, value, pipeline=pipeline)
        return ENCODERS.get(spec.kind, _api_object)(value, spec)
    except BadValue as err:
        if err.column is not None:
            raise
        raise type(err)(err.reason, column=spec.name, value=value) from None


def money_to_api(amount: Any, currency: Any, cur_spec: ColumnSpec | None = None) -> str:
    """``"<amount>|<CURRENCY>"`` as a money field expects (amount rounded to cents); an NA amount
    clears the field, an NA currency sends the bare amount (the portal's default currency).
    ``cur_spec`` (the ``<NAME>_CURRENCY`` column) turns a currency label into its code.

    Example::

        >>> money_to_api(12.5, "EUR")
        '12.5|EUR'
    """
    if is_missing(amount):
        return ""
    number = _to_float(amount)
    if not -AMOUNT_LIMIT <= number <= AMOUNT_LIMIT:
        raise BadValue(f"out of range: {number:g} (amounts stay below 1e15)", value=amount)
    number = round_places(number, 2)
    text = str(int(number)) if number.is_integer() else f"{number:.2f}".rstrip("0").rstrip(".")
    if is_missing(currency) or currency == "":
        return text
    code = value_to_api(cur_spec, currency) if cur_spec is not None else str(currency)
    return f"{text}|{code}"


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
        {'TITLE': 'x', 'UF_CRM_PRICE': '300|USD'}
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
        if spec.kind == "money":
            currency = row.get(f"{name}_CURRENCY")
            try:
                out[name] = money_to_api(row.get(name), currency, specs.get(f"{name}_CURRENCY"))
            except BadValue as err:
                raise type(err)(err.reason, column=name, value=err.value) from None
        else:
            out[name] = value_to_api(spec, row.get(name), pipeline=pipeline)
    return out


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
        _to_timestamp(value)  # refuses garbage; the text is sent as given
        return value
    if spec.kind == "user" and not _user_name(value):
        return _to_int(value)  # a filter may name users the dictionary lacks (deactivated ones)
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
        allowed = method_operators(ent.list_method)
        if op not in allowed:
            hint = " (use '>=' and '<=' on the same field)" if "><" in op else ""
            raise FilterError(
                f"{ent.list_method} does not support the filter operator {op!r} in {key!r}: the "
                f"portal would ignore or misread the condition{hint}",
                key=key,
            )
        spec = specs.get(name)
        if name in ent.extra_filter_keys:
            out[key] = value
            continue
        if spec is None or spec.derived_from:
            raise FilterError(f"{ent.name} has no field {name!r} (filter key {key!r})", key=key)
        if batch_would_rewrite(value):
            raise FilterError(
                f"filter {key!r}: {value!r} holds text the portal's batch would replace "
                "($result, $next, $total, $time, $error) and loads are batched; filter on other "
                "text and narrow the frame in pandas",
                key=key,
            )
        try:
            out[key] = _filter_value(spec, op, value)
        except BadValue as err:
            raise FilterError(f"filter {key!r}: {err.reason}", key=key) from err
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
