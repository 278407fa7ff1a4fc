"""CRM dictionaries: ``crm.status.*``, ``crm.category.*``, ``crm.currency.*`` and the
``crm.<entity>.userfield.list`` methods (PROTOCOL §12, §14).

Lists of dictionaries are not paged: every match comes back with ``total`` = count
(``crm.currency.list`` reports ``total: 0`` like the real server).

Example::

    page = METHODS["crm.status.list"](call, {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    [row["STATUS_ID"] for row in page.result][:2]   # ['NEW', 'PREPARATION']
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..api import ApiError, Call, Page, method
from ..filters import Column, order_clause, where_clause
from ..store import Store
from ..values import fmt_datetime
from .crm_item_model import type_row

# --- shared helpers (also used by users.py and tasks.py) ----------------------------------------


def param(params: dict, *names: str, default: Any = None) -> Any:
    """Case-insensitive lookup of the first of ``names`` present in ``params`` (legacy methods).

    >>> param({"FILTER": {"ID": 1}}, "filter")
    {'ID': 1}
    """
    lowered = {str(k).lower(): v for k, v in params.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return default


def array_param(params: dict, name: str, *aliases: str) -> dict:
    """A legacy ``filter``/``order`` parameter: absent -> ``{}``, a list -> dict, a scalar -> 400.

    >>> array_param({"order": {"SORT": "ASC"}}, "order")
    {'SORT': 'ASC'}
    """
    value = param(params, name, *aliases)
    if value is None or value == "":
        return {}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise ApiError(f"Parameter '{name}' must be array.")
    return value


# --- crm.status.* --------------------------------------------------------------------------------

_STATUS_COLUMNS = {
    "ID": Column("id", "int"),
    "ENTITY_ID": Column("entity_id", "str", exact_like=True),
    "STATUS_ID": Column("status_id", "str", exact_like=True),
    "NAME": Column("name", "str"),
    "NAME_INIT": Column("name_init", "str"),
    "SORT": Column("sort", "int"),
    "SYSTEM": Column("system", "yn"),
    "CATEGORY_ID": Column("category_id", "int"),
    "COLOR": Column("color", "str"),
    "SEMANTICS": Column("semantics", "str"),
}
_EXTRA_SEMANTICS = {None: "process", "S": "success"}


def _has_extra(entity_id: str) -> bool:
    return entity_id == "STATUS" or entity_id.startswith("DEAL_STAGE")


def status_row(row: sqlite3.Row, *, extra: bool = True) -> dict:
    """One crm_status row in the legacy format (``EXTRA`` for lead/deal stage dictionaries)."""
    out = {
        "ID": str(row["id"]),
        "ENTITY_ID": row["entity_id"],
        "STATUS_ID": row["status_id"],
        "NAME": row["name"],
        "NAME_INIT": row["name_init"] or "",
        "SORT": str(row["sort"]),
        "SYSTEM": row["system"],
        "CATEGORY_ID": None if row["category_id"] is None else str(row["category_id"]),
        "COLOR": row["color"],
        "SEMANTICS": row["semantics"],
    }
    if extra and _has_extra(row["entity_id"]):
        sem = row["semantics"]
        code = row["status_id"].split(":")[-1]
        word = _EXTRA_SEMANTICS.get(sem) or ("failure" if code in ("LOSE", "JUNK") else "apology")
        out["EXTRA"] = {"SEMANTICS": word, "COLOR": row["color"]}
    return out


@method("crm.status.list")
def status_list(call: Call, params: dict) -> Page:
    """``crm.status.list``: all matching rows (default order SORT, ID), ``total`` = count.

    A non-array ``filter``/``order`` gives the documented 400 ``Invalid parameters.``."""
    try:
        flt = array_param(params, "filter")
        order = array_param(params, "order")
    except ApiError:
        raise ApiError("Incorrect parameters passed.", "Invalid parameters.") from None
    where, args = where_clause(flt, _STATUS_COLUMNS, call.config.tz)
    order_by = order_clause(order, _STATUS_COLUMNS, "sort ASC")
    rows = call.store.query(
        f"SELECT * FROM crm_status WHERE {where} ORDER BY {order_by}, id ASC", args
    )
    call.return_rows(len(rows))
    return Page([status_row(r) for r in rows], len(rows))


@method("crm.status.get")
def status_get(call: Call, params: dict) -> dict:
    """``crm.status.get`` by the numeric row ``id``."""
    try:
        sid = int(param(params, "id", default=0) or 0)
    except (TypeError, ValueError):
        sid = 0
    if sid <= 0:
        raise ApiError("ID is not defined or invalid.")
    rows = call.store.query("SELECT * FROM crm_status WHERE id = ?", (sid,))
    if not rows:  # the documented body (crm-status-get.md), code and text as printed there
        raise ApiError("Directory item not found.", "Status is not found.")
    return status_row(rows[0], extra=False)


_ENTITY_NAMES = {
    "STATUS": "Lead stages",
    "SOURCE": "Sources",
    "CONTACT_TYPE": "Contact type",
    "COMPANY_TYPE": "Company type",
    "EMPLOYEES": "Number of employees",
    "INDUSTRY": "Industry",
    "DEAL_TYPE": "Deal type",
    "HONORIFIC": "Inquiries",
}


def _semantic_info(call: Call, entity_id: str) -> dict:
    rows = call.store.query(
        "SELECT status_id, semantics FROM crm_status WHERE entity_id = ? ORDER BY sort, id",
        (entity_id,),
    )
    start = rows[0]["status_id"] if rows else ""
    success = next((r["status_id"] for r in rows if r["semantics"] == "S"), "")
    failure = next((r["status_id"] for r in rows if r["semantics"] == "F"), "")
    return {
        "START_FIELD": start,
        "FINAL_SUCCESS_FIELD": success,
        "FINAL_UNSUCCESS_FIELD": failure,
        "FINAL_SORT": 0,
    }


@method("crm.status.entity.types")
def status_entity_types(call: Call, params: dict) -> list[dict]:
    """``crm.status.entity.types``: the dictionaries of the portal (deal pipelines included)."""
    out: list[dict] = [
        {
            "ID": "STATUS",
            "NAME": _ENTITY_NAMES["STATUS"],
            "SEMANTIC_INFO": _semantic_info(call, "STATUS"),
            "ENTITY_TYPE_ID": 1,
        }
    ]
    for entity in ("SOURCE", "CONTACT_TYPE", "COMPANY_TYPE", "EMPLOYEES", "INDUSTRY", "DEAL_TYPE"):
        out.append({"ID": entity, "NAME": _ENTITY_NAMES[entity]})
    cats = call.store.query("SELECT * FROM crm_category WHERE entity_type_id = 2 ORDER BY id")
    for cat in cats:
        if cat["id"] == 0:
            continue
        entity = f"DEAL_STAGE_{cat['id']}"
        out.append(
            {
                "ID": entity,
                "NAME": f"{cat['name']} deal stages",
                "PARENT_ID": "DEAL_STAGE",
                "SEMANTIC_INFO": _semantic_info(call, entity),
                "PREFIX": f"C{cat['id']}",
                "FIELD_ATTRIBUTE_SCOPE": f"category_{cat['id']}",
                "ENTITY_TYPE_ID": 2,
                "CATEGORY_ID": str(cat["id"]),
            }
        )
    out.append(
        {
            "ID": "DEAL_STAGE",
            "NAME": "General deal stages",
            "SEMANTIC_INFO": _semantic_info(call, "DEAL_STAGE"),
            "FIELD_ATTRIBUTE_SCOPE": "",
            "ENTITY_TYPE_ID": 2,
            "CATEGORY_ID": 0,
        }
    )
    out.append({"ID": "HONORIFIC", "NAME": _ENTITY_NAMES["HONORIFIC"]})
    out += _smart_process_stage_types(call)
    return out


def _smart_process_stage_types(call: Call) -> list[dict]:
    """One ``DYNAMIC_<entityTypeId>_STAGE_<cat>`` entry per smart-process pipeline (docs sample)."""
    rows = call.store.query(
        "SELECT c.*, t.title FROM crm_category c JOIN crm_type t"
        " ON t.entity_type_id = c.entity_type_id ORDER BY c.entity_type_id, c.sort, c.id"
    )
    return [
        {
            "ID": f"DYNAMIC_{r['entity_type_id']}_STAGE_{r['id']}",
            "NAME": f"{r['title']} ({r['name']})",
            "SEMANTIC_INFO": [],
            "PREFIX": f"DT{r['entity_type_id']}_{r['id']}",
            "FIELD_ATTRIBUTE_SCOPE": f"category_{r['id']}",
            "ENTITY_TYPE_ID": r["entity_type_id"],
            "IS_ENABLED": True,
            "CATEGORY_ID": r["id"],
            "CATEGORY_NAME": r["name"],
            "CATEGORY_SORT": r["sort"],
            "IS_DEFAULT_CATEGORY": r["is_default"] == "Y",
        }
        for r in rows
    ]


# --- crm.category.* -------------------------------------------------------------------------------

_CATEGORY_COLUMNS = {
    "id": Column("id", "int"),
    "name": Column("name", "str"),
    "sort": Column("sort", "int"),
    "entityTypeId": Column("entity_type_id", "int"),
    "isDefault": Column("is_default", "yn"),
}


def _entity_type(params: dict, store: Store) -> int:
    raw = params.get("entityTypeId")
    if raw is None or raw == "":
        raise ApiError("Could not find value for parameter {entityTypeId}", "100")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value != 2 and type_row(store, value) is None:
        raise ApiError("Smart process not found", "NOT_FOUND")
    return value


def category_row(row: sqlite3.Row) -> dict:
    """A deal pipeline in ``crm.category.*`` format (ints; no origin keys for the default one)."""
    out = {
        "id": row["id"],
        "name": row["name"],
        "sort": row["sort"],
        "entityTypeId": row["entity_type_id"],
        "isDefault": row["is_default"],
    }
    if row["is_default"] != "Y":
        out["originId"] = ""
        out["originatorId"] = ""
    return out


@method("crm.category.list")
def category_list(call: Call, params: dict) -> Page:
    """``crm.category.list`` (``entityTypeId`` 2 only): ``{"categories": [...]}`` + total."""
    etype = _entity_type(params, call.store)
    flt = params.get("filter") or {}
    order = params.get("order") or {}
    if not isinstance(flt, dict) or not isinstance(order, dict):
        raise ApiError("Invalid filter or order", "INVALID_ARG_VALUE")
    where, args = where_clause(flt, _CATEGORY_COLUMNS, call.config.tz, strict=True, dialect="orm")
    order_by = order_clause(order, _CATEGORY_COLUMNS, "sort ASC")
    rows = call.store.query(
        f"SELECT * FROM crm_category WHERE entity_type_id = ? AND {where}"
        f" ORDER BY {order_by}, id ASC",
        [etype, *args],
    )
    call.return_rows(len(rows))
    return Page({"categories": [category_row(r) for r in rows]}, len(rows))


@method("crm.category.get")
def category_get(call: Call, params: dict) -> dict:
    """``crm.category.get`` (``entityTypeId``, ``id``) -> ``{"category": {...}}``."""
    etype = _entity_type(params, call.store)
    raw = params.get("id")
    if raw is None or raw == "":
        raise ApiError("Could not find value for parameter {id}", "100")
    try:
        cid = int(raw)
    except (TypeError, ValueError):
        cid = -1
    rows = call.store.query(
        "SELECT * FROM crm_category WHERE entity_type_id = ? AND id = ?", (etype, cid)
    )
    if not rows:
        raise ApiError("Element not found", "NOT_FOUND")  # crm-category-get.md
    return {"category": category_row(rows[0])}


# --- crm.currency.* -------------------------------------------------------------------------------

_CURRENCY_COLUMNS = {
    "CURRENCY": Column("currency", "str"),
    "AMOUNT_CNT": Column("amount_cnt", "int"),
    "AMOUNT": Column("amount", "float"),
    "SORT": Column("sort", "int"),
    "BASE": Column("base", "yn"),
    "FULL_NAME": Column("full_name", "str"),
    "DATE_UPDATE": Column("date_update", "datetime"),
}
PORTAL_LANGUAGE = "en"
PORTAL_LANGUAGES = ("en", "de")  # languages installed on the sandbox portal


def currency_row(row: sqlite3.Row, call: Call) -> dict:
    """A currency in ``crm.currency.list`` format (numbers as strings, AMOUNT with 4 decimals)."""
    return {
        "CURRENCY": row["currency"],
        "AMOUNT_CNT": str(row["amount_cnt"]),
        "AMOUNT": f"{row['amount']:.4f}",
        "SORT": str(row["sort"]),
        "BASE": row["base"],
        "FULL_NAME": row["full_name"],
        "LID": PORTAL_LANGUAGE,
        "FORMAT_STRING": row["format_string"],
        "DEC_POINT": row["dec_point"],
        "THOUSANDS_SEP": row["thousands_sep"],
        "DECIMALS": str(row["decimals"]),
        "DATE_UPDATE": fmt_datetime(row["date_update"], call.config.tz),
    }


_THOUSANDS_VARIANTS = {",": "C", "&nbsp;": "B", " ": "S", ".": "D", "'": "A", "": "N"}


def currency_lang(row: sqlite3.Row) -> dict:
    """``LANG`` of ``crm.currency.get``: the currency's format per portal language (docs
    crm-currency-get.md); a standard thousands separator is given as ``THOUSANDS_VARIANT``
    with ``THOUSANDS_SEP`` null, a custom one as variant ``OWN``."""
    sep = row["thousands_sep"] or ""
    variant = _THOUSANDS_VARIANTS.get(sep, "OWN")
    fmt = {
        "FORMAT_STRING": row["format_string"],
        "FULL_NAME": row["full_name"],
        "DEC_POINT": row["dec_point"],
        "THOUSANDS_SEP": None if variant != "OWN" else sep,
        "DECIMALS": str(row["decimals"]),
        "THOUSANDS_VARIANT": variant,
        "HIDE_ZERO": "Y",
    }
    return {lang: dict(fmt) for lang in PORTAL_LANGUAGES}


@method("crm.currency.list")
def currency_list(call: Call, params: dict) -> Page:
    """``crm.currency.list`` (``order``, e.g. ``{"sort": "asc"}``): all currencies, total 0."""
    order = array_param(params, "order")
    order_by = order_clause(order, _CURRENCY_COLUMNS, "sort ASC")
    rows = call.store.query(f"SELECT * FROM crm_currency ORDER BY {order_by}, currency ASC")
    call.return_rows(len(rows))
    return Page([currency_row(r, call) for r in rows], 0)


@method("crm.currency.get")
def currency_get(call: Call, params: dict) -> dict:
    """``crm.currency.get`` (``id`` = currency code)."""
    code = str(param(params, "id", default="") or "").upper()
    rows = call.store.query("SELECT * FROM crm_currency WHERE currency = ?", (code,))
    if not rows:
        raise ApiError("Not found")
    return {**currency_row(rows[0], call), "LANG": currency_lang(rows[0])}


@method("crm.currency.base.get")
def currency_base_get(call: Call, params: dict) -> str:
    """``crm.currency.base.get`` -> the base currency code (``"USD"``)."""
    return call.store.scalar("SELECT currency FROM crm_currency WHERE base = 'Y' LIMIT 1") or ""


# --- crm.<entity>.userfield.list ------------------------------------------------------------------

_UF_COLUMNS = {
    "ID": Column("f.id", "int"),
    "ENTITY_ID": Column("f.entity_id", "str"),
    "FIELD_NAME": Column("f.field_name", "str"),
    "USER_TYPE_ID": Column("f.user_type_id", "str"),
    "XML_ID": Column("f.xml_id", "str"),
    "SORT": Column("f.sort", "int"),
    "MULTIPLE": Column("f.multiple", "yn"),
    "MANDATORY": Column("f.mandatory", "yn"),
    "SHOW_FILTER": Column("'E'", "str"),
    "SHOW_IN_LIST": Column("'Y'", "yn"),
    "EDIT_IN_LIST": Column("'Y'", "yn"),
    "IS_SEARCHABLE": Column("'N'", "yn"),
}


def userfield_row(call: Call, row: sqlite3.Row, lang: str | None) -> dict:
    """A user field as ``crm.*.userfield.list`` returns it; labels only when ``LANG`` was given."""
    settings = json.loads(row["settings"] or "{}")
    if row["user_type_id"] == "boolean" and isinstance(settings, dict):
        settings = {**settings, "LABEL_CHECKBOX": row["label"]}
    out: dict[str, Any] = {
        "ID": str(row["id"]),
        "ENTITY_ID": row["entity_id"],
        "FIELD_NAME": row["field_name"],
        "USER_TYPE_ID": row["user_type_id"],
        "XML_ID": row["xml_id"],
        "SORT": str(row["sort"]),
        "MULTIPLE": row["multiple"],
        "MANDATORY": row["mandatory"],
        "SHOW_FILTER": "E",
        "SHOW_IN_LIST": "Y",
        "EDIT_IN_LIST": "Y",
        "IS_SEARCHABLE": "N",
        "SETTINGS": settings,
    }
    if lang:
        out.update(
            {
                "EDIT_FORM_LABEL": row["label"],
                "LIST_COLUMN_LABEL": row["label"],
                "LIST_FILTER_LABEL": row["label"],
                "ERROR_MESSAGE": None,
                "HELP_MESSAGE": None,
            }
        )
    if row["user_type_id"] == "enumeration":
        items = call.store.query(
            "SELECT * FROM crm_userfield_enum WHERE field_id = ? ORDER BY sort, id", (row["id"],)
        )
        out["LIST"] = [
            {
                "ID": str(i["id"]),
                "SORT": str(i["sort"]),
                "VALUE": i["value"],
                "DEF": i["def"],
                "XML_ID": i["xml_id"],
            }
            for i in items
        ]
    return out


def _userfield_list(entity_id: str):
    def handler(call: Call, params: dict) -> Page:
        flt = dict(array_param(params, "filter"))
        order = array_param(params, "order")
        lang = next((v for k, v in flt.items() if str(k).upper() == "LANG"), None)
        flt = {k: v for k, v in flt.items() if str(k).upper() != "LANG"}
        where, args = where_clause(flt, _UF_COLUMNS, call.config.tz)
        order_by = order_clause(order, _UF_COLUMNS, "f.sort ASC, f.id ASC")
        rows = call.store.query(
            f"SELECT f.* FROM crm_userfield f WHERE f.entity_id = ? AND {where}"
            f" ORDER BY {order_by}",
            [entity_id, *args],
        )
        call.return_rows(len(rows))
        return Page([userfield_row(call, r, lang) for r in rows], len(rows))

    handler.__doc__ = f"``crm.*.userfield.list`` for {entity_id}: every matching user field."
    return handler


for _entity in ("lead", "deal", "contact", "company"):
    method(f"crm.{_entity}.userfield.list")(_userfield_list(f"CRM_{_entity.upper()}"))
