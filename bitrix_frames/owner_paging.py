"""Rows of a list method that requires its owners in the filter (``crm.item.productrow.list``
needs ``=ownerType`` and ``=ownerId``), for many owners in few requests.

The owner IDs travel as arrays: the owners are split into (at least) 50 groups, each read by its
own keyset chain (``=ownerId: [group]``, order ``id``, ``>id`` = the last row seen, ``start=-1``:
no COUNT); one ``batch`` request carries one command of up to 50 chains, so every command but a
chain's last comes back full (50 rows). When fewer than 50 chains are left, the largest groups are
halved to use the free slots (both halves go on from the same last row). The read costs about ``rows / 2,500`` requests (plus one
per 100 groups of 500 owners), whatever the number of owners; one call per owner would cost one
sub-call per owner.

Example::

    rows = owner_rows(client, "crm.item.productrow.list", Shape("id", "id", "productRows"),
                      ("=ownerType", "=ownerId"), "D", deal_ids)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .batch import MAX_COMMANDS
from .contract import BitrixClient
from .entities import Shape
from .errors import IncompleteReadError
from .paging import PAGE, row_id, unwrap
from .progress import Bar

__all__ = ["owner_rows"]

MAX_GROUP = 500
"""Most owners in one command (the filter array travels in the batch's command string)."""


def owner_rows(
    client: BitrixClient,
    method: str,
    shape: Shape,
    owner_keys: tuple[str, str],
    owner_type: str,
    owner_ids: Sequence[int],
    *,
    filter: dict | None = None,
    progress: Any = None,
    sink: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """Every row of ``method`` owned by ``owner_ids`` (``owner_type`` = ``D``, ``L``...).

    Rows come in ID order within each owner group; ``sink`` receives them per response instead
    (the returned list is then empty). A command that fails after the client's retries raises
    :class:`~bitrix_frames.errors.IncompleteReadError` (nothing partial is returned).
    """
    type_key, ids_key = owner_keys
    pending = deque(dict.fromkeys(int(i) for i in owner_ids))
    chains: deque[tuple[list[int], int]] = deque()  # (owners, last row id) still to continue
    out: list[dict] = []
    size = max(1, min(MAX_GROUP, math.ceil(len(pending) / MAX_COMMANDS)))
    with (
        Bar(progress, method, unit=" owners", total=len(pending)) as bar,
        bar.showing_waits(client),
    ):
        while pending or chains:
            work: list[tuple[list[int], int]] = []
            while chains and len(work) < MAX_COMMANDS:
                work.append(chains.popleft())
            while pending and len(work) < MAX_COMMANDS:
                work.append(([pending.popleft() for _ in range(min(size, len(pending)))], 0))
            _split_to_fill(work)
            commands = {f"c{i}": item for i, item in enumerate(work)}
            res = client.batch(
                {
                    name: (
                        method,
                        _params(shape, type_key, ids_key, owner_type, group, last, filter),
                    )
                    for name, (group, last) in commands.items()
                }
            )
            got: list[dict] = []
            for name, (group, _) in commands.items():
                if name in res.errors:
                    raise IncompleteReadError(
                        f"{method} failed for {len(group)} owners: {res.errors[name]}",
                        method=method,
                    ) from res.errors[name]
                rows = unwrap(res.result.get(name), shape.rows_path, method)
                got += rows
                if len(rows) >= PAGE:
                    chains.append((group, row_id(rows[-1], shape.row_id, method)))
                else:
                    bar.update(len(group))
            if sink is not None:
                sink(got)
            else:
                out += got
    return out


def _split_to_fill(work: list[tuple[list[int], int]]) -> None:
    """Fill a request's free command slots by halving the largest groups: both halves continue
    from the same last row (their owners are disjoint, so are their rows), and the long chains
    of owners with many rows are shared out instead of trailing alone through extra requests."""
    while len(work) < MAX_COMMANDS:
        i = max(range(len(work)), key=lambda k: len(work[k][0]), default=None)
        if i is None or len(work[i][0]) < 2:
            return
        group, last = work[i]
        half = len(group) // 2
        work[i] = (group[:half], last)
        work.append((group[half:], last))


def _params(
    shape: Shape,
    type_key: str,
    ids_key: str,
    owner_type: str,
    group: list[int],
    last: int,
    extra: dict | None,
) -> dict:
    filt: dict[str, Any] = {**(extra or {}), type_key: owner_type, ids_key: group}
    if last:
        filt[f">{shape.id_key}"] = last
    return {"filter": filt, "order": {shape.id_key: "ASC"}, "start": -1}
