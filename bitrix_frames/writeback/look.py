"""Cheap batched reads of the portal state the write-back needs: modified stamps (conflict check),
current values (resolving an ambiguous update), existence (deletes) and idempotency markers (adds).

Every read is a list call filtered by 50 IDs (or 50 markers) selecting only the needed fields; 50
such sub-calls travel in one ``batch`` request, so 2,500 rows cost one HTTP request. A filter the
portal ignored (unknown keys are dropped silently by legacy lists) is detected: rows outside the
requested set raise :class:`FilterIgnored` instead of being trusted.

Example::

    stamps = read_rows(client, recipe("deal"), [5, 6], ["DATE_MODIFY"])
    stamps[5]["DATE_MODIFY"]      # '2024-05-23T18:18:25+03:00'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from ..batch import MAX_COMMANDS
from ..contract import BitrixClient
from .ops import WriteRecipe

CHUNK = MAX_COMMANDS  # IDs (or markers) per list filter; sub-calls per request


class FilterIgnored(RuntimeError):
    """The portal returned rows outside the filter: the filter key is not supported."""


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _unwrap(recipe: WriteRecipe, result: Any) -> list[dict]:
    key = recipe.entity.list_key
    if key and isinstance(result, dict):
        result = result.get(key, [])
    return result if isinstance(result, list) else []


def _upper(recipe: WriteRecipe, row: dict, names: Iterable[str]) -> dict[str, Any]:
    """A response row with UPPER_SNAKE keys (task responses are camelCase)."""
    ent = recipe.entity
    if not ent.camel_response:
        return row
    return {n: row.get(ent.api_name(n), row.get(n)) for n in names}


def _list_params(recipe: WriteRecipe, filt: dict, select: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {"filter": filt, "select": select, "order": {"ID": "ASC"}}
    if recipe.entity.uncounted_start:
        params["start"] = -1  # no COUNT: one page of at most 50 rows
    return recipe.entity.wire(params)  # crm.item.*: entityTypeId, camelCase keys


def _run(client: BitrixClient, commands: dict[str, tuple[str, dict]]) -> dict[str, Any]:
    """Run read commands through the client's batch; any failed sub-call raises."""
    if not commands:
        return {}
    res = client.batch(commands)
    if res.errors:
        raise next(iter(res.errors.values()))
    return res.result


def read_rows(
    client: BitrixClient, recipe: WriteRecipe, ids: Sequence[int], fields: Sequence[str]
) -> dict[int, dict[str, Any]]:
    """Current values of ``fields`` for ``ids`` (absent IDs = deleted), batched."""
    select = ["ID", *[f for f in dict.fromkeys(fields) if f != "ID"]]
    ids = sorted({int(i) for i in ids})
    key = recipe.entity.ids_filter
    commands = {
        f"r{n}": (recipe.entity.list_method, _list_params(recipe, {key: list(part)}, select))
        for n, part in enumerate(_chunks(ids))
    }
    wanted = set(ids)
    out: dict[int, dict[str, Any]] = {}
    for result in _run(client, commands).values():
        for raw in _unwrap(recipe, result):
            row = _upper(recipe, raw, select)
            ident = int(row["ID"])
            if ident not in wanted:
                raise FilterIgnored(f"{recipe.entity.list_method} ignored the ID filter")
            out[ident] = row
    return out


def find_markers(
    client: BitrixClient,
    recipe: WriteRecipe,
    tokens: Sequence[str],
    since: float | None,
    *,
    scan: bool = True,
) -> dict[str, int]:
    """IDs of records carrying the given idempotency markers (token -> smallest ID).

    Where the marker cannot be filtered on (tasks, or a portal that ignores the filter), records
    created since ``since`` are scanned; with ``scan=False`` :class:`FilterIgnored` is raised."""
    marker = recipe.marker or ""
    tokens = list(dict.fromkeys(tokens))
    if not tokens:
        return {}
    if not recipe.entity.marker_filterable:  # scan the recent creations instead
        if not scan:
            raise FilterIgnored(f"{recipe.entity.list_method} cannot filter by {marker}")
        return _scan_markers(client, recipe, set(tokens), since)
    commands = {
        f"m{n}": (
            recipe.entity.list_method,
            _list_params(recipe, {f"@{marker}": list(part)}, ["ID", marker]),
        )
        for n, part in enumerate(_chunks(tokens))
    }
    wanted = set(tokens)
    try:
        found: dict[str, int] = {}
        for result in _run(client, commands).values():
            for raw in _unwrap(recipe, result):
                row = _upper(recipe, raw, ["ID", marker])
                if row.get(marker) not in wanted:
                    raise FilterIgnored(f"{recipe.entity.list_method} ignored the {marker} filter")
                ident = int(row["ID"])
                found[row[marker]] = min(ident, found.get(row[marker], ident))
        return found
    except FilterIgnored:
        if not scan:
            raise
        return _scan_markers(client, recipe, wanted, since)


def _scan_markers(
    client: BitrixClient, recipe: WriteRecipe, wanted: set[str], since: float | None
) -> dict[str, int]:
    """Fallback: every record created since ``since`` (minus a margin for clock skew)."""
    marker = recipe.marker or ""
    ent = recipe.entity
    created = ent.created_field or "DATE_CREATE"
    start = (since or 0) - 3600
    iso = dt.datetime.fromtimestamp(max(start, 0), dt.timezone.utc).isoformat()
    wire = ent.wire({"filter": {f">={created}": iso}, "select": ["ID", marker]})
    rows = client.list(
        ent.list_method,
        filter=wire.pop("filter"),
        select=wire.pop("select"),
        params=wire or None,
    )
    found: dict[str, int] = {}
    for raw in rows:
        row = _upper(recipe, raw, ["ID", marker])
        token = row.get(marker)
        if token in wanted:
            ident = int(row["ID"])
            found[token] = min(ident, found.get(token, ident))
    return found
