"""The universal CRM API ``crm.item.{fields,list,get,add,update,delete}`` (PROTOCOL §13).

Serves smart processes (``crm_item`` rows) and the classic entities 1-4 over the same rows as
``crm.lead/deal/contact/company.*`` (writes to those go through the classic handler, so both APIs
keep one behaviour). Values are typed: ids/counts JSON ints, amounts numbers, ``Y``/``N``, ISO
datetimes in the portal offset, ``null`` for empty (``0`` for empty ``companyId``/``contactId``),
int arrays for ``contactIds``/``observers``. Paging is exact-offset (``start=-1``: no count), filters
take the ORM operators with nested ``logic`` and reject unknown fields (400 ``INVALID_ARG_VALUE``).

Every stage a smart-process item enters through add/update (a pipeline move too) is appended to
the stage history (``history.record_stage_change``; deals and leads through the classic handler);
a deleted item's history is dropped.

Choices where the docs are silent:

- a value that cannot be converted, a stage outside the item's pipeline or an unknown pipeline give
  400 ``CRM_FIELD_ERROR_VALUE_NOT_VALID`` ``Invalid value for field "<title>"``;
- a missing item is 400 ``NOT_FOUND``: ``Element not found`` for get (docs sample), ``Item not
  found`` for update and delete (delete docs);
- a smart-process item without title is titled ``<type title> #<id>``; ``update`` changing nothing
  keeps ``updatedTime``;
- moving a smart-process item to another pipeline without a stage puts it on the first stage.

Example::

    METHODS["crm.item.list"](call, {"entityTypeId": 1036, "filter": {">id": 0}, "order": {"id": "ASC"}})
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from ..api import ApiError, Call, Page, method
from ..filters import Column, where_clause
from ..history import forget_owner, record_stage_change
from ..listing import fetch_page
from ..values import fmt_date, fmt_datetime
from . import crm as classic
from .crm_fm import read_multifields
from .crm_item_model import ItemField, ItemType, entity_type_param, item_type
from .crm_store import UfDef, base_currency
from .crm_values import parse_uf, parse_value

_ZERO_WHEN_EMPTY = {"companyId", "contactId", "mycompanyId"}
_LEGACY_LINKS = {  # (entity, field) -> (crm_link KIND, own column is A)
    ("lead", "contactIds"): ("lead_contact", True),
    ("deal", "contactIds"): ("deal_contact", True),
    ("contact", "companyIds"): ("contact_company", True),
    ("company", "contactIds"): ("contact_company", False),
}
_LEGACY_INPUT = {("company", "contactIds"): "CONTACT_ID"}


def _original_uf(params: dict) -> bool:
    return str(params.get("useOriginalUfNames", "N")).upper() in ("Y", "1", "TRUE")


def _key(f: ItemField, original: bool) -> str:
    return f.upper if original and f.uf is not None else f.name


def _number(value: Any) -> Any:
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _render_uf_one(uf: UfDef, value: Any, tz: dt.tzinfo) -> Any:
    kind = uf.type
    if kind in ("integer", "enumeration", "employee", "iblock_element", "iblock_section"):
        return int(value)
    if kind == "double":
        return _number(value)
    if kind == "boolean":
        return "Y" if value else "N"
    if kind == "date":
        return fmt_date(value, tz)
    if kind == "datetime":
        return fmt_datetime(value, tz)
    if kind == "file":
        return None
    return str(value)


def render_value(f: ItemField, value: Any, tz: dt.tzinfo) -> Any:
    """A stored value in the ``crm.item`` response format."""
    if f.uf is not None:
        if f.multiple:
            items = value if isinstance(value, list) else ([] if value is None else [value])
            return [_render_uf_one(f.uf, v, tz) for v in items]
        if value is None:
            return "N" if f.type == "boolean" else None
        return _render_uf_one(f.uf, value, tz)
    if value is None or value == "" and f.type not in ("string", "text"):
        return 0 if f.name in _ZERO_WHEN_EMPTY else None
    ftype = f.type
    if ftype in ("integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_quote"):
        return int(value)
    if ftype == "crm_category":
        return int(value)
    if ftype == "double":
        return _number(value)
    if ftype == "datetime":
        return fmt_datetime(value, tz)
    if ftype == "date":
        return fmt_date(value, tz)
    if ftype in ("file", "location"):
        return None
    return str(value)


def _links(call: Call, itype: ItemType, ids: list[int]) -> dict[str, dict[int, list[int]]]:
    """Link lists (``contactIds`` / ``companyIds``) of ``ids`` by field name."""
    out: dict[str, dict[int, list[int]]] = {}
    specs: list[tuple[str, str, bool]] = []
    if itype.legacy is not None:
        for (entity, name), (kind, own_a) in _LEGACY_LINKS.items():
            if entity == itype.legacy.name:
                specs.append((name, kind, own_a))
    elif itype.link_kind:
        specs.append(("contactIds", itype.link_kind, True))
    for name, kind, own_a in specs:
        own, other = ("A", "B") if own_a else ("B", "A")
        found: dict[int, list[int]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in call.store.query(
                f"SELECT {own}, {other} FROM crm_link WHERE KIND = ? AND {own} IN ({marks}) "
                "ORDER BY SORT, rowid",
                [kind, *chunk],
            ):
                found[row[0]].append(row[1])
        out[name] = found
    return out


def render_rows(
    call: Call, itype: ItemType, rows: list[sqlite3.Row], keys: list[ItemField], original: bool
) -> list[dict]:
    tz = call.config.tz
    ids = [r["ID"] for r in rows]
    wanted = {f.name for f in keys}
    links = _links(call, itype, ids) if wanted & {"contactIds", "companyIds"} else {}
    out = []
    for row in rows:
        ufs = json.loads(row["UF_JSON"]) if row["UF_JSON"] else {}
        item: dict[str, Any] = {}
        for f in keys:
            if f.name in links:
                value: Any = links[f.name].get(row["ID"], [])
            elif f.name == "observers":
                value = json.loads(row["OBSERVERS"] or "[]") if itype.legacy is None else []
            elif f.uf is not None:
                value = render_value(f, ufs.get(f.uf.name), tz)
            elif f.column is None:
                value = None
            else:
                value = render_value(f, row[f.column], tz)
            item[_key(f, original)] = value
        out.append(item)
    return out


def _all_keys(itype: ItemType) -> list[ItemField]:
    return [f for f in itype.fields.values() if not f.listed_only]


def add_extras(call: Call, itype: ItemType, rows: list[sqlite3.Row], items: list[dict]) -> None:
    """The computed keys of whole items (``select: ["*"]``, get/add/update) and entityTypeId."""
    fms: dict = {}
    if "fm" in itype.extras and itype.legacy is not None:
        fms = read_multifields(call.store, itype.legacy.fm_code, [r["ID"] for r in rows])
    for row, item in zip(rows, items, strict=True):
        for key, value in itype.extras.items():
            if key == "fm":
                value = [
                    {"id": int(v["ID"]), "valueType": v["VALUE_TYPE"], "value": v["VALUE"],
                     "typeId": v["TYPE_ID"]}
                    for values in fms.get(row["ID"], {}).values()
                    for v in values
                ]  # fmt: skip
            item.setdefault(key, list(value) if isinstance(value, list) else value)
        item["entityTypeId"] = itype.entity_type_id


def _select(itype: ItemType, raw: Any) -> tuple[list[ItemField], bool]:
    """Selected fields in row order (``id`` always) and whether ``entityTypeId`` is added."""
    if isinstance(raw, dict):
        raw = list(raw.values())
    names = [str(x).strip() for x in raw] if isinstance(raw, list) else []
    names = [n for n in names if n]
    if not names or "*" in names:
        return _all_keys(itype), True
    chosen = {f.name for n in names if (f := itype.lookup(n)) is not None}
    chosen.add("id")
    return [f for f in _all_keys(itype) if f.name in chosen], False


def _columns(itype: ItemType) -> dict[str, Column]:
    cols = dict(itype.columns)
    for f in itype.fields.values():
        if f.name in itype.columns:
            cols.setdefault(f.upper, itype.columns[f.name])
    return cols


def _where(filt: dict, columns: dict[str, Column], tz: dt.tzinfo) -> tuple[str, list]:
    """A ``crm.item.list`` filter (nested sub-filters with ``logic``) as SQL."""
    logic = "AND"
    conds: list[str] = []
    args: list = []
    for raw_key, value in filt.items():
        key = str(raw_key)
        if key.lower() == "logic":
            logic = "OR" if str(value).strip().upper() == "OR" else "AND"
            continue
        if key.strip().lstrip("-").isdigit():
            if isinstance(value, list):
                value = {str(i): v for i, v in enumerate(value)}
            if isinstance(value, dict):
                sql, sub_args = _where(value, columns, tz)
                conds.append(sql)
                args += sub_args
            continue
        sql, sub_args = where_clause({key: value}, columns, tz, strict=True, dialect="orm")
        conds.append(sql)
        args += sub_args
    if not conds:
        return "1", []
    return "(" + f" {logic} ".join(f"({c})" for c in conds) + ")", args


def _order(order: dict, columns: dict[str, Column]) -> str:
    parts = []
    for raw_key, direction in order.items():
        name = str(raw_key).strip()
        col = columns.get(name) or columns.get(name.upper())
        if col is None or col.each_sql:
            raise ApiError(
                f"Invalid order: field '{name}' is not allowed in order", "INVALID_ARG_VALUE"
            )
        word = str(direction).strip().upper()
        if word not in ("ASC", "DESC"):
            raise ApiError(
                "Invalid order: allowed sort directions are ASC, DESC. "
                f"But got '{direction}' for field '{name}'",
                "INVALID_ARG_VALUE",
            )
        collate = " COLLATE CI" if col.kind == "str" and not col.order_sql else ""
        parts.append(f"{col.order_sql or col.sql}{collate} {word}")
    return ", ".join(parts)


def _dict_param(params: dict, name: str) -> dict:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise ApiError(f"Invalid {name}", "INVALID_ARG_VALUE")
    return value


def item_id(params: dict) -> int:
    raw = params.get("id", params.get("ID"))
    if raw is None or raw == "":
        raise ApiError("Could not find value for parameter {id}", "100")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError("Element not found", "NOT_FOUND") from None


def _not_found(text: str = "Element not found") -> ApiError:
    return ApiError(text, "NOT_FOUND")


def _fetch(call: Call, itype: ItemType, row_id: int) -> sqlite3.Row | None:
    rows = call.store.query(
        f'SELECT * FROM {itype.table} t WHERE {itype.scope_sql} AND t."ID" = ?', (row_id,)
    )
    return rows[0] if rows else None


def _render_one(call: Call, itype: ItemType, row_id: int, original: bool) -> dict:
    row = _fetch(call, itype, row_id)
    if row is None:
        raise _not_found()
    call.return_rows(1)
    items = render_rows(call, itype, [row], _all_keys(itype), original)
    add_extras(call, itype, [row], items)
    return items[0]


# --- reading -------------------------------------------------------------------------------------


@method("crm.item.fields")
def item_fields(call: Call, params: dict) -> dict:
    """``crm.item.fields`` -> ``{"fields": {camelName: {... upperName}}}``."""
    itype = item_type(call.store, entity_type_param(params))
    original = _original_uf(params)
    return {"fields": {_key(f, original): f.meta() for f in itype.fields.values()}}


@method("crm.item.get")
def item_get(call: Call, params: dict) -> dict:
    """``crm.item.get`` -> ``{"item": {...}}``."""
    itype = item_type(call.store, entity_type_param(params))
    return {"item": _render_one(call, itype, item_id(params), _original_uf(params))}


@method("crm.item.list")
def item_list(call: Call, params: dict) -> Page:
    """``crm.item.list`` -> ``{"items": [...]}`` + total/next (exact offsets)."""
    itype = item_type(call.store, entity_type_param(params))
    original = _original_uf(params)
    keys, with_type = _select(itype, params.get("select"))
    columns = _columns(itype)
    where, args = _where(_dict_param(params, "filter"), columns, call.config.tz)
    order_by = _order(_dict_param(params, "order"), columns)
    if 't."ID"' not in order_by:
        order_by = f'{order_by}, t."ID" ASC' if order_by else 't."ID" ASC'
    rows, total, nxt = fetch_page(
        call,
        from_sql=f"{itype.table} t",
        where=f"{itype.scope_sql} AND {where}",
        args=args,
        order_by=order_by,
        mode="exact",
        select="t.*",
    )
    items = render_rows(call, itype, rows, keys, original)
    if with_type:
        add_extras(call, itype, rows, items)
    return Page({"items": items}, total, nxt)


# --- writing -------------------------------------------------------------------------------------


def value_error(f: ItemField) -> ApiError:
    return ApiError(f'Invalid value for field "{f.title}"', "CRM_FIELD_ERROR_VALUE_NOT_VALID")


def _fields_param(params: dict) -> dict:
    fields = params.get("fields")
    if isinstance(fields, list):
        fields = {str(i): v for i, v in enumerate(fields)}
    if not isinstance(fields, dict):
        raise ApiError("Could not find value for parameter {fields}", "100")
    return fields


def _save_classic(call: Call, itype: ItemType, fields: dict, row_id: int | None) -> int:
    """Write an entity 1-4 through the classic handler (same validation, defaults, links)."""
    assert itype.legacy is not None
    upper: dict[str, Any] = {}
    for key, value in fields.items():
        f = itype.lookup(str(key))
        if f is None or f.read_only:
            continue
        if f.uf is not None:
            upper[f.uf.name] = value
        elif f.column is not None:
            upper[f.column] = value
        else:
            upper[_LEGACY_INPUT.get((itype.legacy.name, f.name), f.upper)] = value
    by_column = {f.column: f for f in itype.fields.values() if f.column}
    by_column.update({f.uf.name: f for f in itype.fields.values() if f.uf is not None})
    try:
        return classic._save(call, itype.legacy, {"fields": upper}, row_id)
    except ApiError as exc:
        if exc.code == "ERROR_CORE" and 'of field "' in exc.description:
            code = exc.description.split('of field "', 1)[1].split('"', 1)[0]
            if code in by_column:
                raise value_error(by_column[code]) from None
        if exc.description.endswith("is not found"):
            raise _not_found() from None
        raise


_PARSE_TYPES = {"boolean": "char", "text": "string"}


def _parse(call: Call, itype: ItemType, fields: dict) -> tuple[dict, dict, dict]:
    """Smart-process input -> (columns, user fields, lists) in stored form."""
    tz = call.config.tz
    cols: dict[str, Any] = {}
    ufs: dict[str, Any] = {}
    lists: dict[str, list[int]] = {}
    for key, value in fields.items():
        f = itype.lookup(str(key))
        if f is None or f.read_only:
            continue
        try:
            if f.uf is not None:
                ufs[f.uf.name] = None if f.type == "file" else parse_uf(f.uf, value, tz)
            elif f.multiple:
                items = list(value.values()) if isinstance(value, dict) else value
                items = items if isinstance(items, list) else [items]
                ids = [parse_value("integer", v, tz) for v in items if v not in (None, "")]
                lists[f.name] = list(dict.fromkeys(i for i in ids if i))
            elif f.column is not None:
                cols[f.column] = parse_value(_PARSE_TYPES.get(f.type, f.type), value, tz, f.upper)
        except ApiError:
            raise value_error(f) from None
    return cols, ufs, lists


def _categories(db: sqlite3.Connection, etid: int) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT id, is_default FROM crm_category WHERE entity_type_id = ? ORDER BY sort, id",
        (etid,),
    ).fetchall()


def _stage_ids(db: sqlite3.Connection, dictionary: str) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT status_id FROM crm_status WHERE entity_id = ? ORDER BY sort, id", (dictionary,)
        )
    ]


def _next_id(call: Call, db: sqlite3.Connection, etid: int) -> int:
    name = f"crm_item_{etid}"
    new = call.store.next_id(name)
    top = (
        db.execute('SELECT MAX("ID") FROM crm_item WHERE "ENTITY_TYPE_ID" = ?', (etid,)).fetchone()[
            0
        ]
        or 0
    )
    if new <= top:
        new = top + 1
        db.execute("UPDATE sequence SET value = ? WHERE name = ?", (new, name))
    return new


def _save_dynamic(call: Call, itype: ItemType, fields: dict, given_id: int | None) -> int:
    cols, ufs, lists = _parse(call, itype, fields)
    row_id = given_id or 0
    etid = itype.entity_type_id
    now = int(call.now().timestamp())
    user = call.user_id
    with call.store.transaction() as db:
        current = None
        if given_id is not None:
            current = db.execute(
                'SELECT * FROM crm_item WHERE "ENTITY_TYPE_ID" = ? AND "ID" = ?', (etid, row_id)
            ).fetchone()
            if current is None:
                raise _not_found()
        categories = _categories(db, etid)
        category = cols.get("CATEGORY_ID")
        if category is None:
            if current is not None:
                category = current["CATEGORY_ID"]
            else:
                default = [c["id"] for c in categories if c["is_default"] == "Y"]
                category = default[0] if default else (categories[0]["id"] if categories else 0)
        if categories and category not in {c["id"] for c in categories}:
            raise value_error(itype.fields["categoryId"])
        cols["CATEGORY_ID"] = category
        pipeline = _stage_ids(db, itype.stage_dictionary(category))
        moved_pipeline = current is not None and current["CATEGORY_ID"] != category
        if cols.get("STAGE_ID") in (None, ""):
            cols.pop("STAGE_ID", None)
            if (current is None or moved_pipeline) and pipeline:
                cols["STAGE_ID"] = pipeline[0]
        if "STAGE_ID" in cols and pipeline and cols["STAGE_ID"] not in pipeline:
            raise value_error(itype.fields["stageId"])
        if cols.get("CONTACT_ID") and "contactIds" not in lists:
            lists["contactIds"] = [cols["CONTACT_ID"]]
        if "contactIds" in lists:
            ids = lists["contactIds"]
            cols["CONTACT_ID"] = ids[0] if ids else None
        if "observers" in lists:
            cols["OBSERVERS"] = json.dumps(lists["observers"])
        uf_json = (
            json.loads(current["UF_JSON"]) if current is not None and current["UF_JSON"] else {}
        )
        for name, value in ufs.items():
            if value is None:
                uf_json.pop(name, None)
            else:
                uf_json[name] = value
        if ufs:
            cols["UF_JSON"] = json.dumps(uf_json) if uf_json else None
        stage_moved = "STAGE_ID" in cols and (
            current is None or cols["STAGE_ID"] != current["STAGE_ID"]
        )
        if current is not None:
            changed = {k: v for k, v in cols.items() if current[k] != v}
            links_changed = "contactIds" in lists and lists["contactIds"] != [
                r[0]
                for r in db.execute(
                    "SELECT B FROM crm_link WHERE KIND = ? AND A = ? ORDER BY SORT, rowid",
                    (itype.link_kind, row_id),
                )
            ]
            if not changed and not links_changed:
                return current["ID"]  # nothing to save: updatedTime stays
            cols = changed
            if stage_moved:
                cols.update(PREVIOUS_STAGE_ID=current["STAGE_ID"], MOVED_TIME=now, MOVED_BY=user)
            cols.update(UPDATED_TIME=now, UPDATED_BY=user)
            assignments = ", ".join(f'"{n}" = ?' for n in cols)
            db.execute(
                f'UPDATE crm_item SET {assignments} WHERE "ENTITY_TYPE_ID" = ? AND "ID" = ?',
                [*cols.values(), etid, row_id],
            )
        else:
            row_id = _next_id(call, db, etid)
            today = dt.datetime.fromtimestamp(now, call.config.tz).date()
            defaults = {
                "OPENED": "Y",
                "ASSIGNED_BY_ID": user,
                "CURRENCY_ID": base_currency(call.store),
                "OPPORTUNITY": 0.0,
                "IS_MANUAL_OPPORTUNITY": "N",
                "TAX_VALUE": 0.0,
                "BEGINDATE": today.isoformat(),
                "CLOSEDATE": (today + dt.timedelta(days=7)).isoformat(),
                "WEBFORM_ID": 0,
                "OBSERVERS": "[]",
            }
            for key, value in defaults.items():
                if cols.get(key) is None:
                    cols[key] = value
            if not cols.get("TITLE"):
                cols["TITLE"] = f"{itype.title} #{row_id}"
            cols.update(
                ENTITY_TYPE_ID=etid,
                ID=row_id,
                CREATED_BY=user,
                UPDATED_BY=user,
                MOVED_BY=user,
                CREATED_TIME=now,
                UPDATED_TIME=now,
                MOVED_TIME=now,
                LAST_ACTIVITY_BY=user,
                LAST_ACTIVITY_TIME=now,
            )
            names = ", ".join(f'"{n}"' for n in cols)
            db.execute(
                f"INSERT INTO crm_item ({names}) VALUES ({', '.join('?' * len(cols))})",
                list(cols.values()),
            )
        if "contactIds" in lists:
            db.execute("DELETE FROM crm_link WHERE KIND = ? AND A = ?", (itype.link_kind, row_id))
            db.executemany(
                "INSERT INTO crm_link (KIND, A, B, SORT) VALUES (?, ?, ?, ?)",
                [
                    (itype.link_kind, row_id, c, (i + 1) * 10)
                    for i, c in enumerate(lists["contactIds"])
                ],
            )
        if stage_moved:
            record_stage_change(db, etid, row_id, category, cols["STAGE_ID"], now)
    return row_id


def _save(call: Call, itype: ItemType, params: dict, row_id: int | None) -> int:
    fields = _fields_param(params)
    if itype.legacy is not None:
        return _save_classic(call, itype, fields, row_id)
    return _save_dynamic(call, itype, fields, row_id)


@method("crm.item.add")
def item_add(call: Call, params: dict) -> dict:
    """``crm.item.add`` -> ``{"item": {...}}`` (the created item)."""
    itype = item_type(call.store, entity_type_param(params))
    new_id = _save(call, itype, params, None)
    return {"item": _render_one(call, itype, new_id, _original_uf(params))}


@method("crm.item.update")
def item_update(call: Call, params: dict) -> dict:
    """``crm.item.update`` -> ``{"item": {...}}`` (the item after the change)."""
    itype = item_type(call.store, entity_type_param(params))
    row_id = item_id(params)
    if _fetch(call, itype, row_id) is None:
        raise _not_found("Item not found")
    _save(call, itype, params, row_id)
    return {"item": _render_one(call, itype, row_id, _original_uf(params))}


@method("crm.item.delete")
def item_delete(call: Call, params: dict) -> list:
    """``crm.item.delete`` -> ``[]``."""
    itype = item_type(call.store, entity_type_param(params))
    row_id = item_id(params)
    if itype.legacy is not None:
        if _fetch(call, itype, row_id) is None:
            raise _not_found("Item not found")
        classic._delete(call, itype.legacy, {"id": row_id})
        return []
    with call.store.transaction() as db:
        gone = db.execute(
            'DELETE FROM crm_item WHERE "ENTITY_TYPE_ID" = ? AND "ID" = ?',
            (itype.entity_type_id, row_id),
        ).rowcount
        if not gone:
            raise _not_found("Item not found")
        db.execute("DELETE FROM crm_link WHERE KIND = ? AND A = ?", (itype.link_kind, row_id))
        forget_owner(db, itype.entity_type_id, row_id)
    return []
