"""Value formats of the real server (PROTOCOL §8, §17) and lenient parsing of client input.

Datetimes are stored as integer Unix seconds and rendered in the portal offset; dates are stored as
``YYYY-MM-DD`` and rendered as 00:00 UTC shown in the portal offset (the core's quirk).

Example::

    >>> tz = dt.timezone(dt.timedelta(hours=2))
    >>> fmt_datetime(0, tz)
    '1970-01-01T02:00:00+02:00'
    >>> fmt_date("2024-08-30", tz)
    '2024-08-30T02:00:00+02:00'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

_DMY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def fmt_datetime(ts: int | float | None, tz: dt.tzinfo) -> str | None:
    """Unix seconds -> ``2024-05-23T18:18:25+02:00`` in the portal offset; None stays None."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(int(ts), tz).isoformat()


def fmt_date(day: str | None, tz: dt.tzinfo) -> str | None:
    """``YYYY-MM-DD`` -> that day's 00:00 UTC rendered in the portal offset (PROTOCOL §17)."""
    if not day:
        return None
    midnight = dt.datetime.fromisoformat(day[:10]).replace(tzinfo=dt.timezone.utc)
    return midnight.astimezone(tz).isoformat()


def parse_datetime(value: Any, tz: dt.tzinfo) -> int | None:
    """Client input -> Unix seconds. Accepts ISO 8601 (with or without offset; without = portal
    local time), ``YYYY-MM-DD``, ``DD.MM.YYYY[ HH:MM[:SS]]`` and numbers. Empty -> None.
    Raises ValueError for anything else."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    m = _DMY.match(text)
    if m:
        d, mo, y, hh, mi, ss = m.groups()
        parsed = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    else:
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return int(parsed.timestamp())


def parse_date(value: Any, tz: dt.tzinfo) -> str | None:
    """Client input -> ``YYYY-MM-DD``. A value with a time part is read in its own offset, then
    taken as a calendar date in the portal offset. Empty -> None; garbage -> ValueError."""
    if value is None or value == "" or value is False:
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        dt.date.fromisoformat(text)
        return text
    ts = parse_datetime(text, tz)
    return dt.datetime.fromtimestamp(cast(int, ts), tz).date().isoformat()


def to_int(value: Any) -> int | None:
    """Numeric input (int, ``"5"``, ``5.0``, ``"5.00"``) -> int; empty -> None; garbage -> ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, int)):
        return int(value)
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"not an integer: {value!r}")
    return int(number)


def to_float(value: Any) -> float | None:
    """Numeric input -> float; empty -> None; garbage -> ValueError."""
    if value is None or value == "":
        return None
    return float(value)


_TRUE = {"y", "yes", "1", "true", "on"}
_FALSE = {"n", "no", "0", "false", "off", ""}


def to_yn(value: Any) -> str:
    """Boolean-ish input (``Y``/``N``, 1/0, true/false, ``"true"``) -> ``"Y"``/``"N"``."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return "Y"
    if text in _FALSE:
        return "N"
    raise ValueError(f"not a boolean: {value!r}")


def fmt_decimal(value: float | None, places: int = 2) -> str | None:
    """Stored number -> DB-decimal string (``15000.00``); None stays None."""
    return None if value is None else f"{value:.{places}f}"


def php_str(value: Any) -> str:
    """A value the way PHP's string conversion prints it in a message: arrays as ``Array``,
    true ``1``, false/null ``""``, floats in PHP's shortest form.

    >>> php_str([1, 2]), php_str({"a": 1}), php_str(True), php_str(None), php_str(2.0)
    ('Array', 'Array', '1', '', '2')
    """
    if isinstance(value, (list, dict, tuple)):
        return "Array"
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
