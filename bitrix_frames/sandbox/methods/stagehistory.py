"""``crm.stagehistory.list``: stage moves of leads (1), deals (2), old invoices (5), new invoices
(31) and smart processes (``crm-stage-history-list.md``).

``{"result": {"items": [...]}, "total": N, "next": M}``; ID, TYPE_ID, OWNER_ID and CATEGORY_ID are
ints, CREATED_TIME an ISO datetime in the portal offset. Leads and old invoices carry
``STATUS_SEMANTIC_ID``/``STATUS_ID``, the others ``CATEGORY_ID``/``STAGE_SEMANTIC_ID``/``STAGE_ID``.
The sandbox has no invoices: 5 and 31 answer an empty list. Filter operators are the ORM's
(``>=``, ``@``, ``!@``, ``%``, ``=%``, ``!=``...); a field the docs do not list, a bad value or a bad
order gives ``INVALID_ARG_VALUE`` with the documented wording.

Choices where the docs are silent: an unknown or missing ``entityTypeId`` gives 400
``ENTITY_TYPE_NOT_SUPPORTED`` ``Entity type <NAME> is not supported`` (the core's
``ErrorCode::getEntityTypeNotSupportedError``: the name is ``CCrmOwnerType::ResolveName``, empty
for 0); ``start`` is an exact offset (D7 list) and ``start=-1`` skips the count (``total`` 0, no
``next``); unknown ``select`` names are dropped; rows without an ``order`` come in ID order.

Example::

    page = METHODS["crm.stagehistory.list"](call, {"entityTypeId": 2, "filter": {"OWNER_ID": 1}})
    page.result["items"][0]["TYPE_ID"]      # 1 (created)
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import history  # noqa: F401  (registers the history table)
from ..api import ApiError, Call, Page, method
from ..filters import Column, where_clause
from ..listing import fetch_page
from ..values import fmt_datetime

_OWNER_TYPES = {
    1: "LEAD",
    2: "DEAL",
    3: "CONTACT",
    4: "COMPANY",
    5: "INVOICE",
    6: "ACTIVITY",
    7: "QUOTE",
    8: "REQUISITE",
    9: "DEAL_CATEGORY",
    10: "CUSTOM_ACTIVITY_TYPE",
    11: "WAIT",
    12: "CALL_LIST",
    13: "DEAL_RECURRING",
    14: "ORDER",
    15: "ORDER_CHECK",
    16: "ORDER_SHIPMENT",
    17: "ORDER_PAYMENT",
    18: "INVOICE_RECURRING",
    19: "STORE_DOCUMENT",
    20: "SHIPMENT_DOCUMENT",
    21: "AGENT_CONTRACT_DOCUMENT",
    31: "SMART_INVOICE",
    32: "SMART_DOCUMENT",
    36: "SMART_B2E_DOC",
}
"""``CCrmOwnerType`` names, for the error text."""

_STATUS_TYPES = (1, 5)
"""Types whose entries name the stage STATUS_ID / STATUS_SEMANTIC_ID (no pipeline)."""
_EMPTY_TYPES = (5, 31)
"""Supported types the sandbox has no records of."""


def _columns(status_style: bool) -> dict[str, Column]:
    stage, semantic = (
        ("STATUS_ID", "STATUS_SEMANTIC_ID") if status_style else ("STAGE_ID", "STAGE_SEMANTIC_ID")
    )
    cols = {
        "ID": Column("h.ID", "int"),
        "TYPE_ID": Column("h.TYPE_ID", "int"),
        "OWNER_ID": Column("h.OWNER_ID", "int"),
        "CREATED_TIME": Column("h.CREATED_TIME", "datetime"),
    }
    if not status_style:
        cols["CATEGORY_ID"] = Column("h.CATEGORY_ID", "int")
    cols[semantic] = Column("h.STAGE_SEMANTIC_ID", "str")
    cols[stage] = Column("h.STAGE_ID", "str")
    return cols


def _dynamic_types(store: Any) -> set[int]:
    try:
        rows = store.query("SELECT entity_type_id FROM crm_type")
    except sqlite3.OperationalError:  # no smart processes in this sandbox
        return set()
    return {int(r[0]) for r in rows if r[0] is not None}


def _entity_type(call: Call, params: dict) -> int:
    raw = next((v for k, v in params.items() if str(k).lower() == "entitytypeid"), None)
    try:
        value = int(float(raw)) if raw not in (None, "") and not isinstance(raw, bool) else 0
    except (TypeError, ValueError):
        value = 0
    if value in (1, 2, *_EMPTY_TYPES) or value in _dynamic_types(call.store):
        return value
    name = _OWNER_TYPES.get(value, f"DYNAMIC_{value}" if value >= 128 else "")
    raise ApiError(f"Entity type {name} is not supported", "ENTITY_TYPE_NOT_SUPPORTED")


def _mapping(params: dict, name: str) -> dict:
    value = next((v for k, v in params.items() if str(k).lower() == name), None)
    if value in (None, ""):
        return {}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise ApiError(f"Invalid {name}", "INVALID_ARG_VALUE")
    return value


def _order(order: dict, cols: dict[str, Column]) -> str:
    parts = []
    for raw_key, raw_dir in order.items():
        key = str(raw_key).strip()
        col = cols.get(key) or cols.get(key.upper())
        if col is None:
            raise ApiError(
                f"Invalid order: field '{key}' is not allowed in order", "INVALID_ARG_VALUE"
            )
        direction = str(raw_dir).strip().upper()
        if direction not in ("ASC", "DESC"):
            raise ApiError(
                "Invalid order: allowed sort directions are ASC, DESC. "
                f"But got '{raw_dir}' for field '{key}'",
                "INVALID_ARG_VALUE",
            )
        parts.append(f"{col.sql} {direction}")
    if "h.ID ASC" not in parts and "h.ID DESC" not in parts:
        parts.append("h.ID ASC")
    return ", ".join(parts)


def _select(raw: Any, cols: dict[str, Column]) -> list[str]:
    if isinstance(raw, dict):
        raw = list(raw.values())
    items = [str(x).strip() for x in raw] if isinstance(raw, list) else []
    out: list[str] = []
    for item in items:
        if item == "*":
            out.extend(cols)
        elif item in cols or item.upper() in cols:
            out.append(item if item in cols else item.upper())
    return list(dict.fromkeys(out)) or list(cols)


def _render(row: sqlite3.Row, keys: list[str], cols: dict[str, Column], call: Call) -> dict:
    out: dict[str, Any] = {}
    for key in keys:
        column = cols[key].sql.removeprefix("h.")
        value = row[column]
        if key == "CREATED_TIME":
            value = fmt_datetime(value, call.config.tz)
        out[key] = value
    return out


@method("crm.stagehistory.list")
def stagehistory_list(call: Call, params: dict) -> Page:
    """``crm.stagehistory.list`` -> ``{"items": [...]}`` with ``total`` / ``next``."""
    etype = _entity_type(call, params)
    cols = _columns(etype in _STATUS_TYPES)
    filt = _mapping(params, "filter")
    order = _mapping(params, "order")
    keys = _select(next((v for k, v in params.items() if str(k).lower() == "select"), None), cols)
    where, args = where_clause(filt, cols, call.config.tz, strict=True, dialect="orm")
    order_by = _order(order, cols)
    rows, total, nxt = fetch_page(
        call,
        from_sql="crm_stage_history h",
        where=f"h.ENTITY_TYPE_ID = ? AND ({where})",
        args=[etype, *args],
        order_by=order_by,
        mode="exact",
        select="h.*",
    )
    return Page({"items": [_render(r, keys, cols, call) for r in rows]}, total, nxt)
