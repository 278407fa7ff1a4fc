"""Sandbox settings: portal identity, limits, the cost model and faults. All costs and faults are off
by default, so a plain ``Sandbox()`` answers as fast as SQLite allows.

Example::

    cfg = SandboxConfig(rate=5, burst=250, latency=0.03, cost_per_count_row=2e-6, sleep=True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class SandboxConfig:
    # --- identity -------------------------------------------------------------------------
    user_id: int = 1
    """Owner of the incoming webhook (``/rest/<user_id>/<secret>/``)."""
    secret: str = "sandboxsecret0001"
    """The webhook code. Any other code gets 401 ``NO_AUTH_FOUND``."""
    utc_offset_minutes: int = 180
    """The portal's fixed UTC offset; every datetime is rendered in it (PROTOCOL §17)."""

    # --- seed ------------------------------------------------------------------------------
    seed: int = 1
    """Seed of the deterministic demo portal."""
    deals: int = 300
    """Number of seeded deals (leads, contacts, companies and tasks scale with it)."""
    readable_uf: bool = False
    """Seed user fields with readable codes (``UF_CRM_DEAL_PRIORITY``) instead of real-looking
    generated ones (``UF_CRM_1684312345678``; the meaning is in the label, as on a portal)."""

    # --- request-rate limit (PROTOCOL §5) -------------------------------------------------------
    rate: float = 2.0
    """Leaky bucket drain rate, requests per second (Enterprise: 5)."""
    burst: float = 50.0
    """Leaky bucket size (Enterprise: 250). A request is refused when the counter before it exceeds this."""
    limits: bool = True
    """False disables the request-rate limit entirely (handy for fast unit tests)."""

    # --- operating-time limit (PROTOCOL §5) ----------------------------------------------------
    operating_limit: float = 480.0
    """Seconds of execution per (method, webhook) over the rolling ten minutes before 429."""
    operating_window: float = 600.0
    """Length of the rolling window in seconds."""

    # --- cost model (all zero = off) ------------------------------------------------------------
    latency: float = 0.0
    """Seconds added to every HTTP request (network round trip); slept, not counted as operating."""
    cost_per_call: float = 0.0
    """Operating seconds per executed method call (each batch sub-call counts)."""
    cost_per_row: float = 0.0
    """Operating seconds per returned row."""
    cost_per_count_row: float = 0.0
    """Operating seconds per row counted by COUNT (lists with ``start >= 0``)."""
    cost_per_skip_row: float = 0.0
    """Operating seconds per row skipped by OFFSET."""
    sleep: bool = False
    """Also sleep the modelled costs, so wall time reflects them: a call takes its modelled cost
    in all, the sandbox's own work included (``dispatch.cost_left``). Operating time is the larger
    of the modelled cost and the call's own CPU."""

    # --- faults ---------------------------------------------------------------------------------
    faults: dict[str, float] = field(default_factory=dict)
    """Fraction of HTTP requests hit by each fault kind: ``refused`` (503 QUERY_LIMIT_EXCEEDED),
    ``error`` (500 before execution), ``drop`` (connection closed before execution), ``lost``
    (executed, then the connection is closed without a response), ``slow`` (answer delayed),
    ``late`` (held ``late_seconds`` without an answer, then executed, then closed without a
    response)."""
    fault_seed: int = 0
    """Seed of the fault generator."""
    slow_seconds: float = 2.0
    """Delay of a ``slow`` fault."""
    late_seconds: float = 1.5
    """How long a ``late`` fault holds a fully received request before executing it."""

    # --- request run time (PROTOCOL §1: a request is cut off after 60 s on cloud) ---------------
    request_time_limit: float = 60.0
    """No call (nor batch sub-call) starts executing later than this many seconds after the server
    has read the whole request; a request still waiting then is cut off (connection closed, not
    executed). A client that has waited this long after sending knows the request can no longer
    execute. Must exceed ``late_seconds`` when ``late`` faults are on."""

    # --- the server against hostile clients (docs/sandbox.md, "Hostile clients") ----------------
    max_body_bytes: int = 64 * 1024 * 1024
    """Largest request body, whatever its transfer encoding; reading stops there (413)."""
    max_connections: int = 64
    """Connections served at once; one more is answered 503 at once and closed."""
    read_timeout: float = 30.0
    """Seconds a client has to send one whole request (line, headers, body) from its first byte,
    however slowly it trickles; also the bound on sending an answer to a client that stops reading.
    """
    idle_timeout: float = 60.0
    """Seconds an idle keep-alive connection is kept open waiting for its next request."""
    debug: bool = False
    """Log a traceback with every internal error (off: one line, no traceback, for any input)."""

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("read_timeout", "idle_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if not self.request_time_limit > 0:
            raise ValueError("request_time_limit must be positive")
        if self.late_seconds < 0:
            raise ValueError("late_seconds must be >= 0")
        if self.faults.get("late") and not self.late_seconds < self.request_time_limit:
            raise ValueError(
                f"late_seconds ({self.late_seconds}) must be below "
                f"request_time_limit ({self.request_time_limit})"
            )

    @property
    def tz(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(minutes=self.utc_offset_minutes))
