"""Smart processes: the types of a portal (``crm.type.list``) and the registry record of a type's
items (``crm.item.*``) chosen by entityTypeId or by title.

Example::

    types = smart_processes(client)                     # one row per smart process
    ent = item_entity_for(client, "Contracts")          # -> item_entity(1038)
    items = load(client, ent, filter={"STAGE_ID": "DT1038_12:NEW"})
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .contract import BitrixClient
from .entities import Entity, item_entity
from .errors import ValidationError
from .frames import load

__all__ = ["item_entity_for", "resolve_item_name", "smart_processes"]

_PREFIXES = ("item:", "items:", "item_")


def smart_processes(client: BitrixClient, **kw: Any) -> pd.DataFrame:
    """The portal's smart processes (``crm.type.list``), one typed row per type, indexed by the
    type's ``ID``; ``ENTITY_TYPE_ID`` is what :func:`item_entity_for` and ``crm.item.*`` take.

    Example::

        >>> smart_processes(client)[["TITLE", "ENTITY_TYPE_ID"]]
               TITLE                  ENTITY_TYPE_ID
        ID
        7      Equipment procurement            1036
    """
    return load(client, "smart_process", **kw)


def item_entity_for(client: BitrixClient, key: int | str | Entity) -> Entity:
    """The ``crm.item.*`` registry record of a type given as an entityTypeId (``1036``,
    ``"1036"``, ``"item:1036"``) or a smart process's title or code (case-insensitive; read with
    one ``crm.type.list`` call). entityTypeId 1-4 are leads, deals, contacts, companies.

    Raises :class:`~bitrix_frames.errors.ValidationError` naming the known titles when nothing
    (or more than one type) matches.

    Example::

        >>> item_entity_for(client, "contracts").name
        'item_1038'
    """
    if isinstance(key, Entity):
        return key
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise ValidationError(f"a smart process is an entityTypeId or a title, not {key!r}")
    if isinstance(key, int):
        return item_entity(key)
    text = key.strip()
    for prefix in _PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    if text.isdigit():
        return item_entity(int(text))
    types = client.list("crm.type.list", order={"id": "ASC"})
    wanted = text.casefold()
    found = [
        t
        for t in types
        if str(t.get("title") or "").casefold() == wanted
        or (t.get("code") and str(t["code"]).casefold() == wanted)
    ]
    if len(found) != 1:
        known = ", ".join(repr(t.get("title")) for t in types) or "none"
        what = "several smart processes" if found else "no smart process"
        raise ValidationError(f"{what} called {text!r} on this portal (known: {known})")
    return item_entity(int(found[0]["entityTypeId"]))


def resolve_item_name(client: BitrixClient, name: str) -> str:
    """A dataset name as the registry spells it: ``item:<title>`` -> ``item_<entityTypeId>``;
    any other name is returned unchanged (for ``bitrix-frames export``).

    Example::

        >>> resolve_item_name(client, "item:Contracts"), resolve_item_name(client, "deal")
        ('item_1038', 'deal')
    """
    if name.strip().lower().startswith(_PREFIXES):
        return item_entity_for(client, name).name
    return name
