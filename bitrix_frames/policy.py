"""Which calls are reads, and which failures may be retried (PROTOCOL §4, DESIGN §5).

A method is a *read* when its last name part says so (``list``, ``get``, ``fields``, ``current``,
...). Everything else is a *write*: safe to resend only when the portal provably did not run it
(503 ``QUERY_LIMIT_EXCEEDED``, 429 ``OPERATION_TIME_LIMIT``, or the connection never opened).
A ``batch`` is a read only when all of its commands are reads.

Example::

    >>> is_read("crm.deal.list"), is_read("tasks.task.getFields"), is_read("crm.deal.update")
    (True, True, False)
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from .errors import (
    ApiError,
    BitrixError,
    DeadlineExceeded,
    MalformedResponse,
    OperationTimeLimit,
    QueryLimitExceeded,
    RedirectError,
    ResponseTooLarge,
    ServerError,
    TransportError,
)

READ_VERBS = frozenset(
    {
        "list",
        "get",
        "getlist",
        "fields",
        "getfields",
        "current",
        "search",
        "info",
        "count",
        "types",
        "findbycomm",
        "items",
        "time",
        "scope",
        "methods",
        "profile",
        "access",
        "feature",
    }
)
_NO_RETRY_CODES = frozenset({"overload_limit", "portal_deleted"})
# The same server would answer the same way again: a trickle, a bomb, garbage, a foreign redirect.
_FINAL = (DeadlineExceeded, ResponseTooLarge, MalformedResponse, RedirectError)


def is_read(method: str, commands: Iterable[str] = ()) -> bool:
    """True when ``method`` cannot change data. For ``batch`` pass the commands' method names."""
    name = method.lower().removesuffix(".json")
    if name == "batch":
        return all(is_read(m) for m in commands)
    return name.rsplit(".", 1)[-1] in READ_VERBS


def not_executed(error: BitrixError) -> bool:
    """The portal provably did not run the call, so even a write may be resent."""
    if isinstance(error, QueryLimitExceeded | OperationTimeLimit):
        return True
    return isinstance(error, TransportError) and not error.sent


def retryable(error: BitrixError, read: bool) -> bool:
    """Whether the call that failed with ``error`` may be sent again."""
    if isinstance(error, _FINAL):
        return False
    if not_executed(error):
        return True
    if not read:
        return False
    if isinstance(error, ServerError):
        return error.code.lower() not in _NO_RETRY_CODES
    return isinstance(error, TransportError)


def subcall_retryable(error: BitrixError, method: str) -> bool:
    """Whether one failed command of a ``batch`` may be sent again on its own: the portal did not
    run it, or it is a read that failed in a retryable way.

    Example::

        >>> subcall_retryable(QueryLimitExceeded("too many"), "crm.deal.update")
        True
    """
    return not_executed(error) or (
        is_read(method) and isinstance(error, ApiError) and retryable(error, True)
    )


def ambiguous(error: BitrixError) -> bool:
    """A write failed this way may have executed (lost response, timeout, 5xx).

    A redirect is not: the server declined the request and said where to send it instead."""
    if isinstance(error, RedirectError) or not_executed(error):
        return False
    if isinstance(error, ServerError):
        return error.code.lower() not in _NO_RETRY_CODES
    return isinstance(error, TransportError)


def backoff(attempt: int, base: float = 0.25, cap: float = 8.0) -> float:
    """Exponential back-off with full jitter: attempt 0 -> up to 0.25 s, ... capped at 8 s."""
    return random.uniform(0.5, 1.0) * min(cap, base * (2**attempt))
