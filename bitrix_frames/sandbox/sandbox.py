"""``Sandbox``: an embedded Bitrix24 portal (SQLite + HTTP server on loopback) in one object.

Example::

    with Sandbox(deals=1000, rate=5, burst=250, faults={"lost": 0.1}) as sb:
        requests.post(sb.webhook_url + "crm.deal.list", json={"select": ["ID"]}).json()
        sb.stats()["sub_calls"]          # {'crm.deal.list': 1}
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
from typing import Any

from .config import SandboxConfig
from .dispatch import Engine
from .seed import seed_portal
from .server import SandboxServer, self_signed_context
from .stats import Stats
from .store import Store

log = logging.getLogger(__name__)


def _is_empty(store: Store) -> bool:
    tables = store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    for row in tables:
        name = row[0]
        if name == "sequence" or name.startswith("sqlite_"):
            continue
        if store.query(f'SELECT 1 FROM "{name}" LIMIT 1'):
            return False
    return True


def open_store(db: str, config: SandboxConfig) -> Store:
    """Open (or create) the database and seed the demo portal into it when it is empty."""
    store = Store(db)
    if _is_empty(store):
        seed_portal(store, config)
    return store


class Sandbox:
    """A running emulated portal; use as a context manager or call :meth:`start`/:meth:`stop`.

    ``overrides`` set :class:`SandboxConfig` fields (``Sandbox(deals=1000, rate=5)``).
    ``tls=True`` serves ``https://`` with a self-signed certificate (:attr:`ca_file`), for clients
    that only speak HTTPS (b24pysdk).
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        db: str = ":memory:",
        port: int = 0,
        tls: bool = False,
        **overrides: Any,
    ) -> None:
        self.config = dataclasses.replace(config or SandboxConfig(), **overrides)
        self.db = db
        self._requested_port = port
        self.tls = tls
        self.ca_file: str | None = None
        """With ``tls=True``: the self-signed certificate to trust (e.g. as REQUESTS_CA_BUNDLE)."""
        self._tls_dir: tempfile.TemporaryDirectory | None = None
        self._stats = Stats()
        self._engine: Engine | None = None
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._reset_lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Open and seed the store, then serve HTTP on 127.0.0.1 in a daemon thread."""
        if self._server is not None:
            return self
        store = open_store(self.db, self.config)
        self._engine = Engine(store, self.config, self._stats)
        context = None
        if self.tls:
            self._tls_dir = tempfile.TemporaryDirectory(prefix="bitrix-sandbox-tls-")
            context, self.ca_file = self_signed_context(self._tls_dir.name)
        self._server = SandboxServer(
            self._engine, port=self._requested_port, on_reset=self.reset, ssl_context=context
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"bitrix-sandbox-{self._server.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the store."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._engine is not None:
            self._engine.store.close()
        self._server = self._thread = self._engine = None
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = self.ca_file = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what callers use -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._running().port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https`` with ``tls=True``), no path."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        """The incoming-webhook URL, with a trailing slash: append a method name to call it."""
        return f"{self.base_url}/rest/{self.config.user_id}/{self.config.secret}/"

    @property
    def control_url(self) -> str:
        """``<base_url>/_sandbox/<secret>/``: append ``stats`` (GET) or ``reset`` (POST). Carries the
        webhook secret like :attr:`webhook_url`; answered without CORS headers."""
        return f"{self.base_url}/_sandbox/{self.config.secret}/"

    @property
    def store(self) -> Store:
        return self._engine_or_fail().store

    @property
    def engine(self) -> Engine:
        """The in-process executor (calls without HTTP, e.g. for summaries)."""
        return self._engine_or_fail()

    def stats(self) -> dict[str, Any]:
        """A plain-dict snapshot of the counters (also at ``control_url + "stats"``)."""
        return self._stats.snapshot()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every ``late`` fault has executed; False if ``timeout`` seconds passed first.

        A late request finishes at most ``late_seconds`` (plus its own run time) after it was
        received, so ``timeout=config.request_time_limit`` is always enough.
        """
        return self._stats.wait_idle(timeout)

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._stats.reset()

    def reset(self) -> None:
        """A fresh, reseeded portal; stats, rate-limit and operating-time state cleared."""
        engine = self._engine_or_fail()
        with self._reset_lock:
            old = engine.store
            if self.db != ":memory:":
                old.close()
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(self.db + suffix):
                        os.remove(self.db + suffix)
            engine.store = open_store(self.db, self.config)
            if self.db == ":memory:":
                old.close()
            engine.clock.reset()
            if self._server is not None:
                self._server.bucket.reset()
            self._stats.reset()

    def _running(self) -> SandboxServer:
        if self._server is None:
            raise RuntimeError(
                "the sandbox is not running; use `with Sandbox() as sb:` or .start()"
            )
        return self._server

    def _engine_or_fail(self) -> Engine:
        if self._engine is None:
            raise RuntimeError(
                "the sandbox is not running; use `with Sandbox() as sb:` or .start()"
            )
        return self._engine

    def __repr__(self) -> str:
        where = f"port {self._server.port}" if self._server else "stopped"
        return f"<Sandbox {where}, user {self.config.user_id}, deals={self.config.deals}>"
