"""Reading every row of a list method: keyset chains in batches, in parallel; offset fallback.

**Keyset** (legacy CRM lists, ``crm.item.list``, ``tasks.task.list``; caller order absent or ID
ascending):

1. One cheap batch discovers the smallest and largest matching ID (``start=-1``, ordered ASC/DESC,
   ``select ID``) and the row count (one ``start=0`` call, the only COUNT of the read).
2. The ID range is split into K ranges and every range is read at once, by its own thread, as a
   *chain*: one batch of up to 50 commands, command *i+1* filtering ``>ID: $result[c<i>][49][ID]``
   (with ``<=ID`` the range end, ``order ID ASC``, ``start=-1``), i.e. up to 2,500 rows per
   request. A chain ends at the first page shorter than 50 rows or reaching the range end. The
   commands after such a page are garbage (PROTOCOL §7: a missing path resolves to the parent
   value) and are ignored, as are their errors. A command is never sent for IDs that cannot
   exist: the number of commands is capped by the ID span left.
3. Rows are merged in ID order, duplicates dropped, and the count compared with the discovery
   count (re-counted once on mismatch): a short read raises :class:`IncompleteReadError`; a count
   that moved while reading only warns.

A read with *companions* (commands that must ride in its first request, such as the counts of an
incremental refresh) keeps the discovery and the first chain of 47 pages in that one request, so
a read of up to 2,350 rows stays one request; the rest of the range is split after it.

**Offset** (everything else, e.g. ``user.get``, ``crm.status.list``, a caller ``order``): the first
page gives ``total``; the remaining ``start`` offsets go 50 per batch, batches in parallel.

K = min(max_workers, ceil(N/2500)) chains. A short read (at most two requests per chain) gets
ranges of equal ID span, so the chains end together, at the price of a partial last request per
chain: up to ``ceil(N/2500) + K + 1`` requests. A longer read, where the rate limit rather than
the server sets the pace, gets edges on multiples of 2,500 IDs: where IDs are dense every chain
but the last reads only full requests, ``ceil(N/2500) + 1`` requests in all.

Example::

    q = ListQuery(filter={"CLOSED": "N"}, select=["ID", "TITLE"])
    rows, _ = list_rows(client, "crm.deal.list", q, progress=False)
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from .batch import MAX_COMMANDS, BatchResult, Command
from .entities import Shape, keyset_for, rows_path_for
from .envelope import show
from .errors import BitrixError, IncompleteReadError, MalformedResponse, ValidationError
from .gate import DecodeGate
from .policy import backoff, not_executed, subcall_retryable
from .progress import Bar
from .query import ListQuery

if TYPE_CHECKING:
    from .contract import PagingClient

PAGE = 50
MAX_TOTAL = 10**8
"""A larger ``total`` comes from a broken or hostile server, not from a CRM."""


class ReadConsistencyWarning(UserWarning):
    """The number of matching rows changed while a list was read."""


def unwrap(result: Any, path: str | None, method: str | None = None) -> list[dict]:
    """The rows inside one list result (``[]`` for PHP's empty-map ``[]``).

    A result that holds no rows (a string, a number, ``null``, rows that are not objects) raises
    :class:`~bitrix_frames.errors.MalformedResponse`: an empty list would pass for "no rows"."""
    found = result
    if path is not None and isinstance(result, dict) and path in result:
        found = result[path]
    if isinstance(found, dict):
        lists = [v for v in found.values() if isinstance(v, list)]
        found = lists[0] if len(lists) == 1 and len(found) == 1 else list(found.values())
    if not isinstance(found, list):
        raise MalformedResponse(f"list result is {show(found)}, not a list of rows", method=method)
    for row in found:
        if not isinstance(row, dict):
            raise MalformedResponse(f"list row is {show(row)}, not an object", method=method)
    return found


def row_id(row: dict, key: str, method: str | None = None) -> int:
    """The integer id of one row, or :class:`MalformedResponse`."""
    value = row.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) <= 21:
        return int(value)
    raise MalformedResponse(f"row {key} is {show(value)}, not an id", method=method)


def list_rows(
    client: PagingClient,
    method: str,
    query: ListQuery,
    *,
    progress: bool | None,
    companions: dict[str, Command] | None = None,
    sink: Callable[[list[dict]], None] | None = None,
    shape: Shape | None = None,
    gate: DecodeGate | None = None,
) -> tuple[list[dict], BatchResult]:
    """Every row of ``method`` (see the module notes for the strategy), plus the results of
    ``companions``: commands that ride in the first request of a keyset read (a separate batch
    for offset reads).

    With ``sink``, rows are not collected: each response's rows (at most 2,500) go to
    ``sink(rows)`` as they arrive, from the reading threads (one call at a time, in no particular
    order across ID ranges), and the returned list is empty. The row count is still checked.

    ``shape``: how to read ``method`` by ID ranges (the registry's ``Entity.keyset``); None = the
    registry's shape for the method's name, if any (:func:`~bitrix_frames.entities.keyset_for`).

    ``gate``: with ``sink``, the keyset chains decode a response only while holding this
    :class:`~bitrix_frames.gate.DecodeGate` (default: a new one of
    :data:`~bitrix_frames.gate.SINK_PERMITS` permits), so few decoded responses wait for the sink
    at once; the others wait as raw bytes. Ignored without ``sink``."""
    filter, select, order, params = query.filter, query.select, query.order, query.params
    companions = dict(companions or {})
    if companions and len(companions) > MAX_COMMANDS - 4:
        raise ValidationError(f"at most {MAX_COMMANDS - 4} companion commands fit beside a list")
    shape = shape or keyset_for(method)
    if shape is not None and order and not _is_id_asc(order, shape.id_key):
        shape = None
    out = _Sink(sink, gate) if sink is not None else None
    with Bar(progress, method) as bar, bar.showing_waits(client):
        if shape is not None:
            keyset = _Keyset(client, method, shape, filter, select, params, bar, out)
            rows = keyset.run(companions)
            return rows, keyset.companions
        side = client.batch(companions) if companions else BatchResult()
        return _offset(client, method, filter, select, order, params, bar, out), side


class _Sink:
    """Hands row chunks to the caller's sink one at a time and counts them.

    ``gate``: the chains decode a response only while holding it and keep it until its rows were
    handed here, so at most ``gate.permits`` decoded responses wait for the sink at once
    (:mod:`~bitrix_frames.gate`)."""

    def __init__(self, sink: Callable[[list[dict]], None], gate: DecodeGate | None = None) -> None:
        self.sink, self.count, self._lock = sink, 0, threading.Lock()
        self.gate = gate or DecodeGate()

    def __call__(self, rows: list[dict]) -> None:
        if rows:
            with self._lock:
                self.sink(rows)
                self.count += len(rows)


def _is_id_asc(order: dict, id_key: str) -> bool:
    items = [(str(k).upper(), str(v).upper()) for k, v in order.items()]
    return items == [(id_key.upper(), "ASC")]


def _with_id(select: list[str] | None, id_key: str) -> list[str] | None:
    if not select:
        return None
    if any(str(s).upper() == id_key.upper() for s in select):
        return list(select)
    return [id_key, *select]


def _strip(filter: dict, *keys: str) -> dict:
    drop = {k.upper() for k in keys}
    return {k: v for k, v in filter.items() if str(k).replace(" ", "").upper() not in drop}


def _check(got: int, counted: int, recount: Callable[[], int], method: str) -> None:
    """Compare the rows read with the portal's count; raise on a short read of a stable set."""
    if got == counted:
        return
    now = recount()
    if got == now:
        return
    if now != counted:
        warnings.warn(
            f"{method}: the number of matching rows changed while reading "
            f"({counted} -> {now}); got {got}",
            ReadConsistencyWarning,
            stacklevel=4,
        )
        return
    raise IncompleteReadError(
        f"read {got} rows but the portal counts {counted}", code="INCOMPLETE_READ", method=method
    )


class _Keyset:
    def __init__(
        self,
        client: PagingClient,
        method: str,
        shape: Shape,
        filter: dict,
        select: list[str] | None,
        params: dict,
        bar: Bar,
        sink: _Sink | None = None,
    ) -> None:
        self.client, self.method, self.shape, self.bar = client, method, shape, bar
        self.sink = sink
        self.filter = filter
        self.base = {k: v for k, v in params.items() if str(k).lower() not in ("start", "order")}
        self.select = _with_id(select, shape.id_key)
        self.chain_filter = _strip(filter, f">{shape.id_key}", f"<={shape.id_key}")
        self._stop = threading.Event()
        self.companions = BatchResult()

    def _params(self, filter: dict, *, order: str = "ASC", start: int = -1, select=None) -> dict:
        p = dict(self.base)
        p["filter"] = filter
        p["order"] = {self.shape.id_key: order}
        sel = select if select is not None else self.select
        if sel:
            p["select"] = sel
        p["start"] = start
        return p

    def _ids(self, result: Any) -> list[int]:
        rows = unwrap(result, self.shape.rows_path, self.method)
        return [row_id(r, self.shape.row_id, self.method) for r in rows]

    def _count_call(self) -> tuple[str, dict]:
        return (self.method, self._params(self.filter, start=0, select=[self.shape.id_key]))

    def recount(self) -> int:
        res = self.client.batch({"n": self._count_call()})
        return int(res.total.get("n", 0)) if "n" not in res.errors else _raise(res.errors["n"])

    def run(self, companions: dict[str, Command]) -> list[dict]:
        if companions:
            return self._run_with_companions(companions)
        # A cheap probe (smallest and largest ID, the count) comes first, so that every chain
        # starts at once instead of after a serial first chunk.
        res = self.client.batch_chunk(self._discovery())
        lo, hi, total = self._discovered(res)
        if lo is None:
            _check(0, total, self.recount, self.method)
            return []
        self.bar.set_total(total)
        return self._finish([], self._ranges(lo - 1, hi, total), total)

    def _run_with_companions(self, companions: dict[str, Command]) -> list[dict]:
        """The discovery batch also carries the caller's companion commands and the first
        chain, so a read of up to 47 pages (2,350 rows) takes exactly one request (a refresh
        with its counts, for one); a longer read splits the rest of the ID range."""
        key = self.shape.id_key
        upto = self._bound(f"<={key}", None)
        upto = None if upto is None else int(upto)
        side = {f"x_{name}": cmd for name, cmd in companions.items()}
        first = self._chain_commands(self._bound(f">{key}", 0), upto, MAX_COMMANDS - 3 - len(side))
        res = self.client.batch_chunk({**self._discovery(), **side, **first})
        self._keep_companions(res, companions)
        lo, hi, total = self._discovered(res)
        if lo is None:
            _check(0, total, self.recount, self.method)
            return []
        self.bar.set_total(total)
        head, after, ended, _ = self._take(res, len(first), lo - 1, upto)
        del res  # the decoded response (about 4 KB a row) is not kept while the chains read
        got = len(head)
        if self.sink is not None:
            self.sink(head)
            head = []
        ranges = [] if ended else self._ranges(after, hi, total - got)
        return self._finish(head, ranges, total)

    def _discovery(self) -> dict[str, Command]:
        key = self.shape.id_key
        return {
            "lo": (self.method, self._params(self.filter, select=[key])),
            "hi": (self.method, self._params(self.filter, order="DESC", select=[key])),
            "n": self._count_call(),
        }

    def _discovered(self, res: BatchResult) -> tuple[int | None, int, int]:
        """(smallest ID or None when nothing matches, largest ID, count) of a discovery."""
        for name in ("lo", "hi", "n"):
            if name in res.errors:
                raise res.errors[name]
        lo_ids, hi_ids = self._ids(res.result.get("lo")), self._ids(res.result.get("hi"))
        total = int(res.total.get("n", 0))
        if not lo_ids:
            return None, 0, total
        return min(lo_ids), max([*hi_ids, *lo_ids]), total

    def _ranges(self, after: int, hi: int, rows: int) -> list[tuple[int, int]]:
        """``after < ID <= hi`` split into one ID range per chain, for ``rows`` rows to read.

        A short read (at most two requests per chain) gets ranges of equal span, so the chains
        end together. A longer one gets edges on multiples of one request's rows: where IDs are
        dense, every chain but the last then reads only full requests, which keeps the request
        count at its minimum when the rate limit, not the server, is what takes the time."""
        step = PAGE * MAX_COMMANDS
        requests = math.ceil(max(rows, 1) / step)
        k = max(1, min(self.client.max_workers, requests, hi - after))
        span = hi - after
        if requests <= 2 * k:
            edges = [after + round(i * span / k) for i in range(k)]
        else:
            edges = [after + round(i * span / k / step) * step for i in range(k)]
        edges = [min(e, hi) for e in [*edges, hi]]
        return [(edges[i], edges[i + 1]) for i in range(k) if edges[i + 1] > edges[i]]

    def _finish(self, head: list[dict], ranges: list[tuple[int, int]], total: int) -> list[dict]:
        """Read the ``ranges`` (after ``head``, the rows already read), merge, check the count."""
        parts = [head, *self._parallel(ranges)] if ranges else [head]
        if self.sink is not None:
            _check(self.sink.count, total, self.recount, self.method)
            return []
        rows: list[dict] = []
        last = None
        for part in parts:
            for row in part:
                rid = row_id(row, self.shape.row_id, self.method)
                if last is not None and rid <= last:
                    continue  # duplicate (cannot happen with disjoint ranges; cheap to guard)
                rows.append(row)
                last = rid
        _check(len(rows), total, self.recount, self.method)
        return rows

    def _keep_companions(self, res: BatchResult, companions: dict[str, Command]) -> None:
        """Companion results under their own names; refused ones are retried on their own."""
        for name in companions:
            for field in ("result", "errors", "total", "next", "time"):
                found = getattr(res, field)
                if f"x_{name}" in found:
                    getattr(self.companions, field)[name] = found[f"x_{name}"]
        again = {
            name: cmd
            for name, cmd in companions.items()
            if name in self.companions.errors and not_executed(self.companions.errors[name])
        }
        if again:
            for name in again:
                self.companions.errors.pop(name)
            self.companions.merge(self.client.batch(again))

    def _bound(self, key: str, default: Any) -> Any:
        """The caller's own value of a filter key such as ``>ID`` (any casing), else ``default``."""
        for k, v in self.filter.items():
            if str(k).replace(" ", "").upper() == key.upper():
                return v
        return default

    def _parallel(self, ranges: list[tuple[int, int]]) -> list[list[dict]]:
        if len(ranges) == 1:
            return [self._chain(*ranges[0])]
        with ThreadPoolExecutor(len(ranges), thread_name_prefix="bitrix-list") as pool:
            futures = [pool.submit(self._chain, a, b) for a, b in ranges]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    self._stop.set()
                    raise f.exception()  # type: ignore[misc]
            return [f.result() for f in futures]

    def _chain_commands(self, after: Any, upto: Any, n: int | None = None) -> dict:
        """``n`` chained keyset pages ``after < ID <= upto`` (``upto`` None: no upper bound);
        ``n`` defaults to what fits beside the three discovery commands."""
        n = MAX_COMMANDS - 3 if n is None else n
        key = self.shape.id_key
        path = f"[{self.shape.rows_path}]" if self.shape.rows_path else ""
        cmds = {}
        for i in range(n):
            bound = after if i == 0 else f"$result[c{i - 1}]{path}[{PAGE - 1}][{self.shape.row_id}]"
            f = {**self.chain_filter, f">{key}": bound}
            if upto is not None:
                f[f"<={key}"] = upto
            cmds[f"c{i}"] = (self.method, self._params(f))
        return cmds

    def _take(
        self, res: Any, n: int, after: int, upto: int | None = None
    ) -> tuple[list[dict], int, bool, BitrixError | None]:
        """Rows of chained pages ``c0..c<n-1>`` in ``res``: (rows, last ID, chain ended, error).

        Reading stops at the first short page (the chain ended) or the first failed page, whose
        error is returned so the caller can retry from the last full page."""
        rows: list[dict] = []
        for i in range(n):
            name = f"c{i}"
            if name in res.errors:
                return rows, after, False, res.errors[name]
            page = unwrap(res.result.get(name), self.shape.rows_path, self.method)
            rows.extend(page)
            self.bar.update(len(page))
            if page:
                after = row_id(page[-1], self.shape.row_id, self.method)
            if len(page) < PAGE or (upto is not None and after >= upto):
                return rows, after, True, None
        return rows, after, False, None

    def _chain(self, after: int, upto: int) -> list[dict]:
        """Rows with ``after < ID <= upto``, 50 chained pages per request."""
        rows: list[dict] = []
        attempt = 0
        gate = self.sink.gate if self.sink is not None else None
        while after < upto and not self._stop.is_set():
            n = min(MAX_COMMANDS, math.ceil((upto - after) / PAGE))
            try:  # with a sink: decoded only under the gate, released once the rows are handed on
                res = self.client.batch_chunk(self._chain_commands(after, upto, n), gate=gate)
                page_rows, after, ended, err = self._take(res, n, after, upto)
                if self.sink is not None:
                    self.sink(page_rows)
                else:
                    rows.extend(page_rows)
                # no decoded response is held across the next request (about 4 KB a row)
                del res, page_rows
            finally:
                if gate is not None:
                    gate.leave()
            if err is not None:
                if not subcall_retryable(err, self.method) or attempt >= self.client.max_retries:
                    raise err
                attempt += 1
                self.client.waits.sleep(
                    backoff(attempt + 2),
                    "retry back-off",
                    self.method,
                    f"after {type(err).__name__}",
                )
                continue  # resume the chain after the last full page
            attempt = 0
            if ended:
                break
        return rows


def _raise(err: BitrixError) -> int:
    raise err


def _offset_params(
    method: str, filter: dict, select: list[str] | None, order: dict | None, params: dict
) -> dict:
    p = dict(params)
    if method.lower() == "user.get":
        if filter:
            p["FILTER"] = filter
        if order:
            (field, direction), *_ = order.items()
            p["SORT"], p["ORDER"] = field, direction
        else:
            p.setdefault("SORT", "ID")
            p.setdefault("ORDER", "ASC")
    else:
        if filter:
            p["filter"] = filter
        if order:
            p["order"] = order
    if select:
        p["select"] = select
    return p


def _offset(
    client: PagingClient,
    method: str,
    filter: dict,
    select: list[str] | None,
    order: dict | None,
    params: dict,
    bar: Bar,
    sink: _Sink | None = None,
) -> list[dict]:
    path = rows_path_for(method)
    base = _offset_params(method, filter, select, order, params)
    first = client.call_raw(method, {**base, "start": 0})
    rows = unwrap(first.get("result"), path, method)
    total = int(first.get("total") or 0)
    bar.set_total(total or len(rows))
    bar.update(len(rows))
    nxt = first.get("next")
    seen: set = set()
    if sink is not None:
        rows = _dedupe(rows, seen)
        sink(rows)
        rows = []
    if nxt is None:
        return rows
    if total > MAX_TOTAL:
        raise MalformedResponse(f"total {total} is not a plausible row count", method=method)
    step = PAGE * MAX_COMMANDS
    groups = [range(s, min(s + step, total), PAGE) for s in range(int(nxt), total, step)]

    def fetch(group: range) -> list[dict]:
        res = client.batch({f"p{s}": (method, {**base, "start": s}) for s in group})
        out: list[dict] = []
        for s in group:
            if f"p{s}" in res.errors:
                raise res.errors[f"p{s}"]
            page = unwrap(res.result.get(f"p{s}"), path, method)
            bar.update(len(page))
            out.extend(page)
        return out

    workers = max(1, min(client.max_workers, len(groups)))
    with ThreadPoolExecutor(workers, thread_name_prefix="bitrix-list") as pool:
        for part in pool.map(fetch, groups):
            if sink is not None:
                sink(_dedupe(part, seen))
            else:
                rows.extend(part)
    if sink is None:
        rows = _dedupe(rows)

    def recount() -> int:
        return int(client.call_raw(method, {**base, "start": 0}).get("total") or 0)

    if total:
        _check(sink.count if sink is not None else len(rows), total, recount, method)
    return rows


def _dedupe(rows: list[dict], seen: set | None = None) -> list[dict]:
    """Drop repeated rows (offset pages shift when rows are added while reading); ``seen`` keeps
    the IDs across calls when rows are streamed."""
    seen = set() if seen is None else seen
    out = []
    for row in rows:
        key = row.get("ID", row.get("id")) if isinstance(row, dict) else None
        if key is None:
            out.append(row)
        elif key not in seen:
            seen.add(key)
            out.append(row)
    return out
