"""The Client: ``call``, ``batch`` and ``list`` against one incoming webhook.

It composes the pieces: :mod:`webhook` (URL), :mod:`transport` (HTTP), :mod:`throttle` (pacing),
:mod:`policy` (what may be retried), :mod:`batch` and :mod:`paging` (list strategies). Calls are
synchronous and thread-safe; ``list`` runs worker threads, never an event loop, so it also works
inside Jupyter.

Example::

    client = Client.from_url("https://x.bitrix24.com/rest/1/s3cr3t/")
    me = client.call("user.current")
    deals = client.list("crm.deal.list", filter={">OPPORTUNITY": 1000}, select=["ID", "TITLE"])
    res = client.batch({"a": ("crm.lead.get", {"id": 5}), "b": ("crm.deal.fields", {})})
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import batch as batching
from .batch import BatchResult, Command
from .entities import Shape
from .envelope import check_success
from .errors import (
    AmbiguousWriteError,
    BitrixError,
    OperationTimeLimit,
    QueryLimitExceeded,
    from_envelope,
)
from .gate import DecodeGate
from .policy import ambiguous, backoff, is_read, retryable, subcall_retryable
from .query import ListQuery
from .throttle import OperatingWatch, shared_bucket
from .transport import (
    DEFAULT_MAX_DECODED_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    Proxies,
    Transport,
)
from .waits import Waiter
from .webhook import Webhook, parse_webhook

log = logging.getLogger(__name__)

_MAX_LIMIT_WAIT = 660.0  # an operating-time window is 10 minutes


class Client:
    """A connection to one Bitrix24 incoming webhook.

    Args:
        url: the webhook; ``None`` reads ``BITRIX_WEBHOOK_URL`` (environment or ``.env``).
        rate, burst: the portal's leaky bucket (2/50 by default, Enterprise 5/250). These are
            the settings this Client uses; only the bucket's *level* is shared with the other
            open Clients of the same webhook in this process (see :mod:`throttle`).
        timeout: ``(connect, read)`` seconds per socket operation.
        deadline: seconds for one whole HTTP exchange (connect + request + the whole body);
            ``None``: connect + read timeout. A response still arriving then raises
            :class:`~bitrix_frames.errors.DeadlineExceeded`.
        max_response_bytes, max_decoded_bytes: caps on one response body on the wire (32 MiB) and
            after gzip/deflate (64 MiB); above them :class:`~bitrix_frames.errors.ResponseTooLarge`.
        verify: ``True``/``False``/CA bundle path; ``None`` reads ``REQUESTS_CA_BUNDLE``,
            ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``.
        proxies: a proxy URL, a requests-style mapping, ``False`` for none; ``None`` reads
            ``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``. Loopback hosts never use a proxy.
        max_retries: attempts after the first for retryable failures.
        operating_limit: the portal's per-method operating-time limit (seconds per 10 minutes).
        max_workers: parallel request chains used by :meth:`list`.
        execution_window: seconds after sending during which a write whose answer was lost
            may still execute (the cloud cuts requests at 60 s; 120 by default). The write-back
            keeps looking for such a write until then and never resends it earlier.

    Example::

        >>> client = Client("http://127.0.0.1:8000/rest/1/secret/")   # doctest: +SKIP
        >>> client
        Client('http://127.0.0.1:8000/rest/1/***/')
    """

    def __init__(
        self,
        url: str | Webhook | None = None,
        *,
        rate: float = 2.0,
        burst: float = 50.0,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 8,
        operating_limit: float = 480.0,
        max_workers: int = 8,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
        verify: bool | str | None = None,
        proxies: Proxies = None,
        execution_window: float = 120.0,
    ) -> None:
        self.webhook = url if isinstance(url, Webhook) else parse_webhook(url)
        self.execution_window = float(execution_window)
        self.max_retries = max_retries
        self.max_workers = max(1, int(max_workers))
        self._transport = Transport(
            self.webhook,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            max_decoded_bytes=max_decoded_bytes,
            verify=verify,
            proxies=proxies,
            pool_size=max(16, 2 * max_workers),
        )
        # The key holds the secret but lives only in this process's memory, never shown.
        self._bucket = shared_bucket(self.webhook.base_url, rate, burst)
        self.watch = OperatingWatch(limit=operating_limit)
        self.waits = Waiter(self.masked_url)
        """Pauses of this Client: long ones are logged and shown on progress bars."""
        self._lock = threading.Lock()
        self.counters = {"http_requests": 0, "sub_calls": 0, "retries": 0, "refused": 0}
        """Requests sent by this Client (including retries), sub-calls in batches, retries, 503s."""

    @classmethod
    def from_url(cls, url: str | None = None, **options: Any) -> Client:
        """``Client(url, **options)``; ``url=None`` reads ``BITRIX_WEBHOOK_URL``."""
        return cls(url, **options)

    # -- identity -------------------------------------------------------------------------
    @property
    def masked_url(self) -> str:
        """``https://host/rest/<uid>/***/``."""
        return self._transport.webhook.masked_url

    def __repr__(self) -> str:
        return f"Client({self.masked_url!r})"

    def close(self) -> None:
        self._transport.close()
        self._bucket.detach()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- time / operating -----------------------------------------------------------------
    @property
    def operating(self) -> dict[str, float]:
        """Operating seconds per method as last reported by the portal (direct calls)."""
        return {m: float(t.get("operating", 0.0)) for m, t in self.watch.time.items()}

    @property
    def time(self) -> dict[str, dict]:
        """The last ``time`` block seen per method."""
        return dict(self.watch.time)

    @property
    def rate(self) -> float:
        """Requests per second this Client paces itself to once its burst is used."""
        return self._bucket.rate

    @property
    def burst(self) -> float:
        """Requests this Client sends at once before pacing."""
        return self._bucket.burst

    def limits(self) -> list[dict[str, Any]]:
        """Where this Client stands against the portal's limits now: one dict per limit.

        The first is the request-rate bucket (``method`` ``"*"``, ``used`` = estimated requests
        in the portal's counter, ``limit`` = burst); then one per method seen, ``used`` =
        operating seconds in the rolling ten minutes, ``limit`` = the operating limit.
        ``reset_at`` (Unix seconds or None): when the bucket is empty again if nothing more is
        sent / when the method's oldest operating minute expires. ``wait``: seconds the next
        call would pause now. See :meth:`Portal.limits` for the DataFrame.

        Example::

            client.limits()[0]   # {'kind': 'request rate', 'method': '*', 'used': 3.0, ...}
        """
        now = time.time()
        b = self._bucket
        level = b.level
        rows: list[dict[str, Any]] = [
            {
                "kind": "request rate",
                "method": "*",
                "used": level,
                "limit": b.burst,
                "unit": "requests",
                "reset_at": now + level / b.rate,
                "wait": b.next_wait(),
            }
        ]
        for m in self.watch.methods():
            if m == "batch":  # the outer batch call is not counted (PROTOCOL §5)
                continue
            rows.append(
                {
                    "kind": "operating time",
                    "method": m,
                    "used": self.watch.operating(m),
                    "limit": self.watch.limit,
                    "unit": "seconds",
                    "reset_at": self.watch.reset_at(m),
                    "wait": self.watch.delay(m),
                }
            )
        return rows

    # -- calls ------------------------------------------------------------------------------
    def download(self, url: str, **kw: Any) -> bytes:
        """The bytes of a file URL the portal returned (same origin only, size-capped)."""
        return self._transport.download(url, **kw)

    def call(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """Call ``method`` and return its ``result``.

        Example::

            client.call("crm.lead.get", id=5)
            client.call("crm.deal.list", {"filter": {">ID": 10}, "start": -1})
        """
        return self.call_raw(method, params, **kw).get("result")

    def call_raw(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> dict:
        """Call ``method`` and return the whole envelope (``result``, ``total``, ``next``, ``time``)."""
        body = {**(params or {}), **kw}
        return self._request(method, body, read=is_read(method), methods=(method,))

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counters[key] += n

    def _request(
        self,
        method: str,
        body: dict[str, Any],
        *,
        read: bool,
        methods: tuple[str, ...],
        gate: DecodeGate | None = None,
    ) -> dict:
        """Send with pacing and retries; return a success envelope or raise a BitrixError.

        Retries of failures other than the portal's limits stop once they would end later than
        twice the transport's deadline after the first attempt: a hostile or broken server ends
        in a typed error in bounded time, whatever ``max_retries`` says.

        ``gate`` (:mod:`~bitrix_frames.gate`): returns holding it; a failed attempt releases it
        before pausing or raising."""
        attempt = 0
        budget = time.monotonic() + 2 * self._transport.deadline
        while True:
            for m in methods:
                pause = self.watch.delay(m)
                if pause > 0:
                    used = f"{self.watch.operating(m):.0f} of {self.watch.limit:.0f} s used"
                    self.waits.sleep(pause, "operating-time slow-down", m, used)
            self._bucket.acquire(self._pace_sleeper(method))
            self._count("http_requests")
            try:
                status, envelope = self._transport.post(method, body, gate=gate)
                if status >= 400 or (isinstance(envelope, dict) and "error" in envelope):
                    raise from_envelope(envelope, status=status, method=method)
                envelope = check_success(envelope, method=method)
                self.watch.report(method, envelope.get("time"))
                return envelope
            except BitrixError as err:
                if gate is not None:
                    gate.leave()  # nothing decoded is held while pausing or raising
                if isinstance(err, QueryLimitExceeded):
                    self._count("refused")
                    self._bucket.refused()
                limits = isinstance(err, QueryLimitExceeded | OperationTimeLimit)
                wait = self._retry_wait(err, method, attempt)
                in_time = limits or time.monotonic() + wait < budget
                if attempt < self.max_retries and retryable(err, read) and in_time:
                    log.debug("retrying %s after %s in %.2f s", method, type(err).__name__, wait)
                    self._count("retries")
                    self.waits.sleep(wait, method=method, **_retry_reason(err))
                    attempt += 1
                    continue
                if not read and ambiguous(err):
                    raise AmbiguousWriteError(
                        f"{method} may have executed ({err.description}); not resent",
                        code=err.code,
                        method=method,
                        status=err.status,
                    ) from err
                raise

    def _pace_sleeper(self, method: str):
        b = self._bucket
        detail = f"bucket of {b.burst:g} requests at {b.rate:g}/s"
        return lambda seconds: self.waits.sleep(seconds, "request rate", method, detail)

    def _retry_wait(self, err: BitrixError, method: str, attempt: int) -> float:
        if isinstance(err, OperationTimeLimit):
            reset = self.watch.reset_at(method)
            if reset:
                return min(_MAX_LIMIT_WAIT, max(1.0, reset - time.time() + 1.0))
            return min(60.0, 5.0 * 2**attempt)
        return backoff(attempt)

    # -- batch ------------------------------------------------------------------------------
    def batch(
        self, commands: Mapping[str, Command] | list[Command], *, halt: bool = False
    ) -> BatchResult:
        """Run commands through ``batch``, 50 per request; per-command errors go to ``.errors``.

        ``commands`` maps a name to ``(method, params)``; params may hold ``$result[name][...]``
        references to earlier commands of the same 50-command chunk. Read commands refused by a
        limit inside the batch are retried (when they reference no other command).

        Example::

            res = client.batch({"me": ("user.current", {}),
                                "deals": ("crm.deal.list", {"filter": {"ASSIGNED_BY_ID": 1}})})
            res.result["deals"], res.total["deals"], res.errors
        """
        cmds = batching.normalize(commands)
        out = BatchResult()
        for chunk in batching.chunks(cmds):
            res = self.batch_chunk(chunk, halt=halt)
            res = self._retry_subcalls(chunk, res, halt=halt)
            out.merge(res)
            if halt and res.errors:
                break
        return out

    def batch_chunk(
        self, chunk: dict[str, Command], *, halt: bool = False, gate: DecodeGate | None = None
    ) -> BatchResult:
        """One ``batch`` request of at most 50 commands; no sub-command retries.

        ``gate`` (:mod:`~bitrix_frames.gate`, streamed reads): the answer is decoded only while
        the calling thread holds the gate; this returns holding it (the caller leaves once the
        rows are consumed) or raises having released it."""
        methods = tuple(batching.method_of(c) for c in chunk.values())
        body = batching.request_body(chunk, halt=halt)
        read = is_read("batch", methods)
        try:
            envelope = self._request("batch", body, read=read, methods=methods, gate=gate)
            res = batching.parse(envelope, chunk)
        except BaseException:
            if gate is not None:
                gate.leave()
            raise
        self._count("sub_calls", len(res.result) + len(res.errors))
        for name, t in res.time.items():
            if name in chunk and isinstance(t, dict):
                self.watch.add_local(batching.method_of(chunk[name]), float(t.get("processing", 0)))
        return res

    def _retry_subcalls(
        self, chunk: dict[str, Command], res: BatchResult, *, halt: bool
    ) -> BatchResult:
        for attempt in range(self.max_retries):
            again = {
                name: chunk[name]
                for name, err in res.errors.items()
                if "$result[" not in batching.encode(chunk[name])
                and subcall_retryable(err, batching.method_of(chunk[name]))
            }
            if not again:
                return res
            self._count("retries")
            first = res.errors[next(iter(again))]
            self.waits.sleep(backoff(attempt + 2), method="batch", **_retry_reason(first))
            retry = self.batch_chunk(again, halt=halt)
            for name in again:
                res.errors.pop(name, None)
            res.merge(retry)
        return res

    # -- lists ------------------------------------------------------------------------------
    def list(
        self,
        method: str,
        *,
        filter: Mapping[str, Any] | None = None,
        select: list[str] | None = None,
        order: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        progress: bool | None = None,
    ) -> list[dict]:
        """Every row of a list method, unwrapped, in ID order where keyset paging applies.

        Keyset chains inside batches, several ID ranges in parallel (see :mod:`paging`); methods
        that cannot be ordered by ID, or a caller ``order`` other than ID ascending, fall back to
        parallel offset pages. Raises :class:`~bitrix_frames.errors.IncompleteReadError` rather
        than returning a partial result.

        Example::

            rows = client.list("crm.deal.list", filter={"CATEGORY_ID": 0}, select=["ID", "STAGE_ID"])
            tasks = client.list("tasks.task.list", select=["ID", "TITLE"])   # unwrapped from .tasks
        """
        rows, _ = self.list_with(
            method, {}, filter=filter, select=select, order=order, params=params, progress=progress
        )
        return rows

    def list_with(
        self,
        method: str,
        companions: Mapping[str, Command],
        *,
        filter: Mapping[str, Any] | None = None,
        select: builtins.list[str] | None = None,
        order: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        progress: bool | None = None,
        sink: Callable[[builtins.list[dict]], None] | None = None,
        shape: Shape | None = None,
    ) -> tuple[builtins.list[dict], BatchResult]:
        """:meth:`list` plus up to 46 ``companions`` commands sent in the same first request
        (a separate batch when the list cannot use keyset paging); returns (rows, their results).

        Example::

            rows, side = client.list_with(
                "crm.deal.list", {"all": ("crm.deal.list", {"select": ["ID"], "start": 0})},
                filter={">=DATE_MODIFY": "2026-11-01T00:00:00+00:00"})
            side.total["all"]      # counted in the same HTTP request as the changed rows

        ``sink``: rows are handed over per response instead of collected (see
        :func:`~bitrix_frames.paging.list_rows`); the returned list is then empty.
        ``shape``: the keyset shape to read by (default: the registry's for ``method``).
        """
        from .paging import list_rows

        query = ListQuery.checked(method, filter=filter, select=select, order=order, params=params)
        return list_rows(
            self,
            method,
            query,
            progress=progress,
            companions=dict(companions),
            sink=sink,
            shape=shape,
        )


def _retry_reason(err: BitrixError) -> dict[str, str]:
    """The reason and detail of the pause before retrying after ``err``."""
    if isinstance(err, QueryLimitExceeded):
        return {"reason": "503 back-off", "detail": "the portal refused: QUERY_LIMIT_EXCEEDED"}
    if isinstance(err, OperationTimeLimit):
        return {"reason": "429 operating reset", "detail": "OPERATION_TIME_LIMIT, until its reset"}
    return {"reason": "retry back-off", "detail": f"after {type(err).__name__}"}
