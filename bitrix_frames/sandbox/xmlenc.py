"""The ``.xml`` transport: the response body under ``<response>``, numeric keys and list items as
``<item>`` (PROTOCOL §1).

Example::

    >>> to_xml({"result": [1, {"ID": "2"}]})
    '<?xml version="1.0" encoding="utf-8"?><response><result><item>1</item><item><ID>2</ID></item></result></response>'
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape


def to_xml(value: Any) -> str:
    """``value`` as the portal's XML document."""
    return '<?xml version="1.0" encoding="utf-8"?><response>' + _xml(value) + "</response>"


def _xml(value: Any) -> str:
    # Loops, not generators, and the tag inline: one frame per nesting level (512 levels fit).
    if isinstance(value, (dict, list, tuple)):
        items = value.items() if isinstance(value, dict) else (("item", v) for v in value)
        parts = []
        for key, item in items:
            tag = _tag(key)
            parts.append(f"<{tag}>{_xml(item)}</{tag}>")
        return "".join(parts)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _tag(key: Any) -> str:
    tag = str(key)
    if not tag or not (tag[0].isalpha() or tag[0] == "_") or not tag.replace("_", "").isalnum():
        return "item"
    return tag
