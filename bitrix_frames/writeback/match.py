"""Does the portal already hold what an update sent? Used to resolve an ambiguous write by looking.

Values read back from a list come in the server's formats (numbers as strings, ``"Y"``/``"N"``,
ISO datetimes in the portal offset, dates as 00:00 UTC in that offset, ``"300|USD"``, multifield
lists with new IDs); :func:`holds` compares them with the API values that were sent.

Example::

    >>> holds({"OPPORTUNITY": 100.0, "CLOSED": "Y"}, {"OPPORTUNITY": "100.00", "CLOSED": "Y"})
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

_EMPTY: tuple[Any, ...] = (None, "", "0", 0, [], {}, False)


def _empty(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return True
    return any(value is e or (type(value) is type(e) and value == e) for e in _EMPTY)


def instant(value: Any) -> pd.Timestamp | None:
    """A stamp as an aware Timestamp (naive = UTC); empty or unparsable -> None."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    return stamp if stamp.tzinfo else stamp.tz_localize("UTC")


def _scalar_holds(sent: Any, current: Any) -> bool:
    if isinstance(sent, str) and sent == "":
        return _empty(current)
    if _empty(current):
        return _empty(sent)
    if isinstance(sent, bool | int | float) and not isinstance(sent, str):
        try:
            return math.isclose(float(sent), float(current), rel_tol=1e-9, abs_tol=1e-6)
        except (TypeError, ValueError):
            return str(sent) == str(current)
    text, cur = str(sent), str(current)
    if text == cur:
        return True
    if "|" in text and "|" in cur:  # money
        a, ca = text.split("|", 1)
        b, cb = cur.split("|", 1)
        return ca == cb and _scalar_holds(float(a), b)
    if len(text) == 10 and text[4] == "-" and "T" in cur:  # date vs "YYYY-MM-DDT00:00:00+03:00"
        stamp = instant(cur)
        return stamp is not None and stamp.tz_convert("UTC").date().isoformat() == text
    if "T" in text and "T" in cur:
        a_, b_ = instant(text), instant(cur)
        return a_ is not None and a_ == b_
    return False


def _multifield_holds(edits: list[dict], current: Any) -> bool:
    rows = current if isinstance(current, list) else []
    by_id = {str(r.get("ID")): r for r in rows if isinstance(r, dict)}
    values = {str(r.get("VALUE")) for r in rows if isinstance(r, dict)}
    for edit in edits:
        ident = edit.get("ID")
        if edit.get("DELETE") == "Y":
            if str(ident) in by_id:
                return False
        elif ident is not None:
            row = by_id.get(str(ident))
            if row is None or str(row.get("VALUE")) != str(edit.get("VALUE")):
                return False
        elif str(edit.get("VALUE")) not in values:
            return False
    return True


def value_holds(sent: Any, current: Any) -> bool:
    """One field: the sent API value against the value read back."""
    if isinstance(sent, list) and sent and all(isinstance(e, dict) for e in sent):
        return _multifield_holds(sent, current)
    if isinstance(sent, list):
        cur = current if isinstance(current, list) else ([] if _empty(current) else [current])
        return sorted(map(str, sent)) == sorted(map(str, cur))
    return _scalar_holds(sent, current)


def holds(sent: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """True when every sent field already has its value on the portal."""
    return all(value_holds(v, current.get(k)) for k, v in sent.items())
