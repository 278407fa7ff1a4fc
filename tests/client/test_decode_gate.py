"""The decode gate of streamed reads: few decoded responses wait for the sink, every path releases.

A keyset read with a sink (frames.load, datasets.export) runs several chains in threads; each
chain decodes its answer only while it holds the :class:`DecodeGate` and keeps it until its rows
were handed to the sink. Against a live sandbox of 20,000 deals (eight chains): the gate's counter
never sees more decoded-unconsumed responses than permits, other chains' answers did wait
undecoded, and the rows equal an ungated read. Against a loopback server that forwards to the
sandbox but spoils one chain answer (garbage, an error envelope, a failed page): the gate is free
after the read (failed or retried), no retry pause holds it, and the next read on the same client
and gate completes.
"""

from __future__ import annotations

import http.client
import json
import threading

import pytest
import sandboxes
from client_helpers import FAST
from hostile_server import Connection, HostileServer, head

from bitrix_frames import errors as E
from bitrix_frames.client import Client
from bitrix_frames.gate import DecodeGate
from bitrix_frames.paging import list_rows
from bitrix_frames.query import ListQuery

N_DEALS = 20_000
WIDE = ListQuery(select=["*", "UF_*"])


@pytest.fixture(scope="module")
def sandbox():
    sb = sandboxes.start(N_DEALS)
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def reference(sandbox):
    """The ungated read: every row collected by the client, no sink."""
    with Client(sandbox.webhook_url, **FAST) as client:
        rows = client.list("crm.deal.list", select=WIDE.select)
    assert len(rows) == N_DEALS
    return rows


class Recorder:
    """A sink that records each hand-over; the first one made under the gate waits (at most
    ``patience`` s) until another chain's decoded answer has queued at the gate."""

    def __init__(self, gate: DecodeGate, patience: float = 20.0) -> None:
        self.gate, self.patience = gate, patience
        self.rows: list[dict] = []
        self.calls: list[tuple[bool, int]] = []  # (under the gate, decoded-unconsumed then)
        self.saw_waiter = False
        self._lock = threading.Lock()

    def __call__(self, rows: list[dict]) -> None:
        holding = self.gate.holding()
        if holding and not self.saw_waiter:
            self.saw_waiter = _until(lambda: self.gate.waited >= 1, self.patience)
        with self._lock:
            self.calls.append((holding, self.gate.held))
            self.rows.extend(rows)


def _until(condition, seconds: float) -> bool:
    done = threading.Event()
    for _ in range(int(seconds * 100)):
        if condition():
            return True
        done.wait(0.01)
    return condition()


def by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: int(r["ID"]))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("permits", [1, 2])
def test_gate_bounds_decoded_responses_and_rows_match(sandbox, reference, permits):
    gate = DecodeGate(permits)
    sink = Recorder(gate)
    with Client(sandbox.webhook_url, max_workers=8, **FAST) as client:
        rows, _ = list_rows(client, "crm.deal.list", WIDE, progress=False, sink=sink, gate=gate)
    assert rows == []
    assert gate.held == 0  # every permit came back
    assert 1 <= gate.peak <= permits  # the bound, as counted by the gate
    assert all(held <= permits for _, held in sink.calls)
    # eight chains: their answers went through the gate and were handed over while held
    # (at most the discovery answer, read before the chains start, is handed over outside it)
    gated = [c for c in sink.calls if c[0]]
    assert gate.entries >= 7 and len(gated) >= len(sink.calls) - 1 and len(gated) >= 7
    if permits == 1:  # another chain's answer waited undecoded while one was in the sink
        assert sink.saw_waiter and gate.waited >= 1
    assert by_id(sink.rows) == reference  # the same rows, the same content


# -- error paths: a loopback server between the client and the sandbox -----------------------
def _is_chain(body: bytes) -> bool:
    """A chain request (not the discovery batch, which asks for the lo/hi/n commands)."""
    return b'"c0"' in body and b'"lo"' not in body


class Spoiler:
    """Forwards every request to the sandbox; the ``nth`` chain answer is spoiled by ``how``:
    ``garbage`` (not JSON), ``server_error`` (HTTP 500 error envelope), ``page_error`` (the
    sandbox's answer with its page ``c1`` turned into a refused command)."""

    def __init__(self, target: str, how: str, nth: int = 3) -> None:
        self.host, _, port = target.partition(":")
        self.port = int(port)
        self.how, self.nth = how, nth
        self.chains = 0
        self.spoiled = 0
        self._lock = threading.Lock()

    def __call__(self, conn: Connection) -> None:
        req = conn.request
        method, path, _ = req.line.split(" ", 2)
        with self._lock:
            chain = _is_chain(req.body)
            self.chains += chain
            spoil = chain and self.chains == self.nth
            self.spoiled += spoil
        upstream = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            upstream.request(method, path, req.body, {"Content-Type": "application/json"})
            answer = upstream.getresponse()
            status, data = answer.status, answer.read()
        finally:
            upstream.close()
        if spoil and self.how == "garbage":
            status, data = 200, data[: len(data) // 2]  # cut mid-body: not JSON
        elif spoil and self.how == "server_error":
            status = 500
            data = json.dumps({"error": "INTERNAL_SERVER_ERROR", "error_description": "x"}).encode()
        elif spoil and self.how == "page_error":
            envelope = json.loads(data)
            inner = envelope["result"]
            inner["result"].pop("c1", None)
            inner["result_error"] = {
                "c1": {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
            }
            data = json.dumps(envelope).encode()
        reason = {200: "OK", 500: "Internal Server Error"}.get(status, "X")
        conn.send(head(f"{status} {reason}", Content_Length=str(len(data))) + data)


def _watch_pauses(client: Client, gate: DecodeGate) -> list[bool]:
    """Whether the pausing thread held the gate, for every retry pause of ``client``."""
    held: list[bool] = []
    sleep = client.waits.sleep

    def recording(seconds: float, *args, **kw) -> None:
        held.append(gate.holding())
        sleep(seconds, *args, **kw)

    client.waits.sleep = recording  # type: ignore[method-assign]
    return held


SMALL = ListQuery(select=["ID", "TITLE"], filter={"<=ID": 12_000})  # four chains


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("how", "retries", "outcome"),
    [
        ("garbage", 8, E.MalformedResponse),  # final: the read fails
        ("server_error", 0, E.ServerError),  # no retries left: the read fails
        ("server_error", 8, None),  # retried after a pause: the read completes
        ("page_error", 8, None),  # the chain resumes after its last full page
    ],
)
def test_every_error_path_releases_the_gate(sandbox, how, retries, outcome):
    spoiler = Spoiler(f"127.0.0.1:{sandbox.port}", how)
    expected = list(range(1, 12_001))
    with HostileServer(spoiler, max_seconds=30) as hs:
        gate = DecodeGate(1)
        with Client(
            hs.url(sandbox.config.secret, sandbox.config.user_id),
            max_workers=8,
            max_retries=retries,
            **FAST,
        ) as c:
            pauses = _watch_pauses(c, gate)
            sink = Recorder(gate, patience=0)
            if outcome is None:
                list_rows(c, "crm.deal.list", SMALL, progress=False, sink=sink, gate=gate)
                assert sorted(int(r["ID"]) for r in sink.rows) == expected
                assert pauses  # the spoiled answer was retried after a pause...
            else:
                with pytest.raises(outcome):
                    list_rows(c, "crm.deal.list", SMALL, progress=False, sink=sink, gate=gate)
            assert spoiler.spoiled == 1
            assert gate.held == 0
            assert not any(pauses)  # ...never holding the gate
            # the same client and gate read everything afterwards
            again = Recorder(gate, patience=0)
            list_rows(c, "crm.deal.list", SMALL, progress=False, sink=again, gate=gate)
            assert sorted(int(r["ID"]) for r in again.rows) == expected
            assert gate.held == 0 and gate.peak == 1


@pytest.mark.timeout(120)
def test_an_exception_in_the_sink_releases_the_gate(sandbox):
    gate = DecodeGate(1)

    class Boom(Exception):
        pass

    calls = []

    def failing(rows: list[dict]) -> None:
        calls.append(len(rows))
        if len(calls) == 3:
            raise Boom

    with Client(sandbox.webhook_url, max_workers=8, **FAST) as client:
        with pytest.raises(Boom):
            list_rows(client, "crm.deal.list", SMALL, progress=False, sink=failing, gate=gate)
        assert gate.held == 0
        again = Recorder(gate, patience=0)
        list_rows(client, "crm.deal.list", SMALL, progress=False, sink=again, gate=gate)
    assert len(again.rows) == 12_000 and gate.held == 0


def test_reads_without_a_sink_pass_no_gate(sandbox):
    """client.list collects rows ungated: the transport decodes at once in every chain."""
    gate = DecodeGate(1)
    with Client(sandbox.webhook_url, max_workers=8, **FAST) as client:
        rows, _ = list_rows(client, "crm.deal.list", SMALL, progress=False, gate=gate)
    assert len(rows) == 12_000 and gate.entries == 0
