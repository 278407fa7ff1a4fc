"""A stored task -> the camelCase object ``tasks.task.get``/``list``/``add`` return (PROTOCOL §15)."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from ..api import Call
from ..values import fmt_datetime
from .tasks_fields import FIELDS, UPPER_NAMES
from .tasks_params import array_arg

_DEFAULT_AVATAR = "/bitrix/images/tasks/default_avatar.png"

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


class Renderer:
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
        raw = row[column] if column is not None else None
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
        tree: dict[str, Any] = {
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


def select_param(params: dict) -> set[str] | None:
    raw = array_arg(params, "select")
    if not raw:
        return None
    names = list(raw.values()) if isinstance(raw, dict) else raw
    selected = {upper_name(n) for n in names}
    if "*" in selected:
        return None
    if "REAL_STATUS" in selected:
        selected.add("STATUS")
    selected.add("ID")
    return selected & UPPER_NAMES


def load_task(call: Call, task_id: int) -> sqlite3.Row | None:
    rows = call.store.query("SELECT * FROM b_task WHERE id = ?", (task_id,))
    return rows[0] if rows else None


def render_one(call: Call, row: sqlite3.Row, select: set[str] | None, mode: str) -> dict:
    return Renderer(call, [row]).task(row, select, mode)
