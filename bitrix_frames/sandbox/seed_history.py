"""Seeded stage history consistent with the seeded deals and leads (``crm.stagehistory.list``).

Each record's entries start at its creation (``DATE_CREATE``) in the first working stage of its
pipeline, walk forward through the working stages (sometimes skipping one, sometimes stepping
back one and on again) at increasing times and end in its current stage at ``MOVED_TIME`` (for a
closed deal: the day of its ``CLOSEDATE``). About 6% of the deals began in another pipeline and
were moved (``TYPE_ID`` 5). A record created in its current stage (``MOVED_TIME`` equal to
``DATE_CREATE``) has its creation entry only. Entry IDs follow time, as a portal's auto-increment
does. Uses its own random stream, so the rest of the seeded portal does not change.

Example::

    seed_history(store, SandboxConfig(deals=1000))
    store.scalar("SELECT COUNT(*) FROM crm_stage_history WHERE ENTITY_TYPE_ID = 2")   # ~3,260
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from operator import itemgetter

from .config import SandboxConfig
from .history import (
    CATEGORY_CHANGE,
    CREATION,
    FINALIZATION,
    MODIFICATION,
    insert_rows,
    stage_dictionary,
)
from .store import Store

PIPELINE_MOVES = 0.06
"""Share of deals that started in another pipeline."""

Stage = tuple[str, str]  # (code, semantics P/S/F)


def _pipelines(db: sqlite3.Connection, entity_type_id: int) -> dict[int, list[Stage]]:
    cats = [0]
    if entity_type_id == 2:
        cats = [r[0] for r in db.execute("SELECT id FROM crm_category WHERE entity_type_id = 2")]
    out: dict[int, list[Stage]] = {}
    for cat in cats or [0]:
        rows = db.execute(
            "SELECT status_id, semantics FROM crm_status WHERE entity_id = ? ORDER BY sort, id",
            (stage_dictionary(entity_type_id, cat),),
        ).fetchall()
        if rows:
            out[cat] = [(r[0], r[1] or "P") for r in rows]
    return out


class _Pipeline:
    """One pipeline's stages, prepared once: working stages in order and every stage's semantics."""

    def __init__(self, cat: int, stages: list[Stage]) -> None:
        self.cat = cat
        self.semantics = {code: sem for code, sem in stages}
        self.working = [code for code, sem in stages if sem == "P"] or [stages[0][0]]
        self.position = {code: i for i, code in enumerate(self.working)}


def _walk(rnd: Callable[[], float], working: list[str], goal: int, out: list[str]) -> None:
    """Append the working stages visited after ``working[0]`` up to ``working[goal]``: mostly
    one step forward, sometimes two, sometimes one back and on again."""
    i = 0
    while i < goal:
        i += 2 if i + 2 <= goal and rnd() < 0.15 else 1
        out.append(working[i])
        if i < goal and rnd() < 0.1:
            out.append(working[i - 1])
            out.append(working[i])


def _times(rnd: Callable[[], float], created: int, moved: int, n: int) -> list[int] | None:
    """n strictly increasing times from ``created`` to ``moved`` (None when they do not fit)."""
    if n <= 2:
        return [created] if n == 1 else [created, moved]
    span = moved - created
    if span < n:
        return None
    out = [created]
    for fraction in sorted(rnd() for _ in range(n - 2)):
        out.append(max(out[-1] + 1, created + int(fraction * span)))
    return out + [moved] if out[-1] < moved else None


def _entries(
    rng: random.Random, entity_type_id: int, pipelines: dict[int, _Pipeline], records: list
) -> list[tuple]:
    """History rows ``(type, TYPE_ID, owner, time, pipeline, semantics, stage)`` of ``records``
    = (id, pipeline, stage, created, moved)."""
    out: list[tuple] = []
    rnd = rng.random
    others = list(pipelines) if entity_type_id == 2 and len(pipelines) > 1 else []
    for owner, cat, stage, created, moved in records:
        pipe = pipelines.get(cat or 0)
        if not stage or created is None or pipe is None:
            continue
        if moved is None or moved < created:
            moved = created
        sem = pipe.semantics.get(stage, "P")
        cats: list[int] = []
        codes: list[str] = []
        if moved > created:
            if others and rnd() < PIPELINE_MOVES:
                other = pipelines[rng.choice([c for c in others if c != pipe.cat])]
                cats.append(other.cat)
                codes.append(other.working[0])
                if len(other.working) > 1 and rnd() < 0.5:
                    cats.append(other.cat)
                    codes.append(other.working[1])
            start = len(codes)
            codes.append(pipe.working[0])
            if sem == "P":
                _walk(rnd, pipe.working, pipe.position.get(stage, 0), codes)
            else:
                _walk(rnd, pipe.working, int(rnd() * len(pipe.working)), codes)
                codes.append(stage)
            cats += [pipe.cat] * (len(codes) - start)
        times = _times(rnd, created, moved, len(codes)) if codes else None
        if times is None:  # created in its current stage (or no time for the walk)
            first = pipe.working[0]
            if moved > created and first != stage:
                cats, codes, times = [pipe.cat, pipe.cat], [first, stage], [created, moved]
            else:
                cats, codes, times = [pipe.cat], [stage], [created]
        semantics = pipe.semantics
        for i, code in enumerate(codes):
            s = semantics.get(code) or pipelines[cats[i]].semantics.get(code, "P")
            if s != "P":
                type_id = FINALIZATION
            elif i == 0:
                type_id = CREATION
            else:
                type_id = CATEGORY_CHANGE if cats[i] != cats[i - 1] else MODIFICATION
            out.append((entity_type_id, type_id, owner, times[i], cats[i], s, code))
    return out


_RECORDS = {
    1: 'SELECT "ID", 0, "STATUS_ID", "DATE_CREATE", "MOVED_TIME" FROM crm_lead ORDER BY "ID"',
    2: 'SELECT "ID", "CATEGORY_ID", "STAGE_ID", "DATE_CREATE", "MOVED_TIME" FROM crm_deal '
    'ORDER BY "ID"',
}


def seed_history(store: Store, config: SandboxConfig) -> None:
    """Seed the stage history of every deal and lead already in the store."""
    rng = random.Random(f"{config.seed}:stage-history")
    with store.transaction() as db:
        rows: list[tuple] = []
        for entity_type_id, sql in _RECORDS.items():
            pipelines = {
                cat: _Pipeline(cat, stages)
                for cat, stages in _pipelines(db, entity_type_id).items()
            }
            entries = _entries(rng, entity_type_id, pipelines, db.execute(sql).fetchall())
            # IDs follow time, as a portal's auto-increment does (the sort is stable and each
            # record's entries are in time order already)
            entries.sort(key=itemgetter(3))
            rows += [(entity_type_id, n, *e[1:]) for n, e in enumerate(entries, 1)]
        insert_rows(db, rows)
