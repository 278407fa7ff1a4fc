"""Write operations and how each one is spoken on the wire, per entity.

An :class:`Operation` is one REST call of a plan (``add``, ``update``, ``delete`` or task
``complete``) with fields already converted to API values. :class:`WriteRecipe` holds the
entity-specific choices of the write-back layer:

* idempotency marker of adds: ``ORIGIN_ID`` for CRM entities (a documented "identifier in external
  source" field, filterable), ``XML_ID`` for tasks;
* modified stamp used by the conflict check: ``DATE_MODIFY`` (CRM), ``CHANGED_DATE`` (tasks);
* a status reached through its own method (``Entity.completion``: task status 5 goes through
  ``tasks.task.complete``), other task edits through ``tasks.task.update`` with ``taskId`` and
  UPPER_SNAKE ``fields``.

Example::

    >>> op = Operation("update:5", "update", 5, 5, {"STAGE_ID": "WON"})
    >>> recipe("deal").command(op)
    ('crm.deal.update', {'id': 5, 'fields': {'STAGE_ID': 'WON'}})
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from ..entities import Entity
from ..entities import entity as _entity


@dataclass
class Operation:
    """One REST call of a plan."""

    key: str
    """Stable name: ``add:<row position>``, ``update:<id>``, ``delete:<id>``, ``complete:<id>``."""
    op: str
    id: int | None
    row: Hashable
    fields: dict[str, Any] = field(default_factory=dict)
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    """(field, old, new) as shown to the user (frame values, not API values)."""
    stamp: Any = None
    """The row's modified stamp in ``before`` (conflict check), or None."""
    token: str | None = None
    """Idempotency marker written into the marker field of an add."""

    @property
    def target(self) -> int:
        """The record's ID (updates, deletes, completes; an add has none before it ran)."""
        if self.id is None:
            raise ValueError(f"operation {self.key} has no record ID")
        return int(self.id)


@dataclass(frozen=True)
class WriteRecipe:
    entity: Entity
    marker: str | None
    stamp: str | None

    @property
    def id_param(self) -> str:
        return self.entity.id_param

    def command(self, op: Operation) -> tuple[str, dict[str, Any]]:
        """``(method, params)`` of one operation."""
        ent = self.entity
        if op.op == "add":
            return ent.add_method or "", ent.wire({"fields": op.fields})
        if op.op == "update":
            return ent.update_method or "", ent.wire({self.id_param: op.id, "fields": op.fields})
        if op.op == "delete":
            return ent.delete_method or "", ent.wire({self.id_param: op.id})
        if op.op == "complete" and ent.completion is not None:
            return ent.completion.method, {self.id_param: op.id}
        raise ValueError(f"unknown operation {op.op!r}")

    def new_id(self, result: Any) -> int | None:
        """The new record's ID from an add's result (CRM: an int; tasks: ``{"task": {"id"}}``)."""
        if isinstance(result, dict):
            item = result.get(self.entity.item_key or "", result)
            if isinstance(item, dict):
                result = item.get("id", item.get("ID"))
        try:
            return int(result)
        except (TypeError, ValueError):
            return None


def recipe(name: str | Entity) -> WriteRecipe:
    """The write recipe of an entity; raises ValueError for read-only entities (users)."""
    ent = _entity(name)
    if not ent.add_method:
        raise ValueError(f"{ent.name} records cannot be written through the REST API")
    marker = ent.marker_field
    return WriteRecipe(ent, marker, ent.modified_field)
