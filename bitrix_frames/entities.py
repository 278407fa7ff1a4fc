"""One registry of the entities the frames layer loads: method names, id keys, result paths, casing.

Everything entity-specific lives here; the schema, loaders and cache only read these records.

Column naming: every frame uses the UPPER_SNAKE names of the legacy CRM API, the task
``select``/``filter``/``order`` parameters and ``user.get``. Task *responses* come back in camelCase
(``responsibleId``); the loader renames them to the UPPER_SNAKE name of the matching
``tasks.task.getFields`` entry (``RESPONSIBLE_ID``), so a column name is always also a valid filter
and select key. Keys unknown to the metadata fall back to a mechanical camel -> UPPER_SNAKE rename.

Modified-date field (incremental refresh): ``DATE_MODIFY`` for CRM entities, ``CHANGED_DATE`` for
tasks. Users have none: ``TIMESTAMP_X`` is a non-ISO, sometimes empty (``{}``) site-format string that
cannot be filtered reliably, so users are always reloaded in full (a portal has few of them).

Example::

    >>> ENTITIES["task"].list_method, ENTITIES["task"].list_key
    ('tasks.task.list', 'tasks')
    >>> entity("deals").name
    'deal'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENTITIES",
    "Entity",
    "Completion",
    "Shape",
    "camel_to_upper",
    "entity",
    "item_camel",
    "item_entity",
    "keyset_for",
    "rows_path_for",
    "upper_to_camel",
]


@dataclass(frozen=True)
class Shape:
    """How a keyset-capable list method names its ID and wraps its rows (``order ID ASC``,
    ``>ID`` filter and ``start=-1`` all work on it)."""

    id_key: str
    """The ID in filter / order / select (``ID``; ``id`` for ``crm.item.list``)."""
    row_id: str
    """The ID in the returned rows (``id`` for tasks, whose responses are camelCase)."""
    rows_path: str | None
    """``result[rows_path]`` holds the rows; None: ``result`` is the list."""


@dataclass(frozen=True)
class Completion:
    """A status value that is reached through its own method, not an update (a task's
    ``STATUS`` 5 goes through ``tasks.task.complete``)."""

    field: str
    value: int
    method: str


@dataclass(frozen=True)
class Entity:
    """How one entity is spoken on the wire."""

    name: str
    """Registry key: ``lead``, ``deal``, ``contact``, ``company``, ``task``, ``user``."""
    list_method: str
    get_method: str | None = None
    fields_method: str | None = None
    """None: the entity has no fields method; its fields are ``static_fields``."""
    add_method: str | None = None
    update_method: str | None = None
    delete_method: str | None = None
    id_param: str = "id"
    """Parameter naming the record in get/update/delete (``taskId`` for tasks)."""
    id_field: str = "ID"
    """Column holding the primary key (the frame's index)."""
    list_key: str | None = None
    """Key under ``result`` holding the rows of a list (``tasks``); None = ``result`` is the list."""
    item_key: str | None = None
    """Key under ``result`` holding the record of get/add/update (``task``)."""
    fields_key: str | None = None
    """Key under ``result`` of the fields method holding the field map (``fields`` for tasks)."""
    fields_format: str = "crm"
    """``crm`` (crm.*.fields objects), ``task`` (getFields objects), ``captions`` (user.fields) or
    ``static`` (no fields method: ``static_fields``)."""
    camel_response: bool = False
    """Responses use camelCase keys (tasks) while parameters use UPPER_SNAKE."""
    multifields: tuple[str, ...] = ()
    """PHONE/EMAIL/... fields; lists return them only when selected by name."""
    modified_field: str | None = None
    """Datetime field bumped on every change; None = no incremental refresh."""
    userfield_method: str | None = None
    """``crm.X.userfield.list`` (UF enumeration items in SORT order)."""
    entity_type_id: int | None = None
    """CRM entityTypeId (1 lead, 2 deal, 3 contact, 4 company)."""
    default_select: tuple[str, ...] = ()
    """Masks always sent in ``select`` (``*``, ``UF_*``); explicit names are added from metadata."""
    not_listed: tuple[str, ...] = ()
    """Fields in the metadata that list methods never return (no column is made for them)."""
    extra_filter_keys: tuple[str, ...] = ()
    """Filter keys accepted by the list method although they are not fields."""
    static_types: dict[str, str] = field(default_factory=dict)
    """Field types for entities whose fields method carries captions only (users)."""
    static_fields: dict[str, dict] = field(default_factory=dict)
    """Field descriptions in ``crm.*.fields`` format for a list method without a fields method
    (``crm.stagehistory.list``), in column order."""
    append_only: bool = False
    """Rows are never changed once listed, so a cached frame is refreshed by asking only for
    IDs above its largest (``>ID``); deleted owners' rows are found like deleted records."""
    drop_response_keys: tuple[str, ...] = ()
    """Decorations in responses that duplicate other columns (task ``creator``, ``action``...)."""
    keep_unknown_keys: bool = True
    """Keep response keys the metadata does not list as object columns (False: drop them unless
    selected; task responses carry many computed extras)."""
    plural: str = ""
    """The plural name: the Portal loader (``portal.deals()``) and an accepted spelling."""
    stage_field: str | None = None
    """The field holding the pipeline stage or status (``STAGE_ID`` deals, ``STATUS_ID`` leads)."""
    marker_field: str | None = None
    """A free text field a write-back add stamps with its token, to find the row again after a
    lost response (``ORIGIN_ID`` CRM, ``XML_ID`` tasks); None = adds are not supported."""
    filter_dialect: str = "crm"
    """``crm`` (legacy list filters: ``%`` LIKE, ``>=``...) or ``plain`` (tasks, users)."""
    user_fields: tuple[str, ...] = ()
    """Fields holding a user ID although the metadata types them ``integer`` (task people)."""
    user_lists: tuple[str, ...] = ()
    """List fields whose items are user IDs (task ``ACCOMPLICES``, ``AUDITORS``)."""
    array_is_multiple: bool = False
    """A field of metadata type ``array`` holds several values (tasks) even without
    ``isMultiple``."""
    keyset: Shape | None = None
    """How the list method is read by ID ranges (parallel keyset chains); None = offset paging."""
    created_field: str | None = None
    """Datetime field stamped at creation (``DATE_CREATE``; ``CREATED_DATE`` for tasks)."""
    marker_filterable: bool = True
    """The list method filters by ``marker_field`` (tasks.task.list cannot filter by XML_ID: a
    write-back that lost an add's response scans the recent creations instead)."""
    ids_filter: str = "@ID"
    """Filter key taking an array of IDs (``@ID`` legacy CRM; tasks take an array on ``ID``)."""
    uncounted_start: bool = True
    """The list method accepts ``start=-1`` (first page without COUNT)."""
    read_only_extra: frozenset[str] = frozenset()
    """Fields the portal maintains although the metadata does not mark them read-only."""
    immutable_extra: frozenset[str] = frozenset()
    """Fields settable on add only although the metadata does not say so."""
    optional_extra: frozenset[str] = frozenset()
    """Fields the metadata marks required that the portal fills itself (task ``CREATED_BY``)."""
    completion: Completion | None = None
    """A status value written through its own method (tasks.task.complete)."""
    type_abbr: str | None = None
    """Short symbolic code of the CRM type (``L``, ``D``, ``C``, ``CO``): the ``=ownerType`` of
    its product rows (docs ``crm/data-types.md#object_type``)."""
    owner_keys: tuple[str, str] | None = None
    """Filter keys naming the owner type and the owner IDs a list method requires
    (``("=ownerType", "=ownerId")`` for product rows); such lists are read per owner group
    (:mod:`~bitrix_frames.owner_paging`), never as one unfiltered keyset chain."""
    fixed_params: tuple[tuple[str, Any], ...] = ()
    """Parameters every call of the entity carries (``entityTypeId`` of ``crm.item.*``)."""
    camel_params: bool = False
    """``select``/``filter``/``order`` keys and written ``fields`` are camelCase on the wire
    (``crm.item.*``; see :meth:`api_name`) while frames keep the UPPER_SNAKE ``upperName``."""
    pipelines_of: int = 2
    """entityTypeId whose pipelines (``crm.category.list``) label CATEGORY_ID and order stages."""

    @property
    def params(self) -> dict[str, Any]:
        """The fixed parameters as a dict (empty for the classic methods)."""
        return dict(self.fixed_params)

    def api_name(self, name: str) -> str:
        """The key of column ``name`` in this entity's API (responses; parameters when
        :attr:`camel_params`): ``STAGE_ID`` -> ``stageId`` for items, ``ufCrmTask`` for tasks.

        >>> item_entity(1036).api_name("UF_CRM_7_1721812653715")
        'ufCrm7_1721812653715'
        """
        if self.fields_format == "item":
            return item_camel(name)
        return upper_to_camel(name) if self.camel_response else name

    def wire_key(self, key: str) -> str:
        """A parameter key (a filter key may carry an operator: ``>=UPDATED_TIME``) as sent."""
        if not self.camel_params:
            return key
        op = _OPERATOR.match(key)
        prefix = op.group(0) if op else ""
        return prefix + self.api_name(key[len(prefix) :])

    def wire(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Call parameters as sent: the fixed ones added, select/filter/order/fields keys renamed
        for :attr:`camel_params` entities (filter sub-keys too)."""
        out = {**self.params, **params}
        if not self.camel_params:
            return out
        for key in ("filter", "order", "fields"):
            value = out.get(key)
            if isinstance(value, Mapping):
                out[key] = {self.wire_key(str(k)): v for k, v in value.items()}
        if isinstance(out.get("select"), list | tuple):
            out["select"] = [self.wire_key(str(k)) for k in out["select"]]
        return out


_CRM_MULTI = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
_LEGACY_KEYSET = Shape("ID", "ID", None)
_ITEM_KEYSET = Shape("id", "id", "items")
_OPERATOR = re.compile(r"^[!<>=%@?]+")


def _crm(
    name: str,
    plural: str,
    type_id: int,
    abbr: str,
    *,
    multi: bool,
    not_listed: tuple[str, ...] = (),
    stage_field: str | None = None,
) -> Entity:
    return Entity(
        name=name,
        plural=plural,
        stage_field=stage_field,
        marker_field="ORIGIN_ID",
        list_method=f"crm.{name}.list",
        get_method=f"crm.{name}.get",
        fields_method=f"crm.{name}.fields",
        add_method=f"crm.{name}.add",
        update_method=f"crm.{name}.update",
        delete_method=f"crm.{name}.delete",
        multifields=_CRM_MULTI if multi else (),
        modified_field="DATE_MODIFY",
        created_field="DATE_CREATE",
        userfield_method=f"crm.{name}.userfield.list",
        entity_type_id=type_id,
        type_abbr=abbr,
        default_select=("*", "UF_*"),
        not_listed=not_listed,
        keyset=_LEGACY_KEYSET,
    )


# user.fields returns captions only; these are the types of the keys user.get returns (PROTOCOL §16).
_USER_TYPES = {
    "ID": "integer",
    "XML_ID": "string",
    "ACTIVE": "boolean",
    "NAME": "string",
    "LAST_NAME": "string",
    "SECOND_NAME": "string",
    "TITLE": "string",
    "EMAIL": "string",
    "LAST_LOGIN": "datetime",
    "DATE_REGISTER": "datetime",
    "TIME_ZONE": "string",
    "IS_ONLINE": "char",
    "TIMESTAMP_X": "string",
    "LAST_ACTIVITY_DATE": "string",
    "PERSONAL_GENDER": "string",
    "PERSONAL_BIRTHDAY": "date",
    "PERSONAL_PHOTO": "string",
    "UF_EMPLOYMENT_DATE": "date",
    "UF_DEPARTMENT": "integer_list",
    "UF_PHONE_INNER": "string",
    "USER_TYPE": "string",
}

# tasks.task.getFields marks nothing read-only; these are maintained by the portal
_TASK_READ_ONLY = frozenset(
    {
        "ID",
        "CREATED_DATE",
        "CHANGED_BY",
        "CHANGED_DATE",
        "STATUS_CHANGED_BY",
        "STATUS_CHANGED_DATE",
        "CLOSED_BY",
        "CLOSED_DATE",
        "ACTIVITY_DATE",
        "GUID",
        "COMMENTS_COUNT",
        "SERVICE_COMMENTS_COUNT",
        "NEW_COMMENTS_COUNT",
        "FORUM_TOPIC_ID",
        "FORUM_ID",
        "TIME_SPENT_IN_LOGS",
        "DURATION_FACT",
        "VIEWED_DATE",
        "EXCHANGE_MODIFIED",
        "EXCHANGE_ID",
        "OUTLOOK_VERSION",
        "NOT_VIEWED",
        "SUBORDINATE",
        "FAVORITE",
        "IS_MUTED",
        "IS_PINNED",
        "IS_PINNED_IN_GROUP",
        "FORKED_BY_TEMPLATE_ID",
        "SITE_ID",
        "SORTING",
        "MULTITASK",
        "STAGE_ID",
        "SUB_STATUS",
        "REAL_STATUS",
    }
)

_SEMANTICS = {"P": "process", "S": "success", "F": "fail"}
"""STAGE_SEMANTIC_ID / STATUS_SEMANTIC_ID codes and labels (crm-stage-history-list.md)."""


def _stage_history(owner: str, type_id: int, plural: str) -> Entity:
    """``crm.stagehistory.list`` of one entity type: typed from its documented fields."""
    deal = owner == "deal"
    stage, semantic = (
        ("STAGE_ID", "STAGE_SEMANTIC_ID") if deal else ("STATUS_ID", "STATUS_SEMANTIC_ID")
    )
    ro = {"isReadOnly": True, "isRequired": False, "isMultiple": False}
    fields: dict[str, dict] = {
        "ID": {"type": "integer", "title": "ID", **ro},
        "TYPE_ID": {
            "type": "integer",
            "title": "Entry type (1 created, 2 stage, 3 final, 5 pipeline)",
            **ro,
        },
        "OWNER_ID": {"type": "integer", "title": owner.capitalize(), **ro},
        "CREATED_TIME": {"type": "datetime", "title": "Entered", **ro},
    }
    if deal:
        fields["CATEGORY_ID"] = {"type": "crm_category", "title": "Pipeline", **ro}
    fields[semantic] = {"type": "enum", "title": "Stage semantics", "values": _SEMANTICS, **ro}
    fields[stage] = {
        "type": "crm_status",
        "statusType": "DEAL_STAGE" if deal else "STATUS",
        "title": "Stage" if deal else "Status",
        **ro,
    }
    return Entity(
        name=f"{owner}_stage_history",
        plural=plural,
        list_method="crm.stagehistory.list",
        fixed_params=(("entityTypeId", type_id),),
        fields_format="static",
        static_fields=fields,
        entity_type_id=type_id,
        stage_field=stage,
        keyset=Shape("ID", "ID", "items"),
        append_only=True,
    )


ENTITIES: dict[str, Entity] = {
    "lead": _crm("lead", "leads", 1, "L", multi=True, stage_field="STATUS_ID"),
    "deal": _crm(
        "deal", "deals", 2, "D", multi=False, not_listed=("CONTACT_IDS",), stage_field="STAGE_ID"
    ),
    "contact": _crm("contact", "contacts", 3, "C", multi=True),
    "company": _crm("company", "companies", 4, "CO", multi=True),
    "task": Entity(
        name="task",
        plural="tasks",
        marker_field="XML_ID",
        marker_filterable=False,
        ids_filter="ID",
        uncounted_start=False,
        created_field="CREATED_DATE",
        read_only_extra=_TASK_READ_ONLY,
        immutable_extra=frozenset({"CREATED_BY"}),
        optional_extra=frozenset({"CREATED_BY"}),  # defaults to the webhook user
        completion=Completion("STATUS", 5, "tasks.task.complete"),
        filter_dialect="plain",
        user_fields=(
            "CREATED_BY",
            "RESPONSIBLE_ID",
            "CHANGED_BY",
            "STATUS_CHANGED_BY",
            "CLOSED_BY",
        ),
        user_lists=("ACCOMPLICES", "AUDITORS"),
        array_is_multiple=True,
        list_method="tasks.task.list",
        get_method="tasks.task.get",
        fields_method="tasks.task.getFields",
        add_method="tasks.task.add",
        update_method="tasks.task.update",
        delete_method="tasks.task.delete",
        id_param="taskId",
        list_key="tasks",
        keyset=Shape("ID", "id", "tasks"),
        item_key="task",
        fields_key="fields",
        fields_format="task",
        camel_response=True,
        modified_field="CHANGED_DATE",
        extra_filter_keys=(
            "REAL_STATUS",
            "TAG",
            "ACCOMPLICE",
            "AUDITOR",
            "DEPENDS_ON",
            "ONLY_ROOT_TASKS",
            "::SUBFILTER-PARAMS",
        ),
        keep_unknown_keys=False,
        drop_response_keys=(
            "creator",
            "responsible",
            "accomplicesData",
            "auditorsData",
            "action",
            "checkListTree",
            "counter",
            "group",
            "tags",
            "parsedDescription",
        ),
    ),
    "smart_process": Entity(
        name="smart_process",
        plural="smart_processes",
        list_method="crm.type.list",
        get_method="crm.type.get",
        fields_method="crm.type.fields",
        list_key="types",
        item_key="type",
        fields_key="fields",
        fields_format="item",
        camel_response=True,
        camel_params=True,
        modified_field="UPDATED_TIME",
        keep_unknown_keys=False,
    ),
    "user": Entity(
        name="user",
        plural="users",
        filter_dialect="plain",
        list_method="user.get",
        get_method="user.get",
        fields_method="user.fields",
        fields_format="captions",
        extra_filter_keys=(
            "UF_DEPARTMENT",
            "UF_PHONE_INNER",
            "IS_ONLINE",
            "NAME_SEARCH",
            "FIND",
            "USER_TYPE",
            "ACTIVE",
        ),
        static_types=_USER_TYPES,
    ),
    "deal_stage_history": _stage_history("deal", 2, "stage_history"),
    "lead_stage_history": _stage_history("lead", 1, "lead_stage_history"),
    # crm.item.productrow.*: camelCase fields, parameters and rows (columns: mechanical UPPER
    # renames); two documented row keys are missing from crm.item.productrow.fields.
    "product_row": Entity(
        name="product_row",
        plural="product_rows",
        list_method="crm.item.productrow.list",
        get_method="crm.item.productrow.get",
        fields_method="crm.item.productrow.fields",
        list_key="productRows",
        item_key="productRow",
        fields_key="fields",
        camel_response=True,
        keyset=Shape("id", "id", "productRows"),
        owner_keys=("=ownerType", "=ownerId"),
        static_types={"PRICE_ACCOUNT": "double", "XML_ID": "string"},
    ),
    # crm.activity.*: a legacy list; COMMUNICATIONS only when named; BINDINGS is filter-only and
    # FILES / WEBDAV_ELEMENTS are not listed.
    "activity": Entity(
        name="activity",
        plural="activities",
        list_method="crm.activity.list",
        get_method="crm.activity.get",
        fields_method="crm.activity.fields",
        keyset=_LEGACY_KEYSET,
        modified_field="LAST_UPDATED",
        created_field="CREATED",
        default_select=("*", "COMMUNICATIONS", "IS_INCOMING_CHANNEL"),
        not_listed=("BINDINGS", "FILES", "WEBDAV_ELEMENTS"),
        extra_filter_keys=("BINDINGS",),
    ),
}

_PLURALS = {ent.plural: key for key, ent in ENTITIES.items()}

# List methods read through raw ``client.list`` calls that no registry record loads as a frame.
_RAW_KEYSET: dict[str, Shape] = {
    "crm.quote.list": _LEGACY_KEYSET,
    "crm.invoice.list": _LEGACY_KEYSET,
    "crm.item.list": _ITEM_KEYSET,
}


def keyset_for(method: str) -> Shape | None:
    """The keyset shape of a list method by name (None: it is read by offset paging).

    Example::

        >>> keyset_for("CRM.DEAL.LIST")
        Shape(id_key='ID', row_id='ID', rows_path=None)
        >>> keyset_for("user.get") is None
        True
    """
    name = method.lower()
    for ent in ENTITIES.values():
        if ent.list_method == name and ent.keyset is not None:
            return ent.keyset
    return _RAW_KEYSET.get(name)


def rows_path_for(method: str) -> str | None:
    """The key under ``result`` holding a list method's rows (None: ``result`` is the list).

    >>> rows_path_for("tasks.task.list"), rows_path_for("crm.deal.list")
    ('tasks', None)
    """
    shape = keyset_for(method)
    if shape is not None:
        return shape.rows_path
    name = method.lower()
    return next((e.list_key for e in ENTITIES.values() if e.list_method == name), None)


def entity(name: str | Entity) -> Entity:
    """Registry record by name (singular or plural, any case); ``item:<entityTypeId>`` (or
    ``item_<entityTypeId>``) is the ``crm.item.*`` record of that type (:func:`item_entity`).

    Example::

        >>> entity("Companies").list_method
        'crm.company.list'
        >>> entity("item:1036").params
        {'entityTypeId': 1036}
    """
    if isinstance(name, Entity):
        return name
    key = name.strip().lower()
    key = _PLURALS.get(key, key)
    match = _ITEM_NAME.fullmatch(key)
    if match:
        return item_entity(int(match.group(1)))
    try:
        return ENTITIES[key]
    except KeyError:
        known = ", ".join([*ENTITIES, "item:<entityTypeId>"])
        raise ValueError(f"unknown entity {name!r}; expected one of: {known}") from None


_ITEM_NAME = re.compile(r"items?[:_](\d+)")
_ITEMS: dict[int, Entity] = {}
_CLASSIC_TYPES = {1: "lead", 2: "deal", 3: "contact", 4: "company"}
_ITEM_STAGES = {1, 2}  # classic types with a stage field; smart processes have STAGE_ID


def item_entity(entity_type_id: int) -> Entity:
    """The registry record of ``crm.item.*`` for one entityTypeId (a smart process, or 1-4 for
    leads, deals, contacts and companies through the universal API).

    Its calls carry ``entityTypeId``; parameters are camelCase, frame columns the fields'
    ``upperName`` (``STAGE_ID``, ``UF_CRM_7_1721812653715``). Adds are found again by ``XML_ID``
    (smart processes) or ``ORIGIN_ID`` (classic types); refresh follows ``UPDATED_TIME``.

    Example::

        >>> ent = item_entity(1036)
        >>> ent.name, ent.list_method, ent.keyset.id_key
        ('item_1036', 'crm.item.list', 'id')
    """
    etid = int(entity_type_id)
    if etid <= 0:
        raise ValueError(f"entityTypeId must be a positive int, got {entity_type_id!r}")
    if etid not in _ITEMS:
        classic = etid in _CLASSIC_TYPES
        _ITEMS[etid] = Entity(
            name=f"item_{etid}",
            list_method="crm.item.list",
            get_method="crm.item.get",
            fields_method="crm.item.fields",
            add_method="crm.item.add",
            update_method="crm.item.update",
            delete_method="crm.item.delete",
            list_key="items",
            item_key="item",
            fields_key="fields",
            fields_format="item",
            camel_response=True,
            camel_params=True,
            fixed_params=(("entityTypeId", etid),),
            modified_field="UPDATED_TIME",
            created_field="CREATED_TIME",
            not_listed=("CONTACTS",),
            optional_extra=frozenset({"OPENED"}),  # crm.item.add fills the type's default
            entity_type_id=etid,
            pipelines_of=etid if not classic or etid == 2 else 2,
            stage_field="STAGE_ID" if not classic or etid in _ITEM_STAGES else None,
            marker_field="ORIGIN_ID" if classic else "XML_ID",
            keep_unknown_keys=False,
            keyset=_ITEM_KEYSET,
        )
    return _ITEMS[etid]


_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def camel_to_upper(name: str) -> str:
    """Mechanical camelCase -> UPPER_SNAKE (``responsibleId`` -> ``RESPONSIBLE_ID``).

    Used only for keys the metadata does not know; known fields use the getFields names.
    """
    return _CAMEL_SPLIT.sub("_", name).upper()


def upper_to_camel(name: str) -> str:
    """UPPER_SNAKE -> camelCase as the task API renders it (``UF_CRM_TASK`` -> ``ufCrmTask``)."""
    head, *rest = name.lower().split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_PLAIN_ITEM_NAME = re.compile(r"^[A-Z_]+$|^UF_CRM_\d{1,4}_[\d_]+$|^UF_CRM_\d{1,4}_[A-Z_]+$")


def item_camel(name: str) -> str:
    """A ``crm.item.fields`` ``upperName`` as the API's camelCase key (the core's converter:
    digits joined by ``_`` keep it; numeric user fields without a type prefix keep ``ufCrm_``).

    >>> item_camel("IS_MANUAL_OPPORTUNITY"), item_camel("UF_CRM_7_1721812653715")
    ('isManualOpportunity', 'ufCrm7_1721812653715')
    >>> item_camel("UF_CRM_1721244707107"), item_camel("PARENT_ID_1220")
    ('ufCrm_1721244707107', 'parentId1220')
    """
    if not _PLAIN_ITEM_NAME.match(name) and name.upper().startswith("UF_"):
        return ("ufCrm_" + name[7:]) if name.upper().startswith("UF_CRM_") else "uf" + name[3:]
    marked = re.sub(r"(\d)_(\d)", r"\1~\2", name)
    head, *rest = [p for p in marked.lower().split("_") if p] or [""]
    return (head + "".join(p[:1].upper() + p[1:] for p in rest)).replace("~", "_")
