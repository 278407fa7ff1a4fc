"""Python values -> Bitrix24 parameters: JSON bodies and PHP-bracket query strings.

Direct calls are POSTed as JSON (types kept). Batch commands are ``"method?query"`` strings whose
query is parsed by the server like a GET request (PHP ``parse_str``), so every scalar becomes a
string. Choices (same as PHP's ``http_build_query`` and the server's own JSON casts):

* ``True``/``False`` -> ``1``/``0`` (PHP casts JSON ``true`` to ``"1"``; the string ``"false"``
  would be truthy in PHP, ``"0"`` is not). Y/N fields must be given as ``"Y"``/``"N"`` anyway.
* ``None`` -> empty string, key kept (``filter[UF_X]=``): dropping the key would silently widen
  a filter, while ``""`` is what a legacy list treats as "empty/NULL".
* lists -> ``key[0]=a&key[1]=b``; dicts -> ``key[sub]=v``, nested to any depth; an empty list or
  dict nested inside a parameter -> ``key[]=`` (PHP sees an array holding one empty string, so
  ``{"@ID": []}`` matches nothing instead of everything); an empty top-level parameter is omitted.
* dates/datetimes -> ISO 8601, ``Decimal`` -> its exact string, numpy/pandas scalars -> Python.
* a value that is exactly a batch reference (``$result[cmd][0][ID]``) is passed through untouched.

Example::

    >>> build_query({"filter": {">ID": 5, "@STAGE_ID": ["NEW", "WON"]}, "select": ["ID"], "start": -1})
    'filter[%3EID]=5&filter[%40STAGE_ID][0]=NEW&filter[%40STAGE_ID][1]=WON&select[0]=ID&start=-1'
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

REFERENCE = re.compile(r"^\$result\[[^\]]+\](\[[^\]]*\])*$")
SUBSTITUTED = re.compile(r"\$(result|next|total|time|error)", re.IGNORECASE)
"""Text the portal's ``batch`` replaces: the core substitutes ``$result``, ``$next``, ``$total``,
``$time`` and ``$error`` (any case, with whatever follows up to a space) anywhere inside a
command's values, and has no escape (``CRestUtil::processBatchElement``)."""


def batch_would_rewrite(value: Any) -> bool:
    """True when ``value`` (at any depth) holds text that ``batch`` would substitute.

    Example::

        >>> batch_would_rewrite({"TITLE": "Price: $result[c0] USD"})
        True
    """
    if isinstance(value, str):
        return bool(SUBSTITUTED.search(value))
    if isinstance(value, Mapping):
        return any(batch_would_rewrite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(batch_would_rewrite(v) for v in value)
    return False


def to_jsonable(value: Any) -> Any:
    """``json.dumps`` ``default=`` hook for dates, decimals, sets and numpy/pandas scalars."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    item = getattr(value, "item", None)  # numpy / pandas scalars
    if callable(item):
        return item()
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return isoformat()
    raise TypeError(f"cannot encode a {type(value).__name__} as a Bitrix24 parameter")


def dumps(body: Any) -> bytes:
    """JSON body for a POST (UTF-8, compact)."""
    return json.dumps(body, default=to_jsonable, ensure_ascii=False, separators=(",", ":")).encode()


def scalar(value: Any) -> str:
    """One scalar as the server's ``parse_str`` should see it (see the module notes)."""
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    converted = to_jsonable(value)
    return converted if isinstance(converted, str) else scalar(converted)


def _quote(text: str) -> str:
    return quote(text, safe="")


def _pairs(prefix: str, value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        empty = True
        for key, sub in items:
            empty = False
            _pairs(f"{prefix}[{_quote(scalar(key))}]", sub, out)
        if empty:
            out.append(f"{prefix}[]=")
        return
    text = scalar(value)
    if REFERENCE.match(text):
        out.append(f"{prefix}={text}")
    else:
        out.append(f"{prefix}={_quote(text)}")


def build_query(params: Mapping[str, Any] | None) -> str:
    """PHP-bracket query string of ``params`` (see the module notes for the rules)."""
    out: list[str] = []
    for key, value in (params or {}).items():
        if isinstance(value, Mapping | list | tuple) and not value:
            continue
        _pairs(_quote(scalar(key)), value, out)
    return "&".join(out)


def command(method: str, params: Mapping[str, Any] | None = None) -> str:
    """One batch command: ``"crm.lead.list?filter[%3EID]=5"``."""
    query = build_query(params)
    return f"{method}?{query}" if query else method
