"""Idempotency markers of new rows: stable across runs, and looked up before anything is added.

Every add carries a marker in the entity's marker field (``ORIGIN_ID`` for CRM entities,
``XML_ID`` for tasks; a value the user set there is used as the marker). The marker is a hash of
the portal, the entity, the row's API values and the row's occurrence among identical new rows.
So a fresh plan of the same intended adds (a notebook re-run after a crash: fresh load, fresh
plan) carries the same markers, and :func:`already_added` finds the rows that already landed:

* CRM entities: one ``@ORIGIN_ID`` list filter per 50 markers, 50 per ``batch`` request (the
  portal is the authority, whichever machine added the rows);
* tasks: ``tasks.task.list`` cannot filter by ``XML_ID``, so the rows this machine added are kept in
  a small per-portal index in the cache directory (:class:`MarkerIndex`) and their IDs are checked
  to still exist. A task added from another machine, or with the cache directory wiped, is not
  recognised (a documented limit).

Limits: two identical new rows in one plan are two rows (occurrence 0 and 1); adding a row with
the same values as one added by an earlier run is skipped unless ``plan(..., repeat_adds=True)``.

Example::

    >>> stable_token("https://x.bitrix24.com", "deal", {"TITLE": "A"}, 0)[:2]
    'bf'
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .look import FilterIgnored, find_markers, read_rows
from .ops import WriteRecipe


def stable_token(origin: str, entity: str, fields: Mapping[str, Any], occurrence: int) -> str:
    """The marker of a new row with these API ``fields`` (without the marker itself)."""
    text = json.dumps([origin, entity, fields, occurrence], sort_keys=True, default=str)
    return "bf" + hashlib.sha256(text.encode()).hexdigest()[:22]


def one_off_token() -> str:
    """A marker that matches no earlier run (``repeat_adds=True``)."""
    return "bf" + uuid.uuid4().hex[:22]


class MarkerIndex:
    """Markers of rows added from this machine to one portal: ``token -> new ID`` per entity.

    Example::

        idx = MarkerIndex(cache_dir() / "writeback" / portal_hash / "markers.sqlite")
        idx.record("task", {"bf12..": 501})
        idx.lookup("task", ["bf12.."])     # {'bf12..': 501}
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), timeout=30)
        db.execute(
            "CREATE TABLE IF NOT EXISTS markers (entity TEXT, token TEXT, new_id INTEGER, "
            "PRIMARY KEY (entity, token))"
        )
        return db

    def record(self, entity: str, added: Mapping[str, int]) -> None:
        if not added:
            return
        db = self._db()
        try:
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO markers VALUES (?, ?, ?)",
                    [(entity, t, int(i)) for t, i in added.items()],
                )
        finally:
            db.close()

    def lookup(self, entity: str, tokens: Sequence[str]) -> dict[str, int]:
        db = self._db()
        try:
            out: dict[str, int] = {}
            for i in range(0, len(tokens), 500):
                part = list(tokens[i : i + 500])
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    f"SELECT token, new_id FROM markers WHERE entity=? AND token IN ({marks})",
                    [entity, *part],
                )
                out.update({t: int(n) for t, n in rows})
            return out
        finally:
            db.close()


def already_added(
    client: Any, recipe: WriteRecipe, tokens: Sequence[str], index: MarkerIndex | None
) -> dict[str, int]:
    """Markers among ``tokens`` whose row is already on the portal: ``token -> ID``."""
    tokens = [t for t in dict.fromkeys(tokens) if t]
    if not tokens:
        return {}
    if recipe.entity.marker_filterable:
        try:
            return find_markers(client, recipe, tokens, None, scan=False)
        except FilterIgnored:
            pass  # the portal ignores the marker filter: fall back to this machine's index
    local = index.lookup(recipe.entity.name, tokens) if index is not None else {}
    if not local:
        return {}
    alive = read_rows(client, recipe, sorted(set(local.values())), ["ID"])
    return {t: i for t, i in local.items() if i in alive}
