"""Bitrix24 list filters and orders turned into SQL (PROTOCOL §10).

A method describes its filterable/sortable fields as :class:`Column` objects and lets
:func:`where_clause` / :func:`order_clause` translate the client's ``filter`` and ``order``.

Three operator dialects, each read from the core source (docs/sandbox.md, "Filters"):

- ``crm`` (legacy ``crm.*.list``, ``crm.status.list``): keys are parsed like the core's
  ``CSqlUtil::GetFilterOperation`` -- ``!`` (negation), ``+`` (or NULL), then one of ``>=``, ``>``,
  ``<=``, ``<``, ``@``, ``=%``, ``%=``, ``%``, ``?``, ``=``. There is no between: ``><X`` reads as
  ``>`` on the field ``<X``, which the REST layer drops as an unknown field (the condition is
  ignored, exactly like on a portal). LIKE on numbers becomes equality; ``?`` on non-strings too.
- ``orm`` (``user.get``, ``crm.category.list``): the D7 ORM operators ``!><``, ``!=%``, ``!%=``,
  ``!=``, ``!%``, ``><``, ``>=``, ``<=``, ``=%``, ``%=``, ``!@``, ``?``, ``>``, ``<``, ``!``, ``@``,
  ``=``, ``%``.
- ``tasks`` (``tasks.task.list``): ``CTasks::MkOperationFilter`` -- ``=``, ``!=``, ``%``, ``!%``,
  ``?``, ``><``, ``!><``, ``>=``, ``>``, ``<=``, ``<``, ``!``, plus ``@``/``!@``.

Strings compare like the portal's MySQL ``utf8_unicode_ci`` collation: equality, IN and ranges
ignore case (SQLite collation ``CI`` registered by the store); LIKE is SQLite's (ASCII
case-insensitive). A date that cannot be parsed makes its condition match no record (user.get
docs: "If the value is not recognized as a date, the condition retrieves no records").

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
import re
from dataclasses import dataclass
from typing import Any

from .api import ApiError
from .values import parse_date, parse_datetime, to_yn

COLLATE = " COLLATE CI"
"""Case-insensitive collation of string comparisons (registered on the store's connection)."""

# Operator prefix -> (negative, base operation). Base operations: "=", ">", ">=", "<", "<=",
# "IN", "LIKE" (substring, value without %), "MATCH" (LIKE with the user's own % and _),
# "BETWEEN", "QUERY" (search expression).
_ORM_OPS: dict[str, tuple[bool, str]] = {
    "!><": (True, "BETWEEN"),
    "!=%": (True, "MATCH"),
    "!%=": (True, "MATCH"),
    "!=": (True, "="),
    "!%": (True, "LIKE"),
    "><": (False, "BETWEEN"),
    ">=": (False, ">="),
    "<=": (False, "<="),
    "=%": (False, "MATCH"),
    "%=": (False, "MATCH"),
    "!@": (True, "IN"),
    "?": (False, "QUERY"),
    ">": (False, ">"),
    "<": (False, "<"),
    "!": (True, "="),
    "@": (False, "IN"),
    "=": (False, "="),
    "%": (False, "LIKE"),
}
_TASK_OPS: dict[str, tuple[bool, str]] = {
    k: v for k, v in _ORM_OPS.items() if k not in ("!=%", "!%=", "=%", "%=")
}
_CRM_BASE: tuple[tuple[str, str], ...] = (
    (">=", ">="),
    (">", ">"),
    ("<=", "<="),
    ("<", "<"),
    ("@", "IN"),
    ("=%", "MATCH"),
    ("%=", "MATCH"),
    ("%", "LIKE"),
    ("?", "QUERY"),
    ("=", "="),
)

OPERATORS: dict[str, tuple[str, ...]] = {
    "crm": (
        "",
        "=",
        "!",
        "!=",
        ">",
        ">=",
        "<",
        "<=",
        "@",
        "!@",
        "%",
        "!%",
        "=%",
        "%=",
        "!=%",
        "!%=",
        "?",
        "!?",
        "+",
        "!+",
    ),
    "orm": ("", *_ORM_OPS),
    "tasks": ("", *_TASK_OPS),
}
"""Operator prefixes each dialect understands (``""`` = plain equality)."""


@dataclass(frozen=True)
class Op:
    """A parsed filter key: the literal ``prefix``, the ``field``, the base operation."""

    prefix: str
    field: str
    base: str
    negative: bool = False
    or_null: bool = False


def parse_key(key: str, dialect: str = "crm") -> Op:
    """Split a filter key the way the portal's core does for ``dialect``.

    >>> parse_key("><OPPORTUNITY", "crm")
    Op(prefix='>', field='<OPPORTUNITY', base='>', negative=False, or_null=False)
    >>> parse_key("><OPPORTUNITY", "orm").base
    'BETWEEN'
    """
    if dialect == "crm":
        rest, negative, or_null = key, False, False
        if rest.startswith("!"):
            rest, negative = rest[1:], True
        if rest.startswith("+"):
            rest, or_null = rest[1:], True
        for prefix, base in _CRM_BASE:
            if rest.startswith(prefix):
                return Op(
                    key[: len(key) - len(rest) + len(prefix)],
                    rest[len(prefix) :],
                    base,
                    negative,
                    or_null,
                )
        return Op(key[: len(key) - len(rest)], rest, "=", negative, or_null)
    table = _TASK_OPS if dialect == "tasks" else _ORM_OPS
    for size in (3, 2, 1):
        prefix = key[:size]
        if prefix in table and len(key) > size:
            negative, base = table[prefix]
            return Op(prefix, key[size:], base, negative)
    return Op("", key, "=")


def split_key(key: str, dialect: str = "orm") -> tuple[str, str]:
    """Split a filter key into (operator prefix, field name).

    >>> split_key(">=DEADLINE")
    ('>=', 'DEADLINE')
    >>> split_key("TITLE")
    ('', 'TITLE')
    """
    op = parse_key(key, dialect)
    return op.prefix, op.field


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
            return float(str(value).replace(",", "."))  # the core swaps a decimal comma
        except (TypeError, ValueError):
            return 0.0
    if kind == "datetime":
        try:
            return parse_datetime(value, tz)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _Invalid(str(exc)) from exc
    if kind == "date":
        try:
            return parse_date(value, tz)
        except (TypeError, ValueError, OverflowError) as exc:
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


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_QUERY_SPLIT = re.compile(r"\s*(\||&|\s)\s*")


def _query_sql(expr: str, text: str, args: list) -> str | None:
    """The core's search syntax (``GetFilterQuery``): words joined by space or ``|`` (OR) and
    ``&`` (AND), ``~`` negates a word; each word is a substring match."""
    tokens = [t for t in _QUERY_SPLIT.split(text.strip()) if t and not t.isspace()]
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == "&":
            groups.append([])
        elif token != "|":
            groups[-1].append(token)
    ands: list[str] = []
    for group in groups:
        ors = []
        for word in group:
            negate = word.startswith("~")
            word = word.lstrip("~")
            if not word:
                continue
            args.append(f"%{_escape_like(word)}%")
            like = f"{expr} LIKE ? ESCAPE '\\'"
            ors.append(f"({expr} IS NULL OR NOT {like})" if negate else like)
        if ors:
            ands.append(ors[0] if len(ors) == 1 else "(" + " OR ".join(ors) + ")")
    if not ands:
        return None
    return ands[0] if len(ands) == 1 else "(" + " AND ".join(ands) + ")"


def _condition(op: Op, col: Column, values: list[Any], args: list, dialect: str) -> str | None:
    """SQL for one parsed key over ``values`` (already converted); None = no condition."""
    expr = "x.value" if col.each_sql else col.sql
    text = col.kind == "str"
    collate = COLLATE if text else ""
    base = op.base
    if base in ("LIKE", "MATCH") and (col.exact_like or col.kind in ("int", "float")):
        base = "="  # the core turns LIKE into equality on these fields
    if base == "QUERY" and not text:
        base = "="
    parts: list[str] = []
    null_matches = False  # the positive condition already matches NULL
    if base in ("=", "IN"):
        non_empty = [v for v in values if not _is_empty(v, col.kind)]
        if len(non_empty) < len(values):
            null_matches = True
            empty = "0" if col.kind in ("int", "float") else "''"
            parts.append(f"({expr} IS NULL OR {expr} = {empty})")
        if len(non_empty) == 1:
            parts.append(f"{expr} = ?{collate}")
            args.append(non_empty[0])
        elif non_empty:
            parts.append(f"{expr}{collate} IN ({', '.join('?' * len(non_empty))})")
            args.extend(non_empty)
        if not values:
            parts.append("0")
    elif base == "BETWEEN":
        bounds = [v for v in values if v is not None]
        if len(bounds) != 2:
            parts.append("0")  # [I] a between needs exactly two bounds
        else:
            parts.append(f"{expr} BETWEEN ?{collate} AND ?{collate}")
            args.extend(bounds)
    elif base in (">", ">=", "<", "<="):
        value = values[0] if values else None
        if value is None:
            return None
        parts.append(f"{expr} {base} ?{collate}")
        args.append(value)
    elif base == "QUERY":
        for value in values:
            sql = _query_sql(expr, str(value or ""), args)
            if sql:
                parts.append(sql)
        if not parts:
            return None
    else:  # LIKE / MATCH
        for value in values:
            if value is None or value == "":
                continue
            parts.append(f"{expr} LIKE ? ESCAPE '\\'")
            args.append(f"%{_escape_like(str(value))}%" if base == "LIKE" else str(value))
        if not parts:
            return None
    positive = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if op.or_null and not op.negative:
        positive = f"({col.sql} IS NULL OR {positive})"
    if col.each_sql:
        exists = f"EXISTS (SELECT 1 FROM ({col.each_sql}) x WHERE {positive})"
        return f"NOT {exists}" if op.negative else exists
    if op.negative:
        return f"NOT {positive}" if null_matches else f"({col.sql} IS NULL OR NOT {positive})"
    return positive


def where_clause(
    filter: dict,
    columns: dict[str, Column],
    tz: dt.tzinfo,
    *,
    strict: bool = False,
    dialect: str = "crm",
) -> tuple[str, list]:
    """Translate a filter into ``(sql_condition, args)``; ``"1"`` when nothing applies.

    ``dialect`` chooses the operator set (module docstring). strict=False (legacy lists):
    unknown keys -- including keys an operator the dialect lacks turns into an unknown field,
    like ``><X`` in ``crm`` --, numeric keys (nested sub-filters) and ``LOGIC`` are silently
    dropped; an unparseable date matches no record. strict=True: unknown keys and bad values
    raise :class:`ApiError` with code ``INVALID_ARG_VALUE`` (callers may catch and re-word it;
    the field name is in ``exc.field``).

    >>> where_clause({"@ID": [1, 2], "LOGIC": "OR", "0": {"ID": 3}}, {"ID": Column("id", "int")}, dt.timezone.utc)
    ('id IN (?, ?)', [1, 2])
    """
    conditions: list[str] = []
    args: list = []
    for raw_key, raw_value in (filter or {}).items():
        key = str(raw_key)
        if key.strip().lstrip("-").isdigit() or key.upper() == "LOGIC":
            continue  # nested sub-filters / LOGIC: not supported by legacy lists
        op = parse_key(key.strip(), dialect)
        name = op.field.strip()
        col = _lookup(name, columns)
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
            conditions.append("0")  # an unrecognised date retrieves no records (docs)
            continue
        cond = _condition(op, col, converted, args, dialect)
        if cond is not None:
            conditions.append(cond)
    return (" AND ".join(conditions) if conditions else "1"), args


def order_clause(order: dict, columns: dict[str, Column], default: str = "") -> str:
    """Translate ``{"FIELD": "ASC"|"DESC"}`` into an ORDER BY list (without the keyword).

    Field names are matched like filter keys; unknown fields are dropped; the direction is ASC
    when it reads ``asc`` in any case, DESC otherwise. ``default`` is returned when nothing applies.
    Strings sort case-insensitively, like MySQL.

    >>> order_clause({"ID": "whatever"}, {"ID": Column("t.id", "int")})
    't.id DESC'
    """
    parts: list[str] = []
    for raw_key, direction in (order or {}).items():
        col = _lookup(str(raw_key).strip(), columns)
        if col is None or col.each_sql:
            continue
        word = "ASC" if str(direction).strip().upper() == "ASC" else "DESC"
        collate = COLLATE if col.kind == "str" and not col.order_sql else ""
        parts.append(f"{col.order_sql or col.sql}{collate} {word}")
    return ", ".join(parts) if parts else default
