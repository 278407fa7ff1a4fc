"""Users: ``user.current``, ``user.get``, ``user.fields`` (PROTOCOL §16) and ``department.get``.

``user.get`` upper-cases its parameter names, takes the filter either as top-level keys or inside
``FILTER`` (which then replaces them), sorts by ``SORT`` + ``ORDER`` (default ID ascending) and pages
with an exact offset. Unknown filter keys are dropped.

Example::

    page = METHODS["user.get"](call, {"filter": {"UF_DEPARTMENT": 2, "ACTIVE": True}})
    page.result[0]["UF_DEPARTMENT"]   # [2]
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from typing import Any

from ..api import ApiError, Call, Page, method
from ..filters import Column, order_clause, split_key, where_clause
from ..listing import fetch_page
from ..values import fmt_date, fmt_datetime

SITE_DATETIME = "%Y-%m-%d %H:%M:%S"
"""Site format of ``TIMESTAMP_X`` / ``LAST_ACTIVITY_DATE`` (not ISO, as the real server)."""

USER_FIELDS = {
    "ID": "ID",
    "XML_ID": "External code",
    "ACTIVE": "Activity",
    "NAME": "First Name",
    "LAST_NAME": "Last Name",
    "SECOND_NAME": "Middle Name",
    "TITLE": "User List",
    "EMAIL": "E-Mail",
    "LAST_LOGIN": "Last Authorization",
    "DATE_REGISTER": "Registration Date",
    "TIME_ZONE": "TIME_ZONE",
    "IS_ONLINE": "IS_ONLINE",
    "TIMESTAMP_X": "TIMESTAMP_X",
    "LAST_ACTIVITY_DATE": "LAST_ACTIVITY_DATE",
    "PERSONAL_GENDER": "Gender",
    "PERSONAL_PROFESSION": "Profession",
    "PERSONAL_WWW": "Homepage",
    "PERSONAL_BIRTHDAY": "Date of Birth",
    "PERSONAL_PHOTO": "Photo",
    "PERSONAL_ICQ": "ICQ",
    "PERSONAL_PHONE": "Personal Phone",
    "PERSONAL_FAX": "Fax",
    "PERSONAL_MOBILE": "Personal Mobile",
    "PERSONAL_PAGER": "Pager",
    "PERSONAL_STREET": "Residential Street",
    "PERSONAL_CITY": "Residential City",
    "PERSONAL_STATE": "State / Region",
    "PERSONAL_ZIP": "Zip Code",
    "PERSONAL_COUNTRY": "Country",
    "PERSONAL_MAILBOX": "P.O. Box",
    "PERSONAL_NOTES": "Additional Notes",
    "WORK_PHONE": "Company Phone",
    "WORK_COMPANY": "Company",
    "WORK_POSITION": "Job Title",
    "WORK_DEPARTMENT": "Department",
    "WORK_WWW": "Company Website",
    "WORK_FAX": "WORK_FAX",
    "WORK_PAGER": "WORK_PAGER",
    "WORK_STREET": "WORK_STREET",
    "WORK_MAILBOX": "WORK_MAILBOX",
    "WORK_CITY": "Work City",
    "WORK_STATE": "WORK_STATE",
    "WORK_ZIP": "WORK_ZIP",
    "WORK_COUNTRY": "WORK_COUNTRY",
    "WORK_PROFILE": "WORK_PROFILE",
    "WORK_LOGO": "WORK_LOGO",
    "WORK_NOTES": "WORK_NOTES",
    "UF_SKYPE_LINK": "Skype Chat Link",
    "UF_ZOOM": "Zoom",
    "UF_EMPLOYMENT_DATE": "Hire Date",
    "UF_TIMEMAN": "Time Tracking",
    "UF_DEPARTMENT": "Units",
    "UF_INTERESTS": "Interests",
    "UF_SKILLS": "Skills",
    "UF_WEB_SITES": "Other Websites",
    "UF_XING": "Xing",
    "UF_LINKEDIN": "LinkedIn",
    "UF_TWITTER": "Twitter",
    "UF_SKYPE": "Skype",
    "UF_DISTRICT": "District",
    "UF_PHONE_INNER": "Extension",
    "USER_TYPE": "USER_TYPE",
}
"""``user.fields``: field code -> caption."""

COLUMNS = {
    "ID": Column("u.id", "int"),
    "XML_ID": Column("u.xml_id", "str"),
    "NAME": Column("u.name", "str"),
    "LAST_NAME": Column("u.last_name", "str"),
    "SECOND_NAME": Column("u.second_name", "str"),
    "TITLE": Column("u.title", "str"),
    "EMAIL": Column("u.email", "str"),
    "LAST_LOGIN": Column("u.last_login", "datetime"),
    "DATE_REGISTER": Column("u.date_register", "datetime"),
    "TIME_ZONE": Column("u.time_zone", "str"),
    "IS_ONLINE": Column("u.is_online", "yn"),
    "TIMESTAMP_X": Column("u.timestamp_x", "datetime"),
    "LAST_ACTIVITY_DATE": Column("u.last_activity_date", "datetime"),
    "PERSONAL_GENDER": Column("u.personal_gender", "str"),
    "PERSONAL_WWW": Column("u.personal_www", "str"),
    "PERSONAL_BIRTHDAY": Column("u.personal_birthday", "date"),
    "PERSONAL_MOBILE": Column("u.personal_mobile", "str"),
    "PERSONAL_CITY": Column("u.personal_city", "str"),
    "WORK_PHONE": Column("u.work_phone", "str"),
    "WORK_POSITION": Column("u.work_position", "str"),
    "UF_EMPLOYMENT_DATE": Column("u.uf_employment_date", "date"),
    "UF_PHONE_INNER": Column("u.uf_phone_inner", "str"),
    "USER_TYPE": Column("u.user_type", "str", exact_like=True),
    "ACTIVE": Column("u.active", "str"),
    "UF_DEPARTMENT": Column(
        "u.uf_department", "int", each_sql="SELECT value FROM json_each(u.uf_department)"
    ),
}
_RESERVED = {"SORT", "ORDER", "FILTER", "ADMIN_MODE", "SELECT", "IMAGE_RESIZE", "START", "AUTH"}
_SEARCH_SQL = (
    "(u.name LIKE ? OR u.last_name LIKE ? OR u.second_name LIKE ? OR u.email LIKE ?"
    " OR u.work_position LIKE ?)"
)


def _php_truthy_yn(value: Any) -> str:
    """The core's ACTIVE rule: truthy and != "N" -> "Y", else "N" (PHP truthiness)."""
    if value in (None, False, 0, "", "0", "N"):
        return "N"
    return "Y"


def user_row(row: sqlite3.Row, tz: dt.tzinfo) -> dict:
    """A b_user row as ``user.get`` returns it; NULL columns are omitted, ``""`` kept."""

    def site(ts: int | None) -> str | None:
        return None if ts is None else dt.datetime.fromtimestamp(ts, tz).strftime(SITE_DATETIME)

    def day(value: str | None) -> str | None:
        # CRestUtil::ConvertDate: date('c', MakeTimeStamp($dt, FORMAT_DATE) + date("Z")) -- the
        # local midnight moved by the portal offset, i.e. the CRM date quirk (docs/sandbox.md)
        if value is None:
            return None
        return fmt_date(value, tz) if value else ""

    def register_day(ts: int | None) -> str | None:
        # DATE_REGISTER also goes through ConvertDate: its time of day is dropped
        return (
            None
            if ts is None
            else fmt_date(dt.datetime.fromtimestamp(ts, tz).date().isoformat(), tz)
        )

    dept = json.loads(row["uf_department"]) if row["uf_department"] is not None else None
    values: dict[str, Any] = {
        "ID": str(row["id"]),
        "XML_ID": row["xml_id"],
        "ACTIVE": row["active"] == "Y",
        "NAME": row["name"],
        "LAST_NAME": row["last_name"],
        "SECOND_NAME": row["second_name"],
        "TITLE": row["title"],
        "EMAIL": row["email"],
        "LAST_LOGIN": fmt_datetime(row["last_login"], tz),
        "DATE_REGISTER": register_day(row["date_register"]),
        "TIME_ZONE": row["time_zone"],
        "IS_ONLINE": row["is_online"],
        "TIMESTAMP_X": site(row["timestamp_x"]),
        "LAST_ACTIVITY_DATE": site(row["last_activity_date"]),
        "PERSONAL_GENDER": row["personal_gender"],
        "PERSONAL_WWW": row["personal_www"],
        "PERSONAL_BIRTHDAY": day(row["personal_birthday"]),
        "PERSONAL_PHOTO": row["personal_photo"],
        "PERSONAL_MOBILE": row["personal_mobile"],
        "PERSONAL_CITY": row["personal_city"],
        "WORK_PHONE": row["work_phone"],
        "WORK_POSITION": row["work_position"],
        "UF_EMPLOYMENT_DATE": day(row["uf_employment_date"]),
        "UF_DEPARTMENT": dept,
        "UF_PHONE_INNER": row["uf_phone_inner"],
        "USER_TYPE": row["user_type"],
    }
    return {k: v for k, v in values.items() if v is not None}


def _select_keys(select: Any) -> set[str] | None:
    """``SELECT`` -> the set of output keys (``*`` standard fields, ``UF_*`` user fields)."""
    if not select:
        return None
    names = list(select.values()) if isinstance(select, dict) else select
    if not isinstance(names, list):
        names = [names]
    keys = {"ID"}
    for name in (str(n).upper() for n in names):
        if name == "*":
            keys |= {k for k in USER_FIELDS if not k.startswith("UF_")}
        elif name == "UF_*":
            keys |= {k for k in USER_FIELDS if k.startswith("UF_")}
        elif name in USER_FIELDS:
            keys.add(name)
    return keys


_LEADING_OP = re.compile(r"^\W*")


def _filter_sql(flt: dict, tz: dt.tzinfo) -> tuple[str, list]:
    """Special keys (ACTIVE, NAME_SEARCH/FIND) by hand, the rest through the list engine."""
    rest: dict = {}
    conds: list[str] = []
    args: list = []
    for raw_key, value in flt.items():
        lead = _LEADING_OP.match(str(raw_key).strip())
        if lead is not None and len(lead.group(0)) > 2:
            continue  # the core reads at most two operator characters: "!><X" names field "<X"
        op, name = split_key(str(raw_key).strip())
        name = name.upper()
        if name == "ACTIVE":
            rest[f"{op}ACTIVE"] = _php_truthy_yn(value)
        elif name in ("NAME_SEARCH", "FIND"):
            for word in str(value or "").split():
                conds.append(_SEARCH_SQL)
                args.extend([f"{word}%"] * 4 + [f"%{word}%"])
        else:
            rest[f"{op}{name}"] = value
    where, rest_args = where_clause(rest, COLUMNS, tz, dialect="orm")
    return " AND ".join([where, *conds]), rest_args + args


def _user_filter(params: dict) -> dict:
    flt = params.get("FILTER")
    if isinstance(flt, dict):
        return flt
    return {k: v for k, v in params.items() if k not in _RESERVED}


@method("user.get")
def user_get(call: Call, params: dict) -> Page:
    """``user.get``: users by filter, 50 per page from an exact offset, ``total``/``next``."""
    params = {str(k).upper(): v for k, v in params.items()}
    tz = call.config.tz
    where, args = _filter_sql(_user_filter(params), tz)
    sort, direction = params.get("SORT"), params.get("ORDER")
    order_by = "u.id ASC"
    if sort and direction:
        order_by = order_clause({str(sort): direction}, COLUMNS, "u.id ASC") + ", u.id ASC"
    rows, total, nxt = fetch_page(
        call, from_sql="b_user u", where=where, args=args, order_by=order_by, mode="exact"
    )
    keys = _select_keys(params.get("SELECT"))
    users = [user_row(r, tz) for r in rows]
    if keys is not None:
        users = [{k: v for k, v in u.items() if k in keys} for u in users]
    return Page(users, total, nxt)


@method("user.search")
def user_search(call: Call, params: dict) -> Page:
    """``user.search``: ``user.get`` where ``FIND`` searches names, e-mail and position."""
    return user_get(call, params)


@method("user.current")
def user_current(call: Call, params: dict) -> dict:
    """``user.current``: the webhook owner."""
    rows = call.store.query("SELECT * FROM b_user WHERE id = ?", (call.user_id,))
    if not rows:
        raise ApiError("Wrong authorization data", "NO_AUTH_FOUND", 401)
    return user_row(rows[0], call.config.tz)


@method("user.fields")
def user_fields(call: Call, params: dict) -> dict:
    """``user.fields``: flat map ``FIELD: caption``."""
    return dict(USER_FIELDS)


@method("department.get")
def department_get(call: Call, params: dict) -> Page:
    """``department.get``: departments (``ID``, ``NAME``, ``SORT``, ``PARENT``, ``UF_HEAD``)."""
    params = {str(k).upper(): v for k, v in params.items()}
    cols = {
        "ID": Column("id", "int"),
        "NAME": Column("name", "str"),
        "SORT": Column("sort", "int"),
        "PARENT": Column("parent_id", "int"),
        "UF_HEAD": Column("head_id", "int"),
    }
    flt = {k: v for k, v in params.items() if k not in _RESERVED}
    where, args = where_clause(flt, cols, call.config.tz)
    order_by = "id ASC"
    if params.get("SORT") and params.get("ORDER"):
        order_by = order_clause({str(params["SORT"]): params["ORDER"]}, cols, "id ASC")
    rows, total, nxt = fetch_page(
        call, from_sql="b_department", where=where, args=args, order_by=order_by, mode="exact"
    )
    out = []
    for r in rows:
        item = {"ID": str(r["id"]), "NAME": r["name"], "SORT": r["sort"]}
        if r["parent_id"] is not None:
            item["PARENT"] = str(r["parent_id"])
        if r["head_id"] is not None:
            item["UF_HEAD"] = str(r["head_id"])
        out.append(item)
    return Page(out, total, nxt)
