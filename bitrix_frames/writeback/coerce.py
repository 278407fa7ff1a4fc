"""One cell value -> the value the write API expects, driven by the column's
:class:`~bitrix_frames.schema.specs.ColumnSpec`; bad values raise :class:`BadValue` with a message
that names what was expected (the caller adds row and field).

Conversions: integers and links -> int; doubles -> float; ``char`` booleans -> ``"Y"``/``"N"``, UF
booleans -> ``1``/``0``; dates -> ``YYYY-MM-DD``; datetimes -> ISO 8601 with offset (naive values are
read as UTC, like the frames' UTC columns); status, stage, currency, pipeline and enumeration
columns accept the code/id or its label (deal stages resolved within the row's pipeline); user
columns accept the id or the user's name; money -> ``"<amount>|<CURRENCY>"``; empty -> ``""``.

Example::

    >>> coerce(spec_bool_char, True, {})
    'Y'
    >>> coerce(stage_spec, "Won", {"CATEGORY_ID": 0})
    'WON'
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..schema.specs import ColumnSpec
from .diff import is_missing

EMPTY = ""
"""What an emptied (NA) cell is sent as: the legacy API clears a field given ``""``."""


class BadValue(ValueError):
    """A cell value that cannot be converted; the message says what was expected."""


_TRUE = {"y", "yes", "true", "1", "on"}
_FALSE = {"n", "no", "false", "0", "off"}


def to_bool(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, (float, np.floating)) and value in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue(f"expected a boolean (True/False, Y/N, 1/0), got {value!r}")


def to_int(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise BadValue(f"expected an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, Decimal)):
        if math.isfinite(float(value)) and float(value).is_integer():
            return int(value)
        raise BadValue(f"expected an integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise BadValue(f"expected an integer, got {value!r}") from None
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise BadValue(f"expected an integer, got {value!r}")


def to_float(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise BadValue(f"expected a number, got {value!r}")
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            raise BadValue(f"expected a number, got {value!r}") from None
    else:
        raise BadValue(f"expected a number, got {value!r}")
    if not math.isfinite(number):
        raise BadValue(f"expected a finite number, got {value!r}")
    return number


def to_timestamp(value: Any) -> pd.Timestamp:
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        raise BadValue(f"expected a date/time, got {value!r}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise BadValue(f"expected a date/time, got {value!r}") from None
    if stamp is pd.NaT or pd.isna(stamp):
        raise BadValue(f"expected a date/time, got {value!r}")
    return stamp


def to_date(value: Any) -> str:
    stamp = to_timestamp(value)
    if stamp.tzinfo is not None and (stamp.hour or stamp.minute):
        stamp = stamp.tz_convert("UTC")
    return stamp.date().isoformat()


def to_datetime(value: Any) -> str:
    stamp = to_timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime().replace(microsecond=0).isoformat()


def _by_label(spec: ColumnSpec, value: Any, allowed: list[int] | None = None) -> Any:
    """Code/id for ``value`` given as a code/id or as a label; ``allowed`` = candidate positions."""
    cats = list(spec.categories or ())
    labels = list(spec.labels or ())
    positions = allowed if allowed is not None else list(range(len(cats)))
    for i in positions:
        if _eq(cats[i], value):
            return cats[i]
    if isinstance(value, str):
        text = value.strip().casefold()
        hits = [i for i in positions if i < len(labels) and labels[i].casefold() == text]
        if not hits:  # stage labels are "<pipeline>: <stage>" when a portal has pipelines
            hits = [
                i
                for i in positions
                if i < len(labels) and labels[i].split(": ", 1)[-1].casefold() == text
            ]
        if len(hits) == 1:
            return cats[hits[0]]
        if len(hits) > 1:
            raise BadValue(f"label {value!r} is ambiguous: {[cats[i] for i in hits]}")
    shown = ", ".join(repr(cats[i]) for i in positions[:12])
    more = " ..." if len(positions) > 12 else ""
    raise BadValue(f"unknown value {value!r}; allowed: {shown}{more}")


def _eq(code: Any, value: Any) -> bool:
    if isinstance(code, int) and not isinstance(value, bool):
        try:
            return code == to_int(value)
        except BadValue:
            return False
    return isinstance(value, str) and code == value


def stage_positions(spec: ColumnSpec, pipeline: int | None) -> list[int] | None:
    """Positions of the stages of one pipeline (None = no pipeline information)."""
    if spec.pipelines is None or pipeline is None:
        return None
    return [i for i, p in enumerate(spec.pipelines) if p == pipeline]


def coerce_category(spec: ColumnSpec, value: Any, row: dict[str, Any]) -> Any:
    if not spec.categories:  # no dictionary known: pass codes through
        if isinstance(value, (int, np.integer, str)):
            return value.item() if isinstance(value, np.integer) else value
        raise BadValue(f"expected a code, got {value!r}")
    pipeline = row.get("CATEGORY_ID")
    allowed = None
    if spec.pipelines is not None:
        try:
            allowed = stage_positions(spec, None if is_missing(pipeline) else to_int(pipeline))
        except BadValue:
            allowed = None
        if allowed is not None and not allowed:
            raise BadValue(f"pipeline {pipeline!r} has no stages")
        if allowed is not None:
            try:
                return _by_label(spec, value, allowed)
            except BadValue as err:
                try:
                    code = _by_label(spec, value)
                except BadValue:
                    raise err from None
                other = spec.pipelines[list(spec.categories).index(code)]
                raise BadValue(
                    f"stage {code!r} belongs to pipeline {other}, not to the row's pipeline {pipeline}"
                ) from None
    return _by_label(spec, value, allowed)


def coerce_user(spec: ColumnSpec, value: Any) -> int:
    if isinstance(value, str) and not value.strip().isdigit():
        if not spec.categories:
            raise BadValue(f"expected a user id, got {value!r} (no user names loaded)")
        try:
            return int(_by_label(spec, value))
        except BadValue:
            raise BadValue(f"unknown user {value!r} (give a user id or a full name)") from None
    ident = to_int(value)
    if ident <= 0:
        raise BadValue(f"expected a user id, got {value!r}")
    if spec.categories and ident not in spec.categories:
        raise BadValue(f"unknown user id {ident}")
    return ident


def coerce_scalar(
    spec: ColumnSpec, value: Any, row: dict[str, Any], kind: str | None = None
) -> Any:
    """One non-missing scalar by kind (``kind`` overrides the spec's, for list items)."""
    kind = kind or spec.kind
    if kind == "int":
        return to_int(value)
    if kind == "link":
        ident = to_int(value)
        if ident < 0:
            raise BadValue(f"expected an id, got {value!r}")
        return ident
    if kind == "user":
        return coerce_user(spec, value)
    if kind in ("float", "money"):
        return to_float(value)
    if kind == "bool":
        return spec.true_value if to_bool(value) else spec.false_value
    if kind == "date":
        return to_date(value)
    if kind == "datetime":
        return to_datetime(value)
    if kind in ("category", "currency_of"):
        return coerce_category(spec, value, row)
    if kind in ("string", "primary"):
        if isinstance(value, (list, dict, tuple, np.ndarray)):
            raise BadValue(f"expected text, got {type(value).__name__}")
        if isinstance(value, (dt.date, pd.Timestamp)):
            return value.isoformat()
        if isinstance(value, (np.integer, np.floating)):
            value = value.item()
        return str(value)
    return value  # object: files, crm bindings -> as given


def coerce(spec: ColumnSpec, value: Any, row: dict[str, Any]) -> Any:
    """The API value of one cell (multifields and money pairs are handled by the caller)."""
    if spec.kind == "list":
        if is_missing(value):
            return []
        if isinstance(value, (np.ndarray, tuple, set)):
            value = list(value)
        if not isinstance(value, list):
            value = [value]
        item_kind = spec.item_kind or "string"
        return [coerce_scalar(spec, v, row, item_kind) for v in value if not is_missing(v)]
    if is_missing(value):
        return EMPTY
    return coerce_scalar(spec, value, row)


def money(amount: Any, currency: Any) -> str:
    """``"<amount>|<CURRENCY>"`` as the money UF expects; an NA amount clears the field."""
    if is_missing(amount):
        return EMPTY
    number = to_float(amount)
    text = f"{number:.2f}".rstrip("0").rstrip(".") if not number.is_integer() else str(int(number))
    return f"{text}|{currency}" if not is_missing(currency) and currency else text
