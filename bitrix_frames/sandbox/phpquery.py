"""PHP query strings: ``parse_str`` (bracket syntax -> nested dicts) and ``http_build_query``.

Values parsed from a query string are always strings, and nested containers are always dicts,
keyed by strings even when PHP would use integer keys (``select[]=ID`` -> ``{"select": {"0": "ID"}}``).
Handlers that expect a list accept such a dict too.

Example::

    >>> parse_query("filter[>ID]=5&select[]=ID&select[]=TITLE&a.b=1")
    {'filter': {'>ID': '5'}, 'select': {'0': 'ID', '1': 'TITLE'}, 'a_b': '1'}
    >>> build_query({"filter": {">ID": 5}, "select": ["ID"]})
    'filter%5B%3EID%5D=5&select%5B0%5D=ID'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus, unquote_plus

_CANONICAL_INT = re.compile(r"^(0|-?[1-9][0-9]*)$")


def parse_query(query: str | bytes) -> dict[str, Any]:
    """Parse a URL-encoded query string the way PHP's ``parse_str`` does.

    >>> parse_query("fields[PHONE][0][VALUE]=1&fields[TITLE]=x+y")
    {'fields': {'PHONE': {'0': {'VALUE': '1'}}, 'TITLE': 'x y'}}
    """
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    pairs = []
    for chunk in query.split("&"):
        if not chunk:
            continue
        name, _, value = chunk.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return parse_pairs(pairs)


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Build PHP's nested array from already-decoded ``(name, value)`` pairs (form fields)."""
    result: dict[str, Any] = {}
    for name, value in pairs:
        assign(result, name, value)
    return result


def split_name(name: str) -> tuple[str, list[str | None]] | None:
    """Split ``a[b][]`` into the base name and its indices (``None`` = append), like PHP.

    Returns None when PHP would drop the variable (empty base name).

    >>> split_name("filter[>ID]")
    ('filter', ['>ID'])
    >>> split_name("a.b[x")
    ('a_b_x', [])
    """
    name = name.lstrip(" ")
    bracket = name.find("[")
    if bracket == 0:
        return None
    indices: list[str | None] = []
    if bracket > 0 and name.find("]", bracket) != -1:
        base, rest = name[:bracket], name[bracket:]
        while rest.startswith("["):
            close = rest.find("]")
            if close == -1:
                break
            inner = rest[1:close]
            indices.append(inner if inner != "" else None)
            rest = rest[close + 1 :]
    else:
        # PHP turns an unmatched "[" into "_" as well (and stops converting after it).
        base = name
    if not base:
        return None
    return _mangle(base), indices


def _mangle(base: str) -> str:
    out = []
    for i, ch in enumerate(base):
        if ch in " .":
            out.append("_")
        elif ch == "[":
            out.append("_")
            out.append(base[i + 1 :])
            break
        else:
            out.append(ch)
    return "".join(out)


def assign(target: dict[str, Any], name: str, value: Any) -> None:
    """Store ``value`` under the bracketed ``name`` inside ``target`` (PHP semantics)."""
    parsed = split_name(name)
    if parsed is None:
        return
    base, indices = parsed
    keys: list[str | None] = [base, *indices]
    node = target
    for position, key in enumerate(keys):
        if key is None:
            key = _next_index(node)
        last = position == len(keys) - 1
        if last:
            node[key] = value
        else:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child


def _next_index(node: Mapping[str, Any]) -> str:
    ints = [int(k) for k in node if _CANONICAL_INT.match(k)]
    return str(max(ints) + 1 if ints and max(ints) >= 0 else 0)


def build_query(params: Mapping[str, Any] | Iterable[Any]) -> str:
    """Encode nested dicts/lists as a bracketed query string, as PHP's ``http_build_query``.

    ``True``/``False`` become ``1``/``0``; ``None`` values are left out.

    >>> build_query({"halt": True, "cmd": {"a": "user.current"}})
    'halt=1&cmd%5Ba%5D=user.current'
    """
    parts: list[str] = []
    _encode(parts, None, params)
    return "&".join(parts)


def _encode(parts: list[str], prefix: str | None, value: Any) -> None:
    if isinstance(value, Mapping) or (prefix is None and isinstance(value, (list, tuple))):
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, item in items:
            _encode(parts, str(key) if prefix is None else f"{prefix}[{key}]", item)
    elif isinstance(value, (list, tuple)):
        for key, item in enumerate(value):
            _encode(parts, f"{prefix}[{key}]", item)
    elif value is None:
        return
    else:
        parts.append(
            f"{quote_plus(str(prefix), safe='')}={quote_plus(scalar_text(value), safe='')}"
        )


def scalar_text(value: Any) -> str:
    """A scalar as PHP would print it in a query string (``True`` -> ``1``, ``False`` -> ``0``)."""
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")


def php_intval(value: Any) -> int:
    """PHP ``(int)`` cast: ``"50abc"`` -> 50, ``"abc"`` -> 0, ``1.9`` -> 1, non-empty array -> 1.

    >>> php_intval("-1"), php_intval(" 75 "), php_intval(None), php_intval({"a": 1})
    (-1, 75, 0, 1)
    """
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 2**63 else 0
    if isinstance(value, (dict, list, tuple)):
        return 1 if value else 0
    match = _LEADING_INT.match(str(value))
    if not match:
        try:
            return int(float(str(value).strip()))
        except (ValueError, OverflowError):
            return 0
    return int(match.group(1))
