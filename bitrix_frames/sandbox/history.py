"""Stage history of CRM records: the table behind ``crm.stagehistory.list`` and the one function
every stage move calls.

One row per entry, as the core's ``DealStageHistoryEntry::register`` writes them: ``TYPE_ID`` 1 when
a record is created in a working stage, 2 when it moves to another working stage, 3 when it moves
to (or is created in) a final stage (semantics S or F), 5 when it moves to another pipeline
(``crm-stage-history-list.md``). A move to the stage the record is already in adds nothing.
Each type numbers its entries on its own, as the core's one table per type does. ``CREATED_TIME``
is Unix seconds;
``STAGE_SEMANTIC_ID`` is P/S/F from the stage's dictionary.

Example::

    with store.transaction() as db:
        record_stage_change(db, 2, deal_id, 1, "C1:PREPARATION", now)   # -> the entry ID (or None)
"""

from __future__ import annotations

import sqlite3

from .store import register_schema

CREATION, MODIFICATION, FINALIZATION, CATEGORY_CHANGE = 1, 2, 3, 5
"""``TYPE_ID`` values (crm-stage-history-list.md)."""
OWNER_INDEX = "crm_stage_history_owner"

register_schema(
    "CREATE TABLE IF NOT EXISTS crm_stage_history (ENTITY_TYPE_ID INTEGER NOT NULL, "
    "ID INTEGER NOT NULL, TYPE_ID INTEGER NOT NULL, OWNER_ID INTEGER NOT NULL, "
    "CREATED_TIME INTEGER NOT NULL, CATEGORY_ID INTEGER, STAGE_SEMANTIC_ID TEXT, STAGE_ID TEXT, "
    "PRIMARY KEY (ENTITY_TYPE_ID, ID));"
    f"CREATE INDEX IF NOT EXISTS {OWNER_INDEX} ON crm_stage_history (OWNER_ID, ENTITY_TYPE_ID);"
)

COLUMNS = (
    "ENTITY_TYPE_ID",
    "ID",
    "TYPE_ID",
    "OWNER_ID",
    "CREATED_TIME",
    "CATEGORY_ID",
    "STAGE_SEMANTIC_ID",
    "STAGE_ID",
)
"""Column order of :func:`insert_rows` tuples."""


def stage_dictionary(entity_type_id: int, category_id: int) -> str:
    """``crm_status`` ENTITY_ID holding the stages of a type's pipeline.

    >>> stage_dictionary(2, 0), stage_dictionary(2, 3), stage_dictionary(1036, 12)
    ('DEAL_STAGE', 'DEAL_STAGE_3', 'DYNAMIC_1036_STAGE_12')
    """
    if entity_type_id == 1:
        return "STATUS"
    if entity_type_id == 2:
        return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"
    if entity_type_id == 31:
        return f"SMART_INVOICE_STAGE_{category_id}"
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"


def semantic_of(db: sqlite3.Connection, entity_type_id: int, category_id: int, stage: str) -> str:
    """P, S or F of a stage (P when the dictionary does not know it)."""
    row = db.execute(
        "SELECT semantics FROM crm_status WHERE entity_id = ? AND status_id = ?",
        (stage_dictionary(entity_type_id, category_id), stage),
    ).fetchone()
    return (row[0] if row else None) or "P"


def entry_type(semantic: str, *, first: bool, category_changed: bool) -> int:
    """``TYPE_ID`` of a new entry (final semantics win, as in the core's ``register``).

    >>> entry_type("P", first=True, category_changed=False), entry_type("S", first=True, category_changed=False)
    (1, 3)
    """
    if semantic in ("S", "F"):
        return FINALIZATION
    if first:
        return CREATION
    return CATEGORY_CHANGE if category_changed else MODIFICATION


def sequence_name(entity_type_id: int) -> str:
    """The store ``sequence`` counter of one type's entry IDs."""
    return f"crm_stage_history_{entity_type_id}"


def _next_id(db: sqlite3.Connection, entity_type_id: int) -> int:
    """A never-reused entry ID of the type (auto-increment style)."""
    name = sequence_name(entity_type_id)
    db.execute(
        "INSERT INTO sequence (name, value) VALUES (?, 1) "
        "ON CONFLICT(name) DO UPDATE SET value = value + 1",
        (name,),
    )
    new = int(db.execute("SELECT value FROM sequence WHERE name = ?", (name,)).fetchone()[0])
    top = db.execute(
        "SELECT MAX(ID) FROM crm_stage_history WHERE ENTITY_TYPE_ID = ?", (entity_type_id,)
    ).fetchone()[0]
    if top is not None and new <= top:
        new = top + 1
        db.execute("UPDATE sequence SET value = ? WHERE name = ?", (new, name))
    return new


def record_stage_change(
    db: sqlite3.Connection,
    entity_type_id: int,
    owner_id: int,
    category_id: int | None,
    stage_id: str,
    when: int,
    *,
    semantic: str | None = None,
) -> int | None:
    """Append the entry for ``owner_id`` entering ``stage_id`` of pipeline ``category_id`` at
    ``when`` (Unix seconds); returns its ID, or None when the record already is in that stage.

    Call it inside the write's transaction, after the add (creation entry: the owner has none
    yet) and after every update that sets the stage or the pipeline. Leads pass ``category_id``
    0. ``semantic`` defaults to the stage's semantics in ``crm_status``.

    Example::

        record_stage_change(db, 2, 7, 0, "WON", 1_700_000_000)   # TYPE_ID 3
    """
    if not stage_id:
        return None
    category = int(category_id or 0)
    last = db.execute(
        "SELECT CATEGORY_ID, STAGE_ID FROM crm_stage_history WHERE ENTITY_TYPE_ID = ? "
        "AND OWNER_ID = ? ORDER BY ID DESC LIMIT 1",
        (entity_type_id, owner_id),
    ).fetchone()
    if last is not None and last[1] == stage_id and (last[0] or 0) == category:
        return None
    sem = semantic or semantic_of(db, entity_type_id, category, stage_id)
    type_id = entry_type(
        sem, first=last is None, category_changed=last is not None and (last[0] or 0) != category
    )
    new_id = _next_id(db, entity_type_id)
    db.execute(
        "INSERT INTO crm_stage_history (ENTITY_TYPE_ID, ID, TYPE_ID, OWNER_ID, CREATED_TIME, "
        "CATEGORY_ID, STAGE_SEMANTIC_ID, STAGE_ID) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (entity_type_id, new_id, type_id, owner_id, int(when), category, sem, stage_id),
    )
    return new_id


def forget_owner(db: sqlite3.Connection, entity_type_id: int, owner_id: int) -> None:
    """Drop a deleted record's entries (the core unregisters them with the record)."""
    db.execute(
        "DELETE FROM crm_stage_history WHERE ENTITY_TYPE_ID = ? AND OWNER_ID = ?",
        (entity_type_id, owner_id),
    )


def insert_rows(db: sqlite3.Connection, rows: list[tuple]) -> None:
    """Bulk-insert seeded entries (tuples in :data:`COLUMNS` order, in primary-key order) and
    move each type's ID counter past them. The owner index is rebuilt once afterwards (faster
    than keeping it up to date row by row)."""
    db.execute(f"DROP INDEX IF EXISTS {OWNER_INDEX}")
    # plain executemany: seeded values are small ints, the store's int clamping only costs time
    sqlite3.Connection.executemany(
        db,
        "INSERT INTO crm_stage_history (ENTITY_TYPE_ID, ID, TYPE_ID, OWNER_ID, CREATED_TIME, "
        "CATEGORY_ID, STAGE_SEMANTIC_ID, STAGE_ID) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute(
        f"CREATE INDEX IF NOT EXISTS {OWNER_INDEX} ON crm_stage_history (OWNER_ID, ENTITY_TYPE_ID)"
    )
    top: dict[int, int] = {}
    for row in rows:
        top[row[0]] = max(top.get(row[0], 0), row[1])
    db.executemany(
        "INSERT INTO sequence (name, value) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
        [(sequence_name(t), n) for t, n in top.items()],
    )
