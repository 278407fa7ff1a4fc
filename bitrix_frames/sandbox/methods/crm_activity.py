"""CRM activities: ``crm.activity.fields``, ``crm.activity.list``, ``crm.activity.get``.

Faithful to the docs (``crm/timeline/activities/activity-base/``) and the core's
``CCrmActivityRestProxy``: a legacy list (parameter names case-insensitive, every value a string,
ISO datetimes in the portal offset, ``SETTINGS``/``PROVIDER_PARAMS`` as ``[]`` when empty, 50-row
pages with ``start`` rounded down, ``start=-1`` without a count, unknown filter keys dropped),
default order ``START_TIME`` ascending. ``COMMUNICATIONS`` comes only when named in ``select``
(``["ID", "COMMUNICATIONS"]`` returns just those two keys, as in the docs' example); the filter key
``BINDINGS`` takes a list of ``{"OWNER_TYPE_ID": .., "OWNER_ID": ..}`` (either key alone allowed)
and keeps the activities bound to any of them (each activity once). ``crm.activity.get`` of an
unknown id: 400 ``Activity is not found.``.

Example::

    METHODS["crm.activity.list"](call, {"filter": {"OWNER_TYPE_ID": 2, ">ID": 100},
                                        "order": {"ID": "ASC"}, "select": ["*"]})
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..api import ApiError, Call, Page, method
from ..filters import Column, order_clause, where_clause
from ..listing import fetch_page
from ..seed_activities import COLUMNS
from ..values import fmt_datetime, fmt_decimal
from .crm import array_param, entity_id, param

# name, type, flags (q required, r read-only, I immutable, M multiple, d deprecated), title
_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("ID", "integer", "r", "ID"),
    ("OWNER_ID", "integer", "I", "Owner ID"),
    ("OWNER_TYPE_ID", "crm_enum_ownertype", "I", "Owner Type"),
    ("TYPE_ID", "crm_enum_activitytype", "qI", "Type"),
    ("PROVIDER_ID", "string", "", "Provider ID"),
    ("PROVIDER_TYPE_ID", "string", "", "Provider Type"),
    ("PROVIDER_GROUP_ID", "string", "", "Connector Type"),
    ("ASSOCIATED_ENTITY_ID", "integer", "r", "Associated Entity ID"),
    ("SUBJECT", "string", "q", "Subject"),
    ("START_TIME", "datetime", "", "Start"),
    ("END_TIME", "datetime", "", "Deadline"),
    ("DEADLINE", "datetime", "", "Execution Deadline"),
    ("COMPLETED", "char", "", "Completed"),
    ("STATUS", "crm_enum_activitystatus", "", "Status"),
    ("RESPONSIBLE_ID", "user", "q", "Responsible"),
    ("PRIORITY", "crm_enum_activitypriority", "", "Priority"),
    ("NOTIFY_TYPE", "crm_enum_activitynotifytype", "", "Notification Type"),
    ("NOTIFY_VALUE", "integer", "", "Notification Parameter"),
    ("DESCRIPTION", "string", "", "Description"),
    ("DESCRIPTION_TYPE", "crm_enum_contenttype", "", "Description Type"),
    ("DIRECTION", "crm_enum_activitydirection", "", "Direction"),
    ("LOCATION", "string", "", "Location"),
    ("CREATED", "datetime", "r", "Creation Date"),
    ("AUTHOR_ID", "user", "r", "Created By"),
    ("LAST_UPDATED", "datetime", "r", "Last Updated Date"),
    ("EDITOR_ID", "user", "r", "Edited By"),
    ("SETTINGS", "object", "", "Settings"),
    ("ORIGIN_ID", "string", "", "External Code"),
    ("ORIGINATOR_ID", "string", "", "External Source"),
    ("RESULT_STATUS", "integer", "", "RESULT_STATUS"),
    ("RESULT_STREAM", "integer", "", "RESULT_STREAM"),
    ("RESULT_SOURCE_ID", "string", "", "RESULT_SOURCE_ID"),
    ("PROVIDER_PARAMS", "object", "", "Provider Parameters"),
    ("PROVIDER_DATA", "string", "", "Provider Data"),
    ("RESULT_MARK", "integer", "", "RESULT_MARK"),
    ("RESULT_VALUE", "double", "", "RESULT_VALUE"),
    ("RESULT_SUM", "double", "", "RESULT_SUM"),
    ("RESULT_CURRENCY_ID", "string", "", "RESULT_CURRENCY_ID"),
    ("AUTOCOMPLETE_RULE", "integer", "", "Autocomplete"),
    ("BINDINGS", "crm_activity_binding", "rM", "Bindings"),
    ("COMMUNICATIONS", "crm_activity_communication", "qM", "Communication Channel"),
    ("FILES", "diskfile", "M", "Files"),
    ("WEBDAV_ELEMENTS", "diskfile", "Md", "Added Files"),
    ("IS_INCOMING_CHANNEL", "char", "r", "IS_INCOMING_CHANNEL"),
)
_TYPES = {name: ftype for name, ftype, _, _ in _FIELDS}
_KIND = {"datetime": "datetime", "char": "yn", "string": "str", "object": "str", "double": "float"}
_COLUMNS = {
    name: Column(f"a.{name}", _KIND.get(_TYPES[name], "int"))
    for name in (*COLUMNS, "IS_INCOMING_CHANNEL")
    if _TYPES[name] != "object"
}
_DEFAULT_KEYS = list(COLUMNS)  # the docs' list answer (IS_INCOMING_CHANNEL only when selected)
_EXTRA = ("COMMUNICATIONS", "FILES", "IS_INCOMING_CHANNEL")


def _value(name: str, value: Any, call: Call) -> Any:
    ftype = _TYPES[name]
    if ftype == "object":
        return json.loads(value) if value else []
    if value is None:
        return None
    if ftype == "datetime":
        return fmt_datetime(value, call.config.tz)
    if ftype == "double":
        return fmt_decimal(value)
    return str(value)


def _render(row: sqlite3.Row, keys: list[str], call: Call) -> dict:
    out: dict[str, Any] = {}
    for name in keys:
        if name == "COMMUNICATIONS":
            out[name] = json.loads(row[name]) if row[name] else []
        elif name == "FILES":
            out[name] = []
        else:
            out[name] = _value(name, row[name], call)
    return out


def _select(raw: Any) -> list[str]:
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    wanted = [str(x).strip().upper() for x in items if str(x).strip()]
    if not wanted:
        return list(_DEFAULT_KEYS)
    keys: list[str] = []
    for name in wanted:
        if name == "*":
            keys += _DEFAULT_KEYS
        elif name in _COLUMNS or name in _EXTRA:
            keys.append(name)
    if "ID" not in keys:
        keys.insert(0, "ID")
    return list(dict.fromkeys(keys))


def _bindings(value: Any, args: list) -> str | None:
    """SQL for the ``BINDINGS`` filter: bound to any of the given (type, id) pairs."""
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, list):
        return None
    ors = []
    for item in items:
        if not isinstance(item, dict):
            continue
        parts = []
        for key in ("OWNER_TYPE_ID", "OWNER_ID"):
            raw = next((v for k, v in item.items() if str(k).upper() == key), None)
            if raw is None:
                continue
            try:
                number = int(float(raw))
            except (TypeError, ValueError):
                number = 0
            parts.append(f"b.{key} = ?")
            args.append(number)
        if parts:
            ors.append("(" + " AND ".join(parts) + ")")
    if not ors:
        return None
    return (
        "EXISTS (SELECT 1 FROM crm_activity_binding b WHERE b.ACTIVITY_ID = a.ID AND ("
        + " OR ".join(ors)
        + "))"
    )


@method("crm.activity.fields")
def activity_fields(call: Call, params: dict) -> dict:
    out = {}
    for name, ftype, flags, title in _FIELDS:
        meta: dict[str, Any] = {
            "type": ftype,
            "isRequired": "q" in flags,
            "isReadOnly": "r" in flags,
            "isImmutable": "I" in flags,
            "isMultiple": "M" in flags,
            "isDynamic": False,
        }
        if "d" in flags:
            meta["isDeprecated"] = True
        meta["title"] = title
        out[name] = meta
    return out


@method("crm.activity.list")
def activity_list(call: Call, params: dict) -> Page:
    filt = dict(array_param(params, "filter"))
    order = array_param(params, "order")
    keys = _select(param(params, "select"))
    binding_filter = None
    for key in list(filt):
        if str(key).strip().upper() == "BINDINGS":
            binding_filter = filt.pop(key)
    where, args = where_clause(filt, _COLUMNS, call.config.tz)
    if binding_filter is not None:
        extra = _bindings(binding_filter, args)
        if extra:
            where = f"{where} AND {extra}"
    order_by = order_clause(order, _COLUMNS, "a.START_TIME ASC")
    if "a.ID " not in order_by:
        order_by += ", a.ID ASC"
    rows, total, nxt = fetch_page(
        call, from_sql="crm_activity a", where=where, args=args, order_by=order_by
    )
    return Page([_render(r, keys, call) for r in rows], total, nxt)


@method("crm.activity.get")
def activity_get(call: Call, params: dict) -> dict:
    act_id = entity_id(params)
    rows = call.store.query("SELECT * FROM crm_activity WHERE ID = ?", (act_id,))
    if not rows:
        raise ApiError("Activity is not found.")
    call.return_rows(1)
    return _render(rows[0], _DEFAULT_KEYS, call)
