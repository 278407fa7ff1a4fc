"""Legacy Bitrix24 list filters and orders turned into SQL (PROTOCOL §10).

A method describes its filterable/sortable fields as :class:`Column` objects and lets
:func:`where_clause` / :func:`order_clause` translate the client's ``filter`` and ``order``.

Example::

    >>> import datetime as dt
    >>> cols = {"ID": Column("t.id", "int"), "TITLE": Column("t.title", "str")}
    >>> where_clause({">ID": "5", "%TITLE": "ab", "NOPE": 1}, cols, dt.timezone.utc)
    ("t.id > ? AND t.title LIKE ? ESCAPE '\\\\'", [5, '%ab%'])
    >>> order_clause({"id": "desc", "TITLE": "asc"}, cols)
    't.id DESC, t.title ASC'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .api import ApiError
from .values import parse_date, parse_datetime, to_yn

# Longest prefixes first, so "!=%" wins over "!=" and "!".
_PREFIXES = ("!=%", "!%=", ">=", "<=", "!=", "!@", "!%", "=%", "%=", ">", "<", "=", "!", "@", "%")

_NEGATIVE = {"!", "!=", "!@", "!%", "!=%", "!%="}
_LIKE = {"%", "=%", "%=", "!%", "!=%", "!%="}


@dataclass(frozen=True)
class Column:
    """A filterable / sortable field.

    ``sql`` is a scalar SQL expression (``"t.responsible_id"``); ``kind`` one of ``int``, ``float``,
    ``str``, ``datetime`` (stored as Unix seconds), ``date`` (stored ``YYYY-MM-DD``), ``yn``.
    ``exact_like`` turns LIKE operators into equality (crm_status and link fields), ``order_sql``
    is the ORDER BY expression when it differs (stages sort by their SORT value). ``each_sql``
    (optional) marks a multi-valued field: a ``SELECT value FROM ...`` sub-query (may reference the
    outer row) giving all its values; a condition then matches when any value matches (negations:
    when no value matches).

    Example: ``Column("t.stage_id", "str", exact_like=True, order_sql="stage.sort")``.
    """

    sql: str
    kind: str
    exact_like: bool = False
    order_sql: str | None = None
    each_sql: str | None = None


def split_key(key: str) -> tuple[str, str]:
    """Split a filter key into (operator prefix, field name).

    >>> split_key(">=DEADLINE")
    ('>=', 'DEADLINE')
    >>> split_key("TITLE")
    ('', 'TITLE')
    """
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return prefix, key[len(prefix) :]
    return "", key


def _lookup(name: str, columns: dict[str, Column]) -> Column | None:
    col = columns.get(name)
    if col is None:
        col = columns.get(name.upper())
    return col


class _Invalid(Exception):
    """A filter value that cannot be converted for the column."""


def _convert(value: Any, kind: str, tz: dt.tzinfo) -> Any:
    """Client value -> the stored representation of ``kind`` (None for empty)."""
    if value is None:
        return None
    if kind == "int":
        if value == "" or value is False:
            return None if value == "" else 0
        try:
            number = float(value)
        except (TypeError, ValueError):
            return 0  # PHP (int)"abc" == 0
        return int(number) if number.is_integer() else number
    if kind == "float":
        if value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0
    if kind == "datetime":
        try:
            return parse_datetime(value, tz)
        except (TypeError, ValueError) as exc:
            raise _Invalid(str(exc)) from exc
    if kind == "date":
        try:
            return parse_date(value, tz)
        except (TypeError, ValueError) as exc:
            raise _Invalid(str(exc)) from exc
    if kind == "yn":
        try:
            return to_yn(value)
        except ValueError:
            return str(value).upper()
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def _is_empty(value: Any, kind: str) -> bool:
    """Legacy rule: numeric ``= 0`` and string ``= ""`` also match NULL."""
    if value is None:
        return True
    if kind in ("int", "float"):
        return value == 0
    return value == ""


def _like_pattern(op: str, value: str) -> str:
    if op in ("%", "!%"):
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"
    return value


def _condition(op: str, col: Column, values: list[Any], args: list) -> str | None:
    """SQL for one ``op`` over ``values`` (already converted); None = no condition."""
    expr = "x.value" if col.each_sql else col.sql
    if op in _LIKE and col.exact_like:
        op = "!" if op in _NEGATIVE else "="
    negative = op in _NEGATIVE
    base = op.lstrip("!") if negative else op
    parts: list[str] = []
    null_matches = False  # the positive condition already matches NULL
    if base in ("", "=", "@"):
        non_empty = [v for v in values if not _is_empty(v, col.kind)]
        has_empty = len(non_empty) < len(values)
        if has_empty:
            null_matches = True
            if col.kind in ("int", "float"):
                parts.append(f"({expr} IS NULL OR {expr} = 0)")
            else:
                parts.append(f"({expr} IS NULL OR {expr} = '')")
        if len(non_empty) == 1:
            parts.append(f"{expr} = ?")
            args.append(non_empty[0])
        elif non_empty:
            parts.append(f"{expr} IN ({', '.join('?' * len(non_empty))})")
            args.extend(non_empty)
        if not values:
            parts.append("0")
    elif base in (">", ">=", "<", "<="):
        value = values[0] if values else None
        if value is None:
            return None
        parts.append(f"{expr} {base} ?")
        args.append(value)
    else:  # LIKE family: "%", "=%", "%="
        for value in values:
            if value is None or value == "":
                continue
            parts.append(f"{expr} LIKE ? ESCAPE '\\'")
            args.append(_like_pattern(base if base == "%" else "=%", str(value)))
        if not parts:
            return None
    positive = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if col.each_sql:
        exists = f"EXISTS (SELECT 1 FROM ({col.each_sql}) x WHERE {positive})"
        return f"NOT {exists}" if negative else exists
    if negative:
        return f"NOT {positive}" if null_matches else f"({col.sql} IS NULL OR NOT {positive})"
    return positive


def where_clause(
    filter: dict, columns: dict[str, Column], tz: dt.tzinfo, *, strict: bool = False
) -> tuple[str, list]:
    """Translate a legacy filter into ``(sql_condition, args)``; ``"1"`` when nothing applies.

    strict=False (legacy lists): unknown keys, numeric keys (nested sub-filters) and ``LOGIC`` are
    silently dropped, as are unparseable date values. strict=True: unknown keys and bad values raise
    :class:`ApiError` with code ``INVALID_ARG_VALUE`` (callers may catch and re-word it; the field
    name is in ``exc.field``).

    >>> where_clause({"@ID": [1, 2], "LOGIC": "OR", "0": {"ID": 3}}, {"ID": Column("id", "int")}, dt.timezone.utc)
    ('id IN (?, ?)', [1, 2])
    """
    conditions: list[str] = []
    args: list = []
    for raw_key, raw_value in (filter or {}).items():
        key = str(raw_key)
        if key.strip().lstrip("-").isdigit() or key.upper() == "LOGIC":
            continue  # nested sub-filters / LOGIC: not supported by legacy lists
        op, name = split_key(key.strip())
        col = _lookup(name.strip(), columns)
        if col is None:
            if strict:
                err = ApiError(
                    f"Invalid filter: field '{name}' is not allowed in filter", "INVALID_ARG_VALUE"
                )
                err.field = name  # type: ignore[attr-defined]
                raise err
            continue
        items = list(raw_value.values()) if isinstance(raw_value, dict) else raw_value
        values = items if isinstance(items, list) else [items]
        try:
            converted = [_convert(v, col.kind, tz) for v in values]
        except _Invalid:
            if strict:
                err = ApiError(
                    f"Invalid filter: field '{name}' has invalid value", "INVALID_ARG_VALUE"
                )
                err.field = name  # type: ignore[attr-defined]
                raise err from None
            continue
        cond = _condition(op, col, converted, args)
        if cond is not None:
            conditions.append(cond)
    return (" AND ".join(conditions) if conditions else "1"), args


def order_clause(order: dict, columns: dict[str, Column], default: str = "") -> str:
    """Translate ``{"FIELD": "ASC"|"DESC"}`` into an ORDER BY list (without the keyword).

    Field names are matched like filter keys; unknown fields are dropped; the direction is ASC
    when it reads ``asc`` in any case, DESC otherwise. ``default`` is returned when nothing applies.

    >>> order_clause({"ID": "whatever"}, {"ID": Column("t.id", "int")})
    't.id DESC'
    """
    parts: list[str] = []
    for raw_key, direction in (order or {}).items():
        col = _lookup(str(raw_key).strip(), columns)
        if col is None or col.each_sql:
            continue
        word = "ASC" if str(direction).strip().upper() == "ASC" else "DESC"
        parts.append(f"{col.order_sql or col.sql} {word}")
    return ", ".join(parts) if parts else default
