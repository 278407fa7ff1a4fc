"""Run one method call: look the handler up, enforce the operating-time limit, time it, apply the
cost model and account everything. Used for top-level calls (server) and batch sub-calls (batch).

Example::

    engine = Engine(store, config, Stats())
    outcome = engine.execute("crm.deal.list", {"filter": {">ID": "5"}}, start=0, credential="1:s")
    outcome.envelope(config.tz)      # {"result": [...], "total": 300, "next": 50, "time": {...}}
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

from .api import METHODS, ApiError, Call, Page
from .config import SandboxConfig
from .limits import OperatingClock, operation_time_limit
from .stats import Stats
from .store import Store

log = logging.getLogger(__name__)

CURRENT: contextvars.ContextVar[tuple[Engine, str]] = contextvars.ContextVar("sandbox_engine")
"""The engine and credential running the current handler (``batch`` uses it for its sub-calls)."""

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "sandbox_deadline", default=None
)
"""``time.monotonic()`` after which no call of the current request may start (request_time_limit)."""


def cost_left(modelled: float, elapsed: float) -> float:
    """Seconds to sleep so that a call with ``modelled`` cost takes that long in all.

    The modelled cost is the call's whole processing time on a portal (the docs measured 0.0685 s
    for a keyset page of 50 rows), so the sandbox's own work on it, including its waits for the
    store and the GIL behind other connections, is part of that time, not added to it: a portal
    serves concurrent requests on separate workers, and an emulator in one process must not charge
    a client for running requests in parallel.

    Example::

        >>> cost_left(0.5, 0.25), cost_left(0.07, 0.1)
        (0.25, 0.0)
    """
    return max(0.0, modelled - elapsed)


class RequestCutOff(Exception):
    """The request reached its run-time limit before this call could start; it is not executed."""


UNCOUNTED = frozenset({"batch"})
"""Methods whose own time is not operating time (PROTOCOL §5: the outer batch is not counted)."""


def method_not_found() -> ApiError:
    return ApiError("Method not found!", "ERROR_METHOD_NOT_FOUND", 404)


def internal_error() -> ApiError:
    return ApiError("Internal server error", "INTERNAL_SERVER_ERROR", 500)


def iso(ts: float, tz: dt.tzinfo) -> str:
    """Unix time -> ``2024-08-29T10:34:19+03:00`` (whole seconds, portal offset)."""
    return dt.datetime.fromtimestamp(ts, tz).replace(microsecond=0).isoformat()


@dataclass
class Outcome:
    """What one call produced: a result (with optional total/next) or an error, plus timing."""

    method: str
    start: float
    finish: float = 0.0
    processing: float = 0.0
    result: Any = None
    total: int | None = None
    next: int | None = None
    error: ApiError | None = None
    operating: float = 0.0
    operating_reset_at: int | None = None

    def time_block(self, tz: dt.tzinfo, *, operating: bool = True) -> dict[str, Any]:
        """The ``time`` object; batch ``result_time`` entries leave out the operating keys."""
        block: dict[str, Any] = {
            "start": self.start,
            "finish": self.finish,
            "duration": self.finish - self.start,
            "processing": self.processing,
            "date_start": iso(self.start, tz),
            "date_finish": iso(self.finish, tz),
        }
        if operating:
            block["operating_reset_at"] = self.operating_reset_at
            block["operating"] = self.operating
        return block

    def envelope(self, tz: dt.tzinfo) -> dict[str, Any]:
        """The HTTP body: an error body, or ``result`` [``total``] [``next``] ``time``."""
        if self.error is not None:
            return self.error.body()
        body: dict[str, Any] = {"result": self.result}
        if self.total is not None:
            body["total"] = self.total
        if self.next is not None:
            body["next"] = self.next
        body["time"] = self.time_block(tz)
        return body


class Engine:
    """Executes calls against a store under one config; shared by every server thread."""

    def __init__(self, store: Store, config: SandboxConfig, stats: Stats) -> None:
        self.store = store
        self.config = config
        self.stats = stats
        self.clock = OperatingClock(config.operating_limit, config.operating_window)

    def execute(
        self, method: str, params: dict[str, Any], start: int = 0, credential: str = ""
    ) -> Outcome:
        """Run ``method`` with ``params``; never raises for handler failures.

        Raises :class:`RequestCutOff` (nothing executed) when the request's :data:`DEADLINE` passed.
        """
        deadline = DEADLINE.get()
        if deadline is not None and time.monotonic() > deadline:
            raise RequestCutOff(method)
        name = method.lower()
        outcome = Outcome(method=name, start=time.time())
        handler = METHODS.get(name)
        if handler is None:
            return self._fail(outcome, method_not_found())
        counted = name not in UNCOUNTED
        if counted and self.clock.over_limit(name, credential):
            self.stats.refused_operating()
            return self._fail(outcome, operation_time_limit())

        call = Call(self.store, self.config, self.config.user_id, name, start)
        token = CURRENT.set((self, credential))
        began = time.perf_counter()
        # Operating time is execution time: this thread's CPU, not time spent waiting for the store
        # lock or the GIL behind other connections (a real portal runs requests on separate workers).
        began_cpu = time.thread_time()
        try:
            value = handler(call, params)
        except ApiError as exc:
            outcome.error = exc
        except RequestCutOff:
            raise  # a batch whose later sub-calls reached the deadline: the request is cut off
        except Exception:
            if not self.store.closed:  # after stop(), in-flight calls fail quietly
                self._log_failure(name)
            outcome.error = internal_error()
        finally:
            CURRENT.reset(token)
        measured = time.thread_time() - began_cpu

        modelled = self._modelled_cost(call) if counted else 0.0
        if modelled > 0 and self.config.sleep:
            time.sleep(cost_left(modelled, time.perf_counter() - began))
        operating = max(measured, modelled) if counted else 0.0
        if counted:
            self.clock.add(name, credential, operating)
        self.stats.call(
            name,
            operating=operating,
            returned=call.rows_returned,
            counted=call.rows_counted,
            skipped=call.rows_skipped,
        )
        outcome.processing = time.perf_counter() - began
        if outcome.error is not None:
            return self._fail(outcome, outcome.error)

        if isinstance(value, Page):
            outcome.result = value.result
            outcome.total = None if value.total is None else int(value.total)
            outcome.next = None if value.next is None else int(value.next)
        else:
            outcome.result = value
        used, reset_at = self.clock.used(name, credential)
        outcome.operating = used
        outcome.operating_reset_at = (
            reset_at if reset_at is not None else int(outcome.start + self.clock.window)
        )
        outcome.finish = time.time()
        return outcome

    def _log_failure(self, name: str) -> None:
        """One line per failed handler; the traceback only with ``config.debug`` (client input
        must never print one)."""
        if self.config.debug:
            log.exception("sandbox handler for %s failed", name[:100])
        else:
            exc = sys.exc_info()[1]
            log.error("sandbox handler for %s failed: %s", name[:100], type(exc).__name__)

    def _modelled_cost(self, call: Call) -> float:
        """A portal's processing time for the call (seconds); see :func:`cost_left`."""
        cfg = self.config
        return (
            cfg.cost_per_call
            + cfg.cost_per_row * call.rows_returned
            + cfg.cost_per_count_row * call.rows_counted
            + cfg.cost_per_skip_row * call.rows_skipped
        )

    def _fail(self, outcome: Outcome, error: ApiError) -> Outcome:
        outcome.error = error
        outcome.finish = time.time()
        self.stats.error(error.code)
        return outcome
