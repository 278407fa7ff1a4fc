"""``tasks.task.list``: filters (with the multi-valued and meta-status keys), order, paging."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..api import ApiError, Call, Page, method
from ..filters import Column, split_key, where_clause
from ..listing import fetch_page
from .crm_dicts import param
from .tasks_params import array_arg
from .tasks_render import Renderer, select_param, upper_name

_MULTI = {
    "ACCOMPLICE": Column("t.accomplices", "int", each_sql="SELECT CAST(value AS INTEGER) AS value FROM json_each(t.accomplices)"),
    "AUDITOR": Column("t.auditors", "int", each_sql="SELECT CAST(value AS INTEGER) AS value FROM json_each(t.auditors)"),
    "TAG": Column("t.id", "str", each_sql="SELECT name AS value FROM b_task_tag g WHERE g.task_id = t.id"),
    "UF_CRM_TASK": Column("t.id", "str", each_sql="SELECT code AS value FROM b_task_crm c WHERE c.task_id = t.id"),
}  # fmt: skip
COLUMNS: dict[str, Column] = {
    "ID": Column("t.id", "int"),
    "PARENT_ID": Column("t.parent_id", "int"),
    "GROUP_ID": Column("t.group_id", "int"),
    "CREATED_BY": Column("t.created_by", "int"),
    "STATUS_CHANGED_BY": Column("t.status_changed_by", "int"),
    "CHANGED_BY": Column("t.changed_by", "int"),
    "CLOSED_BY": Column("t.closed_by", "int"),
    "PRIORITY": Column("t.priority", "int"),
    "FORUM_TOPIC_ID": Column("t.forum_topic_id", "int"),
    "RESPONSIBLE_ID": Column("t.responsible_id", "int"),
    "TITLE": Column("t.title", "str"),
    "DESCRIPTION": Column("t.description", "str"),
    "REAL_STATUS": Column("t.status", "int"),
    "MARK": Column("t.mark", "str"),
    "SITE_ID": Column("'s1'", "str"),
    "ADD_IN_REPORT": Column("t.add_in_report", "yn"),
    "TASK_CONTROL": Column("t.task_control", "yn"),
    "FAVORITE": Column("t.favorite", "yn"),
    "NOT_VIEWED": Column("t.not_viewed", "yn"),
    "MULTITASK": Column("t.multitask", "yn"),
    "DATE_START": Column("t.date_start", "datetime"),
    "DEADLINE": Column("t.deadline", "datetime"),
    "CREATED_DATE": Column("t.created_date", "datetime"),
    "CLOSED_DATE": Column("t.closed_date", "datetime"),
    "CHANGED_DATE": Column("t.changed_date", "datetime"),
    "ACTIVITY_DATE": Column("t.activity_date", "datetime"),
    "STATUS_CHANGED_DATE": Column("t.status_changed_date", "datetime"),
    "START_DATE_PLAN": Column("t.start_date_plan", "datetime"),
    "END_DATE_PLAN": Column("t.end_date_plan", "datetime"),
    "STAGE_ID": Column("t.stage_id", "int"),
    "TIME_ESTIMATE": Column("t.time_estimate", "int"),
    "GUID": Column("t.guid", "str"),
    **_MULTI,
}
SORTABLE = {
    "ID": "t.id",
    "TITLE": "t.title",
    "DEADLINE": "t.deadline",
    "CREATED_DATE": "t.created_date",
    "CHANGED_DATE": "t.changed_date",
    "CLOSED_DATE": "t.closed_date",
    "ACTIVITY_DATE": "t.activity_date",
    "STATUS_CHANGED_DATE": "t.status_changed_date",
    "DATE_START": "t.date_start",
    "START_DATE_PLAN": "t.start_date_plan",
    "END_DATE_PLAN": "t.end_date_plan",
    "PRIORITY": "t.priority",
    "REAL_STATUS": "t.status",
    "STATUS": "t.status",
    "RESPONSIBLE_ID": "t.responsible_id",
    "CREATED_BY": "t.created_by",
    "GROUP_ID": "t.group_id",
    "MARK": "t.mark",
    "TIME_ESTIMATE": "t.time_estimate",
    "SORTING": "t.id",
}


def _meta_status_sql(value: Any, now: int, args: list) -> str:
    """SQL for one ``STATUS`` value: meta statuses -1/-2/-3 or a real status."""
    try:
        status = int(value)
    except (TypeError, ValueError):
        return "0"
    if status == -1:
        args.append(now)
        return "(t.deadline IS NOT NULL AND t.deadline < ? AND t.status IN (1, 2, 3))"
    if status == -2:
        return "(t.not_viewed = 'Y' AND t.status IN (1, 2))"
    if status == -3:
        args.extend([now, now + 86400])
        return "(t.deadline >= ? AND t.deadline < ? AND t.status IN (1, 2, 3))"
    args.append(status)
    return "t.status = ?"


def _filter_sql(call: Call, flt: dict) -> tuple[str, list]:
    """STATUS (meta statuses), unprefixed TITLE (a LIKE pattern) and ONLY_ROOT_TASKS by hand;
    ``::SUBFILTER-PARAMS`` merged in; the rest through the shared list engine (unknown keys drop)."""
    now = int(call.now().timestamp())
    rest: dict = {}
    conds: list[str] = []
    args: list = []
    items = list(flt.items())
    for key, value in items:
        if str(key).upper() == "::SUBFILTER-PARAMS" and isinstance(value, dict):
            items.extend(value.items())
    for raw_key, value in items:
        key = str(raw_key).strip()
        if key.startswith("::"):
            continue
        op, name = split_key(key, "tasks")
        name = upper_name(name)
        if name == "STATUS" and op in ("", "=", "!", "!=", "@", "!@"):
            values = list(value.values()) if isinstance(value, dict) else value
            values = values if isinstance(values, list) else [values]
            part_args: list = []
            parts = [_meta_status_sql(v, now, part_args) for v in values] or ["0"]
            sql = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
            conds.append(f"NOT {sql}" if op.startswith("!") else sql)
            args.extend(part_args)
        elif name == "STATUS":
            rest[f"{op}REAL_STATUS"] = value
        elif name == "TITLE" and op == "":  # a plain TITLE is a LIKE pattern (% and _)
            sql, like_args = where_clause(
                {"=%TITLE": value}, COLUMNS, call.config.tz, dialect="orm"
            )
            conds.append(sql)
            args.extend(like_args)
        elif name == "ONLY_ROOT_TASKS":
            if str(value).upper() == "Y":
                conds.append("(t.parent_id IS NULL OR t.parent_id = 0)")
        else:
            rest[f"{op}{name}"] = value
    where, rest_args = where_clause(rest, COLUMNS, call.config.tz, dialect="tasks")
    return " AND ".join([where, *conds]), rest_args + args


def _order_sql(order: dict | list | None) -> str:
    if not order:
        return "t.id DESC"
    items = order.items() if isinstance(order, dict) else enumerate(order)
    parts = []
    for key, direction in items:
        sql = SORTABLE.get(upper_name(str(key)))
        if sql is None:
            raise ApiError("Invalid sorting key (internal error)", "0")
        word = "DESC" if str(direction).strip().upper() == "DESC" else "ASC"
        parts.append(f"{sql} {word}")
    return ", ".join(parts) + ", t.id DESC"


@method("tasks.task.list")
def task_list(call: Call, params: dict) -> Page:
    """``tasks.task.list``: ``{"tasks": [...]}`` + ``total``/``next`` (default order ID desc)."""
    flt = array_arg(params, "filter") or {}
    if isinstance(flt, list):
        flt = {}
    order = array_arg(params, "order")
    select = select_param(params)
    where, args = _filter_sql(call, flt)
    rows, total, nxt = fetch_page(
        call, from_sql="b_task t", where=where, args=args, order_by=_order_sql(order)
    )
    renderer = Renderer(call, rows)
    options = param(params, "params")
    tasks = [renderer.task(r, select, "list") for r in rows]
    if isinstance(options, dict) and options:
        for task, row in zip(tasks, rows, strict=True):
            _add_list_options(task, row, {str(k).upper() for k, v in options.items() if v})
    return Page({"tasks": tasks}, total, nxt)


def _add_list_options(task: dict, row: sqlite3.Row, options: set[str]) -> None:
    """Keys added by ``params`` (``WITH_RESULT_INFO``, ``WITH_TIMER_INFO``,
    ``WITH_PARSED_DESCRIPTION``); the sandbox has no task results nor timers."""
    if "WITH_RESULT_INFO" in options:
        task.update(taskRequireResult="N", taskHasOpenResult="N", taskHasResult="N")
    if "WITH_TIMER_INFO" in options:
        task.update(timeElapsed=None, timerIsRunningForCurrentUser="N")
    if "WITH_PARSED_DESCRIPTION" in options:
        task["parsedDescription"] = row["description"]
