"""Crash-safe record of a write-back run: each operation's intent before it is sent and its outcome
after the answer, in one SQLite file (WAL, synchronous FULL, one transaction per batch).

A run that dies (exception, Ctrl-C, ``kill -9``) leaves operations in state ``sent`` whose outcome is
unknown; the next :meth:`Plan.apply` with the same journal resolves them by looking at the portal.
The journal never stores the webhook secret: only the masked URL and the plan fingerprint.

Default location: :func:`bitrix_frames.paths.cache_dir` (``$BITRIX_FRAMES_CACHE``, else the
platform's user cache directory) + ``/writeback/<sha256(masked url)[:16]>/<fingerprint>.sqlite``;
``Plan.apply(journal=PATH)`` picks another file.

Example::

    j = Journal.open(default_path("https://x.bitrix24.com/rest/1/***/", "ab12"), "ab12")
    j.mark_sent(["update:5"])
    j.mark_done({"update:5": Outcome("ok")})
    j.states()["update:5"].status   # 'ok'
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..paths import cache_dir as _cache_dir

PENDING, SENT, DONE = "pending", "sent", "done"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS ops (
    key TEXT PRIMARY KEY,        -- 'add:3', 'update:17', 'delete:9', 'complete:4'
    seq INTEGER NOT NULL,
    op TEXT NOT NULL,
    id INTEGER,                  -- the entity id (updates/deletes) or NULL (adds)
    token TEXT,                  -- idempotency marker of an add
    state TEXT NOT NULL,         -- pending | sent | done
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT,                 -- ok | error | conflict | skipped (when done)
    new_id INTEGER,
    error_code TEXT,
    description TEXT,
    sent_at REAL,
    done_at REAL
);
"""


def cache_dir() -> Path:
    """The user cache directory of bitrix_frames (see :func:`bitrix_frames.paths.cache_dir`)."""
    return _cache_dir()


def default_path(masked_url: str, fingerprint: str) -> Path:
    """Journal path keyed by a hash of the *masked* webhook URL and the plan fingerprint."""
    portal = hashlib.sha256(masked_url.encode()).hexdigest()[:16]
    return cache_dir() / "writeback" / portal / f"{fingerprint}.sqlite"


@dataclass
class Outcome:
    """Final result of one operation."""

    status: str  # ok | error | conflict | skipped
    new_id: int | None = None
    error_code: str | None = None
    description: str | None = None


@dataclass
class OpState:
    """What the journal knows about one operation."""

    key: str
    state: str
    attempts: int
    status: str | None
    new_id: int | None
    error_code: str | None
    description: str | None
    sent_at: float | None


class Journal:
    """One SQLite file per plan; see the module docstring."""

    def __init__(self, path: Path | str, fingerprint: str) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_DDL)
        row = self.db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
        elif row[0] != fingerprint:
            self.db.close()
            raise ValueError(
                f"journal {self.path} belongs to another plan ({row[0]}), not {fingerprint}"
            )

    @classmethod
    def open(cls, path: Path | str, fingerprint: str) -> Journal:
        return cls(path, fingerprint)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- set-up ---------------------------------------------------------------------------------
    def set_meta(self, **values: object) -> None:
        with self._tx():
            for k, v in values.items():
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v, default=str))
                )

    def meta(self) -> dict[str, object]:
        rows = self.db.execute("SELECT key, value FROM meta WHERE key != 'fingerprint'")
        return {k: json.loads(v) for k, v in rows}

    def register(self, ops: Iterable[tuple[str, int, str, int | None, str | None]]) -> None:
        """Insert (key, seq, op, id, token) rows that are not yet known (a resume keeps its state)."""
        with self._tx():
            self.db.executemany(
                "INSERT OR IGNORE INTO ops (key, seq, op, id, token, state) "
                "VALUES (?, ?, ?, ?, ?, 'pending')",
                list(ops),
            )

    # --- progress -------------------------------------------------------------------------------
    def mark_sent(self, keys: Iterable[str]) -> None:
        """Record the intent: these operations are about to be sent (outcome unknown until done)."""
        now = time.time()
        with self._tx():
            self.db.executemany(
                "UPDATE ops SET state='sent', attempts=attempts+1, sent_at=? "
                "WHERE key=? AND state != 'done'",
                [(now, k) for k in keys],
            )

    def mark_pending(self, keys: Iterable[str]) -> None:
        """Looked and found not executed: the operation may be sent again."""
        with self._tx():
            self.db.executemany(
                "UPDATE ops SET state='pending' WHERE key=? AND state='sent'", [(k,) for k in keys]
            )

    def mark_done(self, outcomes: Mapping[str, Outcome]) -> None:
        now = time.time()
        with self._tx():
            self.db.executemany(
                "UPDATE ops SET state='done', status=?, new_id=?, error_code=?, description=?, "
                "done_at=? WHERE key=?",
                [
                    (o.status, o.new_id, o.error_code, o.description, now, k)
                    for k, o in outcomes.items()
                ],
            )

    def states(self) -> dict[str, OpState]:
        rows = self.db.execute(
            "SELECT key, state, attempts, status, new_id, error_code, description, sent_at FROM ops"
        )
        return {r[0]: OpState(*r) for r in rows}

    def counts(self) -> dict[str, int]:
        """Operations per state, e.g. ``{'done': 120, 'sent': 50, 'pending': 830}``."""
        rows = self.db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state")
        return {state: n for state, n in rows}

    def _tx(self) -> _Tx:
        return _Tx(self.db)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
