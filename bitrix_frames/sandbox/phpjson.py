"""JSON request bodies decoded the way the portal decodes them: PHP ``json_decode($body, true)``
(``Bitrix\\Main\\Web\\Json::decode``; ``CRestUtil::getRequestData`` turns any failure into no
parameters at all, PROTOCOL §2).

PHP rules reproduced here:

- nesting deeper than 512 arrays/objects (``json_decode``'s default depth) is an error;
- integers outside int64 become floats (no ``JSON_BIGINT_AS_STRING``);
- ``NaN``/``Infinity`` literals, invalid UTF-8 and unpaired UTF-16 surrogates (``"\\ud800"``) are
  errors.

Example::

    >>> decode_json_body(b'{"id": 9223372036854775808, "a": [1]}')
    {'id': 9.223372036854776e+18, 'a': [1]}
    >>> decode_json_body(b"[" * 600 + b"]" * 600)
    {}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MAX_DEPTH = 512
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Invalid(ValueError):
    """The body is not JSON that PHP would accept."""


def _parse_int(text: str) -> int | float:
    digits = text.lstrip("-")
    if len(digits) <= 18 or (len(digits) == 19 and -(2**63) <= int(text) < 2**63):
        return int(text)
    return float(text)  # PHP: an integer beyond int64 is read as a double (huge ones as INF)


def _reject_constant(name: str) -> Any:
    raise _Invalid(name)


def php_json_decode(body: bytes) -> Any:
    """Decode like ``json_decode($body, true)``; raises ``ValueError`` where PHP reports an error."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_int=_parse_int, parse_constant=_reject_constant)
    except RecursionError as exc:  # far deeper than MAX_DEPTH anyway
        raise _Invalid("depth") from exc
    except UnicodeDecodeError as exc:
        raise _Invalid("utf-8") from exc
    _check(value)
    return value


def _check(value: Any) -> None:
    """Depth and surrogates, walked without recursion (the value may be hundreds deep)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise _Invalid("surrogate")
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise _Invalid("depth")
            if isinstance(item, dict):
                for key in item:
                    if _SURROGATE.search(key):
                        raise _Invalid("surrogate")
                children: Iterable[Any] = item.values()
            else:
                children = item
            stack.extend((child, depth + 1) for child in children)


def decode_json_body(body: bytes) -> dict[str, Any]:
    """A JSON body as the parameter array: an object as is, a list keyed ``"0".."n-1"``, and
    anything PHP cannot decode (or a bare scalar) as no parameters."""
    try:
        value = php_json_decode(body)
    except ValueError:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}
