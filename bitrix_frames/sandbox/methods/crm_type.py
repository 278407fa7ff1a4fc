"""Smart-process settings: ``crm.type.{list,get,getByEntityTypeId,fields}`` (read-only).

Rows come from ``crm_type`` (seeded by ``seed_items``). ``crm.type.list`` pages by 50 like the other
ORM lists (exact offsets, ``start=-1`` without count), filters with the ORM operators and nested
``logic``, unknown filter/order fields -> 400 ``INVALID_ARG_VALUE``.

Example::

    METHODS["crm.type.list"](call, {"order": {"id": "DESC"}})   # Page({"types": [...]}, total)
"""

from __future__ import annotations

import sqlite3

from ..api import ApiError, Call, Page, method
from ..filters import Column
from ..listing import fetch_page
from ..values import fmt_datetime
from .crm_item import _dict_param, _order, _where
from .crm_item_model import TYPE_FLAGS, type_flags

_COLUMNS: dict[str, Column] = {
    "id": Column("t.id", "int"),
    "title": Column("t.title", "str"),
    "code": Column("t.code", "str"),
    "createdBy": Column("t.created_by", "int"),
    "entityTypeId": Column("t.entity_type_id", "int"),
    "updatedBy": Column("t.updated_by", "int"),
    "createdTime": Column("t.created_time", "datetime"),
    "updatedTime": Column("t.updated_time", "datetime"),
}
for _flag in TYPE_FLAGS:
    _COLUMNS[_flag] = Column(
        f"(CASE WHEN json_extract(t.flags, '$.{_flag}') THEN 'Y' ELSE 'N' END)", "yn"
    )


def type_row_json(call: Call, row: sqlite3.Row) -> dict:
    """A ``crm_type`` row in the documented ``type`` object format."""
    tz = call.config.tz
    return {
        "id": row["id"],
        "title": row["title"],
        "code": row["code"] or "",
        "createdBy": row["created_by"],
        "entityTypeId": row["entity_type_id"],
        "customSectionId": None,
        **type_flags(row),
        "createdTime": fmt_datetime(row["created_time"], tz),
        "updatedTime": fmt_datetime(row["updated_time"], tz),
        "updatedBy": row["updated_by"],
    }


@method("crm.type.list")
def type_list(call: Call, params: dict) -> Page:
    """``crm.type.list`` (``filter``, ``order``, ``start``) -> ``{"types": [...]}`` + total."""
    where, args = _where(_dict_param(params, "filter"), _COLUMNS, call.config.tz)
    order_by = _order(_dict_param(params, "order"), _COLUMNS) or "t.id ASC"
    rows, total, nxt = fetch_page(
        call,
        from_sql="crm_type t",
        where=where,
        args=args,
        order_by=f"{order_by}, t.id ASC",
        mode="exact",
        select="t.*",
    )
    return Page({"types": [type_row_json(call, r) for r in rows]}, total, nxt)


def _one(call: Call, column: str, raw: object, name: str, missing: str) -> dict:
    if raw is None or raw == "":
        raise ApiError(f"Could not find value for parameter {{{name}}}", "100")
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        value = -1
    rows = call.store.query(f"SELECT * FROM crm_type WHERE {column} = ?", (value,))
    if not rows:
        raise ApiError(missing, "0")  # the docs print "error": 0
    call.return_rows(1)
    return {"type": {**type_row_json(call, rows[0]), **_DETAILS}}


def _relation(etid: int, predefined: bool) -> dict:
    return {
        "entityTypeId": etid,
        "isChildrenListEnabled": "Y",
        "isPredefined": "Y" if predefined else "N",
    }


_DETAILS = {  # what get adds to the list row (docs sample): client links, linked user fields
    "relations": {
        "parent": [_relation(3, True), _relation(4, True)],
        "child": [],
    },
    "linkedUserFields": {
        "CALENDAR_EVENT|UF_CRM_CAL_EVENT": "N",
        "TASKS_TASK|UF_CRM_TASK": "Y",
        "TASKS_TASK_TEMPLATE|UF_CRM_TASK": "N",
    },
    "customSections": [],
}


@method("crm.type.get")
def type_get(call: Call, params: dict) -> dict:
    """``crm.type.get`` (``id`` = the type's id) -> ``{"type": {...}}``."""
    return _one(call, "id", params.get("id"), "id", "SPA not found")


@method("crm.type.getByEntityTypeId")
def type_get_by_entity_type_id(call: Call, params: dict) -> dict:
    """``crm.type.getByEntityTypeId`` (``entityTypeId``) -> ``{"type": {...}}``."""
    return _one(
        call,
        "entity_type_id",
        params.get("entityTypeId"),
        "entityTypeId",
        "Smart process not found",
    )


_TYPE_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("id", "ID", "integer", "r", "ID"),
    ("title", "TITLE", "string", "R", "Title"),
    ("code", "CODE", "string", "", "Symbolic Code"),
    ("createdBy", "CREATED_BY", "user", "r", "Created By"),
    ("entityTypeId", "ENTITY_TYPE_ID", "integer", "RI", "Type Identifier"),
    ("customSectionId", "CUSTOM_SECTION_ID", "integer", "I", "Digital Workspace"),
)


@method("crm.type.fields")
def type_fields(call: Call, params: dict) -> dict:
    """``crm.type.fields`` -> ``{"fields": {...}}`` (the settings' fields, not the items')."""
    rows = list(_TYPE_FIELDS)
    rows += [(flag, _upper(flag), "boolean", "", flag) for flag in TYPE_FLAGS]
    rows += [
        ("createdTime", "CREATED_TIME", "datetime", "", "Creation Date"),
        ("updatedTime", "UPDATED_TIME", "datetime", "", "Modification Date"),
        ("updatedBy", "UPDATED_BY", "user", "r", "Modified By"),
    ]
    out = {}
    for name, upper, ftype, flags, title in rows:
        out[name] = {
            "type": ftype,
            "isRequired": "R" in flags,
            "isReadOnly": "r" in flags,
            "isImmutable": "I" in flags,
            "isMultiple": False,
            "isDynamic": False,
            "title": title,
            "upperName": upper,
        }
    return {"fields": out}


def _upper(name: str) -> str:
    return "".join("_" + c if c.isupper() else c.upper() for c in name)
