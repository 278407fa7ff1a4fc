"""References to records that do not exist, found with one cheap read before anything is sent.

A link field (``COMPANY_ID``, ``CONTACT_ID``, ``LEAD_ID``, ``CONTACT_IDS``...) pointing at a
record the portal does not have would be stored as a dangling ID (the legacy API does not check
it). The IDs of every add and update are read back in one ``batch`` per linked entity (50 IDs per
sub-call, 2,500 per request), selecting only ``ID``. User fields are checked against the portal's
users when the specs are built (see :mod:`bitrix_frames.schema.to_api`).

Example::

    problems = missing_references(client, specs, ops)   # [] when every link resolves
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..schema.specs import ColumnSpec
from .look import read_rows
from .ops import Operation, recipe
from .problems import Problem

LINK_TARGETS = {
    "crm_company": "company",
    "crm_contact": "contact",
    "crm_lead": "lead",
    "crm_deal": "deal",
}
"""Bitrix link field type -> the entity it points at."""


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [int(v) for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def missing_references(
    client: Any, specs: Mapping[str, ColumnSpec], ops: Sequence[Operation]
) -> list[Problem]:
    """One problem per (row, field) whose linked record is not on the portal."""
    wanted: dict[str, list[tuple[Operation, str, int]]] = {}
    for op in ops:
        for name, value in op.fields.items():
            spec = specs.get(name)
            target = LINK_TARGETS.get(spec.type) if spec is not None else None
            if target:
                wanted.setdefault(target, []).extend((op, name, i) for i in _ids(value))
    problems = []
    for target, refs in wanted.items():
        found = read_rows(client, recipe(target), sorted({i for _, _, i in refs}), ["ID"])
        problems += [
            Problem(op.row, name, f"{name} {ident}: no such {target} on the portal")
            for op, name, ident in refs
            if ident not in found
        ]
    return problems
