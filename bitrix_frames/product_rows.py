"""Product rows of deals (or leads, contacts, companies) as one typed frame.

``crm.item.productrow.list`` answers only for the owners named in its filter (``=ownerType`` and
``=ownerId``, an array allowed). The loader lists the owner IDs by keyset (2,500 per request)
unless they are given, then reads the rows for groups of owners per command, 50 commands per
request (:func:`~bitrix_frames.owner_paging.owner_rows`): about ``owners / 2,500 + rows / 2,500``
requests, where one ``crm.deal.productrows.get`` per deal costs one sub-call per deal.

Columns are the UPPER_SNAKE renames of the camelCase keys (``OWNER_ID``, ``PRODUCT_NAME``,
``PRICE``, ``QUANTITY``, ``TAX_INCLUDED`` ...), typed from ``crm.item.productrow.fields``; the
index is the row ``ID``.

Example::

    rows = load_product_rows(client, "deal")
    rows.groupby("OWNER_ID").apply(lambda r: (r.PRICE * r.QUANTITY).sum())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from .contract import BitrixClient
from .entities import ENTITIES, Entity
from .entities import entity as _entity
from .errors import ValidationError
from .frames import LoadPlan, plan_load
from .metadata import metadata
from .owner_paging import owner_rows
from .paging import row_id
from .schema.to_api import split_operator

__all__ = ["load_product_rows", "owner_ids_of", "read_rows"]

ROWS: Entity = ENTITIES["product_row"]


def owner_ids_of(
    client: BitrixClient,
    owner: str | Entity,
    *,
    progress: Any = None,
    companions: Mapping[str, Any] | None = None,
) -> tuple[list[int], Any]:
    """Every record ID of ``owner`` (``crm.deal.list`` selecting ``ID``, by keyset) and the
    ``BatchResult`` of ``companions`` sent in the same first request.

    Example::

        >>> owner_ids_of(client, "deal")[0][:3]
        [1, 2, 3]
    """
    ent = _entity(owner)
    rows, side = client.list_with(
        ent.list_method, dict(companions or {}), select=[ent.id_field], progress=progress
    )
    return sorted(row_id(r, ent.id_field, ent.list_method) for r in rows), side


def _owner(owner: str | Entity) -> Entity:
    ent = _entity(owner)
    if not ent.type_abbr:
        raise ValidationError(
            f"{ent.name} has no product rows; owners are: "
            + ", ".join(e.name for e in ENTITIES.values() if e.type_abbr)
        )
    return ent


def _ids(owner_ids: Iterable[Any]) -> list[int]:
    out = []
    for value in owner_ids:
        try:
            number = int(value) if not isinstance(value, (bool, float)) else 0
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, float) and value.is_integer():
            number = int(value)
        if number <= 0:
            raise ValidationError(f"owner_ids must hold positive record IDs, got {value!r}")
        out.append(number)
    return list(dict.fromkeys(out))


def _api_filter(plan: LoadPlan) -> dict:
    """The checked filter with camelCase keys (the method's own names)."""
    out = {}
    for key, value in plan.api_filter.items():
        op, name = split_operator(key)
        spec = plan.specs.get(name)
        out[op + (spec.api_name if spec else name)] = value
    return out


def read_rows(
    plan: LoadPlan,
    owner: str | Entity = "deal",
    owner_ids: Iterable[Any] | None = None,
    *,
    progress: Any = None,
    sink: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """The raw rows of a ``product_row`` load plan for ``owner`` records (all of them, or
    ``owner_ids``); with ``sink`` they are handed over per response (streamed exports)."""
    ent = _owner(owner)
    client = plan.client
    ids = owner_ids_of(client, ent, progress=progress)[0] if owner_ids is None else _ids(owner_ids)
    if not ids:
        return []
    assert ROWS.keyset is not None and ROWS.owner_keys is not None
    return owner_rows(
        client,
        ROWS.list_method,
        ROWS.keyset,
        ROWS.owner_keys,
        str(ent.type_abbr),
        ids,
        filter=_api_filter(plan),
        progress=progress,
        sink=sink,
    )


def load_product_rows(
    client: BitrixClient,
    owner: str | Entity = "deal",
    owner_ids: Iterable[Any] | None = None,
    filter: Mapping[str, Any] | None = None,
    *,
    progress: Any = None,
) -> pd.DataFrame:
    """Every product row of ``owner`` records (all of them, or ``owner_ids``) as a typed frame
    indexed by the row ``ID``; ``filter`` takes column names (``{">PRICE": 100}``).

    Example::

        >>> rows = load_product_rows(client, "deal", owner_ids=[12, 15])
        >>> rows[["OWNER_ID", "PRODUCT_NAME", "PRICE", "QUANTITY"]].head(2)
    """
    owner_ent = _owner(owner)
    ids = None if owner_ids is None else _ids(owner_ids)  # bad input raises before any request
    if ids is None and filter is None:
        # the fields and users requests ride in the first request listing the owners (a filter
        # is checked against the fields before anything is sent, so it cannot wait for them)
        meta = metadata(client)
        commands = meta.prefetch_commands(ROWS)
        ids, side = owner_ids_of(client, owner_ent, progress=progress, companions=commands)
        meta.absorb(ROWS, commands, side)
    plan = plan_load(client, ROWS, filter)
    frame = plan.frame(read_rows(plan, owner_ent, ids, progress=progress)).sort_index()
    frame.attrs["bitrix"]["owner"] = owner_ent.name
    return frame
