"""Replay of the documented examples (``docs_examples.json``) against a live sandbox.

``docs_examples.json`` is produced by ``scripts/extract_doc_examples.py`` from the official docs
(``bitrix24/b24restdocs``); it holds each example's request and the *shape* of the documented
answer. :func:`replay` sends each request (ids and users re-pointed at records the sandbox has)
and :func:`differences` compares the answer's shape with the documented one.

Example::

    results = replay(sandbox)          # -> [Result(example, status, body, diffs), ...]
    sum(not r.diffs for r in results)  # how many match
"""

from __future__ import annotations

import base64
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from shape import kind

EXAMPLES = json.loads((Path(__file__).with_name("docs_examples.json")).read_text())

# Requests that provoke each documented error (the docs print the answer, not the request).
# None: the condition cannot happen on the sandbox (permissions, a missing module).
ERROR_TRIGGERS: dict[str, dict | None] = {
    "crm.lead.userfield.list": {"filter": "x"},
    "crm.deal.userfield.list": {"filter": "x"},
    "crm.contact.userfield.list": {"filter": "x"},
    "crm.company.userfield.list": {"filter": "x"},
    "crm.deal.add": {"fields": "x"},
    "crm.contact.add": {"fields": "x"},
    "crm.company.add": {"fields": "x"},
    "crm.deal.get": None,  # the page prints "Parameter 'fields' must be array." for get
    "crm.deal.list": {"filter": "x"},
    "crm.deal.update": {"id": "@deal", "fields": "x"},
    "crm.deal.delete": {"id": 0},
    "crm.contact.get": {"id": "abc"},
    "crm.contact.list": None,  # Access denied.
    "crm.contact.update": {"id": 999999, "fields": {"NAME": "x"}},
    "crm.contact.delete": {"id": 0},
    "crm.company.fields": None,  # Access denied.
    "crm.company.get": {"id": 999999},
    "crm.company.list": None,  # Access denied.
    "crm.company.update": {"id": 999999, "fields": {"TITLE": "x"}},
    "crm.company.delete": None,  # Access denied.
    "crm.status.list": {"filter": "x"},
    "crm.status.get": {"id": 999999},
    "crm.category.list": {"entityTypeId": 999},
    "crm.category.get": {"entityTypeId": 2, "id": 999},
    "crm.currency.list": None,  # Access denied.
    "crm.currency.get": {"id": "XXX"},
    "crm.currency.base.get": None,  # ERROR_UNEXPECTED_ANSWER: a broken server
    "tasks.task.add": {"fields": {"RESPONSIBLE_ID": 1}},
    "tasks.task.get": {"taskId": "@task", "select": ""},  # PHP prints '' as {}
    "tasks.task.list": {"order": {"NOPE": "asc"}},
    "crm.item.fields": {"entityTypeId": 999},
    "crm.item.add": {"entityTypeId": 999, "fields": {"title": "x"}},
    "crm.item.get": {"entityTypeId": 1036, "id": 999999},
    "crm.item.list": {"entityTypeId": 1036, "filter": {"FIELD": 1}},
    "crm.item.update": {"entityTypeId": 999, "id": 1, "fields": {"title": "x"}},
    "crm.item.delete": {"entityTypeId": 1036, "id": 999999},
    "crm.type.list": None,  # ACCESS_DENIED: the webhook user is a CRM administrator
    "crm.type.fields": None,  # idem
    "crm.type.get": {"id": 999999},
    "crm.type.getByEntityTypeId": {"entityTypeId": 999999},
    "tasks.task.update": {"taskId": "@task", "fields": {"PARENT_ID": "@task"}},
    "tasks.task.delete": {"taskId": 999999},
    "tasks.task.complete": {"taskId": 999999},
}

_PLACEHOLDER = re.compile(r"^\*\*put_.*\*\*$")
_PHOTO = ["photo.png", base64.b64encode(b"\x89PNG\r\n\x1a\n fake image").decode()]
_USER_KEYS = {"ASSIGNED_BY_ID", "CREATED_BY", "RESPONSIBLE_ID", "CHANGED_BY", "MODIFY_BY_ID"}
_ID_KEYS = {"id", "ID", "taskId"}


@dataclass
class Result:
    example: dict
    status: int | None = None
    body: Any = None
    diffs: list[str] = field(default_factory=list)
    skipped: str | None = None
    unfiltered: bool = False


class _Ids:
    """Ids of records the sandbox has, one fresh record per delete."""

    def __init__(self, sb) -> None:
        self.sb = sb

    def post(self, method: str, params: dict) -> dict:
        return requests.post(self.sb.webhook_url + method, json=params, timeout=30).json()

    def existing(self, method: str) -> Any:
        if method.startswith("tasks."):
            return self.task()
        if method.startswith("crm.status."):
            return self.post("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})["result"][
                0
            ]["ID"]
        entity = method.split(".")[1]
        if method.endswith(".delete"):
            fields = {"TITLE": "to delete", "NAME": "to delete"}
            return self.post(f"crm.{entity}.add", {"fields": fields})["result"]
        rows = self.post(f"crm.{entity}.list", {"order": {"ID": "ASC"}, "select": ["ID"]})
        return rows["result"][0]["ID"]

    def task(self) -> Any:
        return self.post("tasks.task.add", {"fields": {"TITLE": "replay", "RESPONSIBLE_ID": 1}})[
            "result"
        ]["task"]["id"]


SMART_PROCESS = 1036  # a seeded smart process standing in for the docs' portal's ones
_ENTITY_NAMES = {1: "lead", 2: "deal", 3: "contact", 4: "company"}


def _item_params(params: dict, ids: _Ids) -> None:
    """crm.item.*: unknown smart processes -> the seeded one; ids -> an existing record (a fresh
    one for delete); the docs portal's pipeline, stage and link ids dropped."""
    etid = int(params.get("entityTypeId", 0))
    if etid not in _ENTITY_NAMES:
        etid = params["entityTypeId"] = SMART_PROCESS
    fields = params.get("fields")
    if isinstance(fields, dict):
        for key, value in list(fields.items()):
            if str(value).startswith("formatDate("):  # the JS tab's helper leaked into cURL
                del fields[key]
        for key in ("categoryId", "stageId", "leadId", "quoteId", "contactId", "contactIds",
                    "companyId", "mycompanyId", "parentId1220"):  # fmt: skip
            fields.pop(key, None)
    if "id" not in params:
        return
    rows = ids.post(
        "crm.item.list", {"entityTypeId": etid, "select": ["id"], "order": {"id": "DESC"}}
    )
    params["id"] = rows["result"]["items"][0]["id"]


def _fix(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _fix(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix(v, key) for v in value]
    if isinstance(value, str) and _PLACEHOLDER.match(value):
        if key == "fileData":
            return _PHOTO
        return "2025-01-01" if "DATE" in key.upper() else "x"
    if key.upper() in _USER_KEYS and isinstance(value, (int, str)) and str(value).isdigit():
        return 1 if int(value) > 5 else value
    return value


def prepare(example: dict, ids: _Ids) -> dict | None:
    """The request to send: the documented one with ids re-pointed, or the error trigger."""
    method = example["method"]
    if example["kind"] == "error":
        trigger = ERROR_TRIGGERS.get(method)
        if trigger is None:
            return None
        params = copy.deepcopy(trigger)
    else:
        params = _fix(copy.deepcopy(example["request"]))
        if method in ("tasks.task.delete", "tasks.task.complete"):
            params["taskId"] = ids.task()
        elif re.fullmatch(
            r"(crm\.(lead|deal|contact|company|status)|tasks\.task)\.(get|update|delete)", method
        ):
            for key in _ID_KEYS & set(params):
                params[key] = ids.existing(method)
        elif method.startswith("crm.item."):
            _item_params(params, ids)
        elif method.startswith("crm.type.get"):
            params = {"id": 7} if "id" in params else {"entityTypeId": SMART_PROCESS}
    substitute = None
    for key, value in list(params.items()):
        if value in ("@deal", "@task"):
            if substitute is None:
                substitute = ids.task() if value == "@task" else ids.existing("crm.deal.get")
            params[key] = substitute
        elif isinstance(value, dict):
            for k, v in value.items():
                if v == "@task":
                    value[k] = substitute
    return params


_OPTIONAL = {"PHONE", "EMAIL", "WEB", "IM", "LINK"}  # multifields: present when the record has some


def _family(method: str) -> str:
    return re.sub(r"^crm\.\w+\.userfield\.", "crm.userfield.", method).rsplit(".", 1)[0]


def _keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        out.update(value)
        for sub in value.values():
            _keys(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _keys(sub, out)
    return out


# Keys some documented example of the method family shows (docs pages come from different portal
# versions: tasks.task.update shows sprintId but no parentId, tasks.task.add the reverse).
FAMILY_KEYS: dict[str, set[str]] = {}
for _ex in EXAMPLES:
    if _ex["shape"] is not None:
        _keys(_ex["shape"], FAMILY_KEYS.setdefault(_family(_ex["method"]), set()))


def _dynamic(key: str) -> bool:
    return (
        key in ("SETTINGS", "LIST")  # user-field settings / options depend on the field's type
        or key.startswith(("UF_", "uf", "PARENT_ID_"))
        or bool(re.fullmatch(r"parentId\d+", key))  # links to the docs portal's smart processes
        or key.isdigit()
        or bool(
            re.fullmatch(r"[a-z]+_\w+", key)  # batch command names, ids in maps
        )
    )


def _compatible(doc: str, ours: str) -> bool:
    if doc == ours:
        return True
    if "null" in (doc, ours) and (doc.startswith("str") or ours.startswith("str")):
        return True  # unset vs set text
    if {doc, ours} == {"null", "number"}:
        return True  # unset vs set number (crm.item values are typed)
    if doc.startswith("str") and ours.startswith("str"):
        return "str:dt" not in (doc, ours) or "str:empty" in (doc, ours)
    return False


def differences(doc: Any, ours: Any, path: str = "", known: set[str] | None = None) -> list[str]:
    """Where ``ours`` (a real answer) differs in shape from ``doc`` (a documented shape).

    A documented key we lack is ``missing``; a key of ours no documented example of the method
    family (``known``) shows is ``not documented``. In lists, each of our items must match one
    documented item."""
    known = known or set()
    if isinstance(doc, dict):
        if ours == [] or (isinstance(ours, dict) and not ours):
            return []  # PHP's empty array
        if not isinstance(ours, dict):
            return [f"{path or '/'}: documented object, got {kind(ours)}"]
        out = []
        for key, sub in doc.items():
            if key in ("time",) or _dynamic(key):
                continue
            if key not in ours:
                if key not in _OPTIONAL:
                    out.append(f"{path}/{key}: missing")
            else:
                out.extend(differences(sub, ours[key], f"{path}/{key}", known))
        if doc and not any(_dynamic(k) for k in doc):
            out.extend(
                f"{path}/{key}: not documented"
                for key in ours
                if key not in doc
                and key not in known
                and key not in _OPTIONAL
                and key != "time"
                and not _dynamic(key)
            )
        return out
    if isinstance(doc, list):
        if not isinstance(ours, list):
            if doc == [] and isinstance(ours, dict):
                return []
            return [f"{path}: documented list, got {kind(ours)}"]
        if not doc or not ours:
            return []
        out = []
        for item in ours[:5]:
            tries = [differences(d, item, path + "[]", known) for d in doc]
            if all(tries):
                out.extend(min(tries, key=len))
        return out[:5]
    ours_kind = kind(ours)
    if ours_kind in ("list", "dict"):
        return [f"{path}: documented {doc}, got {ours_kind}"]
    return [] if _compatible(doc, ours_kind) else [f"{path}: documented {doc}, got {ours_kind}"]


def _rows(body: Any) -> list | None:
    result = body.get("result") if isinstance(body, dict) else None
    if isinstance(result, dict):
        result = result.get("tasks", result.get("items", result.get("categories")))
    return result if isinstance(result, list) else None


def replay(sb) -> list[Result]:
    ids = _Ids(sb)
    results = []
    for example in EXAMPLES:
        result = Result(example)
        params = prepare(example, ids)
        if params is None:
            result.skipped = "the documented condition cannot occur on the sandbox"
            results.append(result)
            continue
        resp = requests.post(sb.webhook_url + example["method"], json=params, timeout=30)
        result.status, result.body = resp.status_code, resp.json()
        if result.status != example["status"]:
            result.diffs.append(f"status {result.status}, documented {example['status']}")
        elif example["kind"] == "error":
            got = (str(result.body.get("error")).strip(), result.body.get("error_description"))
            want = (str(example["error"]).strip(), example["description"])
            if got != want:
                result.diffs.append(f"error {got}, documented {want}")
        elif example["shape"] is not None:
            body = result.body
            if (
                _rows(body) == []
                and _rows(example["shape"])
                and isinstance(params.get("filter"), dict)
            ):
                # nothing matched the documented filter here: judge the shape on unfiltered rows
                params = {k: v for k, v in params.items() if str(k).lower() != "filter"}
                lang = {
                    k: v for k, v in example["request"].get("filter", {}).items() if k == "LANG"
                }
                if lang:  # userfield lists: labels only come with LANG
                    params["filter"] = lang
                body = requests.post(sb.webhook_url + example["method"], json=params, timeout=30)
                body = body.json()
                result.unfiltered = True
            known = FAMILY_KEYS.get(_family(example["method"]), set())
            result.diffs.extend(differences(example["shape"], body, "", known))
        results.append(result)
    return results
