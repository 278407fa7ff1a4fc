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
import re
import sqlite3
import uuid
from typing import Any

from .. import seed_tasks  # noqa: F401  (registers b_task, b_task_crm, b_task_tag)
from ..api import ApiError, Call, Page, method
from ..filters import Column, split_key, where_clause
from ..listing import fetch_page
from ..values import fmt_datetime, parse_datetime, php_str
from .crm_dicts import param

# (camelCase key, UPPER name, kind, column) in the order the real server writes a full task.
# kinds: int (string or null), str, yn, dt, json (list of id strings), const:<value>
FIELDS: list[tuple[str, str, str, str | None]] = [
    ("id", "ID", "int", "id"),
    ("parentId", "PARENT_ID", "int", "parent_id"),
    ("title", "TITLE", "str", "title"),
    ("description", "DESCRIPTION", "str", "description"),
    ("mark", "MARK", "str", "mark"),
    ("priority", "PRIORITY", "int", "priority"),
    ("multitask", "MULTITASK", "yn", "multitask"),
    ("notViewed", "NOT_VIEWED", "yn", "not_viewed"),
    ("replicate", "REPLICATE", "yn", "replicate"),
    ("stageId", "STAGE_ID", "int", "stage_id"),
    ("sprintId", "SPRINT_ID", "const:", None),  # Scrum: the sandbox has no sprints/backlogs
    ("backlogId", "BACKLOG_ID", "const:", None),
    ("createdBy", "CREATED_BY", "int", "created_by"),
    ("createdDate", "CREATED_DATE", "dt", "created_date"),
    ("responsibleId", "RESPONSIBLE_ID", "int", "responsible_id"),
    ("changedBy", "CHANGED_BY", "int", "changed_by"),
    ("changedDate", "CHANGED_DATE", "dt", "changed_date"),
    ("statusChangedBy", "STATUS_CHANGED_BY", "int", "status_changed_by"),
    ("closedBy", "CLOSED_BY", "int", "closed_by"),
    ("closedDate", "CLOSED_DATE", "dt", "closed_date"),
    ("activityDate", "ACTIVITY_DATE", "dt", "activity_date"),
    ("dateStart", "DATE_START", "dt", "date_start"),
    ("deadline", "DEADLINE", "dt", "deadline"),
    ("startDatePlan", "START_DATE_PLAN", "dt", "start_date_plan"),
    ("endDatePlan", "END_DATE_PLAN", "dt", "end_date_plan"),
    ("guid", "GUID", "str", "guid"),
    ("xmlId", "XML_ID", "str", "xml_id"),
    ("commentsCount", "COMMENTS_COUNT", "int", "comments_count"),
    ("serviceCommentsCount", "SERVICE_COMMENTS_COUNT", "int", "comments_count"),
    ("allowChangeDeadline", "ALLOW_CHANGE_DEADLINE", "yn", "allow_change_deadline"),
    ("allowTimeTracking", "ALLOW_TIME_TRACKING", "yn", "allow_time_tracking"),
    ("taskControl", "TASK_CONTROL", "yn", "task_control"),
    ("addInReport", "ADD_IN_REPORT", "yn", "add_in_report"),
    ("forkedByTemplateId", "FORKED_BY_TEMPLATE_ID", "const:", None),
    ("timeEstimate", "TIME_ESTIMATE", "int", "time_estimate"),
    ("timeSpentInLogs", "TIME_SPENT_IN_LOGS", "const:", None),
    ("matchWorkTime", "MATCH_WORK_TIME", "yn", "match_work_time"),
    ("forumTopicId", "FORUM_TOPIC_ID", "int", "forum_topic_id"),
    ("forumId", "FORUM_ID", "forum", "forum_topic_id"),
    ("siteId", "SITE_ID", "const:s1", None),
    ("subordinate", "SUBORDINATE", "const:Y", None),
    ("exchangeModified", "EXCHANGE_MODIFIED", "const:", None),
    ("exchangeId", "EXCHANGE_ID", "const:", None),
    ("outlookVersion", "OUTLOOK_VERSION", "int", "outlook_version"),
    ("viewedDate", "VIEWED_DATE", "dt", "viewed_date"),
    ("sorting", "SORTING", "const:", None),
    ("durationFact", "DURATION_FACT", "int", "duration_fact"),
    ("isMuted", "IS_MUTED", "yn", "is_muted"),
    ("isPinned", "IS_PINNED", "yn", "is_pinned"),
    ("isPinnedInGroup", "IS_PINNED_IN_GROUP", "const:N", None),
    ("flowId", "FLOW_ID", "const:", None),
    ("descriptionInBbcode", "DESCRIPTION", "const:Y", None),
    ("status", "STATUS", "int", "status"),
    ("statusChangedDate", "STATUS_CHANGED_DATE", "dt", "status_changed_date"),
    ("durationPlan", "DURATION_PLAN", "int", "duration_plan"),
    ("durationType", "DURATION_TYPE", "str", "duration_type"),
    ("favorite", "FAVORITE", "yn", "favorite"),
    ("groupId", "GROUP_ID", "int", "group_id"),
    ("auditors", "AUDITORS", "json", "auditors"),
    ("accomplices", "ACCOMPLICES", "json", "accomplices"),
    ("checklist", "CHECKLIST", "const:[]", None),
]
_UPPER_NAMES = {upper for _, upper, _, _ in FIELDS} | {
    "SUB_STATUS",
    "UF_CRM_TASK",
    "UF_TASK_WEBDAV_FILES",
    "UF_MAIL_MESSAGE",
    "TAGS",
    "COUNTERS",
    "NEW_COMMENTS_COUNT",
    "REAL_STATUS",
}
_DEFAULT_AVATAR = "/bitrix/images/tasks/default_avatar.png"

# --- errors -------------------------------------------------------------------------------------

NOT_ALLOWED = ("Action on the task is not allowed", "0")


def _core_error(messages: list[str]) -> ApiError:
    """ERROR_CORE with every message followed by ``<br>`` (the core joins them that way)."""
    return ApiError("".join(f"{m}<br>" for m in messages), "ERROR_CORE")


def _task_id(params: dict) -> int:
    raw = param(params, "taskId", "id")
    if raw is None or raw == "":
        raise ApiError(
            "CTaskItem All parameters in the constructor must have real class type"
            " (internal error)",
            "100",
        )
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ApiError("wrong task id", "0")
    return value


def _array_arg(params: dict, name: str) -> Any:
    value = param(params, name)
    if value is None:
        return None  # an empty string is no array either (tasks-task-get.md: "Invalid value {}")
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        raise ApiError(
            f"Invalid value {{{php_str(value)}}} to match with parameter {{{name}}}."
            " Should be value of type array. (internal error)",
            "100",
        )
    return value


# --- rendering ----------------------------------------------------------------------------------


def upper_name(name: str) -> str:
    """``subStatus`` -> ``SUB_STATUS``; UPPER names stay as they are.

    >>> upper_name("responsibleId"), upper_name("DEADLINE")
    ('RESPONSIBLE_ID', 'DEADLINE')
    """
    name = str(name).strip()
    if name.upper() == name:
        return name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _user_object(user: sqlite3.Row | None, uid: int) -> dict:
    if user is None:
        return {
            "id": str(uid),
            "name": "",
            "link": f"/company/personal/user/{uid}/",
            "icon": _DEFAULT_AVATAR,
            "workPosition": "",
        }
    name = " ".join(p for p in (user["name"], user["last_name"]) if p)
    return {
        "id": str(uid),
        "name": name,
        "link": f"/company/personal/user/{uid}/",
        "icon": user["personal_photo"] or _DEFAULT_AVATAR,
        "workPosition": user["work_position"] or "",
    }


class _Renderer:
    """Renders task rows of one call (users, CRM links and tags loaded once)."""

    def __init__(self, call: Call, rows: list[sqlite3.Row]) -> None:
        self.call = call
        self.tz = call.config.tz
        self.now = int(call.now().timestamp())
        self.users = {u["id"]: u for u in call.store.query("SELECT * FROM b_user")}
        ids = [r["id"] for r in rows]
        self.links: dict[int, list[str]] = {}
        self.tags: dict[int, dict[str, dict]] = {}
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            marks = ", ".join("?" * len(chunk))
            for link in call.store.query(
                f"SELECT task_id, code FROM b_task_crm WHERE task_id IN ({marks}) ORDER BY rowid",
                chunk,
            ):
                self.links.setdefault(link["task_id"], []).append(link["code"])
            for tag in call.store.query(
                f"SELECT id, task_id, name FROM b_task_tag WHERE task_id IN ({marks}) ORDER BY id",
                chunk,
            ):
                self.tags.setdefault(tag["task_id"], {})[str(tag["id"])] = {
                    "id": tag["id"],
                    "title": tag["name"],
                }

    def value(self, row: sqlite3.Row, kind: str, column: str | None) -> Any:
        if kind.startswith("const:"):
            const = kind[6:]
            return [] if const == "[]" else (const or None)
        raw = row[column]
        if kind == "int":
            return None if raw is None else str(raw)
        if kind == "forum":
            return None if raw is None else "11"
        if kind == "dt":
            return fmt_datetime(raw, self.tz)
        if kind == "json":
            return json.loads(raw or "[]")
        return raw

    def length_deadline(self, row: sqlite3.Row) -> str | None:
        """``lengthDeadline`` of a list row (tasks-task-list.md shows ``"1"``): whole days from
        creation to the deadline [I -- the docs do not define it]."""
        if row["deadline"] is None or row["created_date"] is None:
            return None
        return str(max(0, (row["deadline"] - row["created_date"]) // 86400))

    def overdue(self, row: sqlite3.Row) -> bool:
        return row["deadline"] is not None and row["deadline"] < self.now and row["status"] < 4

    def members(self, row: sqlite3.Row, column: str) -> dict | list:
        ids = json.loads(row[column] or "[]")
        return {i: _user_object(self.users.get(int(i)), int(i)) for i in ids} or []

    def action(self, row: sqlite3.Row) -> dict:
        status, fav = row["status"], row["favorite"] == "Y"
        is_open = status in (1, 2, 3)
        return {
            "accept": False,
            "decline": False,
            "complete": status in (1, 2, 3, 6),
            "approve": status == 4,
            "disapprove": status == 4,
            "start": status in (1, 2, 6),
            "pause": status == 3,
            "delegate": is_open,
            "remove": True,
            "edit": True,
            "defer": is_open,
            "renew": status in (4, 5, 6),
            "create": True,
            "changeDeadline": True,
            "checklistAddItems": True,
            "addFavorite": not fav,
            "deleteFavorite": fav,
            "rate": True,
            "take": False,
            "edit.originator": False,
            "checklist.reorder": True,
            "elapsedtime.add": True,
            "dayplan.timer.toggle": False,
            "edit.plan": True,
            "checklist.add": True,
            "favorite.add": not fav,
            "favorite.delete": fav,
        }

    def counter(self, row: sqlite3.Row) -> dict:
        expired = 1 if self.overdue(row) else 0
        return {
            "counters": {
                "expired": expired,
                "newComments": 0,
                "projectExpired": 0,
                "projectNewComments": 0,
                "mutedExpired": 0,
                "mutedNewComments": 0,
            },
            "color": "red" if expired else "gray",
            "value": expired,
        }

    def check_list_tree(self, node_id: bool) -> dict:
        tree = {
            "nodeId": 0,
            "fields": {
                "id": None,
                "copiedId": None,
                "entityId": None,
                "userId": self.call.user_id,
                "createdBy": None,
                "parentId": None,
                "title": "",
                "sortIndex": None,
                "displaySortIndex": "",
                "isComplete": False,
                "isImportant": False,
                "completedCount": 0,
                "members": [],
                "attachments": [],
            },
            "action": [],
            "descendants": [],
        }
        if node_id:  # present in update/complete answers, absent after add
            tree["fields"]["nodeId"] = None
        return tree

    def task(self, row: sqlite3.Row, select: set[str] | None, mode: str) -> dict:
        """One task. ``select`` None = every standard field; ``mode`` ``full`` | ``added`` (full,
        as ``add`` answers) | ``get`` | ``list``."""
        added = mode == "added"
        mode = "full" if added else mode
        out: dict[str, Any] = {}
        for camel, upper, kind, column in FIELDS:
            if select is None or upper in select:
                if mode == "list" and select is None and camel == "checklist":
                    continue
                out[camel] = self.value(row, kind, column)
        want = (lambda name: True) if select is None else (lambda name: name in select)
        if select is not None and select & _TASK_UFS:  # one selected UF brings all three (docs)
            out["ufCrmTask"] = self.links.get(row["id"]) or False
            out["ufTaskWebdavFiles"] = False
            out["ufMailMessage"] = None
        if mode == "get" and select is not None:  # always in a get answer (tasks-task-get.md)
            out.setdefault("descriptionInBbcode", "Y")
            out.setdefault("favorite", self.value(row, "yn", "favorite"))
        if mode == "list" and select is not None and "DEADLINE" in select:
            out["lengthDeadline"] = self.length_deadline(row)
        out["group"] = []
        if want("CREATED_BY"):
            out["creator"] = _user_object(self.users.get(row["created_by"]), row["created_by"])
        if want("RESPONSIBLE_ID"):
            uid = row["responsible_id"]
            out["responsible"] = _user_object(self.users.get(uid), uid)
        if want("ACCOMPLICES"):
            out["accomplicesData"] = self.members(row, "accomplices")
        if want("AUDITORS"):
            out["auditorsData"] = self.members(row, "auditors")
        if select is not None and "TAGS" in select:
            out["tags"] = self.tags.get(row["id"]) or []
        if select is not None and "COUNTERS" in select:
            out["counter"] = self.counter(row)
        if mode == "full" or (select is not None and "NEW_COMMENTS_COUNT" in select):
            out["newCommentsCount"] = 0
        if mode in ("full", "get"):
            out["action"] = self.action(row)
        if mode == "full":
            out["checkListTree"] = self.check_list_tree(node_id=not added)
            out["checkListCanAdd"] = True
        if (select is None and mode == "list") or (select is not None and "SUB_STATUS" in select):
            out["subStatus"] = "-1" if self.overdue(row) else str(row["status"])
        return out


_TASK_UFS = {"UF_CRM_TASK", "UF_TASK_WEBDAV_FILES", "UF_MAIL_MESSAGE"}


def _select(params: dict) -> set[str] | None:
    raw = _array_arg(params, "select")
    if not raw:
        return None
    names = list(raw.values()) if isinstance(raw, dict) else raw
    selected = {upper_name(n) for n in names}
    if "*" in selected:
        return None
    if "REAL_STATUS" in selected:
        selected.add("STATUS")
    selected.add("ID")
    return selected & _UPPER_NAMES


def _load(call: Call, task_id: int) -> sqlite3.Row | None:
    rows = call.store.query("SELECT * FROM b_task WHERE id = ?", (task_id,))
    return rows[0] if rows else None


def _render_one(call: Call, row: sqlite3.Row, select: set[str] | None, mode: str) -> dict:
    return _Renderer(call, [row]).task(row, select, mode)


# --- getFields / get / list ----------------------------------------------------------------------


@method("tasks.task.getFields")
def task_get_fields(call: Call, params: dict) -> dict:
    """``tasks.task.getFields``: ``{"fields": {UPPER_NAME: {title, type, ...}}}``."""
    return {"fields": json.loads(json.dumps(GET_FIELDS))}


@method("tasks.task.get")
def task_get(call: Call, params: dict) -> dict | list:
    """``tasks.task.get`` (``taskId``, ``select``): ``{"task": {...}}``, or ``[]`` when missing."""
    task_id = _task_id(params)
    select = _select(params)
    row = _load(call, task_id)
    if row is None:
        return []
    call.return_rows(1)
    return {"task": _render_one(call, row, select, "get" if select else "full")}


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
    flt = _array_arg(params, "filter") or {}
    if isinstance(flt, list):
        flt = {}
    order = _array_arg(params, "order")
    select = _select(params)
    where, args = _filter_sql(call, flt)
    rows, total, nxt = fetch_page(
        call, from_sql="b_task t", where=where, args=args, order_by=_order_sql(order)
    )
    renderer = _Renderer(call, rows)
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
        raise _core_error(errors)
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
        task_id = int(cur.lastrowid)
        _save_links(db, task_id, crm, tags)
    row = _load(call, task_id)
    assert row is not None
    return {"task": _render_one(call, row, None, "added")}


@method("tasks.task.update")
def task_update(call: Call, params: dict) -> dict:
    """``tasks.task.update`` (``taskId``, ``fields``) -> the full updated task."""
    task_id = _task_id(params)
    fields = _fields_param(params)
    row = _load(call, task_id)
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
        raise _core_error(errors)
    if values or crm is not None or tags is not None:
        now = int(call.now().timestamp())
        _status_side_effects(values, row["status"], call, now)
        values.update(changed_by=call.user_id, changed_date=now, activity_date=now)
        with call.store.transaction() as db:
            sets = ", ".join(f"{c} = ?" for c in values)
            db.execute(f"UPDATE b_task SET {sets} WHERE id = ?", [*values.values(), task_id])
            _save_links(db, task_id, crm, tags)
        row = _load(call, task_id)
        assert row is not None
    return {"task": _render_one(call, row, None, "full")}


@method("tasks.task.complete")
def task_complete(call: Call, params: dict) -> dict:
    """``tasks.task.complete``: status 5 with closedBy/closedDate; a completed or missing task
    gives ``"0"`` "Action on the task is not allowed"."""
    task_id = _task_id(params)
    row = _load(call, task_id)
    if row is None or row["status"] in (5, 7):
        raise ApiError(*NOT_ALLOWED)
    now = int(call.now().timestamp())
    values: dict[str, Any] = {"status": 5}
    _status_side_effects(values, row["status"], call, now)
    values.update(changed_by=call.user_id, changed_date=now, activity_date=now)
    with call.store.transaction() as db:
        sets = ", ".join(f"{c} = ?" for c in values)
        db.execute(f"UPDATE b_task SET {sets} WHERE id = ?", [*values.values(), task_id])
    row = _load(call, task_id)
    assert row is not None
    return {"task": _render_one(call, row, None, "full")}


@method("tasks.task.delete")
def task_delete(call: Call, params: dict) -> dict:
    """``tasks.task.delete`` -> ``{"task": true}``; a missing task gives ``"1048582"``."""
    task_id = _task_id(params)
    with call.store.transaction() as db:
        cur = db.execute("DELETE FROM b_task WHERE id = ?", (task_id,))
        if cur.rowcount == 0:
            raise ApiError("No access to delete the task", "1048582")
        db.execute("DELETE FROM b_task_crm WHERE task_id = ?", (task_id,))
        db.execute("DELETE FROM b_task_tag WHERE task_id = ?", (task_id,))
    return {"task": True}


# --- tasks.task.getFields (as the docs sample, without the portal custom UF) ---------------

_YES_NO = {"Y": "Yes", "N": "No"}
GET_FIELDS: dict[str, dict] = {
    "ID": {"title": "ID", "type": "integer", "primary": True},
    "PARENT_ID": {"title": "Base Task ID", "type": "integer", "default": 0},
    "TITLE": {"title": "Title", "type": "string", "required": True},
    "DESCRIPTION": {"title": "Description", "type": "string"},
    "MARK": {"title": "Rating", "type": "enum", "values": {"N": "Negative", "P": "Positive"}, "default": None},
    "PRIORITY": {"title": "Priority", "type": "enum", "values": {"2": "High", "1": "Medium", "0": "Low"}, "default": 1},
    "STATUS": {"title": "Status", "type": "enum", "values": {"2": "Pending", "3": "In Progress", "4": "Awaiting Review", "5": "Completed", "6": "Deferred"}, "default": 2},
    "MULTITASK": {"title": "Multitask", "type": "enum", "values": _YES_NO, "default": "N"},
    "NOT_VIEWED": {"title": None, "type": "enum", "values": _YES_NO, "default": "N"},
    "REPLICATE": {"title": "Recurring Task", "type": "enum", "values": _YES_NO, "default": "N"},
    "GROUP_ID": {"title": "Project", "type": "integer", "default": 0},
    "STAGE_ID": {"title": "Stage", "type": "integer", "default": 0},
    "SPRINT_ID": {"title": "Sprint", "type": "integer", "default": 0},
    "BACKLOG_ID": {"title": "Backlog", "type": "integer", "default": 0},
    "CREATED_BY": {"title": "Creator", "type": "integer", "required": True},
    "CREATED_DATE": {"title": None, "type": "datetime"},
    "RESPONSIBLE_ID": {"title": "Participant", "type": "integer", "required": True},
    "ACCOMPLICES": {"title": None, "type": "array"},
    "AUDITORS": {"title": None, "type": "array"},
    "CHANGED_BY": {"title": "Modified By", "type": "integer"},
    "CHANGED_DATE": {"title": "Modification Date", "type": "datetime"},
    "STATUS_CHANGED_BY": {"title": "Status Changed By", "type": "integer"},
    "STATUS_CHANGED_DATE": {"title": "Status Change Date", "type": "datetime"},
    "CLOSED_BY": {"title": "Closed By", "type": "integer", "default": None},
    "CLOSED_DATE": {"title": "Closure Date", "type": "datetime", "default": None},
    "ACTIVITY_DATE": {"title": None, "type": "datetime", "default": None},
    "DATE_START": {"title": "Start Date", "type": "datetime", "default": None},
    "DEADLINE": {"title": "Deadline", "type": "datetime", "default": None},
    "START_DATE_PLAN": {"title": "Planned Start", "type": "datetime", "default": None},
    "END_DATE_PLAN": {"title": "Planned Completion", "type": "datetime", "default": None},
    "GUID": {"title": "GUID", "type": "string", "default": None},
    "XML_ID": {"title": "XML_ID", "type": "string", "default": None},
    "COMMENTS_COUNT": {"title": "Number of Comments", "type": "integer", "default": 0},
    "SERVICE_COMMENTS_COUNT": {"title": None, "type": "integer", "default": 0},
    "NEW_COMMENTS_COUNT": {"title": None, "type": "integer", "default": 0},
    "ALLOW_CHANGE_DEADLINE": {"title": None, "type": "enum", "values": _YES_NO, "default": "N"},
    "ALLOW_TIME_TRACKING": {"title": None, "type": "enum", "values": _YES_NO, "default": "N"},
    "TASK_CONTROL": {"title": "Accept Work", "type": "enum", "values": _YES_NO, "default": "N"},
    "ADD_IN_REPORT": {"title": "Add to Report", "type": "enum", "values": _YES_NO, "default": "N"},
    "FORKED_BY_TEMPLATE_ID": {"title": "Created from Template", "type": "enum", "values": _YES_NO, "default": "N"},
    "TIME_ESTIMATE": {"title": "Estimated Time", "type": "integer"},
    "TIME_SPENT_IN_LOGS": {"title": "Time Spent from Change History", "type": "integer"},
    "MATCH_WORK_TIME": {"title": "Skip Weekends", "type": "integer"},
    "FORUM_TOPIC_ID": {"title": "FORUM_TOPIC_ID", "type": "integer"},
    "FORUM_ID": {"title": "FORUM_ID", "type": "integer"},
    "SITE_ID": {"title": "SITE_ID", "type": "string"},
    "SUBORDINATE": {"title": "Subordinate Task", "type": "enum", "values": _YES_NO, "default": None},
    "FAVORITE": {"title": None, "type": "enum", "values": _YES_NO, "default": None},
    "EXCHANGE_MODIFIED": {"title": "EXCHANGE_MODIFIED", "type": "datetime", "default": None},
    "EXCHANGE_ID": {"title": "EXCHANGE_ID", "type": "integer", "default": None},
    "OUTLOOK_VERSION": {"title": "OUTLOOK_VERSION", "type": "integer", "default": None},
    "VIEWED_DATE": {"title": "Last Viewed Date", "type": "datetime"},
    "SORTING": {"title": "Sorting Index", "type": "double"},
    "DURATION_PLAN": {"title": "Spent (planned)", "type": "integer"},
    "DURATION_FACT": {"title": "Spent (actual)", "type": "integer"},
    "CHECKLIST": {"title": None, "type": "array"},
    "DURATION_TYPE": {"title": "DURATION_TYPE", "type": "enum", "values": ["secs", "mins", "hours", "days", "weeks", "months", "years"], "default": "days"},
    "IS_MUTED": {"title": None, "type": "enum", "values": _YES_NO, "default": "N"},
    "IS_PINNED": {"title": None, "type": "enum", "values": _YES_NO, "default": "N"},
    "IS_PINNED_IN_GROUP": {"title": None, "type": "enum", "values": _YES_NO, "default": "N"},
    "FLOW_ID": {"title": "Flow", "type": "integer", "default": 0},
    "UF_CRM_TASK": {"title": "CRM Entities", "type": "crm"},
    "UF_TASK_WEBDAV_FILES": {"title": "Upload Files", "type": "disk_file"},
    "UF_MAIL_MESSAGE": {"title": None, "type": "mail_message"},
}  # fmt: skip
"""``tasks.task.getFields`` result: UPPER name -> {title, type, [primary|required|default|values]}."""
