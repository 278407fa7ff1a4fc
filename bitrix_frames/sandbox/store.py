"""SQLite storage shared by every method module.

Each method module declares its tables with :func:`register_schema` at import time; a
:class:`Store` creates all registered tables. One connection guarded by one re-entrant lock makes
every handler call atomic with respect to the others, so concurrent writes never interleave.

Example::

    register_schema("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, text TEXT)")
    store = Store()
    with store.transaction() as db:
        db.execute("INSERT INTO note (text) VALUES (?)", ("hi",))
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .tables import DDL

SCHEMAS: list[str] = list(DDL)
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _clamp(value: Any) -> Any:
    if type(value) is int and not INT_MIN <= value <= INT_MAX:
        return INT_MAX if value > 0 else INT_MIN
    return value


def clamp_ints(args: Any) -> Any:
    """Bind parameters with every int outside int64 saturated, as PHP's integer cast of a numeric
    string does (``"99999999999999999999"`` -> 9223372036854775807): SQLite cannot bind them.

    >>> clamp_ints((1, 2**70, "x")), clamp_ints({"a": -(2**64)})
    ((1, 9223372036854775807, 'x'), {'a': -9223372036854775808})
    """
    if isinstance(args, dict):
        return {key: _clamp(value) for key, value in args.items()}
    return tuple(_clamp(value) for value in args)


class _Connection(sqlite3.Connection):
    """Handlers pass client numbers straight to SQL; out-of-range ints must not fail the call."""

    def execute(self, sql: str, args: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().execute(sql, args)
        except OverflowError:  # raised while binding, before the statement ran
            return super().execute(sql, clamp_ints(args))

    def executemany(self, sql: str, rows: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        return super().executemany(sql, (clamp_ints(row) for row in rows))


def register_schema(ddl: str) -> None:
    """Add DDL (one or more ``CREATE ... IF NOT EXISTS`` statements) run by every new Store."""
    if ddl not in SCHEMAS:
        SCHEMAS.append(ddl)


def _compare_ci(a: str, b: str) -> int:
    """Case-insensitive collation (``COLLATE CI``) like a portal's MySQL ``*_ci`` collation."""
    a, b = a.casefold(), b.casefold()
    return (a > b) - (a < b)


class Store:
    """The sandbox database: a single SQLite connection plus the lock that serialises access."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.closed = False
        self.db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, factory=_Connection
        )
        self.db.row_factory = sqlite3.Row
        self.db.create_collation("CI", _compare_ci)  # MySQL utf8_unicode_ci-like string matching
        self.db.execute(
            "PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY"
        )
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER)"
        )
        for ddl in SCHEMAS:
            self.db.executescript(ddl)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction (rolled back on error)."""
        with self.lock:
            self.db.execute("BEGIN")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def query(self, sql: str, args: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def scalar(self, sql: str, args: tuple | list = ()):
        with self.lock:
            row = self.db.execute(sql, args).fetchone()
            return None if row is None else row[0]

    def next_id(self, name: str) -> int:
        """Next value of a portal-wide counter (e.g. multifield row ids). Call inside a transaction."""
        with self.lock:
            self.db.execute(
                "INSERT INTO sequence (name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return self.db.execute("SELECT value FROM sequence WHERE name = ?", (name,)).fetchone()[
                0
            ]

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.db.close()
