"""Test-only sandbox methods and HTTP helpers shared by the transport, batch, limits, faults and
curl tests. Method names start with ``sandboxtest.`` so they never clash with real ones.

Example::

    with Sandbox(deals=5, limits=False) as sb:
        status, body = post_json(sb, "sandboxtest.echo", {"a": 1})
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from bitrix_frames.sandbox.api import ApiError, Call, Page, method

WRITE_COUNTER = "sandboxtest.write"


@method("sandboxtest.echo")
def echo(call: Call, params: dict) -> dict:
    """Return the parameters and paging start exactly as the handler received them."""
    return {"params": params, "start": call.start, "method": call.method}


@method("sandboxtest.page")
def page(call: Call, params: dict) -> Page:
    """A list-like result: ``n`` rows, ``total`` and (when given) ``next``."""
    n = int(params.get("n", 2))
    call.return_rows(n)
    call.count_rows(int(params.get("counted", 0)))
    call.skip_rows(int(params.get("skipped", 0)))
    rows = [{"ID": str(i + 1)} for i in range(n)]
    nxt = params.get("next")
    return Page(rows, total=int(params.get("total", n)), next=None if nxt is None else int(nxt))


@method("sandboxtest.busy")
def busy(call: Call, params: dict) -> float:
    """Spend ``seconds`` of this thread's CPU (the sandbox's own work on a call)."""
    seconds, began = float(params.get("seconds", 0.1)), time.thread_time()
    while time.thread_time() - began < seconds:
        pass
    return seconds


@method("sandboxtest.fail")
def fail(call: Call, params: dict) -> None:
    raise ApiError("Not found")


@method("sandboxtest.boom")
def boom(call: Call, params: dict) -> None:
    raise RuntimeError("secret internals /tmp/x.py line 3")


@method("sandboxtest.write")
def write(call: Call, params: dict) -> int:
    """A write: bumps a counter in the store and returns its new value."""
    with call.store.transaction():
        return call.store.next_id(WRITE_COUNTER)


def writes(sb) -> int:
    """How many ``sandboxtest.write`` calls have been executed against this sandbox's store."""
    return sb.store.scalar("SELECT value FROM sequence WHERE name = ?", (WRITE_COUNTER,)) or 0


def request(
    url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None
) -> tuple[int, bytes, dict]:
    """One HTTP request with urllib (no retries, no redirects followed for POST)."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def post_json(sb, method_name: str, params: Any = None) -> tuple[int, dict]:
    """POST ``params`` as JSON to ``method_name``; returns (status, decoded body)."""
    status, body, _ = request(
        sb.webhook_url + method_name,
        json.dumps(params or {}).encode(),
        {"Content-Type": "application/json"},
    )
    return status, json.loads(body)
