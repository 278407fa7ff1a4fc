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
MAX_INPUT_NESTING = 64
"""PHP's ``max_input_nesting_level`` default: a name with more bracket levels drops its whole
top-level variable (``php_register_variable_ex``), in ``$_GET``/``$_POST`` and ``parse_str``."""
MAX_INPUT_VARS = 10000
"""PHP's ``max_input_vars`` (PHP's default is 1000, Bitrix installations usually get 10000; the
cloud's value is not known): variables after this many are ignored (``php_default_treat_data``)."""
INT_MAX = 2**63 - 1
INT_MIN = -(2**63)


def parse_query(query: str | bytes) -> dict[str, Any]:
    """Parse a URL-encoded query string the way PHP's ``parse_str`` does.

    >>> parse_query("fields[PHONE][0][VALUE]=1&fields[TITLE]=x+y")
    {'fields': {'PHONE': {'0': {'VALUE': '1'}}, 'TITLE': 'x y'}}
    """
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    pairs = []
    for chunk in _chunks(query):
        name, _, value = chunk.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return parse_pairs(pairs)


def _chunks(query: str) -> Iterable[str]:
    """The non-empty ``&``-separated chunks, at most :data:`MAX_INPUT_VARS` of them, found lazily
    (a 64 MB body must not become a list of millions of strings first)."""
    count = position = 0
    while position <= len(query) and count < MAX_INPUT_VARS:
        end = query.find("&", position)
        end = len(query) if end == -1 else end
        if end > position:
            count += 1
            yield query[position:end]
        position = end + 1


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Build PHP's nested array from already-decoded ``(name, value)`` pairs (form fields).

    Like PHP: at most :data:`MAX_INPUT_VARS` pairs are used, and a name nested deeper than
    :data:`MAX_INPUT_NESTING` removes its whole top-level variable.

    >>> parse_pairs([("a[x]", "1"), ("a" + "[b]" * 65, "2"), ("c", "3")])
    {'c': '3'}
    """
    result: dict[str, Any] = {}
    for count, (name, value) in enumerate(pairs):
        if count >= MAX_INPUT_VARS:
            break
        assign(result, name, value)
    return result


def split_name(name: str) -> tuple[str, list[str | None]] | None:
    """Split ``a[b][]`` into the base name and its indices (``None`` = append), like PHP.

    Returns None when PHP would drop the variable (empty base name). More than
    :data:`MAX_INPUT_NESTING` indices are returned as they are (:func:`assign` drops them).

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
                if len(indices) >= MAX_INPUT_NESTING:
                    indices.append(None)  # PHP counts the unterminated level before parsing it
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
    if len(indices) > MAX_INPUT_NESTING:
        target.pop(base, None)  # PHP deletes the whole variable, not just this value
        return
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


_LEADING_NUMBER = re.compile(r"^[ \t\n\r\x0b\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+)?)")


def php_intval(value: Any) -> int:
    """PHP ``(int)`` cast: ``"50abc"`` -> 50, ``"abc"`` -> 0, ``1.9`` -> 1, non-empty array -> 1.

    Always a 64-bit integer, as in PHP: numeric strings beyond it saturate (``zval_get_long`` ->
    ``zend_dval_to_lval_cap``), floats beyond it (and NaN, INF) become 0.

    >>> php_intval("-1"), php_intval(" 75 "), php_intval(None), php_intval({"a": 1})
    (-1, 75, 0, 1)
    >>> php_intval("99999999999999999999"), php_intval(2**64), php_intval(1e20), php_intval("1e3")
    (9223372036854775807, 0, 0, 1000)
    """
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, int):
        return value if INT_MIN <= value <= INT_MAX else php_intval(float(value))
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 2**63 else 0
    if isinstance(value, (dict, list, tuple)):
        return 1 if value else 0
    match = _LEADING_NUMBER.match(str(value))
    if not match:
        return 0
    number = match.group(1)
    if "." not in number and match.group(2) is None:
        digits = number.lstrip("+-").lstrip("0")
        if len(digits) > 19:  # beyond int64 whatever the digits (and below int()'s 4300-digit cap)
            return INT_MIN if number.startswith("-") else INT_MAX
        return max(INT_MIN, min(INT_MAX, int(number)))
    as_float = float(number)  # "1e3" -> 1000, "1.9x" -> 1, "1e999" -> INF -> 0 (PHP >= 7.1)
    if as_float != as_float or as_float in (float("inf"), float("-inf")):
        return 0
    return max(INT_MIN, min(INT_MAX, int(as_float)))
