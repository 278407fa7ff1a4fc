"""The progress bar of long reads and writes: a ``tqdm.auto`` bar, a callback, or nothing.

Every ``progress`` argument of the package means the same:

* ``True``: a bar; ``False``: none; ``None``: a bar in Jupyter and in a terminal, none otherwise;
* a callable ``(done, total)``: called on every step instead of a bar;
* a tqdm instance: drawn into (and left open for its owner).

While the Client pauses for a limit (see :mod:`~bitrix_frames.waits`) the bar's status (postfix)
shows why and the seconds left, e.g. ``waiting 12 s: request rate (crm.deal.list)``.

Example::

    with Bar(True, "crm.deal.list", unit=" rows") as bar, bar.showing_waits(client):
        bar.set_total(1200)
        bar.update(50)
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from .waits import Wait


def wanted(progress: Any) -> bool:
    """Whether ``progress`` asks for a bar (``None``: in Jupyter or when stderr is a terminal)."""
    if progress is not None:
        return bool(progress)
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]

        shell = get_ipython()
        if shell is not None and "IPKernelApp" in shell.config:
            return True
    except Exception:
        pass
    return sys.stderr.isatty()


def _is_bar(obj: Any) -> bool:
    return hasattr(obj, "update") and hasattr(obj, "set_postfix_str")


class Bar:
    """A thread-safe progress display built from a ``progress`` argument (see the module notes)."""

    def __init__(
        self,
        progress: Any,
        desc: str,
        *,
        unit: str = " rows",
        total: int | None = None,
        unit_scale: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._bar: Any = None
        self._own = False
        self._callback = None
        self._done = 0
        self._total = total
        if _is_bar(progress):
            self._bar = progress
            if total is not None:
                progress.total = total
        elif callable(progress):
            self._callback = progress
        elif wanted(progress):
            from tqdm.auto import tqdm

            self._bar = tqdm(
                desc=desc, total=total, unit=unit, unit_scale=unit_scale, dynamic_ncols=True
            )
            self._own = True

    def set_total(self, n: int) -> None:
        """The number of steps expected."""
        with self._lock:
            self._total = n
            if self._bar is not None:
                self._bar.total = n
                self._bar.refresh()

    def update(self, n: int) -> None:
        """``n`` more steps done."""
        if not n:
            return
        with self._lock:
            self._done += n
            if self._bar is not None:
                self._bar.update(n)
            if self._callback is not None:
                self._callback(self._done, self._total)

    def moveto(self, done: int, total: int | None = None) -> None:
        """``done`` steps done in all (a ``(done, total)`` callback itself)."""
        if total is not None and total != self._total:
            self.set_total(total)
        self.update(done - self._done)

    def status(self, wait: Wait | None, left: float = 0.0) -> None:
        """Show ``wait`` (and the seconds left) as the bar's status; ``None`` clears it."""
        if self._bar is None:
            return
        with self._lock:
            self._bar.set_postfix_str(wait.status(left) if wait else "", refresh=True)

    @contextlib.contextmanager
    def showing_waits(self, client: Any) -> Iterator[None]:
        """Show ``client``'s long pauses on this bar while the block runs."""
        waits = getattr(client, "waits", None)
        if waits is None or self._bar is None:
            yield
            return
        with waits.listen(self.status):
            yield

    def close(self) -> None:
        if self._bar is not None and self._own:
            self._bar.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
