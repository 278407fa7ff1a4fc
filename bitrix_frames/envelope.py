"""Shape checks for success envelopes (PROTOCOL §3): what the rest of the client may rely on.

A success envelope is an object with ``result``; ``total`` and ``next`` are counts (non-negative
integers; digit strings are accepted and converted); ``time`` is an object whose timing fields are
numbers. Anything else is a :class:`~bitrix_frames.errors.MalformedResponse` naming the field, so a
hostile or broken server cannot make ``int("many")`` fail somewhere deep in a loader.

Example::

    >>> check_success({"result": [], "total": "3"}, method="crm.deal.list")
    {'result': [], 'total': 3}
    >>> check_success({"result": [], "next": "x"}, method="crm.deal.list")
    Traceback (most recent call last):
    ...
    bitrix_frames.errors.MalformedResponse: crm.deal.list: next is 'x', not a count
"""

from __future__ import annotations

import math
from typing import Any

from .errors import MalformedResponse

_TIME_NUMBERS = ("start", "finish", "duration", "processing", "operating", "operating_reset_at")


def show(value: Any) -> str:
    """A short description of a hostile value for an error message."""
    text = repr(value) if isinstance(value, str | int | float | bool) or value is None else ""
    return text[:40] if text else f"a JSON {type(value).__name__}"


def count(value: Any, name: str, method: str | None) -> int:
    """``value`` as a non-negative int, or :class:`MalformedResponse`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    raise MalformedResponse(f"{name} is {show(value)}, not a count", method=method)


def check_time(value: Any, name: str, method: str | None) -> dict:
    """A ``time`` block: an object (PHP's ``[]`` for an empty one) with numeric timings."""
    if isinstance(value, list) and not value:
        return {}
    if not isinstance(value, dict):
        raise MalformedResponse(f"{name} is {show(value)}, not an object", method=method)
    for key in _TIME_NUMBERS:
        v = value.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise MalformedResponse(f"{name}.{key} is {show(v)}, not a number", method=method)
    return value


def check_success(envelope: Any, *, method: str | None) -> dict:
    """The envelope, checked and with ``total``/``next`` as ints; raises MalformedResponse."""
    if not isinstance(envelope, dict):
        raise MalformedResponse(f"the answer is {show(envelope)}, not a JSON object", method=method)
    if "result" not in envelope:
        raise MalformedResponse("the answer has no result", method=method)
    for key in ("total", "next"):
        if key in envelope:
            envelope[key] = count(envelope[key], key, method)
    if envelope.get("time") is not None:
        envelope["time"] = check_time(envelope["time"], "time", method)
    return envelope
