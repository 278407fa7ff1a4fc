"""Legacy CRM entities: ``crm.{lead,deal,contact,company}.{fields,add,get,list,update,delete}``.

Faithful to PROTOCOL §8-§11 and §17: numbers and ids as strings, ISO datetimes in the portal
offset, ``""`` for empty dates, links ``"0"`` in lists and ``null`` in ``get``, multifields in
``get`` (non-empty types) and in ``list`` only when selected, unknown/read-only fields ignored,
stage semantics and ``MOVED_*`` maintained, legacy paging (``start`` rounded down to 50).

Choices where the docs are silent:

- a value that cannot be converted (``OPPORTUNITY: "abc"``, a bad date), a STAGE_ID/STATUS_ID not in
  its dictionary (or another pipeline's stage) and an unknown CATEGORY_ID give HTTP 400
  ``ERROR_CORE`` ``Invalid value "<v>" of field "<CODE>".<br>``; company without TITLE gives
  ``ERROR_CORE`` ``The "Company Name" field is required.<br>``;
- list keys follow the select order (``*`` expands to the DB order), a forced ``ID`` is appended,
  multifields come last (matches the deal/contact/company list samples); empty select = ``*`` +
  ``UF_*`` for all four entities; ``UF_*`` leaves out multiple user fields (PROTOCOL §10);
- lead/deal add without TITLE -> ``"Lead #<id>"`` / ``"Deal #<id>"``; deal BEGINDATE defaults to
  today, CLOSEDATE to today + 7 (today when the deal is added or moved into a final stage);
- empty UF values: ``null`` (single), ``[]`` (multiple), ``false`` (boolean); UF double as a PHP
  float string; unknown enumeration option ids are dropped; PHOTO/LOGO/file UFs always ``null``.

Example::

    METHODS["crm.deal.add"](call, {"fields": {"TITLE": "x", "CATEGORY_ID": 1}})   # -> 7 (int)
    METHODS["crm.deal.list"](call, {"select": ["ID", "STAGE_ID"], "order": {"STAGE_ID": "ASC"}})
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from ..api import ApiError, Call, Page, method
from ..crm_fields import ENTITIES, EntityDef
from ..files import BadFile, file_object, parse_upload, save
from ..filters import order_clause, where_clause
from ..history import forget_owner, record_stage_change
from ..listing import fetch_page
from .crm_fm import has_flags, read_multifields, write_multifields
from .crm_store import (
    VIRTUAL,
    UfDef,
    base_currency,
    category_exists,
    filter_columns,
    stage_dictionary,
    stages,
    stored_fields,
    uf_defs,
)
from .crm_values import invalid, parse_uf, parse_value, render_uf, render_value

# --- parameters ----------------------------------------------------------------------------------


def param(params: dict, name: str) -> Any:
    """Legacy CRM parameter lookup: ``fields`` / ``FIELDS`` / ``Fields`` / ``arFields``."""
    wanted = {name.lower(), "ar" + name.lower()}
    for key, value in params.items():
        if str(key).lower() in wanted:
            return value
    return None


def array_param(params: dict, name: str, *, required: bool = False) -> dict:
    """A parameter that must be a PHP array: dict, or list (numeric keys); else 400."""
    value = param(params, name)
    if value is None and not required:
        return {}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise ApiError(f"Parameter '{name}' must be array.")
    return value


def entity_id(params: dict) -> int:
    """The ``id``/``ID`` parameter as a positive int, else ``ID is not defined or invalid.``"""
    raw = param(params, "id")
    try:
        number = float(raw) if not isinstance(raw, bool) else 0
    except (TypeError, ValueError):
        number = 0
    if number != number or number <= 0 or not float(number).is_integer():
        raise ApiError("ID is not defined or invalid.")
    return int(number)


# --- rendering -----------------------------------------------------------------------------------

Renderer = Callable[[sqlite3.Row, dict], Any]


def _renderers(
    entity: EntityDef, ufs: dict[str, UfDef], keys: list[str], tz: dt.tzinfo, in_list: bool
) -> list[tuple[str, Renderer]]:
    out: list[tuple[str, Renderer]] = []
    for key in keys:
        if key in ufs and ufs[key].type == "file":
            out.append((key, functools.partial(_file_uf, entity, ufs[key])))
        elif key in ufs:
            out.append((key, functools.partial(_uf_value, ufs[key], tz)))
        elif entity.by_name.get(key) and entity.by_name[key].type == "file":
            out.append((key, functools.partial(_file_field, entity.name, key)))
        else:
            f = entity.by_name.get(key)
            ftype = f.type if f else "string"
            out.append((key, functools.partial(_plain_value, key, ftype, tz, in_list)))
    return out


def _file_uf(entity: EntityDef, uf: UfDef, row: sqlite3.Row, ufs: dict) -> Any:
    return _render_files(entity, uf, row, ufs)


def _uf_value(uf: UfDef, tz: dt.tzinfo, row: sqlite3.Row, ufs: dict) -> Any:
    return render_uf(uf, ufs.get(uf.name), tz)


def _file_field(entity_name: str, key: str, row: sqlite3.Row, ufs: dict) -> Any:
    return file_object(entity_name, row["ID"], key, row[key], dynamic=False) if row[key] else None


def _plain_value(
    key: str, ftype: str, tz: dt.tzinfo, in_list: bool, row: sqlite3.Row, ufs: dict
) -> Any:
    return render_value(ftype, row[key], tz, in_list=in_list, name=key)


def _render_files(entity: EntityDef, uf: UfDef, row: sqlite3.Row, values: dict) -> Any:
    """A ``file`` user field: the file object(s) (PROTOCOL §8), null / [] when empty."""
    stored = values.get(uf.name)
    ids = stored if isinstance(stored, list) else ([] if stored is None else [stored])
    objects = [file_object(entity.name, row["ID"], uf.name, i, dynamic=True) for i in ids]
    if uf.multiple:
        return objects
    return objects[0] if objects else None


def _uf_values(row: sqlite3.Row) -> dict:
    raw = row["UF_JSON"]
    return json.loads(raw) if raw else {}


def _render_rows(
    call: Call,
    entity: EntityDef,
    ufs: dict[str, UfDef],
    rows: list[sqlite3.Row],
    keys: list[str],
    fm_types: tuple[str, ...],
    in_list: bool,
) -> list[dict]:
    renderers = _renderers(entity, ufs, keys, call.config.tz, in_list)
    needs_uf = any(k in ufs for k in keys)
    fms = (
        read_multifields(call.store, entity.fm_code, [r["ID"] for r in rows], fm_types)
        if fm_types and entity.fm_code
        else {}
    )
    out = []
    for row in rows:
        uf = _uf_values(row) if needs_uf else {}
        item = {key: fn(row, uf) for key, fn in renderers}
        for type_id, values in fms.get(row["ID"], {}).items():
            item[type_id] = values
        if fms:  # keep the select order of multifield types
            item = {k: item[k] for k in [*item.keys()] if k not in fm_types} | {
                t: item[t] for t in fm_types if t in item
            }
        out.append(item)
    return out


def resolve_select(
    entity: EntityDef, ufs: dict[str, UfDef], raw: Any
) -> tuple[list[str], tuple[str, ...]]:
    """``select`` -> (row keys in output order, multifield types).

    ``*`` = all standard fields in DB order, ``UF_*`` = single-valued user fields, multifields
    only by name, unknown names dropped, ``ID`` appended when missing (no ``*``); empty = ``*`` +
    ``UF_*``. Keys follow the select order (the real server's SQL select order).
    """
    if isinstance(raw, dict):
        raw = list(raw.values())
    items = [str(x).strip().upper() for x in raw] if isinstance(raw, list) else []
    items = [x for x in items if x]
    if not items:
        items = ["*", "UF_*"]
    keys: list[str] = []
    fm: list[str] = []
    for item in items:
        if item == "*":
            keys += entity.order
        elif item == "UF_*":
            keys += [u.name for u in ufs.values() if not u.multiple]
        elif item in entity.multifields:
            fm.append(item)
        elif item in ufs or item in entity.order:
            keys.append(item)
    if "*" not in items and "ID" not in keys:
        keys.append("ID")
    return list(dict.fromkeys(keys)), tuple(dict.fromkeys(fm))


# --- reading -------------------------------------------------------------------------------------


def _get(call: Call, entity: EntityDef, params: dict) -> dict:
    row_id = entity_id(params)
    rows = call.store.query(f'SELECT * FROM {entity.table} WHERE "ID" = ?', (row_id,))
    if not rows:
        raise ApiError("Not found")
    ufs = uf_defs(call.store, entity)
    keys = [*entity.order, *ufs]
    call.return_rows(1)
    return _render_rows(call, entity, ufs, rows, keys, entity.multifields, in_list=False)[0]


def _list(call: Call, entity: EntityDef, params: dict) -> Page:
    filt = array_param(params, "filter")
    order = array_param(params, "order")
    ufs = uf_defs(call.store, entity)
    keys, fm_types = resolve_select(entity, ufs, param(params, "select"))
    columns = filter_columns(entity, ufs)
    where, args = where_clause(filt, columns, call.config.tz)
    order_by = order_clause(order, columns)
    if 't."ID"' not in order_by:
        order_by = f'{order_by}, t."ID" ASC' if order_by else 't."ID" ASC'
    rows, total, nxt = fetch_page(
        call,
        from_sql=f"{entity.table} t",
        where=where,
        args=args,
        order_by=order_by,
        select="t.*",
    )
    return Page(_render_rows(call, entity, ufs, rows, keys, fm_types, in_list=True), total, nxt)


def _fields(call: Call, entity: EntityDef, params: dict) -> dict:
    out = {f.name: f.meta() for f in entity.fields}
    for uf in uf_defs(call.store, entity).values():
        meta: dict = {
            "type": uf.type,
            "isRequired": uf.mandatory,
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": uf.multiple,
            "isDynamic": True,
        }
        if uf.type == "enumeration":
            meta["items"] = [{"ID": str(oid), "VALUE": value} for oid, value in uf.options]
        if uf.type == "crm_status" and uf.settings.get("ENTITY_TYPE"):
            meta["statusType"] = uf.settings["ENTITY_TYPE"]
        label = uf.label or uf.name
        meta.update(title=uf.name, listLabel=label, formLabel=label, filterLabel=label)
        meta["settings"] = uf.settings
        out[uf.name] = meta
    return out


# --- writing -------------------------------------------------------------------------------------


class _Changes:
    """Parsed ``fields``: column values, user fields, multifields and link lists."""

    def __init__(self) -> None:
        self.columns: dict[str, Any] = {}
        self.ufs: dict[str, Any] = {}
        self.fm: dict[str, Any] = {}
        self.links: dict[str, list[int]] = {}
        self.files: dict[str, Any] = {}  # file fields: raw client values, stored in _save


def _id_list(name: str, value: Any) -> list[int]:
    if isinstance(value, dict):
        value = list(value.values())
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item in (None, ""):
            continue
        parsed = parse_value("integer", item, dt.timezone.utc, name)
        if parsed:
            out.append(parsed)
    return list(dict.fromkeys(out))


def _parse_fields(
    call: Call, entity: EntityDef, ufs: dict[str, UfDef], fields: dict, *, update: bool
) -> _Changes:
    changes = _Changes()
    tz = call.config.tz
    stored = set(stored_fields(entity))
    for raw_key, value in fields.items():
        key = str(raw_key).strip().upper()
        if key in ufs and ufs[key].type == "file":
            changes.files[key] = value
            continue
        if key in ufs:
            changes.ufs[key] = parse_uf(ufs[key], value, tz)
            continue
        f = entity.by_name.get(key)
        if f is None or f.read_only or (update and f.immutable):
            continue
        if f.type == "file":
            changes.files[key] = value
        elif key in entity.multifields:
            changes.fm[key] = value
        elif f.multiple or key in VIRTUAL:
            changes.links[key] = _id_list(key, value)
        elif key in stored:
            changes.columns[key] = parse_value(f.type, value, tz, key)
    return changes


def _store_files(db: sqlite3.Connection, ufs: dict[str, UfDef], changes: _Changes) -> None:
    """Save uploaded files; file ids go to the column / the user-field value (a multiple field
    is set as a whole: ``{"id": N}`` keeps a file, anything not passed is dropped)."""
    for key, raw in changes.files.items():
        multiple = key in ufs and ufs[key].multiple
        items = list(raw.values()) if multiple and isinstance(raw, dict) else raw
        if multiple and not isinstance(items, list):
            items = [items]
        try:
            if multiple:
                saved = [save(db, parse_upload(item)) for item in items]
                value: Any = [i for i in saved if i is not None] or None
            else:
                value = save(db, parse_upload(raw))
        except BadFile:
            raise invalid(key, raw) from None
        if key in ufs:
            changes.ufs[key] = value
        else:
            changes.columns[key] = value


def _next_row_id(db: sqlite3.Connection, call: Call, table: str) -> int:
    """A never-reused id (MySQL auto-increment style), above every existing row."""
    new = call.store.next_id(table)
    top = db.execute(f'SELECT MAX("ID") FROM {table}').fetchone()[0] or 0
    if new <= top:
        new = top + 1
        db.execute("UPDATE sequence SET value = ? WHERE name = ?", (new, table))
    return new


def _apply_stage(
    call: Call, entity: EntityDef, cols: dict, current: sqlite3.Row | None, now: int
) -> None:
    """Validate STAGE_ID/STATUS_ID and keep semantics, CLOSED, IS_NEW, MOVED_* in step."""
    if entity.name not in ("deal", "lead"):
        return
    key = "STAGE_ID" if entity.name == "deal" else "STATUS_ID"
    category = 0
    if entity.name == "deal":
        category = (cols.get("CATEGORY_ID") if current is None else current["CATEGORY_ID"]) or 0
        if current is None:
            if not category_exists(call.store, category):
                raise invalid("CATEGORY_ID", category)
            cols["CATEGORY_ID"] = category
    pipeline = stages(call.store, stage_dictionary(entity, category))
    if current is None and not cols.get(key):
        cols[key] = (
            pipeline[0].status_id if pipeline else ("NEW" if not category else f"C{category}:NEW")
        )
    if key not in cols:
        return
    if cols[key] in (None, ""):
        del cols[key]  # cannot clear the stage
        return
    by_id = {s.status_id: s for s in pipeline}
    if pipeline and cols[key] not in by_id:
        raise invalid(key, cols[key])
    if current is not None and current[key] == cols[key]:
        return
    stage = by_id.get(cols[key])
    semantic = (stage.semantics if stage else None) or "P"
    cols["MOVED_TIME"] = now
    cols["MOVED_BY_ID"] = call.user_id
    if entity.name == "lead":
        cols["STATUS_SEMANTIC_ID"] = semantic
        cols["DATE_CLOSED"] = now if semantic in ("S", "F") else None
        return
    cols["STAGE_SEMANTIC_ID"] = semantic
    cols["CLOSED"] = "Y" if semantic in ("S", "F") else "N"
    cols["IS_NEW"] = "Y" if pipeline and cols[key] == pipeline[0].status_id else "N"
    if semantic in ("S", "F") and "CLOSEDATE" not in cols:
        cols["CLOSEDATE"] = dt.datetime.fromtimestamp(now, call.config.tz).date().isoformat()


def _defaults(call: Call, entity: EntityDef, cols: dict, now: int) -> None:
    today = dt.datetime.fromtimestamp(now, call.config.tz).date()
    user = call.user_id
    common = {
        "OPENED": "Y",
        "ASSIGNED_BY_ID": user,
        "LAST_ACTIVITY_TIME": now,
        "LAST_ACTIVITY_BY": user,
    }
    per_entity: dict[str, dict] = {
        "lead": {
            "CURRENCY_ID": None,
            "OPPORTUNITY": 0.0,
            "IS_MANUAL_OPPORTUNITY": "N",
            "IS_RETURN_CUSTOMER": "N",
        },
        "deal": {
            "CURRENCY_ID": None,
            "OPPORTUNITY": 0.0,
            "TAX_VALUE": 0.0,
            "IS_MANUAL_OPPORTUNITY": "N",
            "IS_RECURRING": "N",
            "IS_RETURN_CUSTOMER": "N",
            "IS_REPEATED_APPROACH": "N",
            "BEGINDATE": today.isoformat(),
            "CLOSEDATE": (today + dt.timedelta(days=7)).isoformat(),
        },
        "contact": {"EXPORT": "Y"},
        "company": {"CURRENCY_ID": None, "REVENUE": 0.0, "IS_MY_COMPANY": "N"},
    }
    for key, value in {**common, **per_entity[entity.name]}.items():
        if cols.get(key) is None:
            cols[key] = base_currency(call.store) if key == "CURRENCY_ID" else value
    cols.update(CREATED_BY_ID=user, MODIFY_BY_ID=user, DATE_CREATE=now, DATE_MODIFY=now)
    if entity.fm_code:
        cols.update(HAS_PHONE="N", HAS_EMAIL="N", HAS_IMOL="N")


def _check_required(entity: EntityDef, cols: dict, *, update: bool) -> None:
    missing = not str(cols.get("TITLE") or "").strip()
    if entity.name == "company" and (not update or "TITLE" in cols) and missing:
        raise ApiError('The "Company Name" field is required.<br>', "ERROR_CORE")


_LINKS = {  # field -> (link kind, entity column is side A, column that mirrors the first id)
    ("deal", "CONTACT_IDS"): ("deal_contact", True, "CONTACT_ID"),
    ("lead", "CONTACT_IDS"): ("lead_contact", True, "CONTACT_ID"),
    ("contact", "COMPANY_IDS"): ("contact_company", True, "COMPANY_ID"),
    ("company", "CONTACT_ID"): ("contact_company", False, None),
}


def _write_links(db: sqlite3.Connection, entity: EntityDef, row_id: int, changes: _Changes) -> None:
    for key, ids in changes.links.items():
        spec = _LINKS.get((entity.name, key))
        if spec is None:
            continue
        kind, own_is_a, mirror = spec
        side = "A" if own_is_a else "B"
        db.execute(f"DELETE FROM crm_link WHERE KIND = ? AND {side} = ?", (kind, row_id))
        pairs = [(row_id, other) if own_is_a else (other, row_id) for other in ids]
        db.executemany(
            "INSERT INTO crm_link (KIND, A, B, SORT) VALUES (?, ?, ?, ?)",
            [(kind, a, b, (i + 1) * 10) for i, (a, b) in enumerate(pairs)],
        )
        if mirror and mirror not in changes.columns:
            changes.columns[mirror] = ids[0] if ids else None


def _save(call: Call, entity: EntityDef, params: dict, row_id: int | None) -> int:
    fields = array_param(params, "fields", required=True)
    array_param(params, "params")  # validated like the core ("Parameter 'params' must be array.")
    ufs = uf_defs(call.store, entity)
    update = row_id is not None
    changes = _parse_fields(call, entity, ufs, fields, update=update)
    cols = changes.columns
    now = int(call.now().timestamp())
    with call.store.transaction() as db:
        current = None
        if update:
            current = db.execute(
                f'SELECT * FROM {entity.table} WHERE "ID" = ?', (row_id,)
            ).fetchone()
            if current is None:
                raise ApiError(f"{entity.title} is not found")
        _check_required(entity, cols, update=update)
        _apply_stage(call, entity, cols, current, now)
        _store_files(db, ufs, changes)
        uf_json = (
            json.loads(current["UF_JSON"]) if current is not None and current["UF_JSON"] else {}
        )
        for name, value in changes.ufs.items():
            if value is None:
                uf_json.pop(name, None)
            else:
                uf_json[name] = value
        cols["UF_JSON"] = json.dumps(uf_json) if uf_json else None
        if update:
            cols.update(MODIFY_BY_ID=call.user_id, DATE_MODIFY=now)
        else:
            _defaults(call, entity, cols, now)
            row_id = _next_row_id(db, call, entity.table)
            cols["ID"] = row_id
        assert row_id is not None  # an update names its row; an add has just been given one
        _write_links(db, entity, row_id, changes)
        if entity.fm_code and changes.fm:
            write_multifields(db, call.store, entity.fm_code, row_id, changes.fm)
            cols.update(has_flags(db, entity.fm_code, row_id))
        if entity.name == "lead":
            company = cols.get("COMPANY_ID", current["COMPANY_ID"] if current else None)
            contact = cols.get("CONTACT_ID", current["CONTACT_ID"] if current else None)
            cols["IS_RETURN_CUSTOMER"] = "Y" if company or contact else "N"
        if not update and entity.name in ("lead", "deal") and not cols.get("TITLE"):
            cols["TITLE"] = f"{entity.title} #{row_id}"
        names = list(cols)
        if update:
            assignments = ", ".join(f'"{n}" = ?' for n in names)
            db.execute(
                f'UPDATE {entity.table} SET {assignments} WHERE "ID" = ?',
                [cols[n] for n in names] + [row_id],
            )
        else:
            quoted = ", ".join(f'"{n}"' for n in names)
            db.execute(
                f"INSERT INTO {entity.table} ({quoted}) VALUES ({', '.join('?' * len(names))})",
                [cols[n] for n in names],
            )
        _record_history(db, entity, row_id, cols, current, now)
    return row_id


_HISTORY_TYPES = {"lead": (1, "STATUS_ID"), "deal": (2, "STAGE_ID")}


def _record_history(
    db: sqlite3.Connection,
    entity: EntityDef,
    row_id: int,
    cols: dict,
    current: sqlite3.Row | None,
    now: int,
) -> None:
    """Creation and every stage move append to ``crm.stagehistory.list`` (a write that leaves
    the stage as it was adds nothing)."""
    spec = _HISTORY_TYPES.get(entity.name)
    if spec is None or spec[1] not in cols:
        return
    type_id, key = spec
    category = 0
    if entity.name == "deal":
        category = cols.get("CATEGORY_ID", current["CATEGORY_ID"] if current else 0) or 0
    record_stage_change(db, type_id, row_id, category, cols[key], now)


_DELETE_MISSING = {
    "lead": ("Not found", ""),
    "deal": ("Not found", ""),
    "contact": ("Element not found", "ERROR_CORE"),
    "company": ("Company is not found", ""),
}


def _delete(call: Call, entity: EntityDef, params: dict) -> bool:
    row_id = entity_id(params)
    with call.store.transaction() as db:
        gone = db.execute(f'DELETE FROM {entity.table} WHERE "ID" = ?', (row_id,)).rowcount
        if not gone:
            raise ApiError(*_DELETE_MISSING[entity.name])
        if entity.name in _HISTORY_TYPES:
            forget_owner(db, _HISTORY_TYPES[entity.name][0], row_id)
        if entity.fm_code:
            db.execute(
                "DELETE FROM crm_fm WHERE ENTITY = ? AND OWNER_ID = ?", (entity.fm_code, row_id)
            )
        for (name, _key), (kind, own_is_a, _m) in _LINKS.items():
            if name == entity.name:
                side = "A" if own_is_a else "B"
                db.execute(f"DELETE FROM crm_link WHERE KIND = ? AND {side} = ?", (kind, row_id))
    return True


# --- registration --------------------------------------------------------------------------------


def _register(entity: EntityDef) -> None:
    prefix = f"crm.{entity.name}."
    method(prefix + "fields")(lambda call, params: _fields(call, entity, params))
    method(prefix + "get")(lambda call, params: _get(call, entity, params))
    method(prefix + "list")(lambda call, params: _list(call, entity, params))
    method(prefix + "add")(lambda call, params: _save(call, entity, params, None))

    def update(call: Call, params: dict) -> bool:
        row_id = entity_id(params)
        _save(call, entity, params, row_id)
        return True

    method(prefix + "update")(update)
    method(prefix + "delete")(lambda call, params: _delete(call, entity, params))


for _entity in ENTITIES.values():
    _register(_entity)
