"""JSON exactly as Bitrix24 writes it (PHP ``json_encode`` with ``JSON_HEX_TAG|AMP|APOS|QUOT``).

- ``/`` -> ``\\/``, non-ASCII -> ``\\uXXXX``, and ``< > & ' "`` inside strings -> ``\\u003C \\u003E
  \\u0026 \\u0027 \\u0022``;
- an empty dict is a PHP empty array, so it is written as ``[]``;
- a dict whose keys are exactly ``0..n-1`` in order is a PHP list, so it is written as a JSON array.

Example::

    >>> dumps({"a": "<b>/é\\"", "e": {}, "l": {"0": 1, "1": 2}})
    '{"a":"\\\\u003Cb\\\\u003E\\\\/\\\\u00e9\\\\u0022","e":[],"l":[1,2]}'
"""

from __future__ import annotations

import json
import re
from typing import Any

_ESCAPED_QUOTE = re.compile(r'(?<!\\)((?:\\\\)*)\\"')
_HEX = str.maketrans({"/": "\\/", "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "'": "\\u0027"})


def dumps(value: Any) -> str:
    """Serialise ``value`` byte-for-byte like the Bitrix24 REST server."""
    text = json.dumps(phpify(value), ensure_ascii=True, separators=(",", ":"))
    # After json.dumps these characters can only occur inside strings, so a plain translate is safe.
    text = text.translate(_HEX)
    if '\\"' not in text:  # the common case: no quote inside any string
        return text
    # An escaped quote is \" preceded by an even run of backslashes (\\ is an escaped backslash).
    return _ESCAPED_QUOTE.sub(lambda m: m.group(1) + "\\u0022", text)


def phpify(value: Any) -> Any:
    """Turn dicts into what PHP would emit: ``[]`` when empty, a list when keyed ``0..n-1``."""
    # Plain loops, not comprehensions: one Python frame per nesting level, so the 512 levels a
    # request may carry (PHP's json depth) stay well inside the recursion limit.
    if isinstance(value, dict):
        if not value:
            return []
        if _is_list_like(value):
            items = []
            for item in value.values():
                items.append(phpify(item))
            return items
        out = {}
        for key, item in value.items():
            out[key] = phpify(item) if isinstance(item, (dict, list, tuple)) else item
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.append(phpify(item) if isinstance(item, (dict, list, tuple)) else item)
        return items
    return value


def _is_list_like(value: dict) -> bool:
    return all(key in (i, str(i)) for i, key in enumerate(value))
