"""Loaders: typed, labelled DataFrames of leads, deals, contacts, companies, tasks and users.

``load`` checks the filter, select and order against the field metadata (raising a typed error
before anything is sent), lists every row through the Client and converts them column-wise.
The frame is indexed by ``ID`` (``Int64``) and carries ``df.attrs["bitrix"]``:
``{entity, portal (masked URL), filter, select, order, loaded_at, fields}``, which is all the
``df.bitrix`` accessor, the cache and the write-back need.

Default select: every standard field and user field, plus the multifields (PHONE, EMAIL, WEB,
IM, LINK) that list methods return only when named, plus multiple UFs (``UF_*`` skips them).

Example::

    deals = load(client, "deal", filter={">OPPORTUNITY": 1000, "STAGE_ID": "General: Won"})
    deals.bitrix.labels()["STAGE_ID"].value_counts()
    fields_frame(client, "deal").loc["STAGE_ID", "values"]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import weakref
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from .contract import BitrixClient
from .entities import Entity
from .entities import entity as _entity
from .errors import ValidationError
from .metadata import metadata
from .schema.from_rows import batch_columns, records_to_batch
from .schema.specs import ColumnSpec
from .schema.to_api import FilterError, SelectError, encode_filter, encode_select
from .schema.to_arrow import arrow_schema, columns_to_frame
from .schema.to_pandas import to_frame

__all__ = [
    "FilterError",
    "SelectError",
    "client_for",
    "default_select",
    "fields_frame",
    "load",
    "pipelines",
    "specs_frame",
    "stages",
    "statuses",
]

_CLIENTS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def client_for(portal: str) -> BitrixClient | None:
    """The live Client that loaded frames of ``portal`` (masked URL), if it still exists."""
    return _CLIENTS.get(portal)


def _remember(client: Any) -> None:
    with contextlib.suppress(TypeError, AttributeError):
        _CLIENTS[client.masked_url] = client


def default_select(entity: str | Entity, specs: Mapping[str, ColumnSpec]) -> list[str] | None:
    """What ``load`` selects when the caller gives no ``select`` (None = the method's default)."""
    ent = _entity(entity)
    if ent.fields_format in ("captions", "static"):
        return None
    if ent.fields_format in ("task", "item"):
        return [s.name for s in specs.values() if not s.derived_from]
    extra = [
        s.name
        for s in specs.values()
        if not s.derived_from and (s.kind == "multifield" or (s.dynamic and s.multiple))
    ]
    return [*ent.default_select, *extra]


def expand_uf_mask(
    ent: Entity, specs: Mapping[str, ColumnSpec], select: list[str] | None
) -> list[str] | None:
    """``select`` with the multiple user fields named next to a ``UF_*`` mask.

    Legacy CRM lists leave multiple user fields out of ``UF_*`` (crm-deal-list.md: "excluding
    multiple fields"), so a frame asked for "all user fields" would silently miss them; the
    metadata knows them, so they are selected by name.

    Example::

        >>> expand_uf_mask(ENTITIES["deal"], specs, ["ID", "UF_*"])
        ['ID', 'UF_*', 'UF_CRM_1685398021456']
    """
    if select is None or "UF_*" not in select or ent.fields_format != "crm":
        return select
    multiple = [s.name for s in specs.values() if s.dynamic and s.multiple and not s.derived_from]
    return list(dict.fromkeys([*select, *multiple]))


def _columns(ent: Entity, specs: Mapping[str, ColumnSpec], select: list[str] | None) -> list[str]:
    """Columns the frame must have for ``select``: select order, masks expanded in metadata order."""
    names = [s.name for s in specs.values() if not s.derived_from]
    if select is None:
        return names
    out: list[str] = []
    for item in select:
        if item == "*":
            out.extend(n for n in names if not specs[n].dynamic and specs[n].kind != "multifield")
        elif item == "UF_*":  # every user field, multiple ones too (see expand_uf_mask)
            out.extend(n for n in names if specs[n].dynamic)
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def _check_order(
    ent: Entity, specs: Mapping[str, ColumnSpec], order: Mapping[str, str] | None
) -> dict | None:
    if order is None:
        return None
    if not isinstance(order, Mapping):
        raise ValidationError(
            f"order must be a mapping of field -> 'ASC'|'DESC', got {type(order).__name__}"
        )
    out = {}
    for name, direction in order.items():
        spec = specs.get(name)
        if spec is None or spec.derived_from:
            raise SelectError(f"{ent.name} has no field {name!r} (in order)")
        if str(direction).upper() not in ("ASC", "DESC"):
            raise ValidationError(
                f"order {name!r}: direction must be ASC or DESC, got {direction!r}"
            )
        out[name] = str(direction).upper()
    return out


def load(
    client: BitrixClient,
    entity: str | Entity,
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
    order: Mapping[str, str] | None = None,
    *,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Every record of ``entity`` matching ``filter`` as a typed DataFrame indexed by ``ID``.

    ``filter`` keys are an optional operator (``>=``, ``!``, ``@``, ``%``...) plus a field; values
    may be Python/pandas datetimes, booleans and labels (stage names, user names), which are
    encoded as the API expects. Unknown fields, ``LOGIC``/OR sub-filters and unknown labels raise
    :class:`~bitrix_frames.schema.FilterError` (a ``ValidationError``) before anything is sent.

    Example::

        >>> deals = load(client, "deal", filter={"CATEGORY_ID": 1}, select=["ID", "TITLE", "STAGE_ID"])
        >>> deals.index.name, list(deals.columns)
        ('ID', ['TITLE', 'STAGE_ID'])
    """
    frame, _ = load_with(client, entity, {}, filter, select, order, progress=progress)
    return frame


def load_with(
    client: BitrixClient,
    entity: str | Entity,
    companions: Mapping[str, Any],
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
    order: Mapping[str, str] | None = None,
    *,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, Any]:
    """:func:`load` plus raw ``companions`` commands sent in the same first request
    (:meth:`Client.list_with`); returns (frame, their BatchResult).

    Example::

        >>> deals, side = load_with(client, "deal", {"n": ("crm.deal.list", {"start": 0})})
    """
    plan = plan_load(client, entity, filter, select, order)
    with _Batches(plan) as batches:
        _, side = client.list_with(
            plan.ent.list_method,
            companions,
            **plan.wire_query(),
            progress=progress,
            sink=batches,
            shape=plan.ent.keyset,
        )
        return batches.frame(), side


class _Batches:
    """Each response's rows become Arrow arrays of the dataset schema as they arrive (the row
    dicts are dropped then); the frame is built from those arrays at the end, column by column.

    At most one response's row dicts (2,500) wait here at a time (:attr:`peak_rows` counts them),
    so peak memory is about the compact Arrow columns plus the frame, whatever the row count.

    The conversions and the frame run on one thread of their own (a reading thread hands its
    rows over and waits): Arrow's allocator (mimalloc) keeps freed memory per thread, and
    conversions spread over the eight reading threads peaked ~20 MB higher at 100,000 deals
    (docs/performance.md, "The Arrow path"); the pool's unused memory is released after each.
    """

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.schema: pa.Schema | None = None
        self.columns: list[list[pa.Array]] = []
        self.peak_rows = 0
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="bitrix-convert")

    def __enter__(self) -> _Batches:
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.shutdown()

    def __call__(self, rows: list[dict]) -> None:
        self._thread.submit(self._convert, rows).result()

    def _convert(self, rows: list[dict]) -> None:
        self.peak_rows = max(self.peak_rows, len(rows))
        if self.schema is None:
            self.schema = self.plan.schema(rows)
            self.columns = [[] for _ in self.schema]
        batch = self.plan.batch(rows, self.schema)
        for i, column in enumerate(batch.columns):
            self.columns[i].append(column)
        del batch
        pa.default_memory_pool().release_unused()  # the conversion's temporaries

    def frame(self) -> pd.DataFrame:
        return self._thread.submit(self._frame).result()

    def _frame(self) -> pd.DataFrame:
        if self.schema is None:
            return self.plan.frame([])
        order = list((self.plan.api_order or {}).items())
        # ID ranges are read in parallel: rows are put back in ID order unless the caller ordered
        sort = order in ([], [(self.schema.field(0).name, "ASC")])
        frame = columns_to_frame(self.schema, self.columns, sort=sort)
        pa.default_memory_pool().release_unused()
        return frame


def portal_offset(client: BitrixClient) -> str | None:
    """The portal's UTC offset (``"+03:00"``), read from the ``time.date_start`` of its last
    answer (PROTOCOL §17: the portal renders every time in its own offset); None if unseen.

    Example::

        >>> portal_offset(client)
        '+03:00'
    """
    blocks = getattr(client, "time", None)
    for block in (blocks or {}).values() if isinstance(blocks, dict) else ():
        start = block.get("date_start") if isinstance(block, dict) else None
        if isinstance(start, str):
            try:
                offset = dt.datetime.fromisoformat(start).utcoffset()
            except ValueError:
                continue
            if offset is not None:
                minutes = int(offset.total_seconds() // 60)
                sign = "-" if minutes < 0 else "+"
                return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return None


@dataclass(frozen=True)
class LoadPlan:
    """What :func:`load` sends and how it builds the frame (shared with streamed exports)."""

    client: BitrixClient
    ent: Entity
    specs: Mapping[str, ColumnSpec]
    api_filter: dict
    api_select: list[str] | None
    api_order: dict | None
    send_select: list[str] | None

    @property
    def columns(self) -> list[str]:
        return _columns(self.ent, self.specs, self.api_select)

    def wire_query(self) -> dict[str, Any]:
        """``filter``/``select``/``order``/``params`` of the list call as sent (camelCase keys
        and ``entityTypeId`` for ``crm.item.list``)."""
        wire = self.ent.wire(
            {
                "filter": self.api_filter,
                "select": self.send_select,
                "order": self.api_order,
            }
        )
        return {
            "filter": wire.pop("filter") or None,
            "select": wire.pop("select"),
            "order": wire.pop("order"),
            "params": wire or None,
        }

    def frame(self, rows: Iterable[Mapping[str, Any]], *, attrs: bool = True) -> pd.DataFrame:
        """Rows (all of them, or one streamed chunk) as the typed frame with its attrs
        (``attrs=False``: without, for the chunks after the first)."""
        frame = to_frame(rows, self.specs, self.ent, columns=self.columns)
        if attrs:
            frame.attrs = self.attrs(list(frame.columns))
        return frame

    def attrs(self, columns: Iterable[str]) -> dict:
        """The frame's ``attrs`` for these columns (see the module notes)."""
        _remember(self.client)
        return {
            "bitrix": {
                "entity": self.ent.name,
                "portal": self.client.masked_url,
                "filter": self.api_filter,
                "select": self.api_select,
                "order": self.api_order,
                "loaded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "utc_offset": portal_offset(self.client),
                "fields": {
                    name: self.specs[name].to_dict() for name in columns if name in self.specs
                },
            }
        }

    def schema(self, rows: list[dict]) -> pa.Schema:
        """The dataset schema of a read whose first response holds ``rows`` (the selected
        columns, then keys returned beyond them), attrs included."""
        columns = batch_columns(rows, self.specs, self.ent, self.columns)
        return arrow_schema(
            self.specs,
            columns,
            entity=self.ent.name,
            attrs=self.attrs(columns),
            index=self.ent.id_field,
        )

    def batch(self, rows: list[dict], schema: pa.Schema) -> pa.RecordBatch:
        """``rows`` as one record batch of ``schema`` (no pandas frame in between)."""
        return records_to_batch(rows, self.specs, self.ent, schema)


def plan_load(
    client: BitrixClient,
    entity: str | Entity,
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
    order: Mapping[str, str] | None = None,
) -> LoadPlan:
    """Check and encode filter/select/order against the field metadata (raises before sending).

    Example::

        >>> plan_load(client, "deal", {"CATEGORY_ID": 1}).api_filter
        {'CATEGORY_ID': 1}
    """
    ent = _entity(entity)
    specs = metadata(client).specs(ent)
    api_filter = encode_filter(ent, specs, filter)
    api_select = encode_select(ent, specs, list(select) if select is not None else None)
    api_order = _check_order(ent, specs, order)
    send_select = api_select if api_select is not None else default_select(ent, specs)
    send_select = expand_uf_mask(ent, specs, send_select)
    if (
        send_select is not None
        and ent.fields_format in ("task", "item")
        and "ID" not in send_select
    ):
        send_select = ["ID", *send_select]
    return LoadPlan(client, ent, specs, api_filter, api_select, api_order, send_select)


def fields_frame(client: BitrixClient, entity: str | Entity) -> pd.DataFrame:
    """Field metadata as a DataFrame, one row per column (index ``name``).

    Columns: title, type, kind, dtype, required, read_only, immutable, multiple, dynamic,
    status_type, values (allowed codes/ids), labels (parallel to values), derived_from.

    Example::

        >>> fields_frame(client, "deal").loc["STAGE_ID", ["type", "dtype"]].tolist()
        ['crm_status', 'category']
    """
    specs = metadata(client).specs(entity)
    return specs_frame(specs.values())


def specs_frame(specs: Iterable[ColumnSpec]) -> pd.DataFrame:
    """``fields_frame`` of already known specs (used by the accessor)."""
    rows = [
        {
            "name": s.name,
            "title": s.title,
            "type": s.type,
            "kind": s.kind,
            "dtype": s.dtype,
            "required": s.required,
            "read_only": s.read_only,
            "immutable": s.immutable,
            "multiple": s.multiple,
            "dynamic": s.dynamic,
            "status_type": s.status_type,
            "values": list(s.categories) if s.categories is not None else None,
            "labels": list(s.labels) if s.labels is not None else None,
            "derived_from": s.derived_from,
        }
        for s in specs
    ]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["name"])
    return frame.set_index("name")


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def pipelines(client: BitrixClient) -> pd.DataFrame:
    """Deal pipelines in display order: index ``ID``; NAME, SORT, IS_DEFAULT.

    Example::

        >>> pipelines(client).loc[0, "NAME"]
        'General'
    """
    rows = metadata(client).pipelines()
    frame = pd.DataFrame(
        {
            "ID": pd.array([_int_or_none(p.get("id")) for p in rows], dtype="Int64"),
            "NAME": pd.array([p.get("name") for p in rows], dtype="string"),
            "SORT": pd.array([_int_or_none(p.get("sort")) for p in rows], dtype="Int64"),
            "IS_DEFAULT": pd.array([p.get("isDefault") == "Y" for p in rows], dtype="boolean"),
        }
    )
    return frame.sort_values(["SORT", "ID"]).set_index("ID")


def statuses(client: BitrixClient, entity_id: str | None = None) -> pd.DataFrame:
    """``crm.status.list`` as a frame (optionally one dictionary: ``STATUS``, ``SOURCE``...).

    Example::

        >>> statuses(client, "SOURCE")["STATUS_ID"].tolist()[:2]
        ['CALL', 'EMAIL']
    """
    rows = [
        r
        for r in metadata(client).statuses()
        if entity_id is None or r.get("ENTITY_ID") == entity_id
    ]
    frame = pd.DataFrame(
        {
            "ID": pd.array([_int_or_none(r.get("ID")) for r in rows], dtype="Int64"),
            "ENTITY_ID": pd.array([r.get("ENTITY_ID") for r in rows], dtype="string"),
            "STATUS_ID": pd.array([r.get("STATUS_ID") for r in rows], dtype="string"),
            "NAME": pd.array([r.get("NAME") for r in rows], dtype="string"),
            "SORT": pd.array([_int_or_none(r.get("SORT")) for r in rows], dtype="Int64"),
            "CATEGORY_ID": pd.array(
                [_int_or_none(r.get("CATEGORY_ID")) for r in rows], dtype="Int64"
            ),
            "SEMANTICS": pd.array([r.get("SEMANTICS") or "P" for r in rows], dtype="string"),
            "COLOR": pd.array([r.get("COLOR") for r in rows], dtype="string"),
        }
    )
    return frame.sort_values(["ENTITY_ID", "SORT", "ID"]).set_index("ID")


def stages(client: BitrixClient, entity: str | Entity = "deal") -> pd.DataFrame:
    """Stages of ``deal`` (every pipeline, (pipeline sort, stage sort) order) or ``lead`` statuses.

    Columns: STATUS_ID, NAME, LABEL (as in ``df.bitrix.labels()``), PIPELINE_ID, PIPELINE, SORT,
    SEMANTICS (P/S/F), COLOR; the row order is the categories' order of ``STAGE_ID``.

    Example::

        >>> stages(client).query("PIPELINE_ID == 0")["STATUS_ID"].tolist()[:2]
        ['NEW', 'PREPARATION']
    """
    ent = _entity(entity)
    specs = metadata(client).specs(ent)
    field = ent.stage_field
    if field is None or field not in specs:
        raise ValidationError(f"{ent.name} has no stages")
    spec = specs[field]
    by_code: dict[str, dict] = {}
    family = re.sub(r"^(DYNAMIC_\d+_STAGE)_\d+$", r"\1", spec.status_type or "\0")
    for r in metadata(client).statuses():
        if r.get("ENTITY_ID", "").startswith(family):
            by_code.setdefault(r["STATUS_ID"], r)
    names = {
        _int_or_none(p.get("id")): p.get("name")
        for p in metadata(client).pipelines(ent.pipelines_of)
    }
    codes = list(spec.categories or ())
    owners = list(spec.pipelines or [None] * len(codes))
    frame = pd.DataFrame(
        {
            "STATUS_ID": pd.array(codes, dtype="string"),
            "NAME": pd.array([by_code.get(c, {}).get("NAME") for c in codes], dtype="string"),
            "LABEL": pd.array(list(spec.labels or codes), dtype="string"),
            "PIPELINE_ID": pd.array(owners, dtype="Int64"),
            "PIPELINE": pd.array([names.get(o) for o in owners], dtype="string"),
            "SORT": pd.array(
                [_int_or_none(by_code.get(c, {}).get("SORT")) for c in codes], dtype="Int64"
            ),
            "SEMANTICS": pd.array(
                [by_code.get(c, {}).get("SEMANTICS") or "P" for c in codes], dtype="string"
            ),
            "COLOR": pd.array([by_code.get(c, {}).get("COLOR") for c in codes], dtype="string"),
        }
    )
    return frame
