"""The contract between the sandbox server and its method handlers.

A handler is a plain function ``handler(call: Call, params: dict) -> Any | Page`` registered with
``@method("crm.lead.list")``. It returns the method's ``result`` (or a :class:`Page` when the
method also reports ``total``/``next``) and raises :class:`ApiError` for documented failures.

Example::

    @method("crm.currency.base.get")
    def currency_base_get(call: Call, params: dict) -> str:
        return "USD"
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .store import Store

Handler = Callable[["Call", dict], Any]

METHODS: dict[str, Handler] = {}
"""Registry of every method the sandbox serves, keyed by lower-case method name."""


def method(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of REST method ``name`` (case-insensitive)."""

    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = fn
        return fn

    return register


class ApiError(Exception):
    """A documented Bitrix24 error: becomes ``{"error": code, "error_description": description}``."""

    def __init__(self, description: str, code: str = "", status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.status = status

    def body(self) -> dict:
        return {"error": self.code, "error_description": self.description}


@dataclass
class Page:
    """A list result: ``result`` plus the top-level ``total`` and (when another page exists) ``next``."""

    result: Any
    total: int | None = None
    next: int | None = None


@dataclass
class Call:
    """Everything a handler may need about the current (sub-)call.

    ``start`` is the paging argument the REST server pulls out of the parameters (int cast,
    default 0, may be -1). Handlers report the rows they touched through :meth:`count_rows`,
    :meth:`skip_rows` and :meth:`return_rows`; the server turns them into operating time.
    """

    store: Store
    config: SandboxConfig
    user_id: int
    method: str
    start: int = 0
    rows_returned: int = 0
    rows_counted: int = 0
    rows_skipped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> dt.datetime:
        """Current time as an aware datetime in the portal's UTC offset."""
        return dt.datetime.now(self.config.tz).replace(microsecond=0)

    def count_rows(self, n: int) -> None:
        """The server ran a COUNT over ``n`` rows (legacy lists with ``start >= 0``)."""
        self.rows_counted += n

    def skip_rows(self, n: int) -> None:
        """The server skipped ``n`` rows of an OFFSET."""
        self.rows_skipped += n

    def return_rows(self, n: int) -> None:
        """The method returned ``n`` rows."""
        self.rows_returned += n
