"""The 50-row page of a list method with ``total``/``next`` as the real server computes them (§6).

Example::

    where, args = where_clause(params.get("filter") or {}, COLUMNS, call.config.tz)
    rows, total, nxt = fetch_page(call, from_sql="crm_deal t", where=where, args=args,
                                  order_by=order_clause(order, COLUMNS, "t.id ASC"))
    return Page([render(r) for r in rows], total, nxt)
"""

from __future__ import annotations

import sqlite3

from .api import Call

PAGE_SIZE = 50


def _order_sql(order_by: str) -> str:
    text = order_by.strip()
    if not text:
        return ""
    if text.upper().startswith("ORDER BY"):
        return " " + text
    return " ORDER BY " + text


def fetch_page(
    call: Call,
    *,
    from_sql: str,
    where: str,
    args: list,
    order_by: str,
    mode: str = "legacy",
    select: str = "*",
) -> tuple[list[sqlite3.Row], int | None, int | None]:
    """Return ``(rows, total, next)`` for the page at ``call.start``.

    ``from_sql`` is everything after FROM (table, alias, joins), ``where`` a condition (``"1"`` or
    empty for none), ``order_by`` an ORDER BY list (with or without the keyword), ``select`` the
    column list (default ``*``).

    - ``mode="legacy"``: start is rounded down to a multiple of 50 (start=75 -> rows 50-99);
      ``next = page*50`` when another page exists; a start past the end falls back to page 1.
    - ``mode="exact"``: start is an exact offset; ``next = start + returned`` when < total.
    - ``call.start < 0`` (``-1``): no COUNT, the first 50 rows, total 0, no next.

    Counted, skipped and returned rows are reported on ``call``.
    """
    with call.store.lock:  # COUNT and page see the same data
        return _fetch(call, from_sql, where, args, order_by, mode, select)


def _fetch(
    call: Call, from_sql: str, where: str, args: list, order_by: str, mode: str, select: str
) -> tuple[list[sqlite3.Row], int | None, int | None]:
    cond = where.strip() if where and where.strip() else "1"
    base = f"FROM {from_sql} WHERE {cond}"
    order = _order_sql(order_by)
    db = call.store
    start = call.start if call.start is not None else 0
    if start < 0:
        rows = db.query(f"SELECT {select} {base}{order} LIMIT {PAGE_SIZE}", args)
        call.return_rows(len(rows))
        return rows, 0, None
    total = int(db.scalar(f"SELECT COUNT(*) {base}", args) or 0)
    call.count_rows(total)
    if mode == "exact":
        offset = start
    else:
        page = start // PAGE_SIZE + 1
        pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
        if page > pages:
            page = 1
        offset = (page - 1) * PAGE_SIZE
    rows = (
        db.query(f"SELECT {select} {base}{order} LIMIT {PAGE_SIZE} OFFSET {offset}", args)
        if offset < total
        else []
    )
    call.skip_rows(min(offset, total))
    call.return_rows(len(rows))
    if mode == "exact":
        end = offset + len(rows)
        nxt = end if end < total else None
    else:
        nxt = offset + PAGE_SIZE if offset + PAGE_SIZE < total else None
    return rows, total, nxt
