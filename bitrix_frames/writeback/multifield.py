"""Multifield edits (PHONE, EMAIL, WEB, IM, LINK) as the legacy API wants them (PROTOCOL §9).

A multifield cell holds a list of ``{ID, VALUE_TYPE, VALUE, TYPE_ID}`` dicts. Comparing the old and
the new list gives the elements to send: a new value without ``ID``, a changed value with its
``ID``, a removed value as ``{"ID": .., "DELETE": "Y"}``. Plain strings in the new list are matched
to existing values by text, so ``["+1 555", "+1 777"]`` keeps the first number and adds the second.

Refused (each would silently lose or garble data): a cell that is text rather than a list (after a
CSV round trip a ``PHONE`` cell is the list's repr; it would replace every number by that text —
edit ``PHONE_PRIMARY`` or parse the cell back), an element without ``VALUE`` (a no-op on the
portal, or a deletion when it has an ``ID``), an unknown ``VALUE_TYPE``, and values of the wrong
shape: a phone needs digits and only ``+ ( ) - . /`` and spaces besides (an extension as
``ext 12``/``x12``), an e-mail ``name@domain.tld`` without spaces, a web address no spaces.

Example::

    >>> old = [{"ID": "7", "VALUE": "a@x.io", "VALUE_TYPE": "WORK"}]
    >>> edits(old, ["b@x.io"], "EMAIL")
    [{'VALUE': 'b@x.io', 'VALUE_TYPE': 'WORK'}, {'ID': 7, 'DELETE': 'Y'}]
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import BadValue
from ..schema.to_api import check_text
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
    if isinstance(value, str):
        raise BadValue(
            f"{field} cell is text ({_short(value)}), not a list of values: a multifield cell is a "
            f"list of {{VALUE, VALUE_TYPE}} dicts or strings (parse it back after a CSV round "
            f"trip), or edit {field}_PRIMARY"
        )
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise BadValue(f"expected a list of {field} values, got {type(value).__name__}")
    out: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, str):
            out.append({"ID": None, "VALUE": item.strip(), "VALUE_TYPE": None})
        elif isinstance(item, dict):
            ident: Any = item.get("ID", item.get("id"))
            text = item.get("VALUE", item.get("value"))
            kind = item.get("VALUE_TYPE", item.get("valueType"))
            try:
                ident = None if is_missing(ident) or ident == "" else int(ident)
            except (TypeError, ValueError):
                raise BadValue(f"invalid {field} element ID {ident!r}") from None
            deleting = str(item.get("DELETE", "")).upper() == "Y"
            if not deleting and (is_missing(text) or not str(text).strip()):
                what = f"element ID {ident}" if ident is not None else "a new element"
                raise BadValue(
                    f"{field} {what} has no VALUE: give the value (to delete an element, "
                    "leave it out of the list)"
                )
            if not deleting and not isinstance(text, (str, int, np.integer)):
                raise BadValue(f"{field} VALUE must be text, got {type(text).__name__}")
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


_SHAPES = {
    "PHONE": (
        re.compile(r"\+?[0-9()\-./ ]{1,40}((ext\.?|x|#) ?[0-9]{1,6})?", re.IGNORECASE),
        "a phone number (digits, spaces and + ( ) - . /)",
    ),
    "EMAIL": (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+"), "an e-mail address (name@domain.tld)"),
    "WEB": (re.compile(r"\S+\.\S+|https?://\S+", re.IGNORECASE), "a web address"),
}


def _short(text: str, size: int = 40) -> str:
    return repr(text if len(text) <= size else text[: size - 1] + "…")


def check_value(field: str, text: str) -> None:
    """Refuse a value of the wrong shape for ``field`` (PHONE, EMAIL, WEB; others are free text)."""
    check_text(text)
    shape = _SHAPES.get(field)
    if shape is None or not text:
        return
    pattern, what = shape
    digits = sum(ch.isdigit() for ch in text)
    if not pattern.fullmatch(text) or (field == "PHONE" and not digits):
        raise BadValue(f"{field} value {_short(text)} is not {what}")


def _check_type(field: str, item: dict[str, Any]) -> None:
    kind = item.get("VALUE_TYPE")
    allowed = VALUE_TYPES.get(field)
    if kind and allowed and kind not in allowed:
        raise BadValue(f"unknown {field} VALUE_TYPE {kind!r}; allowed: {sorted(allowed)}")


def _check(field: str, item: dict[str, Any]) -> None:
    """A value about to be written (values already on the portal are not judged)."""
    _check_type(field, item)
    check_value(field, item.get("VALUE") or "")


def edits(old: Any, new: Any, field: str) -> list[dict[str, Any]]:
    """Elements to send so that the portal's list becomes ``new`` (empty list = no change)."""
    before = {i["ID"]: i for i in items(old, field) if i["ID"] is not None}
    after = items(new, field)
    out: list[dict[str, Any]] = []
    claimed: set[int] = set()
    for item in after:
        _check_type(field, item)
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
            if item["VALUE"] != prev["VALUE"]:
                _check(field, item)
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
        _check(field, item)
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
