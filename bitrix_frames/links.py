"""Deal <-> contact pairs as a typed frame (``portal.deal_contacts()``).

Two routes, chosen by what the caller needs:

* default: ``crm.item.list`` (entityTypeId 2, ``select: [id, contactId, contactIds]``) read by
  keyset chains, 2,500 deals per request. ``contactIds`` come in the bindings' SORT order and
  ``contactId`` is the primary one, so ``IS_PRIMARY`` is exact and ``POSITION`` (1, 2, ...) is the
  binding's place in SORT order; the SORT numbers themselves are not in this answer.
* ``sort=True``: the portal's own SORT numbers from ``crm.deal.contact.items.get``, one command
  per deal, 50 deals per request (after one keyset listing of the deal IDs): about 50 times the
  requests of the default for the same deals.

Example::

    pairs = deal_contacts(client)                      # DEAL_ID, CONTACT_ID, IS_PRIMARY, POSITION
    pairs.query("IS_PRIMARY")["CONTACT_ID"].value_counts()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .batch import MAX_COMMANDS
from .contract import BitrixClient
from .errors import MalformedResponse
from .paging import row_id

__all__ = ["deal_contacts"]

COLUMNS = ["DEAL_ID", "CONTACT_ID", "IS_PRIMARY", "POSITION"]


def _ids(value: Any, method: str) -> list[int]:
    if value in (None, "", 0):
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"contactIds is {type(value).__name__}, not a list", method=method)
    return [row_id({"v": v}, "v", method) for v in value]


def _frame(rows: list[tuple], columns: list[str], client: BitrixClient, route: str) -> pd.DataFrame:
    data = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    frame = pd.DataFrame(
        {
            name: pd.array(list(values), dtype="boolean" if name == "IS_PRIMARY" else "Int64")
            for name, values in zip(columns, data, strict=True)
        }
    )
    frame = frame.sort_values(["DEAL_ID", columns[-1]], kind="stable", ignore_index=True)
    frame.attrs["bitrix"] = {
        "entity": "deal_contact",
        "portal": client.masked_url,
        "method": route,
        "loaded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return frame


def deal_contacts(
    client: BitrixClient,
    filter: Mapping[str, Any] | None = None,
    *,
    sort: bool = False,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per deal-contact binding: ``DEAL_ID``, ``CONTACT_ID``, ``IS_PRIMARY`` (boolean)
    and ``POSITION`` (1 = first in SORT order), or with ``sort=True`` the portal's ``SORT``.

    ``filter`` restricts the deals, in ``crm.item.list`` camelCase (``{"categoryId": 1}``) by
    default or ``crm.deal.list`` UPPER_SNAKE (``{"CATEGORY_ID": 1}``) with ``sort=True``. Deals
    without contacts have no rows.

    Example::

        >>> deal_contacts(client).head(2)
           DEAL_ID  CONTACT_ID  IS_PRIMARY  POSITION
        0        1          12        True         1
        1        1           8       False         2
    """
    if sort:
        return _with_sort(client, filter, progress)
    method = "crm.item.list"
    rows = client.list(
        method,
        filter=dict(filter or {}),
        select=["id", "contactId", "contactIds"],
        params={"entityTypeId": 2},
        progress=progress,
    )
    out: list[tuple] = []
    for row in rows:
        deal = row_id(row, "id", method)
        contacts = _ids(row.get("contactIds"), method)
        primary = row.get("contactId")
        for n, contact in enumerate(contacts, 1):
            out.append((deal, contact, contact == primary, n))
    return _frame(out, COLUMNS, client, method)


def _with_sort(
    client: BitrixClient, filter: Mapping[str, Any] | None, progress: bool | None
) -> pd.DataFrame:
    method = "crm.deal.contact.items.get"
    deals = [
        row_id(r, "ID", "crm.deal.list")
        for r in client.list(
            "crm.deal.list", filter=dict(filter or {}), select=["ID"], progress=progress
        )
    ]
    out: list[tuple] = []
    for start in range(0, len(deals), MAX_COMMANDS):
        part = deals[start : start + MAX_COMMANDS]
        res = client.batch({f"d{d}": (method, {"id": d}) for d in part})
        for deal in part:
            name = f"d{deal}"
            if name in res.errors:
                raise res.errors[name]
            items = res.result.get(name) or []
            if not isinstance(items, list):
                raise MalformedResponse(f"result is {type(items).__name__}", method=method)
            for item in items:
                contact = row_id(item, "CONTACT_ID", method)
                sort = row_id(item, "SORT", method)
                out.append((deal, contact, item.get("IS_PRIMARY") == "Y", sort))
    return _frame(out, [*COLUMNS[:3], "SORT"], client, method)
