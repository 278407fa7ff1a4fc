"""Value formats of the legacy CRM API: stored value <-> response string (PROTOCOL §8, §17).

Example::

    >>> import datetime as dt
    >>> render_value("double", 15000.0, dt.timezone.utc, in_list=True)
    '15000.00'
    >>> render_value("crm_company", None, dt.timezone.utc, in_list=True)
    '0'
    >>> parse_value("char", True, dt.timezone.utc)
    'Y'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..api import ApiError
from ..values import (
    fmt_date,
    fmt_datetime,
    parse_date,
    parse_datetime,
    php_str,
    to_float,
    to_int,
    to_yn,
)
from .crm_store import _INT_TYPES, LINK_TYPES, UfDef


def php_float(value: float) -> str:
    """A float the way PHP prints it (``0``, ``12.5``, ``1500000``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_value(ftype: str, value: Any, tz: dt.tzinfo, *, in_list: bool, name: str = "") -> Any:
    """A stored standard-field value in the legacy response format."""
    if ftype in LINK_TYPES:
        if value in (None, 0):
            return "0" if in_list else None
        return str(value)
    if ftype == "datetime":
        return fmt_datetime(value, tz) if value is not None else ""
    if ftype == "date":
        return fmt_date(value, tz) if value else ""
    if value is None:
        return None
    if ftype == "double":
        return php_float(value) if name == "REVENUE" else f"{float(value):.2f}"
    if ftype in _INT_TYPES:
        return str(int(value))
    if ftype in ("file", "location"):
        return None
    return str(value)


def render_uf(uf: UfDef, value: Any, tz: dt.tzinfo) -> Any:
    """A stored user-field value (from UF_JSON) in the legacy response format."""
    if uf.multiple:
        items = value if isinstance(value, list) else ([] if value is None else [value])
        return [_render_uf_one(uf.type, v, tz) for v in items]
    if value is None:
        return False if uf.type == "boolean" else None
    return _render_uf_one(uf.type, value, tz)


def _render_uf_one(utype: str, value: Any, tz: dt.tzinfo) -> Any:
    if utype == "boolean":
        return bool(value)
    if utype == "date":
        return fmt_date(value, tz) or ""
    if utype == "datetime":
        return fmt_datetime(value, tz) or ""
    if utype == "double":
        return php_float(value)
    if utype == "file":
        return None
    return str(value)


def invalid(name: str, value: Any) -> ApiError:
    """The 400 error for a value that cannot be stored (legacy core validation style)."""
    return ApiError(f'Invalid value "{php_str(value)}" of field "{name}".<br>', "ERROR_CORE")


def parse_value(ftype: str, value: Any, tz: dt.tzinfo, name: str = "") -> Any:
    """Client input for a standard field -> stored value; ApiError(ERROR_CORE) when unusable."""
    if isinstance(value, (list, dict)):
        raise invalid(name, value)
    try:
        if ftype in _INT_TYPES:
            number = to_int(value)
            return 0 if number is None and ftype in LINK_TYPES else number
        if ftype == "double":
            return to_float(value)
        if ftype == "datetime":
            return parse_datetime(value, tz)
        if ftype == "date":
            return parse_date(value, tz)
        if ftype == "char":
            return to_yn(value)
    except (TypeError, ValueError, OverflowError):
        raise invalid(name, value) from None
    if value is None:
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value)


def parse_uf(uf: UfDef, value: Any, tz: dt.tzinfo) -> Any:
    """Client input for a user field -> the JSON-stored value (None removes it)."""
    if uf.multiple:
        if isinstance(value, dict):
            value = list(value.values())
        items = value if isinstance(value, list) else [value]
        out = [_parse_uf_one(uf, v, tz) for v in items]
        out = [v for v in out if v is not None]
        return out or None
    if isinstance(value, list):
        value = value[0] if value else None
    return _parse_uf_one(uf, value, tz)


def _parse_uf_one(uf: UfDef, value: Any, tz: dt.tzinfo) -> Any:
    if value is None or value == "" or value is False and uf.type != "boolean":
        return None
    try:
        if uf.type == "boolean":
            return 1 if to_yn(value) == "Y" else 0
        if uf.type == "enumeration":
            option = to_int(value)
            if option not in {oid for oid, _ in uf.options}:
                return None  # unknown option ids are dropped like the core does
            return option
        if uf.type in ("integer", "employee", "iblock_element", "iblock_section"):
            return to_int(value)
        if uf.type == "double":
            return to_float(value)
        if uf.type == "date":
            return parse_date(value, tz)
        if uf.type == "datetime":
            return parse_datetime(value, tz)
        if uf.type == "money":
            text = str(value)
            amount, _, currency = text.partition("|")
            float(amount)
            return f"{amount}|{currency}" if currency else amount
    except (TypeError, ValueError, OverflowError):
        raise invalid(uf.name, value) from None
    if isinstance(value, (list, dict)):
        raise invalid(uf.name, value)
    return str(value)
