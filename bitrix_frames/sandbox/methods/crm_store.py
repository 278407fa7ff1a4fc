"""SQLite layout of the CRM entities and the dictionary look-ups their handlers need.

One table per entity (``crm_lead``, ``crm_deal``, ``crm_contact``, ``crm_company``) whose columns
are the field codes (datetimes as Unix seconds, dates ``YYYY-MM-DD``), plus ``UF_JSON`` holding the
user-field values as a JSON object (filterable through ``json_extract`` / ``json_each``).
Multifields live in ``crm_fm`` (row ids unique portal-wide), many-to-many links in ``crm_link``.

Example::

    cols = filter_columns(ENTITIES["deal"], uf_defs(store, ENTITIES["deal"]))
    cols["STAGE_ID"].order_sql   # sorts by the stage's SORT value
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from ..crm_fields import ENTITIES, EntityDef, FieldDef
from ..filters import Column
from ..store import Store, register_schema

VIRTUAL = {"CONTACT_IDS", "COMPANY_IDS", "PHONE", "EMAIL", "WEB", "IM", "LINK"}
"""Fields without a column of their own (links and multifields)."""

_INT_TYPES = {
    "integer",
    "user",
    "crm_company",
    "crm_contact",
    "crm_lead",
    "crm_quote",
    "crm_category",
}
LINK_TYPES = {"crm_company", "crm_contact", "crm_lead", "crm_quote"}


def stored_fields(entity: EntityDef) -> list[str]:
    """Column names of the entity table, in row order."""
    names = list(entity.order)
    for f in entity.fields:
        if f.name not in names and f.name not in VIRTUAL and not f.multiple:
            names.append(f.name)
    return names


def _sql_type(f: FieldDef | None) -> str:
    if f is None:
        return "TEXT"
    if f.type in _INT_TYPES or f.type == "datetime":
        return "INTEGER"
    if f.type == "double":
        return "REAL"
    return "TEXT"


def filter_kind(ftype: str) -> str:
    """Filter kind (filters.Column.kind) of a field type."""
    if ftype in _INT_TYPES:
        return "int"
    if ftype == "double":
        return "float"
    if ftype in ("datetime", "date"):
        return ftype
    if ftype == "char":
        return "yn"
    return "str"


_INDEXES = {
    "lead": ("STATUS_ID", "ASSIGNED_BY_ID", "DATE_CREATE", "DATE_MODIFY", "SOURCE_ID"),
    "deal": (
        "STAGE_ID",
        "CATEGORY_ID",
        "ASSIGNED_BY_ID",
        "DATE_CREATE",
        "DATE_MODIFY",
        "CLOSEDATE",
        "COMPANY_ID",
        "CONTACT_ID",
    ),
    "contact": ("COMPANY_ID", "ASSIGNED_BY_ID", "DATE_CREATE", "LAST_NAME"),
    "company": ("ASSIGNED_BY_ID", "DATE_CREATE", "TITLE"),
}


def _ddl() -> str:
    parts = []
    for entity in ENTITIES.values():
        cols = []
        for name in stored_fields(entity):
            f = entity.by_name.get(name)
            if name == "ID":
                cols.append('"ID" INTEGER PRIMARY KEY')
            else:
                cols.append(f'"{name}" {_sql_type(f)}')
        cols.append('"UF_JSON" TEXT')
        parts.append(f"CREATE TABLE IF NOT EXISTS {entity.table} ({', '.join(cols)});")
        for col in _INDEXES[entity.name]:
            parts.append(
                f"CREATE INDEX IF NOT EXISTS {entity.table}_{col.lower()} "
                f'ON {entity.table} ("{col}");'
            )
    parts.append(
        "CREATE TABLE IF NOT EXISTS crm_fm (ID INTEGER PRIMARY KEY, ENTITY TEXT NOT NULL, "
        "OWNER_ID INTEGER NOT NULL, TYPE_ID TEXT NOT NULL, VALUE_TYPE TEXT, VALUE TEXT);"
        "CREATE INDEX IF NOT EXISTS crm_fm_owner ON crm_fm (ENTITY, OWNER_ID, TYPE_ID);"
        "CREATE INDEX IF NOT EXISTS crm_fm_value ON crm_fm (TYPE_ID, VALUE);"
        "CREATE TABLE IF NOT EXISTS crm_link (KIND TEXT NOT NULL, A INTEGER NOT NULL, "
        "B INTEGER NOT NULL, SORT INTEGER);"
        "CREATE INDEX IF NOT EXISTS crm_link_a ON crm_link (KIND, A);"
        "CREATE INDEX IF NOT EXISTS crm_link_b ON crm_link (KIND, B);"
    )
    return "\n".join(parts)


register_schema(_ddl())


# --- user fields ---------------------------------------------------------------------------------


@dataclass
class UfDef:
    """A user field of one entity (from S3's ``crm_userfield``)."""

    id: int
    name: str
    type: str
    multiple: bool
    mandatory: bool
    settings: dict
    label: str | None
    sort: int
    options: list[tuple[int, str]] = field(default_factory=list)  # enumeration (id, value)


def uf_defs(store: Store, entity: EntityDef) -> dict[str, UfDef]:
    """User fields of ``entity`` ordered by SORT, ID (empty when the table does not exist)."""
    try:
        rows = store.query(
            "SELECT * FROM crm_userfield WHERE entity_id = ? ORDER BY sort, id", (entity.uf_entity,)
        )
    except sqlite3.OperationalError:
        return {}
    out: dict[str, UfDef] = {}
    for r in rows:
        try:
            settings = json.loads(r["settings"]) if r["settings"] else {}
        except ValueError:
            settings = {}
        out[r["field_name"]] = UfDef(
            id=r["id"],
            name=r["field_name"],
            type=r["user_type_id"],
            multiple=r["multiple"] == "Y",
            mandatory=r["mandatory"] == "Y",
            settings=settings if isinstance(settings, dict) else {},
            label=r["label"],
            sort=r["sort"] or 0,
        )
    enum_ids = [u.id for u in out.values() if u.type == "enumeration"]
    if enum_ids:
        by_id = {u.id: u for u in out.values()}
        marks = ",".join("?" * len(enum_ids))
        for r in store.query(
            f"SELECT * FROM crm_userfield_enum WHERE field_id IN ({marks}) ORDER BY sort, id",
            enum_ids,
        ):
            by_id[r["field_id"]].options.append((r["id"], r["value"]))
    return out


_UF_KINDS = {
    "integer": "int",
    "employee": "int",
    "enumeration": "int",
    "boolean": "int",
    "iblock_element": "int",
    "iblock_section": "int",
    "double": "float",
    "date": "date",
    "datetime": "datetime",
}


# --- filter / order columns ----------------------------------------------------------------------


def stage_sort_sql(entity: EntityDef, alias: str = "t") -> str:
    """SQL giving the SORT of the row's stage (deal) or status (lead)."""
    if entity.name == "deal":
        return (
            f'(SELECT s.sort FROM crm_status s WHERE s.status_id = {alias}."STAGE_ID" AND '
            f"s.entity_id = CASE WHEN COALESCE({alias}.\"CATEGORY_ID\", 0) = 0 THEN 'DEAL_STAGE' "
            f"ELSE 'DEAL_STAGE_' || {alias}.\"CATEGORY_ID\" END)"
        )
    return (
        f'(SELECT s.sort FROM crm_status s WHERE s.status_id = {alias}."STATUS_ID" '
        "AND s.entity_id = 'STATUS')"
    )


def filter_columns(entity: EntityDef, ufs: dict[str, UfDef]) -> dict[str, Column]:
    """Filterable / sortable columns of an entity (standard, multifield and user fields)."""
    cols: dict[str, Column] = {}
    for name in stored_fields(entity):
        f = entity.by_name.get(name)
        ftype = f.type if f else "string"
        exact = ftype in LINK_TYPES or ftype in ("crm_status", "crm_currency", "crm_category")
        order_sql = None
        if name in ("STAGE_ID", "STATUS_ID") and ftype == "crm_status":
            order_sql = stage_sort_sql(entity)
        cols[name] = Column(f't."{name}"', filter_kind(ftype), exact, order_sql)
    for fm in entity.multifields:
        cols[fm] = Column(
            't."ID"',
            "str",
            exact_like=True,
            each_sql=(
                f"SELECT f.VALUE AS value FROM crm_fm f WHERE f.ENTITY = '{entity.fm_code}' "
                f"AND f.OWNER_ID = t.\"ID\" AND f.TYPE_ID = '{fm}'"
            ),
        )
    for uf in ufs.values():
        kind = _UF_KINDS.get(uf.type, "str")
        path = f"'$.{uf.name}'"
        if uf.multiple:
            cols[uf.name] = Column(
                f"json_extract(t.UF_JSON, {path})",
                kind,
                each_sql=f"SELECT value FROM json_each(t.UF_JSON, {path})",
            )
        else:
            cols[uf.name] = Column(f"json_extract(t.UF_JSON, {path})", kind)
    return cols


# --- dictionaries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    status_id: str
    sort: int
    semantics: str | None  # None (process) | "S" | "F"


def stage_dictionary(entity: EntityDef, category_id: int = 0) -> str:
    """crm_status ENTITY_ID of the lead statuses or a deal pipeline's stages."""
    if entity.name == "lead":
        return "STATUS"
    return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"


def stages(store: Store, dictionary: str) -> list[Stage]:
    """Stages of one dictionary by SORT."""
    try:
        rows = store.query(
            "SELECT status_id, sort, semantics FROM crm_status WHERE entity_id = ? "
            "ORDER BY sort, id",
            (dictionary,),
        )
    except sqlite3.OperationalError:
        return []
    return [Stage(r[0], r[1] or 0, r[2] or None) for r in rows]


def category_exists(store: Store, category_id: int) -> bool:
    if category_id == 0:
        return True
    try:
        return bool(
            store.scalar(
                "SELECT 1 FROM crm_category WHERE id = ? AND entity_type_id = 2", (category_id,)
            )
        )
    except sqlite3.OperationalError:
        return False


def base_currency(store: Store) -> str:
    """The portal's base currency (``USD`` when no currencies are defined)."""
    try:
        code = store.scalar("SELECT currency FROM crm_currency WHERE base = 'Y' LIMIT 1")
    except sqlite3.OperationalError:
        code = None
    return code or "USD"
