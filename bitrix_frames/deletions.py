"""Which cached rows left a list: ID-range probes that narrow down to the deleted rows.

After an incremental refresh has merged the changed rows, the frame's IDs are a superset of the
rows the portal matches now (every row still matching is unchanged, so cached, or was just fetched).
What is left to find are the cached rows that were deleted or moved out of the filter: *gone* rows.

A *probe* of the ID range ``[lo, hi)`` is one list call with ``start=0``, ``select=[ID]``, ``order ID
ASC`` and the frame's filter plus ``>=ID: lo``, ``<ID: hi``. Its ``total`` counts the matching rows
in the range (the primary key bounds the COUNT, so the portal counts only the rows in the range, not
the table) and its rows are the range's first 50 live IDs. Against the cached IDs of the range:

* ``total`` equal to the cached count: nothing is gone there;
* the 50 IDs settle every cached ID up to the last of them (``total <= 50`` settles the range);
* the rest of the range, after the last returned ID, has a known number of gone rows (its
  *deficit*); it is split into smaller ranges, all probed in the next round.

The first round rides in the changed rows' own request (:func:`first_probes`, companions of
``list_with``). Each later round sends its probes 50 per batch, the batches in parallel; a round takes as many requests as it
needs to give every open range two probes (or the probes that settle it outright, if fewer), fills
them up with more probes for the ranges with the most gone rows, and takes one request more when
that settles everything. So the requests grow with the number of gone rows times the log of the
table, and a range of ``n`` rows is never probed with more than ``ceil(n/50)`` calls (a plain ID
listing of it). A live ID the frame does not hold, or a count above the cached one, means rows
appeared while refreshing: :class:`RowsAppeared` tells the caller to fetch the changes again.

Example::

    companions = first_probes("crm.deal.list", {"CLOSED": "N"}, cached_ids, 16)
    # ... send them with the changed rows, merge, then:
    gone = find_gone(client, "crm.deal.list", {"CLOSED": "N"}, merged_ids, side)
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .batch import BatchResult, Command
from .entities import Shape, keyset_for
from .errors import BitrixError, ValidationError
from .paging import MAX_COMMANDS, PAGE, unwrap

__all__ = ["RowsAppeared", "find_gone", "first_probes", "probe_command"]

PREFIX = "gone_"
"""Name prefix of the first round's probes among the changed rows' companions."""


class RowsAppeared(BitrixError):
    """The portal holds matching rows the frame lacks (created or moved in while refreshing)."""


@dataclass
class _Open:
    """An ID range ``[lo, hi)`` (None: unbounded) with gone rows among its cached ``members``."""

    lo: int | None
    hi: int | None
    members: list[int]
    deficit: int


def shape_of(method: str) -> Shape | None:
    """The keyset shape of ``method`` (None: it cannot be probed by ID range)."""
    return keyset_for(method)


def _bounded(filter: Mapping[str, Any], key: str, lo: int | None, hi: int | None) -> dict:
    """``filter`` narrowed to ``lo <= ID < hi``, intersected with the caller's own bounds."""
    out = dict(filter)
    for op, value, pick in ((">=", lo, max), ("<", hi, min)):
        if value is None:
            continue
        want = f"{op}{key}".upper()
        for k in [k for k in out if str(k).replace(" ", "").upper() == want]:
            try:
                value = pick(value, int(out.pop(k)))
            except (TypeError, ValueError):
                raise ValidationError(f"filter {k!r} must be an integer ID") from None
        out[f"{op}{key}"] = value
    return out


def probe_command(
    method: str,
    filter: Mapping[str, Any],
    lo: int | None,
    hi: int | None,
    params: Mapping[str, Any] | None = None,
) -> Command:
    """The probe of ``[lo, hi)``: ``total`` = matching rows in it, rows = its first 50 IDs.

    Example::

        >>> probe_command("crm.deal.list", {}, 10, 20)[1]["filter"]
        {'>=ID': 10, '<ID': 20}
    """
    shape = shape_of(method)
    if shape is None:
        raise ValidationError(f"{method} cannot be probed by ID range")
    key = shape.id_key
    return (
        method,
        {
            **(params or {}),
            "filter": _bounded(filter, key, lo, hi),
            "order": {key: "ASC"},
            "select": [key],
            "start": 0,
        },
    )


def _split(ids: list[int], lo: int | None, hi: int | None, parts: int) -> list[tuple[Any, Any]]:
    """``[lo, hi)`` cut into ``parts`` ranges holding about as many of ``ids`` each."""
    n = len(ids)
    parts = max(1, min(parts, n)) if n else 1
    edges: list[int | None] = [lo]
    for i in range(1, parts):
        edge = ids[i * n // parts]
        if edges[-1] is None or edge > edges[-1]:
            edges.append(edge)
    edges.append(hi)
    return list(zip(edges[:-1], edges[1:], strict=True))


def first_ranges(ids: Iterable[int], parts: int) -> list[tuple[int | None, int | None]]:
    """The whole ID axis cut into ``parts`` ranges of about equal cached counts (the first and
    the last are unbounded, so rows created below or above the cached IDs fall in them)."""
    return _split(sorted(int(i) for i in ids), None, None, parts)


def first_probes(
    method: str,
    filter: Mapping[str, Any],
    ids: Iterable[int],
    parts: int,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Command]:
    """Companion commands probing :func:`first_ranges`, named ``gone_<lo>_<hi>`` (``params``:
    fixed parameters of the method, e.g. ``entityTypeId``)."""
    return {
        _name(lo, hi): probe_command(method, filter, lo, hi, params)
        for lo, hi in first_ranges(ids, parts)
    }


def _name(lo: int | None, hi: int | None) -> str:
    return f"{PREFIX}{'' if lo is None else lo}_{'' if hi is None else hi}"


def _members(ids: list[int], lo: int | None, hi: int | None) -> list[int]:
    a = 0 if lo is None else bisect_left(ids, lo)
    b = len(ids) if hi is None else bisect_left(ids, hi)
    return ids[a:b]


def _settle(
    members: list[int], lo: int | None, hi: int | None, total: int, alive: list[int], method: str
) -> tuple[list[int], _Open | None]:
    """What one probe of ``[lo, hi)`` proves: (gone IDs, the range still open or None)."""
    if total == len(members):
        return [], None
    known = set(members)
    strangers = [i for i in alive if i not in known]
    if strangers or total > len(members):
        raise RowsAppeared(
            f"{method}: rows appeared while refreshing (IDs {strangers[:5]})", method=method
        )
    if len(alive) >= total:
        seen = set(alive)
        return [i for i in members if i not in seen], None
    last = alive[-1]
    cut = bisect_left(members, last + 1)
    seen = set(alive)
    gone = [i for i in members[:cut] if i not in seen]
    rest = members[cut:]
    deficit = len(members) - total - len(gone)
    if deficit < 0:
        raise RowsAppeared(f"{method}: rows appeared while refreshing", method=method)
    if deficit == 0:
        return gone, None
    if deficit == len(rest):
        return gone + rest, None
    return gone, _Open(last + 1, hi, rest, deficit)


def _plan(open_: list[_Open]) -> list[int]:
    """Probes per open range for the next round (see the module notes)."""
    full = [math.ceil(len(s.members) / PAGE) for s in open_]
    parts = [min(2, f) for f in full]
    requests = math.ceil(sum(parts) / MAX_COMMANDS)
    if math.ceil(sum(full) / MAX_COMMANDS) <= requests + 1:
        return full
    spare = requests * MAX_COMMANDS - sum(parts)

    def weight(i: int) -> float:  # gone rows times the rows each probe of the range covers
        return -open_[i].deficit * len(open_[i].members) / parts[i]

    heap = [(weight(i), i) for i in range(len(open_))]
    heapq.heapify(heap)
    while spare > 0 and heap:
        _, i = heapq.heappop(heap)
        if parts[i] >= full[i]:
            continue
        parts[i] += 1
        spare -= 1
        heapq.heappush(heap, (weight(i), i))
    return parts


def _ids(result: Any, shape: Shape) -> list[int]:
    return sorted(int(r[shape.row_id]) for r in unwrap(result, shape.rows_path))


def find_gone(
    client: Any,
    method: str,
    filter: Mapping[str, Any],
    ids: Iterable[int],
    first: BatchResult,
    params: Mapping[str, Any] | None = None,
) -> set[int]:
    """Cached ``ids`` no longer matching ``filter`` on the portal, given ``first``: the results of
    the :func:`first_probes` sent with the changed rows (probed over the IDs cached before the
    merge; ``ids`` are the merged IDs).

    Example::

        >>> find_gone(client, "crm.deal.list", {}, merged.index, side)
        {17, 4242}
    """
    shape = shape_of(method)
    if shape is None:
        raise ValidationError(f"{method} cannot be probed by ID range")
    cached = sorted({int(i) for i in ids})
    gone: list[int] = []
    probes: dict[str, tuple[int | None, int | None]] = {}
    for name in [*first.result, *first.errors]:
        if name.startswith(PREFIX):
            lo, hi = (None if v == "" else int(v) for v in name[len(PREFIX) :].split("_"))
            probes[name] = (lo, hi)
    res = first
    while probes:
        open_: list[_Open] = []
        for name, (lo, hi) in probes.items():
            if name in res.errors:
                raise res.errors[name]
            members = _members(cached, lo, hi)
            found, rest = _settle(
                members, lo, hi, int(res.total.get(name, 0)), _ids(res.result[name], shape), method
            )
            gone.extend(found)
            if rest is not None:
                open_.append(rest)
        if not open_:
            break
        probes = {}
        for seg, parts in zip(open_, _plan(open_), strict=True):
            for lo, hi in _split(seg.members, seg.lo, seg.hi, parts):
                probes[_name(lo, hi)] = (lo, hi)
        res = _send(
            client,
            {n: probe_command(method, filter, lo, hi, params) for n, (lo, hi) in probes.items()},
        )
    return set(gone)


def _send(client: Any, commands: dict[str, Command]) -> BatchResult:
    """One round's probes, 50 per request, the requests in parallel (as many as the client's
    ``max_workers``): they are independent, and a round waits for all of them anyway."""
    names = list(commands)
    chunks = [
        {n: commands[n] for n in names[i : i + MAX_COMMANDS]}
        for i in range(0, len(names), MAX_COMMANDS)
    ]
    if len(chunks) == 1:
        return client.batch(commands)
    out = BatchResult()
    workers = max(1, min(len(chunks), int(getattr(client, "max_workers", 1))))
    with ThreadPoolExecutor(workers, thread_name_prefix="bitrix-gone") as pool:
        for res in pool.map(client.batch, chunks):
            out.merge(res)
    return out
