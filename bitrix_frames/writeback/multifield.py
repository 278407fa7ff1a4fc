"""Multifield edits (PHONE, EMAIL, WEB, IM, LINK) as the legacy API wants them (PROTOCOL §9).

A multifield cell holds a list of ``{ID, VALUE_TYPE, VALUE, TYPE_ID}`` dicts. Comparing the old and
the new list gives the elements to send: a new value without ``ID``, a changed value with its
``ID``, a removed value as ``{"ID": .., "DELETE": "Y"}``. Plain strings in the new list (or a single
string cell) are matched to existing values by text, so ``["+1 555", "+1 777"]`` keeps the first
number and adds the second.

Example::

    >>> old = [{"ID": "7", "VALUE": "a@x.io", "VALUE_TYPE": "WORK"}]
    >>> edits(old, ["b@x.io"], "EMAIL")
    [{'VALUE': 'b@x.io', 'VALUE_TYPE': 'WORK'}, {'ID': 7, 'DELETE': 'Y'}]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import BadValue
from .diff import is_missing

VALUE_TYPES = {
    "PHONE": {"WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER"},
    "EMAIL": {"WORK", "HOME", "MAILING", "OTHER"},
    "WEB": {"WORK", "HOME", "VK", "LIVEJOURNAL", "TWITTER", "FACEBOOK", "INSTAGRAM", "OTHER"},
    "IM": {
        "TELEGRAM",
        "VK",
        "SKYPE",
        "VIBER",
        "BITRIX24",
        "OPENLINE",
        "IMOL",
        "ICQ",
        "MSN",
        "JABBER",
        "FACEBOOK",
        "INSTAGRAM",
        "OTHER",
    },
    "LINK": {"USER", "OTHER"},
}
DEFAULT_TYPE = {"PHONE": "WORK", "EMAIL": "WORK", "WEB": "WORK", "IM": "OTHER", "LINK": "USER"}


def items(value: Any, field: str) -> list[dict[str, Any]]:
    """A cell as a list of ``{"ID": int|None, "VALUE": str, "VALUE_TYPE": str|None}``."""
    if is_missing(value):
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise BadValue(f"expected a list of {field} values, got {type(value).__name__}")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append({"ID": None, "VALUE": item.strip(), "VALUE_TYPE": None})
        elif isinstance(item, dict):
            ident = item.get("ID", item.get("id"))
            text = item.get("VALUE", item.get("value"))
            kind = item.get("VALUE_TYPE", item.get("valueType"))
            try:
                ident = None if is_missing(ident) or ident == "" else int(ident)
            except (TypeError, ValueError):
                raise BadValue(f"invalid {field} element ID {ident!r}") from None
            out.append(
                {
                    "ID": ident,
                    "VALUE": None if is_missing(text) else str(text).strip(),
                    "VALUE_TYPE": None if is_missing(kind) or not kind else str(kind).upper(),
                    "DELETE": str(item.get("DELETE", "")).upper() == "Y",
                }
            )
        elif is_missing(item):
            continue
        else:
            raise BadValue(f"unsupported {field} element {item!r}")
    return out


def _check(field: str, item: dict[str, Any]) -> None:
    kind = item.get("VALUE_TYPE")
    allowed = VALUE_TYPES.get(field)
    if kind and allowed and kind not in allowed:
        raise BadValue(f"unknown {field} VALUE_TYPE {kind!r}; allowed: {sorted(allowed)}")
    text = item.get("VALUE") or ""
    if field == "EMAIL" and text and ("@" not in text or " " in text):
        raise BadValue(f"invalid e-mail {text!r}")


def edits(old: Any, new: Any, field: str) -> list[dict[str, Any]]:
    """Elements to send so that the portal's list becomes ``new`` (empty list = no change)."""
    before = {i["ID"]: i for i in items(old, field) if i["ID"] is not None}
    after = items(new, field)
    out: list[dict[str, Any]] = []
    claimed: set[int] = set()
    for item in after:
        _check(field, item)
        ident = item["ID"]
        if ident is not None:
            if ident not in before:
                raise BadValue(f"{field} element ID {ident} is not one of this row's values")
            claimed.add(ident)
            prev = before[ident]
            if item.get("DELETE") or not item["VALUE"]:
                out.append({"ID": ident, "DELETE": "Y"})
                continue
            kind = item["VALUE_TYPE"] or prev.get("VALUE_TYPE")
            if item["VALUE"] != prev["VALUE"] or kind != prev.get("VALUE_TYPE"):
                out.append({"ID": ident, "VALUE": item["VALUE"], "VALUE_TYPE": kind})
    for item in after:
        if item["ID"] is not None or not item["VALUE"]:
            continue
        match = next(
            (
                i
                for i, prev in before.items()
                if i not in claimed
                and prev["VALUE"] == item["VALUE"]
                and (item["VALUE_TYPE"] in (None, prev.get("VALUE_TYPE")))
            ),
            None,
        )
        if match is not None:
            claimed.add(match)
            continue
        out.append(
            {"VALUE": item["VALUE"], "VALUE_TYPE": item["VALUE_TYPE"] or DEFAULT_TYPE[field]}
        )
    for ident in before:
        if ident not in claimed:
            out.append({"ID": ident, "DELETE": "Y"})
    return out


def for_add(new: Any, field: str) -> list[dict[str, Any]]:
    """Elements of a new record: every value without ``ID``."""
    out = []
    for item in items(new, field):
        _check(field, item)
        if item["ID"] is not None:
            raise BadValue(f"{field} element ID {item['ID']} on a new row (leave ID out)")
        if item["VALUE"]:
            out.append(
                {"VALUE": item["VALUE"], "VALUE_TYPE": item["VALUE_TYPE"] or DEFAULT_TYPE[field]}
            )
    return out
