"""What ``crm.item.*`` knows about one entity type: its camelCase fields, storage and filters.

Two kinds of types share one description (:class:`ItemType`):

- the classic entities (entityTypeId 1 lead, 2 deal, 3 contact, 4 company) are served over the
  *same* rows as ``crm.lead/deal/contact/company.*`` (tables ``crm_lead`` ...), their UPPER codes
  renamed the way the core's ORM converter does (``DATE_CREATE`` -> ``createdTime``,
  ``UF_CRM_1721244707107`` -> ``ufCrm_1721244707107``);
- smart processes (``crm_type`` rows, entityTypeId >= 1030) keep their items in ``crm_item`` keyed
  by (``ENTITY_TYPE_ID``, ``ID``), stages in ``crm_status`` ``DYNAMIC_<typeId>_STAGE_<cat>``, user
  fields in ``crm_userfield`` with ``ENTITY_ID`` ``CRM_<id>`` and codes ``UF_CRM_<id>_<digits>``.

Example::

    itype = item_type(call.store, 1036)
    itype.fields["stageId"].column       # 'STAGE_ID'
    camel("UF_CRM_7_1721812760630")       # 'ufCrm7_1721812760630'
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ..api import ApiError
from ..crm_fields import ENTITIES, EntityDef
from ..filters import Column
from ..store import Store, register_schema
from .crm_store import UfDef, filter_columns, uf_defs

SCHEMA = """
CREATE TABLE IF NOT EXISTS crm_type (id INTEGER PRIMARY KEY, entity_type_id INTEGER UNIQUE,
  title TEXT, code TEXT, created_by INTEGER, updated_by INTEGER, created_time INTEGER,
  updated_time INTEGER, flags TEXT);
CREATE TABLE IF NOT EXISTS crm_item ("ENTITY_TYPE_ID" INTEGER NOT NULL, "ID" INTEGER NOT NULL,
  "XML_ID" TEXT, "TITLE" TEXT, "CREATED_BY" INTEGER, "UPDATED_BY" INTEGER, "MOVED_BY" INTEGER,
  "CREATED_TIME" INTEGER, "UPDATED_TIME" INTEGER, "MOVED_TIME" INTEGER, "CATEGORY_ID" INTEGER,
  "OPENED" TEXT, "STAGE_ID" TEXT, "PREVIOUS_STAGE_ID" TEXT, "BEGINDATE" TEXT, "CLOSEDATE" TEXT,
  "COMPANY_ID" INTEGER, "CONTACT_ID" INTEGER, "OPPORTUNITY" REAL, "IS_MANUAL_OPPORTUNITY" TEXT,
  "TAX_VALUE" REAL, "CURRENCY_ID" TEXT, "MYCOMPANY_ID" INTEGER, "SOURCE_ID" TEXT,
  "SOURCE_DESCRIPTION" TEXT, "WEBFORM_ID" INTEGER, "ASSIGNED_BY_ID" INTEGER,
  "LAST_ACTIVITY_BY" INTEGER, "LAST_ACTIVITY_TIME" INTEGER, "OBSERVERS" TEXT, "UF_JSON" TEXT,
  PRIMARY KEY ("ENTITY_TYPE_ID", "ID"));
CREATE INDEX IF NOT EXISTS crm_item_stage ON crm_item ("ENTITY_TYPE_ID", "STAGE_ID");
CREATE INDEX IF NOT EXISTS crm_item_updated ON crm_item ("ENTITY_TYPE_ID", "UPDATED_TIME");
"""
register_schema(SCHEMA)

TYPE_FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isUseInUserfieldEnabled",
    "isLinkWithProductsEnabled",
    "isMycompanyEnabled",
    "isDocumentsEnabled",
    "isSourceEnabled",
    "isObserversEnabled",
    "isRecyclebinEnabled",
    "isAutomationEnabled",
    "isBizProcEnabled",
    "isSetOpenPermissions",
    "isPaymentsEnabled",
    "isCountersEnabled",
)
"""Boolean settings of a smart process (``crm.type.*``), in the documented order."""

# --- names ---------------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Z_]+$|^UF_CRM_\d{1,4}_[\d_]+$|^UF_CRM_\d{1,4}_[A-Z_]+$")


def camel(upper: str) -> str:
    """UPPER_SNAKE -> camelCase as the core's ORM converter does it.

    >>> camel("IS_MANUAL_OPPORTUNITY"), camel("UF_CRM_1721244707107"), camel("UF_CRM_44_1721812760630")
    ('isManualOpportunity', 'ufCrm_1721244707107', 'ufCrm44_1721812760630')
    >>> camel("ADDRESS_2"), camel("PARENT_ID_1220")
    ('address2', 'parentId1220')
    """
    if not _PLAIN.match(upper) and upper.upper().startswith("UF_"):
        if upper.upper().startswith("UF_CRM_"):
            return "ufCrm_" + upper[7:]
        return "uf" + upper[3:]
    marked = re.sub(r"(\d)_(\d)", r"\1~\2", upper)
    parts = [p for p in marked.lower().split("_") if p]
    out = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:]) if parts else ""
    return out.replace("~", "_")


# Classic codes whose Item name is not their mechanical camelCase: legacy code -> Item UPPER name.
_ITEM_NAMES = {
    "DATE_CREATE": "CREATED_TIME",
    "DATE_MODIFY": "UPDATED_TIME",
    "CREATED_BY_ID": "CREATED_BY",
    "MODIFY_BY_ID": "UPDATED_BY",
    "MOVED_BY_ID": "MOVED_BY",
    "STATUS_ID": "STAGE_ID",
    "STATUS_SEMANTIC_ID": "STAGE_SEMANTIC_ID",
    "COMPANY_TYPE": "TYPE_ID",
}


# --- fields --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemField:
    """One ``crm.item.fields`` entry and where its value lives."""

    name: str  # camelCase
    upper: str  # upperName
    type: str
    title: str
    column: str | None = None  # column of the row table; None = computed / link
    required: bool = False
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    status_type: str | None = None
    uf: UfDef | None = None
    settings: dict | None = None
    deprecated: bool = False
    listed_only: bool = False  # in crm.item.fields but never in an item (``contacts``)

    def meta(self) -> dict:
        """The documented ``crm.item.fields`` entry (``upperName`` last)."""
        out: dict[str, Any] = {
            "type": self.type,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isImmutable": self.immutable,
            "isMultiple": self.multiple,
            "isDynamic": self.uf is not None,
        }
        if self.deprecated:
            out["isDeprecated"] = True
        if self.status_type:
            out["statusType"] = self.status_type
        if self.uf is not None:
            if self.uf.type == "enumeration":
                out["items"] = [{"ID": str(i), "VALUE": v} for i, v in self.uf.options]
            label = self.uf.label or self.uf.name
            out.update(title=label, listLabel=label, formLabel=label, filterLabel=label)
            out["settings"] = self.uf.settings
        else:
            out["title"] = self.title
            if self.settings is not None:
                out["settings"] = self.settings
        out["upperName"] = self.upper
        return out


@dataclass
class ItemType:
    """Everything ``crm.item.*`` needs about one entityTypeId."""

    entity_type_id: int
    title: str
    table: str
    fields: dict[str, ItemField]  # camelCase name -> field, in row order
    columns: dict[str, Column]  # filter/order columns by camelCase name
    legacy: EntityDef | None = None
    type_id: int | None = None  # smart process: crm_type.id (UF prefix)
    link_kind: str | None = None  # crm_link KIND of contactIds
    extras: dict[str, Any] = field(default_factory=dict)  # computed keys of a whole item
    by_upper: dict[str, ItemField] = field(default_factory=dict)

    @property
    def scope_sql(self) -> str:
        """Condition selecting this type's rows of :attr:`table` (alias ``t``)."""
        if self.legacy is not None:
            return "1"
        return f't."ENTITY_TYPE_ID" = {int(self.entity_type_id)}'

    def lookup(self, name: str) -> ItemField | None:
        """A field by camelCase or UPPER name."""
        return self.fields.get(name) or self.by_upper.get(name.upper())

    def stage_dictionary(self, category_id: int | None) -> str:
        """crm_status ENTITY_ID of the stages of one pipeline."""
        if self.legacy is not None:
            if self.legacy.name == "lead":
                return "STATUS"
            return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"
        return f"DYNAMIC_{self.entity_type_id}_STAGE_{category_id or 0}"


def _finish(itype: ItemType) -> ItemType:
    itype.by_upper = {f.upper: f for f in itype.fields.values()}
    return itype


_LEGACY_BY_TYPE = {1: "lead", 2: "deal", 3: "contact", 4: "company"}

_NULLS = dict.fromkeys
_EXTRAS: dict[str, dict[str, Any]] = {
    # computed keys an item of a classic entity carries (docs samples), null unless known; "fm"
    # (the multifields) and "observers" are filled in by the renderer
    "*": {**_NULLS(("dateCreateShort", "dateModifyShort", "searchContent")), "observers": []},
    "lead": {
        **_NULLS(
            (
                "isConvert",
                "productId",
                "shortName",
                "login",
                "phoneMobile",
                "phoneWork",
                "phoneMailing",
                "emailHome",
                "emailWork",
                "emailMailing",
                "skype",
                "icq",
                "imol",
                "email",
                "phone",
            )
        ),
        "webformId": 0,
        "fm": [],
    },  # fmt: skip
    "deal": {
        **_NULLS(
            (
                "productId",
                "begindateShort",
                "closedateShort",
                "eventDate",
                "eventDateShort",
                "eventId",
                "eventDescription",
                "orderStage",
                "isWork",
                "isWon",
                "isLose",
                "receivedAmount",
                "lostAmount",
                "hasProducts",
            )
        ),
        "webformId": 0,
    },  # fmt: skip
    "contact": {"fm": []},
    "company": {"fm": []},
}
_LEGACY_LINKS = {"lead": "lead_contact", "deal": "deal_contact"}


def _legacy_type(store: Store, entity_type_id: int) -> ItemType:
    entity = ENTITIES[_LEGACY_BY_TYPE[entity_type_id]]
    ufs = uf_defs(store, entity)
    fields: dict[str, ItemField] = {}
    for name in entity.order:
        f = entity.by_name.get(name)
        if f is None or f.type == "crm_multifield":
            continue
        upper = _ITEM_NAMES.get(name, name)
        if entity.name == "company" and name == "CONTACT_ID":
            continue  # a multiple link, served as contactIds
        ftype = f.type
        fields[camel(upper)] = ItemField(
            camel(upper),
            upper,
            ftype,
            f.title,
            column=name,
            required=f.required,
            read_only=f.read_only,
            immutable=f.immutable,
            status_type=f.status_type,
        )
    link = _LEGACY_LINKS.get(entity.name)
    if link or entity.name == "company":
        fields["contactIds"] = ItemField(
            "contactIds", "CONTACT_IDS", "crm_contact", "Contacts", multiple=True
        )
    if entity.name == "contact":
        fields["companyIds"] = ItemField(
            "companyIds", "COMPANY_IDS", "crm_company", "Companies", multiple=True
        )
    for uf in ufs.values():
        fields[camel(uf.name)] = ItemField(
            camel(uf.name),
            uf.name,
            uf.type,
            uf.label or uf.name,
            multiple=uf.multiple,
            required=uf.mandatory,
            uf=uf,
        )
    legacy_cols = filter_columns(entity, ufs)
    columns: dict[str, Column] = {}
    for item_field in fields.values():
        uf_def = item_field.uf
        source = item_field.column or (uf_def.name if uf_def else None)
        if source and source in legacy_cols:  # the ORM filter keeps LIKE on every string field
            columns[item_field.name] = dataclasses.replace(legacy_cols[source], exact_like=False)
    if link:
        columns["contactIds"] = Column(
            't."ID"',
            "int",
            each_sql=f"SELECT B AS value FROM crm_link WHERE KIND = '{link}' AND A = t.\"ID\"",
        )
    return _finish(
        ItemType(
            entity_type_id,
            entity.title,
            entity.table,
            fields,
            columns,
            legacy=entity,
            link_kind=link,
            extras={**_EXTRAS["*"], **_EXTRAS[entity.name]},
        )
    )


# Standard fields of a smart process item: (camel, UPPER, type, flags, title[, statusType]).
# Flags: r read-only, R required, M multiple, I immutable; "-" = computed (no column).
_DYNAMIC_FIELDS: tuple[tuple, ...] = (
    ("id", "ID", "integer", "r", "ID"),
    ("title", "TITLE", "string", "", "Name"),
    ("xmlId", "XML_ID", "string", "", "External code"),
    ("createdTime", "CREATED_TIME", "datetime", "r", "Created at"),
    ("updatedTime", "UPDATED_TIME", "datetime", "r", "Updated at"),
    ("createdBy", "CREATED_BY", "user", "r", "Created by"),
    ("updatedBy", "UPDATED_BY", "user", "r", "Updated by"),
    ("assignedById", "ASSIGNED_BY_ID", "user", "", "Assigned to"),
    ("opened", "OPENED", "boolean", "R", "Publicly available"),
    ("webformId", "WEBFORM_ID", "integer", "", "Created by CRM form"),
    ("begindate", "BEGINDATE", "date", "", "Start date"),
    ("closedate", "CLOSEDATE", "date", "", "Finish date"),
    ("companyId", "COMPANY_ID", "crm_company", "", "Company"),
    ("contactId", "CONTACT_ID", "crm_contact", "d", "Contact"),
    ("contactIds", "CONTACT_IDS", "crm_contact", "M-", "CONTACT_IDS"),
    ("contacts", "CONTACTS", "crm_contact", "M-l", "CONTACTS"),
    ("observers", "OBSERVERS", "user", "M", "Observers"),
    ("categoryId", "CATEGORY_ID", "crm_category", "", "Pipeline"),
    ("movedTime", "MOVED_TIME", "datetime", "r", "Moved at"),
    ("movedBy", "MOVED_BY", "user", "r", "Moved by"),
    ("stageId", "STAGE_ID", "crm_status", "", "Stage"),
    ("previousStageId", "PREVIOUS_STAGE_ID", "crm_status", "r", "Previous stage"),
    ("sourceId", "SOURCE_ID", "crm_status", "", "Source", "SOURCE"),
    ("sourceDescription", "SOURCE_DESCRIPTION", "text", "", "Additional source info"),
    ("currencyId", "CURRENCY_ID", "crm_currency", "", "Currency"),
    ("isManualOpportunity", "IS_MANUAL_OPPORTUNITY", "boolean", "", "Manual amount"),
    ("opportunity", "OPPORTUNITY", "double", "", "Amount"),
    ("taxValue", "TAX_VALUE", "double", "", "Tax"),
    ("mycompanyId", "MYCOMPANY_ID", "crm_company", "", "Your company details"),
    ("lastActivityBy", "LAST_ACTIVITY_BY", "user", "r", "Last activity by"),
    ("lastActivityTime", "LAST_ACTIVITY_TIME", "datetime", "r", "Last activity"),
)

_SETTINGS = {
    "companyId": {"parentEntityTypeId": 4},
    "mycompanyId": {"isMyCompany": True, "parentEntityTypeId": 4, "isEmbeddedEditorEnabled": True},
}

_KINDS = {
    "integer": "int",
    "user": "int",
    "crm_company": "int",
    "crm_contact": "int",
    "crm_category": "int",
    "double": "float",
    "datetime": "datetime",
    "date": "date",
    "boolean": "yn",
    "char": "yn",
}

_UF_KINDS = {
    "integer": "int",
    "employee": "int",
    "enumeration": "int",
    "boolean": "int",
    "double": "float",
    "date": "date",
    "datetime": "datetime",
}


def _dynamic_type(store: Store, row: sqlite3.Row) -> ItemType:
    etid = int(row["entity_type_id"])
    fields: dict[str, ItemField] = {}
    for spec in _DYNAMIC_FIELDS:
        name, upper, ftype, flags, title = spec[:5]
        fields[name] = ItemField(
            name,
            upper,
            ftype,
            title,
            column=None if "-" in flags else upper,
            required="R" in flags,
            read_only="r" in flags,
            immutable="I" in flags,
            multiple="M" in flags,
            status_type=spec[5] if len(spec) > 5 else None,
            settings=_SETTINGS.get(name),
            deprecated="d" in flags,
            listed_only="l" in flags,
        )
    default = store.query(
        "SELECT id FROM crm_category WHERE entity_type_id = ? ORDER BY is_default DESC, sort, id",
        (etid,),
    )
    stages = f"DYNAMIC_{etid}_STAGE_{default[0][0] if default else 0}"
    for name in ("stageId", "previousStageId"):
        fields[name] = dataclasses.replace(fields[name], status_type=stages)
    ufs = uf_defs(store, _UfOwner(f"CRM_{row['id']}"))  # type: ignore[arg-type]
    for uf in ufs.values():
        fields[camel(uf.name)] = ItemField(
            camel(uf.name),
            uf.name,
            uf.type,
            uf.label or uf.name,
            multiple=uf.multiple,
            required=uf.mandatory,
            uf=uf,
        )
    columns: dict[str, Column] = {}
    for f in fields.values():
        if f.uf is not None:
            path = f"'$.{f.uf.name}'"
            kind = _UF_KINDS.get(f.type, "str")
            columns[f.name] = Column(
                f"json_extract(t.UF_JSON, {path})",
                kind,
                each_sql=(
                    f"SELECT value FROM json_each(t.UF_JSON, {path})" if f.multiple else None
                ),
            )
        elif f.name == "observers":
            columns[f.name] = Column(
                't."ID"', "int", each_sql='SELECT value FROM json_each(t."OBSERVERS")'
            )
        elif f.column:
            columns[f.name] = Column(f't."{f.column}"', _KINDS.get(f.type, "str"))
    columns["stageId"] = Column(
        't."STAGE_ID"',
        "str",
        False,
        '(SELECT s.sort FROM crm_status s WHERE s.status_id = t."STAGE_ID" AND s.entity_id = '
        f"'DYNAMIC_{etid}_STAGE_' || COALESCE(t.\"CATEGORY_ID\", 0))",
    )
    link = f"item{etid}_contact"
    columns["contactIds"] = Column(
        't."ID"',
        "int",
        each_sql=f"SELECT B AS value FROM crm_link WHERE KIND = '{link}' AND A = t.\"ID\"",
    )
    return _finish(
        ItemType(
            etid,
            row["title"],
            "crm_item",
            fields,
            columns,
            type_id=int(row["id"]),
            link_kind=link,
        )
    )


@dataclass(frozen=True)
class _UfOwner:
    """What :func:`crm_store.uf_defs` reads of an entity: its user-field ENTITY_ID."""

    uf_entity: str


def type_row(store: Store, entity_type_id: int) -> sqlite3.Row | None:
    """The ``crm_type`` row of a smart process, or None."""
    try:
        rows = store.query("SELECT * FROM crm_type WHERE entity_type_id = ?", (entity_type_id,))
    except sqlite3.OperationalError:
        return None
    return rows[0] if rows else None


def not_found_type() -> ApiError:
    return ApiError("Smart process not found", "NOT_FOUND")


def entity_type_param(params: dict) -> int:
    """The required ``entityTypeId`` parameter as an int (400 when absent)."""
    raw = params.get("entityTypeId", params.get("ENTITY_TYPE_ID"))
    if raw is None or raw == "":
        raise ApiError("Could not find value for parameter {entityTypeId}", "100")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise not_found_type() from None


def item_type(store: Store, entity_type_id: int) -> ItemType:
    """The :class:`ItemType` of ``entity_type_id``; 400 ``NOT_FOUND`` for an unknown type."""
    if entity_type_id in _LEGACY_BY_TYPE:
        return _legacy_type(store, entity_type_id)
    row = type_row(store, entity_type_id)
    if row is None:
        raise not_found_type()
    return _dynamic_type(store, row)


def type_flags(row: sqlite3.Row) -> dict[str, str]:
    """The ``is*Enabled`` settings of a ``crm_type`` row (``Y``/``N``)."""
    stored = json.loads(row["flags"] or "{}")
    return {name: "Y" if stored.get(name) else "N" for name in TYPE_FLAGS}
