"""Tasks: ``tasks.task.{getFields,add,get,list,update,complete,delete}`` (PROTOCOL §15).

Input names are UPPER_SNAKE (``fields``, ``select``, ``filter``, ``order``), output keys camelCase
under ``result.task`` / ``result.tasks``; nearly every value is a string, datetimes are ISO with the
portal offset or ``null``, flags ``"Y"``/``"N"``. Errors use the codes of the real server: ``"0"``,
``"100"``, ``ERROR_CORE`` (messages joined and ended by ``<br>``) and ``"1048582"``.

Example::

    METHODS["tasks.task.add"](call, {"fields": {"TITLE": "Call", "RESPONSIBLE_ID": 1}})
    # {"task": {"id": "31", "title": "Call", "status": "2", ...}}
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from ..api import ApiError, Call, method
from ..values import parse_datetime, php_str
from .crm_dicts import param
from .tasks_fields import GET_FIELDS
from .tasks_params import NOT_ALLOWED, core_error, parse_task_id
from .tasks_render import load_task, render_one, select_param, upper_name

# --- getFields / get / list ----------------------------------------------------------------------


@method("tasks.task.getFields")
def task_get_fields(call: Call, params: dict) -> dict:
    """``tasks.task.getFields``: ``{"fields": {UPPER_NAME: {title, type, ...}}}``."""
    return {"fields": json.loads(json.dumps(GET_FIELDS))}


@method("tasks.task.get")
def task_get(call: Call, params: dict) -> dict | list:
    """``tasks.task.get`` (``taskId``, ``select``): ``{"task": {...}}``, or ``[]`` when missing."""
    task_id = parse_task_id(params)
    select = select_param(params)
    row = load_task(call, task_id)
    if row is None:
        return []
    call.return_rows(1)
    return {"task": render_one(call, row, select, "get" if select else "full")}


# --- writes -------------------------------------------------------------------------------------

_WRITABLE = {
    "TITLE": ("title", "str"),
    "DESCRIPTION": ("description", "str"),
    "PRIORITY": ("priority", "int"),
    "STATUS": ("status", "int"),
    "PARENT_ID": ("parent_id", "int"),
    "GROUP_ID": ("group_id", "int"),
    "STAGE_ID": ("stage_id", "int"),
    "CREATED_BY": ("created_by", "int"),
    "RESPONSIBLE_ID": ("responsible_id", "int"),
    "MARK": ("mark", "mark"),
    "DEADLINE": ("deadline", "dt"),
    "START_DATE_PLAN": ("start_date_plan", "dt"),
    "END_DATE_PLAN": ("end_date_plan", "dt"),
    "DATE_START": ("date_start", "dt"),
    "ALLOW_CHANGE_DEADLINE": ("allow_change_deadline", "yn"),
    "ALLOW_TIME_TRACKING": ("allow_time_tracking", "yn"),
    "TASK_CONTROL": ("task_control", "yn"),
    "ADD_IN_REPORT": ("add_in_report", "yn"),
    "MATCH_WORK_TIME": ("match_work_time", "yn"),
    "MULTITASK": ("multitask", "yn"),
    "REPLICATE": ("replicate", "yn"),
    "TIME_ESTIMATE": ("time_estimate", "int"),
    "DURATION_PLAN": ("duration_plan", "int"),
    "DURATION_TYPE": ("duration_type", "str"),
    "XML_ID": ("xml_id", "str"),
    "AUDITORS": ("auditors", "ids"),
    "ACCOMPLICES": ("accomplices", "ids"),
}
_YES = {"Y", "1", "TRUE"}
_DURATION_TYPES = {"secs", "mins", "hours", "days", "weeks", "months", "years"}


def _as_list(value: Any) -> list:
    if value is None or value == "" or value is False:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [value]


def _parse_fields(
    call: Call, fields: dict
) -> tuple[dict, list[str], list[str] | None, list | None]:
    """Client ``fields`` -> (column values, ERROR_CORE messages, CRM codes or None, tags or None)."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    crm = tags = None
    tz = call.config.tz
    for raw_key, raw in fields.items():
        key = upper_name(str(raw_key))
        if key == "UF_CRM_TASK":
            crm = [str(c) for c in _as_list(raw) if str(c).strip()]
            continue
        if key == "TAGS":
            items = raw.split(",") if isinstance(raw, str) else _as_list(raw)
            tags = [str(t).strip() for t in items if str(t).strip()]
            continue
        if key not in _WRITABLE:
            continue  # unknown / read-only fields are ignored
        column, kind = _WRITABLE[key]
        try:
            if kind == "int":
                value: Any = None if raw in (None, "") else int(float(raw))
            elif kind == "dt":
                value = parse_datetime(raw, tz)
            elif kind == "yn":
                value = "Y" if str(raw).strip().upper() in _YES or raw is True else "N"
            elif kind == "ids":
                value = json.dumps([str(int(float(i))) for i in _as_list(raw)])
            elif kind == "mark":
                value = str(raw).upper() if str(raw).upper() in ("P", "N") else None
            else:
                value = "" if raw is None else str(raw)
        except (TypeError, ValueError):
            errors.append(f"Invalid value of the field {key}")
            continue
        values[column] = value
    if "status" in values:
        if values["status"] == 1:
            values["status"] = 2
        if values["status"] not in (2, 3, 4, 5, 6, 7):
            errors.append("Incorrect status")
    if "duration_type" in values and values["duration_type"] not in _DURATION_TYPES:
        values["duration_type"] = "days"
    return values, errors, crm, tags


def _check_parent(call: Call, task_id: int | None, values: dict, errors: list[str]) -> None:
    """PARENT_ID: an existing task, never the task itself nor one of its subtasks (docs)."""
    parent = values.get("parent_id")
    if not parent:
        return
    if parent == task_id:
        errors.append("Cannot bind the node to itself")
    elif not call.store.scalar("SELECT 1 FROM b_task WHERE id = ?", (parent,)):
        errors.append('The task specified in the "Parent Task" field was not found')
    elif task_id is not None:
        seen, node = set(), parent
        while node and node not in seen:  # walk up from the new parent; meeting us is a cycle
            if node == task_id:
                errors.append("Creating cyclic links in tasks is prohibited")
                break
            seen.add(node)
            node = call.store.scalar("SELECT parent_id FROM b_task WHERE id = ?", (node,))


def _check_users(call: Call, values: dict, errors: list[str]) -> None:
    def exists(uid: Any) -> bool:
        return bool(call.store.scalar("SELECT 1 FROM b_user WHERE id = ?", (uid,)))

    if "responsible_id" in values and not exists(values["responsible_id"]):
        errors.append('User specified in the "Responsible" field not found')
    if "created_by" in values and not exists(values["created_by"]):
        errors.append('User specified in the "Creator" field not found')


def _status_side_effects(values: dict, old_status: int | None, call: Call, now: int) -> None:
    """Status change bookkeeping: who/when changed it; closing fields on 4/5, cleared otherwise."""
    new = values.get("status")
    if new is None or new == old_status:
        return
    values["status_changed_by"] = call.user_id
    values["status_changed_date"] = now
    if new in (4, 5):
        values["closed_by"] = call.user_id
        values["closed_date"] = now
    else:
        values["closed_by"] = None
        values["closed_date"] = None
    if new == 3:
        values.setdefault("date_start", now)


def _save_links(db: sqlite3.Connection, task_id: int, crm: list | None, tags: list | None) -> None:
    if crm is not None:
        db.execute("DELETE FROM b_task_crm WHERE task_id = ?", (task_id,))
        db.executemany(
            "INSERT INTO b_task_crm (task_id, code) VALUES (?, ?)", [(task_id, c) for c in crm]
        )
    if tags is not None:
        db.execute("DELETE FROM b_task_tag WHERE task_id = ?", (task_id,))
        db.executemany(
            "INSERT INTO b_task_tag (task_id, name) VALUES (?, ?)", [(task_id, t) for t in tags]
        )


def _fields_param(params: dict) -> dict:
    fields = param(params, "fields")
    if fields is None or fields == "":
        raise ApiError("Could not find value for parameter {fields} (internal error)", "100")
    if isinstance(fields, list):
        fields = {str(i): v for i, v in enumerate(fields)}
    if not isinstance(fields, dict):
        raise ApiError(
            f"Invalid value {{{php_str(fields)}}} to match with parameter {{fields}}."
            " Should be value of type array. (internal error)",
            "100",
        )
    return fields


@method("tasks.task.add")
def task_add(call: Call, params: dict) -> dict:
    """``tasks.task.add`` (``fields`` with ``TITLE`` and ``RESPONSIBLE_ID``) -> the full task."""
    fields = _fields_param(params)
    values, errors, crm, tags = _parse_fields(call, fields)
    if not str(values.get("title") or "").strip():
        errors.insert(0, "Task title is not specified")
    if values.get("responsible_id") is None:
        values.pop("responsible_id", None)
        errors.append("Responsible person not specified")
    _check_users(call, values, errors)
    _check_parent(call, None, values, errors)
    if errors:
        raise core_error(errors)
    now = int(call.now().timestamp())
    values.setdefault("created_by", call.user_id)
    values.setdefault("status", 2)
    values.update(
        created_date=now,
        changed_by=call.user_id,
        changed_date=now,
        activity_date=now,
        status_changed_date=now,
        guid="{" + str(uuid.uuid4()) + "}",
    )
    if values["status"] in (4, 5):
        values.update(closed_by=call.user_id, closed_date=now, status_changed_by=call.user_id)
    with call.store.transaction() as db:
        cols = ", ".join(values)
        cur = db.execute(
            f"INSERT INTO b_task ({cols}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
        task_id = int(cur.lastrowid or 0)
        _save_links(db, task_id, crm, tags)
    row = load_task(call, task_id)
    assert row is not None
    return {"task": render_one(call, row, None, "added")}


@method("tasks.task.update")
def task_update(call: Call, params: dict) -> dict:
    """``tasks.task.update`` (``taskId``, ``fields``) -> the full updated task."""
    task_id = parse_task_id(params)
    fields = _fields_param(params)
    row = load_task(call, task_id)
    if row is None:
        raise ApiError(*NOT_ALLOWED)
    values, errors, crm, tags = _parse_fields(call, fields)
    if "title" in values and not str(values["title"]).strip():
        errors.insert(0, "Task title is not specified")
    if "responsible_id" in values and values["responsible_id"] is None:
        values.pop("responsible_id")
        errors.append("Responsible person not specified")
    _check_users(call, values, errors)
    _check_parent(call, task_id, values, errors)
    if errors:
        raise core_error(errors)
    if values or crm is not None or tags is not None:
        now = int(call.now().timestamp())
        _status_side_effects(values, row["status"], call, now)
        values.update(changed_by=call.user_id, changed_date=now, activity_date=now)
        with call.store.transaction() as db:
            sets = ", ".join(f"{c} = ?" for c in values)
            db.execute(f"UPDATE b_task SET {sets} WHERE id = ?", [*values.values(), task_id])
            _save_links(db, task_id, crm, tags)
        row = load_task(call, task_id)
        assert row is not None
    return {"task": render_one(call, row, None, "full")}


@method("tasks.task.complete")
def task_complete(call: Call, params: dict) -> dict:
    """``tasks.task.complete``: status 5 with closedBy/closedDate; a completed or missing task
    gives ``"0"`` "Action on the task is not allowed"."""
    task_id = parse_task_id(params)
    row = load_task(call, task_id)
    if row is None or row["status"] in (5, 7):
        raise ApiError(*NOT_ALLOWED)
    now = int(call.now().timestamp())
    values: dict[str, Any] = {"status": 5}
    _status_side_effects(values, row["status"], call, now)
    values.update(changed_by=call.user_id, changed_date=now, activity_date=now)
    with call.store.transaction() as db:
        sets = ", ".join(f"{c} = ?" for c in values)
        db.execute(f"UPDATE b_task SET {sets} WHERE id = ?", [*values.values(), task_id])
    row = load_task(call, task_id)
    assert row is not None
    return {"task": render_one(call, row, None, "full")}


@method("tasks.task.delete")
def task_delete(call: Call, params: dict) -> dict:
    """``tasks.task.delete`` -> ``{"task": true}``; a missing task gives ``"1048582"``."""
    task_id = parse_task_id(params)
    with call.store.transaction() as db:
        cur = db.execute("DELETE FROM b_task WHERE id = ?", (task_id,))
        if cur.rowcount == 0:
            raise ApiError("No access to delete the task", "1048582")
        db.execute("DELETE FROM b_task_crm WHERE task_id = ?", (task_id,))
        db.execute("DELETE FROM b_task_tag WHERE task_id = ?", (task_id,))
    return {"task": True}
