"""Execute a plan's operations: conflict check, batches of 50, journal, resolution by looking.

Order of work (each step is journalled, so a rerun after a crash continues exactly):

1. operations left ``sent`` by an interrupted run are *in doubt*; new rows whose marker is
   already on the portal (an earlier run added them: same values, same marker) are not added
   again (:mod:`.markers`);
2. the rest goes in windows of up to 2,500 operations: one batched stamp read per window (50 IDs per
   sub-call, 50 sub-calls per request) reports rows modified since they were loaded as
   ``conflict`` (unless ``force``); then 50 operations per ``batch`` request, intent recorded
   before sending, outcome after. An operation whose values contain ``$result``-like text goes
   alone, outside ``batch``: the portal would substitute it inside a batch command;
3. an operation whose answer was lost (:class:`~bitrix_frames.errors.AmbiguousWriteError`,
   transport failure, 5xx) is *in doubt*: it is looked up at once and then again and again (while
   the other operations go on), and only declared "not executed" and sent again once it can no
   longer execute: ``execution_window`` seconds after it was sent (the portal cuts a request
   after 60 s; the default window is 120 s). Waiting is preferred to guessing: a write that lands
   late is found, never duplicated.

Example::

    outcomes = Applier(client, recipe("deal"), ops, journal).run()
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from ..batch import MAX_COMMANDS
from ..contract import BitrixClient
from ..encoding import batch_would_rewrite
from ..errors import ApiError, BitrixError, ServerError
from .journal import DONE, SENT, Journal, Outcome
from .look import find_markers, read_rows
from .markers import MarkerIndex, already_added
from .match import holds, instant
from .ops import Operation, WriteRecipe

log = logging.getLogger("bitrix_frames")

BATCH = MAX_COMMANDS  # operations per batch request
WINDOW = 2500
MAX_ATTEMPTS = 10
EXECUTION_WINDOW = 120.0
"""Seconds after sending during which a write whose answer was lost may still execute."""
_LOOK_EVERY = (1.0, 10.0)
"""First and longest pause between two looks at the same in-doubt operation."""
Progress = Callable[[int, int], Any]


def same_stamp(loaded: Any, current: Any) -> bool:
    """The modified stamp read now equals the one in ``before`` (compared as instants)."""
    a, b = instant(loaded), instant(current)
    if a is None or b is None:
        return a is None and b is None
    return a.floor("s") == b.floor("s")


@dataclass
class _Doubt:
    """An operation whose outcome is unknown: sent at ``sent_at``, look again at ``look_at``."""

    op: Operation
    sent_at: float
    look_at: float


class Applier:
    """Runs one plan's operations against one client with one journal."""

    def __init__(
        self,
        client: BitrixClient,
        recipe: WriteRecipe,
        ops: Sequence[Operation],
        journal: Journal,
        *,
        force: bool = False,
        stop_on_error: bool = False,
        progress: Progress | None = None,
        execution_window: float | None = None,
        markers: MarkerIndex | None = None,
        check_added: bool = True,
    ) -> None:
        self.client, self.recipe, self.ops, self.journal = client, recipe, list(ops), journal
        self.force, self.stop_on_error, self.progress = force, stop_on_error, progress
        if execution_window is None:
            execution_window = getattr(client, "execution_window", EXECUTION_WINDOW)
        self.window = float(execution_window)
        self.markers, self.check_added = markers, check_added
        self.by_key = {op.key: op for op in self.ops}
        self.outcomes: dict[str, Outcome] = {}
        self.touched: set[int] = set()
        self.doubt: dict[str, _Doubt] = {}
        self.stopped = False
        self.lookups = 0

    # --- bookkeeping ----------------------------------------------------------------------------
    def _done(self, outcomes: dict[str, Outcome]) -> None:
        if not outcomes:
            return
        self.journal.mark_done(outcomes)
        self.outcomes.update(outcomes)
        if self.markers is not None:
            added = {
                token: o.new_id
                for k, o in outcomes.items()
                if self.by_key[k].op == "add" and (token := self.by_key[k].token) and o.new_id
            }
            self.markers.record(self.recipe.entity.name, added)
        for key in outcomes:
            self.doubt.pop(key, None)
        if self.progress:
            self.progress(len(self.outcomes), len(self.ops))

    def run(self) -> dict[str, Outcome]:
        self.journal.register((op.key, n, op.op, op.id, op.token) for n, op in enumerate(self.ops))
        states = self.journal.states()
        by_key = self.by_key
        now = time.time()
        for key, st in states.items():
            if key not in by_key:
                continue
            if st.state == DONE and not (self.force and st.status == "conflict"):
                self.outcomes[key] = Outcome(
                    st.status or "ok", st.new_id, st.error_code, st.description
                )
            if st.state in (DONE, SENT) and by_key[key].id is not None:
                self.touched.add(by_key[key].target)
            if st.state == SENT:  # an interrupted run sent it: in doubt
                self.doubt[key] = _Doubt(by_key[key], st.sent_at or 0.0, now)
        if self.progress:
            self.progress(len(self.outcomes), len(self.ops))
        self._skip_added_before()
        queue = [op for op in self.ops if op.key not in self.outcomes and op.key not in self.doubt]
        pending: deque[Operation] = deque()
        for window in self._windows(queue):
            if self.stopped:
                break
            pending.extend(self._check_conflicts(window))
            self._drain(pending)
        while self.doubt:  # even after stop_on_error: what was sent is looked for
            again = self._settle(block=True)
            if not self.stopped:
                pending.extend(again)
                self._drain(pending)
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

    # --- adds that an earlier run already made --------------------------------------------------
    def _skip_added_before(self) -> None:
        """New rows whose marker is already on the portal are reported, not added again."""
        adds = [
            op
            for op in self.ops
            if op.op == "add"
            and op.token
            and op.key not in self.outcomes
            and op.key not in self.doubt
        ]
        if not adds or not self.check_added:
            return
        self.lookups += 1
        found = already_added(
            self.client, self.recipe, [op.token or "" for op in adds], self.markers
        )
        self._done(
            {
                op.key: Outcome(
                    "ok",
                    new_id=found[op.token],
                    error_code="ALREADY_ADDED",
                    description=f"already on the portal as ID {found[op.token]} (an earlier run "
                    "added this row with the same values); not added again",
                )
                for op in adds
                if op.token in found
            }
        )

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
        rows = read_rows(self.client, self.recipe, [op.target for op in checked], [stamp_field])
        outcomes: dict[str, Outcome] = {}
        for op in checked:
            row = rows.get(op.target)
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
    def _drain(self, pending: deque[Operation]) -> None:
        """Send everything in ``pending``; in-doubt operations due for a look are looked at
        between two requests, and those that can no longer execute are queued again."""
        while pending and not self.stopped:
            chunk = self._take(pending)
            if len(chunk) == 1 and batch_would_rewrite(chunk[0].fields):
                self._send_alone(chunk[0])
            else:
                self._send_batch(chunk)
            pending.extendleft(reversed(self._settle(block=False)))

    def _take(self, pending: deque[Operation]) -> list[Operation]:
        """The next request's operations: one that ``batch`` would rewrite goes alone; otherwise
        up to BATCH, never splitting the operations of one record."""
        if batch_would_rewrite(pending[0].fields):
            return [pending.popleft()]
        chunk: list[Operation] = []
        while pending and not batch_would_rewrite(pending[0].fields):
            op = pending[0]
            if len(chunk) >= BATCH and not (op.id is not None and op.id == chunk[-1].id):
                break
            chunk.append(pending.popleft())
        return chunk

    def _sending(self, ops: list[Operation]) -> float:
        self.journal.mark_sent(op.key for op in ops)
        self.touched.update(int(op.id) for op in ops if op.id is not None)
        return time.time()

    def _in_doubt(self, ops: list[Operation], sent_at: float, why: BaseException) -> None:
        log.info(
            "%d %s operation(s) in doubt (%s): looking for them before anything is resent",
            len(ops),
            self.recipe.entity.name,
            type(why).__name__,
        )
        for op in ops:
            self.doubt[op.key] = _Doubt(op, sent_at, time.time())

    def _send_alone(self, op: Operation) -> None:
        """One operation outside ``batch`` (its text would be rewritten inside one)."""
        sent_at = self._sending([op])
        method, params = self.recipe.command(op)
        try:
            result = self.client.call(method, params)
        except ApiError as err:
            if isinstance(err, ServerError):
                self._in_doubt([op], sent_at, err)
                return
            self._done({op.key: _error(err)})
            self._stop_if_asked()
            return
        except (BitrixError, requests.RequestException, OSError) as err:
            self._in_doubt([op], sent_at, err)
            return
        new_id = self.recipe.new_id(result) if op.op == "add" else None
        self._done({op.key: Outcome("ok", new_id=new_id)})

    def _send_batch(self, chunk: list[Operation]) -> None:
        names = {f"c{n}": op for n, op in enumerate(chunk)}
        sent_at = self._sending(chunk)
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
            self._in_doubt(chunk, sent_at, err)
            return
        except (BitrixError, requests.RequestException, OSError) as err:
            self._in_doubt(chunk, sent_at, err)
            return
        outcomes: dict[str, Outcome] = {}
        unsent: list[Operation] = []
        for name, op in names.items():
            if name in res.result:
                new_id = self.recipe.new_id(res.result[name]) if op.op == "add" else None
                outcomes[op.key] = Outcome("ok", new_id=new_id)
            elif name in res.errors:
                outcomes[op.key] = _error(res.errors[name])
            else:  # halted batch: later commands did not run
                unsent.append(op)
        self._done(outcomes)
        if unsent:
            self.journal.mark_pending(op.key for op in unsent)
        if any(o.status == "error" for o in outcomes.values()):
            self._stop_if_asked()

    def _stop_if_asked(self) -> None:
        if self.stop_on_error:
            self.stopped = True

    # --- resolving by looking ---------------------------------------------------------------------
    def _settle(self, *, block: bool) -> list[Operation]:
        """Look at the in-doubt operations that are due; return those to send again (they can no
        longer execute). ``block`` sleeps until the next one is due."""
        if not self.doubt:
            return []
        now = time.time()
        if block:
            wake = min(d.look_at for d in self.doubt.values())
            if wake > now:
                time.sleep(wake - now)
                now = time.time()
        due = [d for d in self.doubt.values() if d.look_at <= now]
        if not due:
            return []
        found = self._look([d.op for d in due])
        self._done(found)
        now = time.time()
        again: list[Operation] = []
        gave_up: dict[str, Outcome] = {}
        states = self.journal.states()
        for d in due:
            if d.op.key in found:
                continue
            deadline = d.sent_at + self.window
            if now < deadline:  # it may still execute: look again later
                pause = min(_LOOK_EVERY[1], max(_LOOK_EVERY[0], (now - d.sent_at) / 2))
                d.look_at = min(now + pause, deadline)
                continue
            del self.doubt[d.op.key]
            if states[d.op.key].attempts >= MAX_ATTEMPTS:
                gave_up[d.op.key] = Outcome(
                    "error",
                    error_code="GAVE_UP",
                    description=f"outcome unknown after {MAX_ATTEMPTS} attempts",
                )
            else:
                again.append(d.op)
        self._done(gave_up)
        self.journal.mark_pending(op.key for op in again)
        if again:
            log.info(
                "%d %s operation(s) did not execute within %.0f s of sending: sending again",
                len(again),
                self.recipe.entity.name,
                self.window,
            )
        return again

    def _look(self, ops: list[Operation]) -> dict[str, Outcome]:
        """Outcomes of the operations that the portal shows as executed."""
        self.lookups += 1
        outcomes: dict[str, Outcome] = {}
        adds = [op for op in ops if op.op == "add"]
        if adds:
            since = min(self.doubt[op.key].sent_at for op in adds if op.key in self.doubt)
            found = find_markers(self.client, self.recipe, [op.token or "" for op in adds], since)
            for op in adds:
                if op.token in found:
                    outcomes[op.key] = Outcome("ok", new_id=found[op.token])
        others = [op for op in ops if op.op != "add"]
        if others:
            fields = {f for op in others if op.op == "update" for f in op.fields}
            done = self.recipe.entity.completion
            if done is not None and any(op.op == "complete" for op in others):
                fields.add(done.field)
            if self.recipe.stamp:
                fields.add(self.recipe.stamp)
            rows = read_rows(self.client, self.recipe, [op.target for op in others], sorted(fields))
            for op in others:
                verdict = self._verdict(op, rows.get(op.target))
                if verdict is not None:
                    outcomes[op.key] = verdict
        return outcomes

    def _verdict(self, op: Operation, row: dict[str, Any] | None) -> Outcome | None:
        """Outcome of an in-doubt update/delete/complete from the row read now; None = not yet."""
        if op.op == "delete":
            return Outcome("ok") if row is None else None
        if row is None:
            return Outcome(
                "error", error_code="NOT_FOUND", description="record not found on the portal"
            )
        if op.op == "complete":
            done = self.recipe.entity.completion
            reached = done is not None and str(row.get(done.field)) == str(done.value)
            return Outcome("ok") if reached else None
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


def _error(err: BitrixError) -> Outcome:
    return Outcome(
        "error",
        error_code=str(getattr(err, "code", None) or type(err).__name__),
        description=getattr(err, "description", None) or str(err),
    )
