"""A hostile server never hangs, bloats or crashes the client: every answer is a typed error.

Each case of ``hostile_server.CASES`` runs against a live loopback server of our own. Asserted: the
exact BitrixError subclass, that a server which would send forever saw the client hang up, that the
process grew by less than 100 MB meanwhile, and that the secret is in no error text. Times are not
asserted here (bench/hostile.py measures them against the deadline).
"""

from __future__ import annotations

import threading

import psutil
import pytest
from client_helpers import FAST
from hostile_server import CASES, Case, HostileServer, answer, redirect, trickle
from test_secrets import texts_of

from bitrix_frames import errors as E
from bitrix_frames.client import Client
from bitrix_frames.portal import connect

SECRET = "hostileSecret0099"
OPTIONS = {
    **FAST,
    "deadline": 2.0,
    "max_retries": 0,
    "max_response_bytes": 2 * 2**20,
    "max_decoded_bytes": 8 * 2**20,
}


def drive(client: Client, call: str) -> None:
    if call == "call":
        client.call("crm.deal.list", select=["ID"])
    elif call == "list":
        client.list("user.get")
    elif call == "keyset":
        client.list("crm.deal.list", select=["ID"])
    elif call == "batch":
        client.batch({"a": ("crm.deal.get", {"id": 1}), "b": ("crm.deal.get", {"id": 2})})
    else:
        raise AssertionError(call)


class PeakRss:
    """Highest RSS growth seen while the block runs (sampled every 5 ms)."""

    def __enter__(self) -> PeakRss:
        self._proc = psutil.Process()
        self.base = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_answer_is_a_typed_error(case: Case):
    expected = getattr(E, case.error)
    with HostileServer(case.behaviour(), max_seconds=20) as hs:
        client = Client(hs.url(SECRET), **OPTIONS)
        with PeakRss() as rss, pytest.raises(E.BitrixError) as info:
            drive(client, case.call)
        client.close()
        assert type(info.value) is expected, info.value
        assert isinstance(info.value, E.TransportError)
        if case.streams:
            assert hs.client_hung_up.wait(5), "the client kept reading an endless body"
            assert not hs.finished_sending.is_set()
    assert rss.growth_mb < 100, f"{rss.growth_mb:.0f} MB"
    assert not any(SECRET in t for t in texts_of(info.value))


@pytest.mark.timeout(60)
def test_trickle_is_cut_at_the_deadline_not_at_the_end_of_the_body():
    body = b'{"result": []}' + b" " * 600  # ten minutes at one byte a second
    with HostileServer(trickle(body, interval=1.0), max_seconds=30) as hs:
        client = Client(hs.url(SECRET), **OPTIONS)
        with pytest.raises(E.DeadlineExceeded) as info:
            client.call("crm.deal.list")
        assert "2 s deadline" in str(info.value)
        assert hs.client_hung_up.wait(5) and not hs.finished_sending.is_set()


def test_deadline_exceeded_on_a_write_is_ambiguous_and_not_resent():
    with HostileServer(trickle(b'{"result": 5}' + b" " * 100, interval=0.5)) as hs:
        client = Client(hs.url(SECRET), **{**OPTIONS, "max_retries": 5})
        with pytest.raises(E.AmbiguousWriteError) as info:
            client.call("crm.deal.add", fields={"TITLE": "x"})
        assert isinstance(info.value.__cause__, E.DeadlineExceeded)
        assert len(hs.requests) == 1


def test_malformed_read_is_not_retried():
    with HostileServer(answer({"result": "oops"})) as hs:
        client = Client(hs.url(SECRET), **{**OPTIONS, "max_retries": 5})
        with pytest.raises(E.MalformedResponse):
            client.list("user.get")
        assert len(hs.requests) == 1


@pytest.mark.parametrize("method", ["crm.deal.list", "crm.deal.add", "batch"])
def test_redirect_to_another_origin_sends_nothing_there(method):
    with HostileServer(answer({"result": []})) as other:
        target = other.url(SECRET) + method  # the secret in the path, as a moved portal would say
        with HostileServer(redirect(target)) as hs:
            client = Client(hs.url(SECRET), **{**OPTIONS, "max_retries": 3})
            before = client.masked_url
            params = {"fields": {"TITLE": "x"}} if method.endswith("add") else {}
            with pytest.raises(E.RedirectError) as info:
                if method == "batch":
                    client.batch({"a": ("crm.deal.add", {"fields": {"TITLE": "x"}})})
                else:
                    client.call(method, params)
            assert other.origin.removeprefix("http://") in str(info.value)  # where it wanted to go
            assert not any(SECRET in t for t in texts_of(info.value))
            assert len(hs.requests) == 1  # not retried either
            # the client's target never changes: the next call goes to the first server again
            assert client.masked_url == before
            with pytest.raises(E.RedirectError):
                client.call("crm.deal.list")
            assert len(hs.requests) == 2
        assert other.requests == [] and bytes(other.received) == b""


NOT_ROWS = [
    {"result": "oops", "total": "many"},
    {"result": "oops"},
    {"result": 5},
    {"result": None},
    {"result": ["a"]},
]
ODD_ROWS = [  # objects where rows are expected: a loader may accept them, but only typed errors
    {"result": {"ID": {"type": 5}}},
    {"result": {"tasks": [{"id": "x"}]}, "total": 1},
    {"result": {"result": {"lo": [{"ID": "1"}], "hi": [{"ID": "1"}], "n": 7}}},
]
LOADERS = ["deals", "leads", "contacts", "companies", "users", "tasks", "stages", "pipelines",
           "statuses", "fields"]  # fmt: skip


def load(portal, name):
    return getattr(portal, name)("deal") if name == "fields" else getattr(portal, name)()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("body", NOT_ROWS, ids=[str(i) for i in range(len(NOT_ROWS))])
def test_portal_loaders_on_results_without_rows_raise_malformed(body):
    """Every loader fails with MalformedResponse, never KeyError/TypeError or an empty frame."""
    with HostileServer(answer(body)) as hs:
        portal = connect(hs.url(SECRET), **OPTIONS)
        for name in LOADERS:
            with pytest.raises(E.BitrixError) as info:
                load(portal, name)
            assert isinstance(info.value, E.MalformedResponse), (name, info.value)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("body", ODD_ROWS, ids=[str(i) for i in range(len(ODD_ROWS))])
def test_portal_loaders_on_odd_rows_raise_only_typed_errors(body):
    with HostileServer(answer(body)) as hs:
        portal = connect(hs.url(SECRET), **OPTIONS)
        failed = 0
        for name in LOADERS:
            try:
                load(portal, name)
            except E.BitrixError:
                failed += 1
        assert failed >= 6  # the entity loaders need an ID in every row


@pytest.mark.timeout(60)
def test_file_download_obeys_the_deadline_and_stays_on_the_origin():
    with HostileServer(trickle(b"\x89PNG" + b"\0" * 600, interval=0.5), max_seconds=30) as hs:
        client = Client(hs.url(SECRET), **OPTIONS)
        with pytest.raises(E.DeadlineExceeded):
            client.download("/upload/photo.png")
        assert hs.client_hung_up.wait(5) and not hs.finished_sending.is_set()
        with pytest.raises(E.TransportError):
            client.download("https://elsewhere.example/upload/photo.png")
        assert len(hs.requests) == 1
