"""Multifields PHONE / EMAIL / WEB / IM / LINK of leads, contacts and companies (PROTOCOL §9).

Example::

    write_multifields(db, store, "C", 5, {"PHONE": [{"VALUE": "555", "VALUE_TYPE": "WORK"}]})
    read_multifields(store, "C", [5])   # {5: {"PHONE": [{"ID": "1", ...}]}}
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..store import Store
from ..values import to_int

DEFAULT_VALUE_TYPE = {
    "PHONE": "WORK",
    "EMAIL": "WORK",
    "WEB": "WORK",
    "IM": "OTHER",
    "LINK": "USER",
}
_FM_ORDER = ("PHONE", "EMAIL", "WEB", "IM", "LINK")


def _items(value: Any) -> list:
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else []


def write_multifields(
    db: sqlite3.Connection, store: Store, code: str, owner_id: int, changes: dict[str, Any]
) -> None:
    """Apply add / change / delete operations; ``changes`` maps a type to its element list.

    Without ``ID``: add (ignored when VALUE is empty). With ``ID``: ``DELETE=Y``, empty or missing
    VALUE deletes, otherwise the value (and VALUE_TYPE when given) changes. Ids of other owners
    are ignored. Nothing else is touched.
    """
    for type_id, value in changes.items():
        for item in _items(value):
            if not isinstance(item, dict):
                continue
            item = {str(k).upper(): v for k, v in item.items()}
            raw_value = item.get("VALUE")
            text = "" if raw_value is None else str(raw_value).strip()
            value_type = str(item.get("VALUE_TYPE") or DEFAULT_VALUE_TYPE[type_id]).upper()
            try:
                row_id = to_int(item.get("ID"))
            except ValueError:
                row_id = None
            if not row_id:
                if text:
                    db.execute(
                        "INSERT INTO crm_fm (ID, ENTITY, OWNER_ID, TYPE_ID, VALUE_TYPE, VALUE) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (store.next_id("fm"), code, owner_id, type_id, value_type, text),
                    )
                continue
            where = "ID = ? AND ENTITY = ? AND OWNER_ID = ? AND TYPE_ID = ?"
            key = (row_id, code, owner_id, type_id)
            delete = str(item.get("DELETE", "N")).strip().upper() in ("Y", "1", "TRUE")
            if delete or not text:
                db.execute(f"DELETE FROM crm_fm WHERE {where}", key)
            elif "VALUE_TYPE" in item and item["VALUE_TYPE"]:
                db.execute(
                    f"UPDATE crm_fm SET VALUE = ?, VALUE_TYPE = ? WHERE {where}",
                    (text, value_type, *key),
                )
            else:
                db.execute(f"UPDATE crm_fm SET VALUE = ? WHERE {where}", (text, *key))


def has_flags(db: sqlite3.Connection, code: str, owner_id: int) -> dict[str, str]:
    """Recomputed ``HAS_PHONE`` / ``HAS_EMAIL`` / ``HAS_IMOL``."""
    rows = db.execute(
        "SELECT TYPE_ID, VALUE_TYPE FROM crm_fm WHERE ENTITY = ? AND OWNER_ID = ?", (code, owner_id)
    ).fetchall()
    types = {r[0] for r in rows}
    imol = any(r[0] == "IM" and r[1] in ("OPENLINE", "IMOL") for r in rows)
    return {
        "HAS_PHONE": "Y" if "PHONE" in types else "N",
        "HAS_EMAIL": "Y" if "EMAIL" in types else "N",
        "HAS_IMOL": "Y" if imol else "N",
    }


def read_multifields(
    store: Store, code: str, owner_ids: list[int], types: tuple[str, ...] = _FM_ORDER
) -> dict[int, dict[str, list[dict]]]:
    """``{owner_id: {TYPE: [{ID, VALUE_TYPE, VALUE, TYPE_ID}, ...]}}`` for non-empty types."""
    out: dict[int, dict[str, list[dict]]] = {}
    if not owner_ids or not types:
        return out
    for chunk_start in range(0, len(owner_ids), 500):
        chunk = owner_ids[chunk_start : chunk_start + 500]
        marks = ",".join("?" * len(chunk))
        tmarks = ",".join("?" * len(types))
        rows = store.query(
            f"SELECT * FROM crm_fm WHERE ENTITY = ? AND OWNER_ID IN ({marks}) "
            f"AND TYPE_ID IN ({tmarks}) ORDER BY ID",
            [code, *chunk, *types],
        )
        for r in rows:
            out.setdefault(r["OWNER_ID"], {}).setdefault(r["TYPE_ID"], []).append(
                {
                    "ID": str(r["ID"]),
                    "VALUE_TYPE": r["VALUE_TYPE"],
                    "VALUE": r["VALUE"],
                    "TYPE_ID": r["TYPE_ID"],
                }
            )
    return out
