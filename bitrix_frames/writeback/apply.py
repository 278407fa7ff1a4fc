"""Execute a plan's operations: conflict check, batches of 50, journal, resolution by looking.

Order of work (each step is journalled, so a rerun after a crash continues exactly):

1. operations left ``sent`` by an interrupted run are resolved by looking at the portal
   (markers for adds, current values for updates, existence for deletes, status for completes);
2. the rest goes in windows of up to 2,500 operations: one batched stamp read per window (50 IDs per
   sub-call, 50 sub-calls per request) reports rows modified since they were loaded as
   ``conflict`` (unless ``force``); then 50 operations per ``batch`` request, intent recorded
   before sending, outcome after;
3. a batch whose answer was lost (:class:`~bitrix_frames.errors.AmbiguousWriteError`, transport
   failure, 5xx) is never resent blindly: its operations are looked up, executed ones are marked
   done, the others are sent again.

Example::

    outcomes = Applier(client, recipe("deal"), ops, journal).run()
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import requests

from ..errors import ApiError, BitrixError, ServerError
from .journal import DONE, SENT, Journal, Outcome
from .look import find_markers, read_rows
from .match import holds, instant
from .ops import TASK_COMPLETED, Operation, WriteRecipe

BATCH = 50
WINDOW = 2500
MAX_ATTEMPTS = 10

Progress = Callable[[int, int], Any]


def same_stamp(loaded: Any, current: Any) -> bool:
    """The modified stamp read now equals the one in ``before`` (compared as instants)."""
    a, b = instant(loaded), instant(current)
    if a is None or b is None:
        return a is None and b is None
    return a.floor("s") == b.floor("s")


class Applier:
    """Runs one plan's operations against one client with one journal."""

    def __init__(
        self,
        client: Any,
        recipe: WriteRecipe,
        ops: Sequence[Operation],
        journal: Journal,
        *,
        force: bool = False,
        stop_on_error: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.client, self.recipe, self.ops, self.journal = client, recipe, list(ops), journal
        self.force, self.stop_on_error, self.progress = force, stop_on_error, progress
        self.outcomes: dict[str, Outcome] = {}
        self.touched: set[int] = set()
        self.stopped = False
        self.lookups = 0

    # --- bookkeeping ----------------------------------------------------------------------------
    def _done(self, outcomes: dict[str, Outcome]) -> None:
        if not outcomes:
            return
        self.journal.mark_done(outcomes)
        self.outcomes.update(outcomes)
        if self.progress:
            self.progress(len(self.outcomes), len(self.ops))

    def run(self) -> dict[str, Outcome]:
        self.journal.register((op.key, n, op.op, op.id, op.token) for n, op in enumerate(self.ops))
        states = self.journal.states()
        by_key = {op.key: op for op in self.ops}
        for key, st in states.items():
            if key not in by_key:
                continue
            if st.state == DONE and not (self.force and st.status == "conflict"):
                self.outcomes[key] = Outcome(
                    st.status or "ok", st.new_id, st.error_code, st.description
                )
            if st.state in (DONE, SENT) and by_key[key].id is not None:
                self.touched.add(int(by_key[key].id))
        if self.progress:
            self.progress(len(self.outcomes), len(self.ops))
        in_doubt = [by_key[k] for k, st in states.items() if st.state == SENT and k in by_key]
        retry = self._resolve(in_doubt, {k: st.sent_at for k, st in states.items()})
        retry_keys = {op.key for op in retry}
        queue = [op for op in self.ops if op.key not in self.outcomes]
        queue.sort(key=lambda op: op.key not in retry_keys)  # stable: in-doubt first
        for window in self._windows(queue):
            if self.stopped:
                break
            self._send_window(self._check_conflicts(window))
        return self.outcomes

    def _windows(self, queue: list[Operation]) -> list[list[Operation]]:
        """Windows of up to WINDOW operations; all operations of one record stay together."""
        windows: list[list[Operation]] = [[]]
        for n, op in enumerate(queue):
            prev = queue[n - 1] if n else None
            split = len(windows[-1]) >= WINDOW and not (
                prev and prev.id is not None and prev.id == op.id
            )
            if split:
                windows.append([])
            windows[-1].append(op)
        return [w for w in windows if w]

    # --- conflicts --------------------------------------------------------------------------------
    def _check_conflicts(self, window: list[Operation]) -> list[Operation]:
        stamp_field = self.recipe.stamp
        checked = [
            op
            for op in window
            if op.op != "add" and op.stamp is not None and op.id not in self.touched
        ]
        if not checked or not stamp_field:
            return window
        self.lookups += 1
        rows = read_rows(self.client, self.recipe, [op.id for op in checked], [stamp_field])
        outcomes: dict[str, Outcome] = {}
        for op in checked:
            row = rows.get(int(op.id))
            if row is None:
                if op.op == "delete":
                    outcomes[op.key] = Outcome("ok", description="already deleted on the portal")
                else:
                    outcomes[op.key] = Outcome(
                        "conflict",
                        error_code="NOT_FOUND",
                        description="deleted on the portal since it was loaded",
                    )
            elif not self.force and not same_stamp(op.stamp, row.get(stamp_field)):
                outcomes[op.key] = Outcome(
                    "conflict",
                    error_code="MODIFIED",
                    description=f"modified on the portal since it was loaded "
                    f"({stamp_field} {row.get(stamp_field)}); use force=True to overwrite",
                )
        conflicted = {
            op.id for op in checked if op.key in outcomes and outcomes[op.key].status == "conflict"
        }
        for op in window:  # a record in conflict gets none of its operations
            if op.id in conflicted and op.key not in outcomes:
                outcomes[op.key] = Outcome(
                    "conflict", error_code="MODIFIED", description="record in conflict"
                )
        self._done(outcomes)
        return [op for op in window if op.key not in outcomes]

    # --- sending -----------------------------------------------------------------------------------
    def _send_window(self, window: list[Operation]) -> None:
        pending = deque(window)
        while pending and not self.stopped:
            chunk = [pending.popleft() for _ in range(min(BATCH, len(pending)))]
            self.journal.mark_sent(op.key for op in chunk)
            self.touched.update(int(op.id) for op in chunk if op.id is not None)
            names = {f"c{n}": op for n, op in enumerate(chunk)}
            sent_at = time.time()
            try:
                res = self.client.batch(
                    {name: self.recipe.command(op) for name, op in names.items()},
                    halt=self.stop_on_error,
                )
            except ApiError as err:
                if not isinstance(err, ServerError):
                    # the batch itself was rejected (auth, limits after retries): nothing ran
                    self.journal.mark_pending(op.key for op in chunk)
                    raise
                retry = self._resolve(chunk, dict.fromkeys((op.key for op in chunk), sent_at))
                pending.extendleft(reversed(retry))
                continue
            except (BitrixError, requests.RequestException, OSError):
                retry = self._resolve(chunk, dict.fromkeys((op.key for op in chunk), sent_at))
                pending.extendleft(reversed(retry))
                continue
            outcomes: dict[str, Outcome] = {}
            unsent: list[Operation] = []
            for name, op in names.items():
                if name in res.result:
                    new_id = self.recipe.new_id(res.result[name]) if op.op == "add" else None
                    outcomes[op.key] = Outcome("ok", new_id=new_id)
                elif name in res.errors:
                    err = res.errors[name]
                    outcomes[op.key] = Outcome(
                        "error",
                        error_code=str(err.code or type(err).__name__),
                        description=err.description,
                    )
                else:  # halted batch: later commands did not run
                    unsent.append(op)
            self._done(outcomes)
            if unsent:
                self.journal.mark_pending(op.key for op in unsent)
            if self.stop_on_error and any(o.status == "error" for o in outcomes.values()):
                self.stopped = True

    # --- resolving by looking ---------------------------------------------------------------------
    def _resolve(self, ops: list[Operation], sent_at: dict[str, float | None]) -> list[Operation]:
        """Decide for operations of unknown outcome; return those that did not run (to resend)."""
        if not ops:
            return []
        self.lookups += 1
        outcomes: dict[str, Outcome] = {}
        retry: list[Operation] = []
        adds = [op for op in ops if op.op == "add"]
        if adds:
            since = min((sent_at.get(op.key) or time.time()) for op in adds)
            found = find_markers(self.client, self.recipe, [op.token or "" for op in adds], since)
            for op in adds:
                if op.token in found:
                    outcomes[op.key] = Outcome("ok", new_id=found[op.token])
                else:
                    retry.append(op)
        others = [op for op in ops if op.op != "add"]
        if others:
            fields = {f for op in others if op.op == "update" for f in op.fields}
            if any(op.op == "complete" for op in others):
                fields.add("STATUS")
            if self.recipe.stamp:
                fields.add(self.recipe.stamp)
            rows = read_rows(
                self.client, self.recipe, [int(op.id) for op in others], sorted(fields)
            )
            for op in others:
                verdict = self._verdict(op, rows.get(int(op.id)))
                if verdict is None:
                    retry.append(op)
                else:
                    outcomes[op.key] = verdict
        self._done(outcomes)
        states = self.journal.states()
        again: list[Operation] = []
        for op in retry:
            if states[op.key].attempts >= MAX_ATTEMPTS:
                self._done(
                    {
                        op.key: Outcome(
                            "error",
                            error_code="GAVE_UP",
                            description=f"outcome unknown after {MAX_ATTEMPTS} attempts",
                        )
                    }
                )
            else:
                again.append(op)
        self.journal.mark_pending(op.key for op in again)
        return again

    def _verdict(self, op: Operation, row: dict[str, Any] | None) -> Outcome | None:
        """Outcome of an in-doubt update/delete/complete from the row read now; None = resend."""
        if op.op == "delete":
            return Outcome("ok") if row is None else None
        if row is None:
            return Outcome(
                "error", error_code="NOT_FOUND", description="record not found on the portal"
            )
        if op.op == "complete":
            return Outcome("ok") if str(row.get("STATUS")) == str(TASK_COMPLETED) else None
        if holds(op.fields, row):
            return Outcome("ok")
        stamp = row.get(self.recipe.stamp) if self.recipe.stamp else None
        if self.force or op.stamp is None or same_stamp(op.stamp, stamp):
            return None
        return Outcome(
            "conflict",
            error_code="MODIFIED",
            description="modified on the portal while the write was in doubt; use force=True",
        )
