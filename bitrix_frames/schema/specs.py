"""Field metadata -> column specs: one :class:`ColumnSpec` per column of a typed frame.

The table :data:`KINDS` is the single place that says which Bitrix field type becomes which pandas
column; :mod:`.to_pandas` converts by ``kind`` and :mod:`.to_api` converts back by ``kind``.

Decisions (documented once, here):

* integers and IDs -> ``Int64``; ``double`` -> ``Float64``; ``char``/``boolean`` (and task ``enum``
  fields whose values are exactly Y/N) -> ``boolean``; ``""``/``null`` -> ``<NA>``.
* ``datetime`` -> ``datetime64[ns, UTC]``: instants are converted to UTC (a portal in a DST zone
  renders two offsets a year, a single UTC column keeps them comparable). Use
  ``s.dt.tz_convert(...)`` for local time.
* ``date`` -> naive ``datetime64[ns]`` at midnight: the server renders a date as 00:00 UTC in the
  portal offset (PROTOCOL §17), so the value is converted to UTC first and the calendar date taken.
* ``crm_status``, ``crm_category``, ``crm_currency``, ``enumeration`` and task enums -> ``category``
  holding every allowed value (codes/ids) as categories, stages in (pipeline sort, stage sort) order.
  Category and enumeration ids are ints, status and currency codes strings.
* ``user``/``employee`` -> ``Int64``; names are labels (``df.bitrix.labels()``).
* CRM link fields (``crm_company``, ``crm_contact``...) -> ``Int64`` with the list's ``"0"`` as NA.
* money UF ``"300|USD"`` -> two columns: ``UF_X`` (``Float64`` amount) and ``UF_X_CURRENCY``
  (currency category); :mod:`.to_api` joins them back.
* multifields -> ``PHONE`` (object column: list of ``{ID, VALUE_TYPE, VALUE, TYPE_ID}`` dicts, lossless)
  plus ``PHONE_PRIMARY`` (``string``: first value).
* multiple fields -> object column of Python lists (elements typed like the single field).
* strings -> ``string`` (pyarrow storage when available); files, ``crm`` bindings -> object.

Example::

    >>> spec = build_specs("deal", fields, dicts)["STAGE_ID"]
    >>> spec.kind, spec.categories[:2]
    ('category', ('NEW', 'PREPARATION'))
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..entities import Entity, camel_to_upper, upper_to_camel
from ..entities import entity as _entity

__all__ = [
    "DATE_DTYPE",
    "DATETIME_DTYPE",
    "ENUMS",
    "KINDS",
    "STRING_DTYPE",
    "ColumnSpec",
    "Dictionaries",
    "build_specs",
    "spec_from_dict",
]

try:  # pyarrow storage: compact strings on pandas 2.2 and 3.x alike
    import pyarrow  # noqa: F401

    STRING_DTYPE: Any = pd.StringDtype("pyarrow")
except ImportError:  # pragma: no cover
    STRING_DTYPE = pd.StringDtype()
DATETIME_DTYPE = "datetime64[ns, UTC]"
DATE_DTYPE = "datetime64[ns]"

# kind -> pandas dtype text (category dtypes are built per column from the allowed values)
KIND_DTYPES = {
    "int": "Int64",
    "link": "Int64",
    "user": "Int64",
    "float": "Float64",
    "money": "Float64",
    "bool": "boolean",
    "date": DATE_DTYPE,
    "datetime": DATETIME_DTYPE,
    "string": "string",
    "primary": "string",
    "category": "category",
    "currency_of": "category",
    "multifield": "object",
    "list": "object",
    "object": "object",
    "file": "Int64",
}

# Bitrix field type -> column kind (PROTOCOL §8, task getFields, user.get)
KINDS: dict[str, str] = {
    "integer": "int",
    "double": "float",
    "string": "string",
    "char": "bool",
    "boolean": "bool",
    "date": "date",
    "datetime": "datetime",
    "user": "user",
    "employee": "user",
    "crm_status": "category",
    "crm_currency": "category",
    "crm_category": "category",
    "enumeration": "category",
    "enum": "category",
    "crm_company": "link",
    "crm_contact": "link",
    "crm_lead": "link",
    "crm_quote": "link",
    "crm_deal": "link",
    "crm_entity": "link",
    "iblock_element": "int",
    "iblock_section": "int",
    "crm_multifield": "multifield",
    "money": "money",
    "location": "string",
    "url": "string",
    "address": "string",
    "file": "file",
    "crm": "object",
    "array": "list",
    "integer_list": "list",
    "resourcebooking": "object",
    "disk_file": "object",
    "diskfile": "object",
    "mail_message": "object",
    "object": "object",
    "crm_activity_binding": "object",
    "crm_activity_communication": "object",
    **{name: "category" for name in ("crm_enum_ownertype", "crm_enum_activitytype",
       "crm_enum_activitystatus", "crm_enum_activitypriority", "crm_enum_activitynotifytype",
       "crm_enum_activitydirection", "crm_enum_contenttype")},
}  # fmt: skip

# Fixed enumerations of activity fields (docs crm/data-types.md#activity-enums, crm.enum.ownertype):
# type -> ((value, label), ...) in value order. Values the table lacks (a smart-process owner type)
# still load: they are added as categories without a label.
ENUMS: dict[str, tuple[tuple[int, str], ...]] = {
    "crm_enum_ownertype": ((1, "Lead"), (2, "Deal"), (3, "Contact"), (4, "Company"),
                           (5, "Invoice"), (7, "Quote"), (8, "Requisite"), (14, "Order"),
                           (31, "Invoice (new)")),
    "crm_enum_activitytype": ((0, "Undefined"), (1, "Meeting"), (2, "Call"), (3, "Task"),
                              (4, "E-mail"), (5, "Calendar event"), (6, "Provider activity")),
    "crm_enum_activitystatus": ((0, "Undefined"), (1, "Pending"), (2, "Completed"),
                                (3, "Completed automatically")),
    "crm_enum_activitypriority": ((0, "Not specified"), (1, "Low"), (2, "Medium"), (3, "High")),
    "crm_enum_activitynotifytype": ((0, "None"), (1, "Minutes"), (2, "Hours"), (3, "Days")),
    "crm_enum_activitydirection": ((0, "Undefined"), (1, "Incoming"), (2, "Outgoing")),
    "crm_enum_contenttype": ((0, "Undefined"), (1, "Plain text"), (2, "BB code"), (3, "HTML")),
}  # fmt: skip


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a typed frame: where it comes from, its dtype and its allowed values."""

    name: str
    """Column name (UPPER_SNAKE; also the filter/select key unless ``derived_from`` is set)."""
    title: str
    type: str
    """Bitrix field type (``crm_status``, ``datetime``...)."""
    kind: str
    """Conversion kind, a key of ``KIND_DTYPES``."""
    dtype: str
    required: bool = False
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    dynamic: bool = False
    api_name: str = ""
    """Key in API responses (camelCase for tasks)."""
    status_type: str | None = None
    categories: tuple[Any, ...] | None = None
    """Allowed values (codes/ids) in display order, for category kinds and user columns."""
    labels: tuple[str, ...] | None = None
    """Human labels, parallel to ``categories``."""
    pipelines: tuple[int | None, ...] | None = None
    """Pipeline (category) id of each stage, parallel to ``categories`` (deal stages)."""
    short_labels: tuple[str, ...] | None = None
    """Stage names without the pipeline qualifier, parallel to ``categories`` (deal stages)."""
    item_kind: str | None = None
    """Element kind of multiple (``list``) columns."""
    derived_from: str | None = None
    """Source column of a derived column (``PHONE_PRIMARY`` <- ``PHONE``); not sent to the API."""
    true_value: Any = "Y"
    false_value: Any = "N"
    precision: int | None = None
    """Decimal places the portal stores (doubles and money); values are sent and compared at it."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def label_map(self) -> dict[Any, str]:
        """Allowed value -> label (empty when the column has no labels)."""
        if not self.categories or not self.labels:
            return {}
        return dict(zip(self.categories, self.labels, strict=False))


def spec_from_dict(data: dict[str, Any]) -> ColumnSpec:
    """Inverse of :meth:`ColumnSpec.to_dict` (attrs and Parquet metadata store dicts)."""
    tuples = ("categories", "labels", "pipelines", "short_labels")
    kw: dict[str, Any] = {
        k: tuple(v) if k in tuples and v is not None else v for k, v in data.items()
    }
    return ColumnSpec(**kw)


@dataclass
class Dictionaries:
    """Portal dictionaries the specs need, as plain API rows (fetched by :mod:`..metadata`)."""

    statuses: list[dict] = field(default_factory=list)
    """``crm.status.list`` rows (all dictionaries)."""
    pipelines: list[dict] = field(default_factory=list)
    """``crm.category.list`` (entityTypeId 2) ``categories``."""
    currencies: list[dict] = field(default_factory=list)
    """``crm.currency.list`` rows."""
    userfields: list[dict] = field(default_factory=list)
    """``crm.X.userfield.list`` rows of the entity (enumeration ``LIST`` with SORT)."""
    users: dict[int, str] = field(default_factory=dict)
    """User id -> display name."""


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _precision(raw: dict) -> int:
    """Decimal places of a double: a UF's ``settings.PRECISION``; standard amounts are DB
    decimals with two places (``"15000.00"``, PROTOCOL §8)."""
    settings = raw.get("settings")
    if not isinstance(settings, dict) or "PRECISION" not in settings:
        return 2
    places = _int(settings.get("PRECISION"), 2)
    return min(max(places, 0), 12)


def _pipeline_order(dicts: Dictionaries) -> list[dict]:
    return sorted(dicts.pipelines, key=lambda p: (_int(p.get("sort")), _int(p.get("id"))))


_SMART_STAGES = re.compile(r"(DYNAMIC_\d+_STAGE)(_\d+)?")


def _stage_dictionary(status_type: str, pipeline: int) -> str | None:
    """The stage dictionary of one pipeline when ``status_type`` names pipeline stages (deals:
    ``DEAL_STAGE[_<id>]``; smart processes: ``DYNAMIC_<type>_STAGE_<id>``), else None."""
    if status_type == "DEAL_STAGE":
        return "DEAL_STAGE" if pipeline == 0 else f"DEAL_STAGE_{pipeline}"
    match = _SMART_STAGES.fullmatch(status_type)
    return f"{match.group(1)}_{pipeline}" if match else None


def _status_values(
    status_type: str, dicts: Dictionaries
) -> tuple[tuple, tuple, tuple | None, tuple | None]:
    """Codes, labels, pipeline ids, plain names of one status dictionary (deal and smart-process
    stages: every pipeline of the entity, in pipeline order)."""
    rows = dicts.statuses
    if _stage_dictionary(status_type, 0) is None:
        own = sorted(
            (r for r in rows if r.get("ENTITY_ID") == status_type),
            key=lambda r: (_int(r.get("SORT")), _int(r.get("ID"))),
        )
        names = tuple(str(r.get("NAME") or r["STATUS_ID"]) for r in own)
        return tuple(r["STATUS_ID"] for r in own), names, None, None
    pipelines = _pipeline_order(dicts) or [{"id": 0, "name": ""}]
    multi = len(pipelines) > 1
    codes: list[str] = []
    labels: list[str] = []
    owners: list[int | None] = []
    plain: list[str] = []
    for pipe in pipelines:
        pid = _int(pipe.get("id"))
        dict_id = _stage_dictionary(status_type, pid)
        stages = sorted(
            (r for r in rows if r.get("ENTITY_ID") == dict_id),
            key=lambda r: (_int(r.get("SORT")), _int(r.get("ID"))),
        )
        for r in stages:
            if r["STATUS_ID"] in codes:
                continue
            name = str(r.get("NAME") or r["STATUS_ID"])
            # stage names repeat across pipelines ("New"); qualify them so a label names one stage
            labels.append(f"{pipe.get('name')}: {name}" if multi else name)
            codes.append(r["STATUS_ID"])
            owners.append(pid)
            plain.append(name)
    return tuple(codes), tuple(labels), tuple(owners), tuple(plain)


def _enum_values(name: str, raw: dict, dicts: Dictionaries) -> tuple[tuple, tuple]:
    listed = next((u for u in dicts.userfields if u.get("FIELD_NAME") == name), None)
    if listed and listed.get("LIST"):
        items = sorted(listed["LIST"], key=lambda i: (_int(i.get("SORT")), _int(i.get("ID"))))
    else:
        items = list(raw.get("items") or [])
    return tuple(_int(i["ID"]) for i in items), tuple(str(i.get("VALUE")) for i in items)


def _task_enum(values: Any) -> tuple[tuple, tuple]:
    # DURATION_TYPE lists plain codes instead of a code -> caption map
    pairs = list(values.items()) if isinstance(values, dict) else [(v, v) for v in values or []]
    keys = [k for k, _ in pairs]
    if keys and all(str(k).lstrip("-").isdigit() for k in keys):
        pairs = sorted(((int(k), v) for k, v in pairs), key=lambda kv: kv[0])
    return tuple(k for k, _ in pairs), tuple(str(v) for _, v in pairs)


def _make(
    name: str, raw: dict, ent: Entity, dicts: Dictionaries, api_name: str | None = None
) -> list[ColumnSpec]:
    ftype = str(raw.get("type") or "string")
    if name in ent.user_fields:
        ftype = "user"
    multiple = bool(raw.get("isMultiple")) or (ent.array_is_multiple and ftype == "array")
    kind = KINDS.get(ftype, "string")
    base: dict[str, Any] = dict(
        name=name,
        title=str(raw.get("listLabel") or raw.get("formLabel") or raw.get("title") or name),
        type=ftype,
        required=bool(raw.get("isRequired", raw.get("required", False))),
        read_only=bool(raw.get("isReadOnly", False)),
        immutable=bool(raw.get("isImmutable", False)),
        multiple=multiple,
        dynamic=bool(raw.get("isDynamic", name.startswith("UF_"))),
        api_name=api_name or (upper_to_camel(name) if ent.camel_response else name),
        status_type=raw.get("statusType") or (raw.get("settings") or {}).get("ENTITY_TYPE"),
    )
    if ftype == "boolean" and raw.get("isDynamic"):
        base.update(true_value=1, false_value=0)
    if ftype in ("double", "money"):
        base["precision"] = _precision(raw)
    cats = labels = pipes = short = None
    if kind == "category":
        if ftype == "crm_status":
            cats, labels, pipes, short = _status_values(base["status_type"] or "", dicts)
        elif ftype == "crm_currency":
            cur = sorted(
                dicts.currencies, key=lambda c: (_int(c.get("SORT")), str(c.get("CURRENCY")))
            )
            seen = dict.fromkeys(str(c["CURRENCY"]) for c in cur)
            cats = tuple(seen)
            full = {str(c["CURRENCY"]): str(c.get("FULL_NAME") or c["CURRENCY"]) for c in cur}
            labels = tuple(full[c] for c in cats)
        elif ftype == "crm_category":
            pipe = _pipeline_order(dicts)
            cats = tuple(_int(p.get("id")) for p in pipe)
            labels = tuple(str(p.get("name")) for p in pipe)
        elif ftype == "enumeration":
            cats, labels = _enum_values(name, raw, dicts)
        elif ftype in ENUMS:
            cats = tuple(v for v, _ in ENUMS[ftype])
            labels = tuple(label for _, label in ENUMS[ftype])
        elif ftype == "enum":
            cats, labels = _task_enum(raw.get("values"))
            if set(cats) == {"Y", "N"}:
                kind, cats, labels = "bool", None, None
    if kind == "user":
        cats = tuple(dicts.users)
        labels = tuple(dicts.users.values())
    item_kind = None
    if multiple and kind not in ("multifield", "list", "object"):
        item_kind, kind = kind, "list"
    elif kind == "list":
        item_kind = (
            "user" if name in ent.user_lists else ("int" if ftype == "integer_list" else "string")
        )
        if item_kind == "user":
            cats, labels = tuple(dicts.users), tuple(dicts.users.values())
    spec = ColumnSpec(
        kind=kind,
        dtype=KIND_DTYPES[kind],
        categories=cats,
        labels=labels,
        pipelines=pipes,
        short_labels=short,
        item_kind=item_kind,
        **base,
    )
    out = [spec]
    if kind == "multifield":
        out.append(
            ColumnSpec(
                name=f"{name}_PRIMARY",
                title=f"{spec.title} (primary)",
                type="string",
                kind="primary",
                dtype="string",
                read_only=True,
                derived_from=name,
            )
        )
    elif kind == "money":
        codes = tuple(dict.fromkeys(str(c["CURRENCY"]) for c in dicts.currencies))
        out.append(
            ColumnSpec(
                name=f"{name}_CURRENCY",
                title=f"{spec.title} (currency)",
                type="crm_currency",
                kind="currency_of",
                dtype="category",
                categories=codes,
                labels=codes,
                derived_from=name,
            )
        )
    return out


def build_specs(
    ent: str | Entity, fields: dict[str, Any], dicts: Dictionaries | None = None
) -> dict[str, ColumnSpec]:
    """Column specs of an entity from its fields-method ``result`` and the portal dictionaries.

    ``fields`` is the raw result of ``crm.X.fields`` / ``tasks.task.getFields`` / ``user.fields``.

    Example::

        >>> specs = build_specs("lead", client.call("crm.lead.fields"), dicts)
        >>> specs["OPPORTUNITY"].dtype
        'Float64'
    """
    ent = _entity(ent)
    dicts = dicts or Dictionaries()
    if ent.fields_key and isinstance(fields, dict) and ent.fields_key in fields:
        fields = fields[ent.fields_key]
    api_names: dict[str, str] = {}
    if ent.fields_format == "captions":
        raw_fields = {
            name: {"type": ent.static_types.get(name, "string"), "title": caption}
            for name, caption in (fields or {}).items()
        }
        for name, ftype in ent.static_types.items():
            raw_fields.setdefault(name, {"type": ftype, "title": name})
        raw_fields["ID"]["isReadOnly"] = True
    else:
        # camelCase fields (crm.item.*): the column is the upperName, else a mechanical rename;
        # the camelCase key stays the column's api_name
        raw_fields = {}
        for key, raw in (fields or {}).items():
            upper = (
                str(raw.get("upperName") or camel_to_upper(key)) if isinstance(raw, dict) else key
            )
            raw_fields[upper] = raw
            if upper != key:
                api_names[upper] = key
        for name, ftype in ent.static_types.items():  # documented keys the method omits
            raw_fields.setdefault(name, {"type": ftype, "title": name, "isReadOnly": True})
    specs: dict[str, ColumnSpec] = {}
    for name, raw in raw_fields.items():
        if name in ent.not_listed:
            continue
        for spec in _make(
            name, raw if isinstance(raw, dict) else {}, ent, dicts, api_names.get(name)
        ):
            specs[spec.name] = spec
    return specs


def int_coded(spec: ColumnSpec) -> bool:
    """Whether the column's codes are whole numbers (enumeration and pipeline ids), not text.

    Example::

        >>> int_coded(specs["CATEGORY_ID"]), int_coded(specs["STAGE_ID"])
        (True, False)
    """
    cats = spec.categories or ()
    return bool(cats) and all(isinstance(c, (int, np.integer)) for c in cats)
