"""``crm.deal.contact.*``: the contacts bound to a deal (``api-reference/crm/deals/contacts/``).

The bindings are the ``deal_contact`` rows of ``crm_link`` that ``CONTACT_IDS`` of
``crm.deal.add/update/get`` and ``contactIds`` of ``crm.item.*`` read and write; the deal's
``CONTACT_ID`` is its primary binding. ``items.get`` answers ``[{"CONTACT_ID": 55, "SORT": 100,
"ROLE_ID": 0, "IS_PRIMARY": "Y"}, ...]`` in SORT order; ``items.set`` replaces the bindings (SORT
defaults to ``(i + 1) * 10``, the first ``IS_PRIMARY: Y`` one or else the first is primary);
``add`` adds or re-sorts one; ``delete`` removes one (``false`` when it was not bound; the next
becomes primary); ``items.delete`` removes all.

Errors (documented): 400 with an empty code, ``The parameter ownerEntityID is invalid or not
defined.`` for a missing/non-positive ``id``, ``Not found.`` for an unknown deal. Choices where the
docs are silent: a binding without a positive ``CONTACT_ID`` gives 400 ``Invalid contact ID.``; an
unknown contact is bound anyway (like ``CONTACT_IDS`` of ``crm.deal.update`` here).

Example::

    METHODS["crm.deal.contact.items.get"](call, {"id": 7})
    # [{'CONTACT_ID': 3, 'SORT': 10, 'ROLE_ID': 0, 'IS_PRIMARY': 'Y'}]
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..api import ApiError, Call, method

KIND = "deal_contact"


def _param(params: dict, name: str) -> Any:
    return next((v for k, v in params.items() if str(k).lower() == name), None)


def _int(value: Any) -> int:
    try:
        number = float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0
    return int(number) if number == number and number.is_integer() else 0


def _deal(db: sqlite3.Connection, params: dict) -> int:
    deal = _int(_param(params, "id"))
    if deal <= 0:
        raise ApiError("The parameter ownerEntityID is invalid or not defined.")
    if db.execute('SELECT 1 FROM crm_deal WHERE "ID" = ?', (deal,)).fetchone() is None:
        raise ApiError("Not found.")
    return deal


def bindings(db: sqlite3.Connection, deal: int) -> list[dict]:
    """The deal's bindings in SORT order, primary flagged (the deal's CONTACT_ID)."""
    primary = db.execute('SELECT "CONTACT_ID" FROM crm_deal WHERE "ID" = ?', (deal,)).fetchone()
    rows = db.execute(
        "SELECT B, SORT FROM crm_link WHERE KIND = ? AND A = ? ORDER BY SORT, rowid", (KIND, deal)
    ).fetchall()
    main = primary[0] if primary and primary[0] in {r[0] for r in rows} else None
    if main is None and rows:
        main = rows[0][0]
    return [
        {
            "CONTACT_ID": r[0],
            "SORT": r[1] or 0,
            "ROLE_ID": 0,
            "IS_PRIMARY": "Y" if r[0] == main else "N",
        }
        for r in rows
    ]


def _write(db: sqlite3.Connection, deal: int, items: list[dict]) -> None:
    """Replace the bindings with ``items`` ({CONTACT_ID, SORT, IS_PRIMARY}); CONTACT_ID follows."""
    db.execute("DELETE FROM crm_link WHERE KIND = ? AND A = ?", (KIND, deal))
    db.executemany(
        "INSERT INTO crm_link (KIND, A, B, SORT) VALUES (?, ?, ?, ?)",
        [(KIND, deal, i["CONTACT_ID"], i["SORT"]) for i in items],
    )
    primary = next((i for i in items if i["IS_PRIMARY"] == "Y"), items[0] if items else None)
    db.execute(
        'UPDATE crm_deal SET "CONTACT_ID" = ? WHERE "ID" = ?',
        (primary["CONTACT_ID"] if primary else None, deal),
    )


def _binding(raw: Any, index: int) -> dict:
    if not isinstance(raw, dict):
        raise ApiError("Invalid contact binding.")
    fields = {str(k).upper(): v for k, v in raw.items()}
    contact = _int(fields.get("CONTACT_ID"))
    if contact <= 0:
        raise ApiError("Invalid contact ID.")
    sort = _int(fields.get("SORT")) if fields.get("SORT") not in (None, "") else (index + 1) * 10
    flag = str(fields.get("IS_PRIMARY") or "N").upper()
    return {"CONTACT_ID": contact, "SORT": sort, "IS_PRIMARY": "Y" if flag == "Y" else "N"}


@method("crm.deal.contact.items.get")
def items_get(call: Call, params: dict) -> list[dict]:
    with call.store.transaction() as db:
        out = bindings(db, _deal(db, params))
    call.return_rows(len(out))
    return out


@method("crm.deal.contact.items.set")
def items_set(call: Call, params: dict) -> bool:
    raw = _param(params, "items")
    items = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ApiError("The parameter items is invalid or not defined.")
    parsed = [_binding(item, i) for i, item in enumerate(items)]
    parsed = list({i["CONTACT_ID"]: i for i in reversed(parsed)}.values())[::-1]
    first = next((i for i in parsed if i["IS_PRIMARY"] == "Y"), None)
    for item in parsed:
        item["IS_PRIMARY"] = "Y" if item is (first or parsed[0]) else "N"
    with call.store.transaction() as db:
        _write(db, _deal(db, params), parsed)
    return True


@method("crm.deal.contact.add")
def contact_add(call: Call, params: dict) -> bool:
    raw = _param(params, "fields")
    with call.store.transaction() as db:
        deal = _deal(db, params)
        current = bindings(db, deal)
        item = _binding(raw, len(current))
        rest = [b for b in current if b["CONTACT_ID"] != item["CONTACT_ID"]]
        wants_primary = str((raw or {}).get("IS_PRIMARY", "") if isinstance(raw, dict) else "")
        if wants_primary.upper() == "Y" or not rest:
            item["IS_PRIMARY"] = "Y"
            for b in rest:
                b["IS_PRIMARY"] = "N"
        else:
            item["IS_PRIMARY"] = "N"
        _write(db, deal, sorted([*rest, item], key=lambda b: b["SORT"]))
    return True


@method("crm.deal.contact.delete")
def contact_delete(call: Call, params: dict) -> bool:
    raw = _param(params, "fields")
    contact = _int(raw.get("CONTACT_ID") if isinstance(raw, dict) else None)
    if contact <= 0:
        raise ApiError("Invalid contact ID.")
    with call.store.transaction() as db:
        deal = _deal(db, params)
        current = bindings(db, deal)
        rest = [b for b in current if b["CONTACT_ID"] != contact]
        if len(rest) == len(current):
            return False
        if rest and not any(b["IS_PRIMARY"] == "Y" for b in rest):
            rest[0]["IS_PRIMARY"] = "Y"
        _write(db, deal, rest)
    return True


@method("crm.deal.contact.items.delete")
def items_delete(call: Call, params: dict) -> bool:
    with call.store.transaction() as db:
        _write(db, _deal(db, params), [])
    return True


@method("crm.deal.contact.fields")
def contact_fields(call: Call, params: dict) -> dict:
    def meta(ftype: str, title: str, required: bool = False) -> dict:
        return {
            "type": ftype,
            "isRequired": required,
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": False,
            "isDynamic": False,
            "title": title,
        }

    return {
        "CONTACT_ID": meta("integer", "Contact ID", True),
        "SORT": meta("integer", "Sort"),
        "ROLE_ID": meta("integer", "Role"),
        "IS_PRIMARY": meta("char", "Primary"),
    }
