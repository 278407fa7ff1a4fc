"""What every layer above the client relies on: the :class:`BitrixClient` protocol.

:class:`~bitrix_frames.client.Client` satisfies it; so can a test double or another transport.
Annotate with it (not ``Any``, not the concrete Client) wherever a client is passed in.

Example::

    from bitrix_frames.contract import BitrixClient

    def deal_count(client: BitrixClient) -> int:
        return client.batch({"n": ("crm.deal.list", {"start": 0})}).total["n"]
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .batch import BatchResult, Command
    from .entities import Shape
    from .gate import DecodeGate
    from .waits import Waiter

__all__ = ["BitrixClient", "PagingClient"]


@runtime_checkable
class BitrixClient(Protocol):
    """A connection to one portal: raw calls, batches and whole lists (see :class:`Client`)."""

    @property
    def masked_url(self) -> str:
        """``https://host/rest/<uid>/***/``: safe to show, the key of caches and journals."""
        ...

    def call(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """The ``result`` of one method call."""
        ...

    def batch(
        self, commands: Mapping[str, Command] | builtins.list[Command], *, halt: bool = False
    ) -> BatchResult:
        """Named commands, 50 per request; per-command errors in ``.errors``."""
        ...

    def list(
        self,
        method: str,
        *,
        filter: Mapping[str, Any] | None = None,
        select: builtins.list[str] | None = None,
        order: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        progress: bool | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Every row of a list method, unwrapped."""
        ...

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
    ) -> tuple[builtins.list[dict[str, Any]], BatchResult]:
        """:meth:`list` plus ``companions`` sent in the same first request; with ``sink``, rows
        go to ``sink`` per response instead of the returned list."""
        ...


@runtime_checkable
class PagingClient(BitrixClient, Protocol):
    """What the list strategies (:mod:`~bitrix_frames.paging`) need beyond :class:`BitrixClient`:
    single-request batches, whole envelopes, and the Client's parallelism, retries and waits."""

    max_workers: int
    max_retries: int
    waits: Waiter

    def call_raw(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> dict:
        """The whole envelope (``result``, ``total``, ``next``, ``time``) of one call."""
        ...

    def batch_chunk(
        self, chunk: dict[str, Command], *, halt: bool = False, gate: DecodeGate | None = None
    ) -> BatchResult:
        """One ``batch`` request of at most 50 commands, no sub-command retries; with a
        ``gate``, returns holding it (see :mod:`~bitrix_frames.gate`)."""
        ...
