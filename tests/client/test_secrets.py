"""The webhook secret never shows: exceptions (with their chains), reprs, log records, progress."""

from __future__ import annotations

import logging
import pickle
import socket
import traceback

import pytest
from client_helpers import FAST

from bitrix_frames import errors as E
from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox

SECRET = "topSecretHook0042"


def texts_of(exc: BaseException) -> list[str]:
    """Everything a user could see of an exception: str, repr, formatted chain, pickled form."""
    return [
        str(exc),
        repr(exc),
        "".join(traceback.format_exception(exc)),
        repr(pickle.loads(pickle.dumps(exc))),
    ]


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.timeout(120)
def test_secret_never_leaks(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with Sandbox(deals=600, limits=False, secret=SECRET) as sb:
        c = Client(sb.webhook_url, **FAST)
        seen += [repr(c), str(c), c.masked_url, repr(c.webhook), str(c.__dict__)]
        c.list("crm.deal.list", select=["ID"], progress=True)
        c.list("crm.deal.list", order={"TITLE": "ASC"}, select=["ID"], progress=True)
        for call in (
            lambda: c.call("crm.deal.get", id=10**9),
            lambda: c.call("no.such.method"),
            lambda: c.batch({"x": ("crm.deal.get", {"id": 10**9})})["x"],
        ):
            with pytest.raises(E.BitrixError) as info:
                call()
            seen += texts_of(info.value)
    for faults in ({"lost": 1.0}, {"drop": 1.0}, {"error": 1.0}, {"slow": 1.0}):
        with Sandbox(deals=0, limits=False, secret=SECRET, faults=faults, slow_seconds=0.5) as sb:
            c = Client(sb.webhook_url + "profile.json", **FAST, max_retries=1, timeout=(2, 0.1))
            for method in ("crm.deal.add", "crm.deal.list"):
                with pytest.raises(E.BitrixError) as info:
                    c.call(method, fields={"TITLE": "x"})
                seen += texts_of(info.value)
    dead = Client(f"http://127.0.0.1:{closed_port()}/rest/1/{SECRET}/", **FAST, max_retries=0)
    with pytest.raises(E.TransportError) as info:
        dead.call("crm.deal.list")
    seen += texts_of(info.value)
    for bad in (f"http://example.com/rest/1/{SECRET}/", f"https://x.com/rest/a/{SECRET}/"):
        with pytest.raises(E.WebhookURLError) as info:
            Client(bad)
        seen += texts_of(info.value)

    out = capsys.readouterr()
    client_records = [r for r in caplog.records if not r.name.startswith("bitrix_frames.sandbox")]
    seen += [out.out, out.err]
    seen += [r.getMessage() for r in client_records]
    seen += [logging.Formatter().format(r) for r in client_records]
    assert "rows" in out.err  # the progress bars really were drawn
    assert any("/rest/1/***/" in r.getMessage() for r in client_records)  # urllib3 was logging
    leaks = [t for t in seen if SECRET in t]
    assert not leaks, leaks[:3]
