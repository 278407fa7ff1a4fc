"""The ``batch`` method: commands in, :class:`BatchResult` out (PROTOCOL §7).

Commands are ``{name: (method, params)}``; params are encoded into each command's query string
(see :mod:`bitrix_frames.encoding`), ``$result[name][...]`` references pass through untouched.
The portal runs at most 50 commands per request; :func:`chunks` splits bigger sets. PHP sends
``[]`` for every empty map of the response, which is accepted wherever an object is expected.

Example::

    body = request_body({"a": ("crm.lead.get", {"id": 5})}, halt=False)
    # {"halt": 0, "cmd": {"a": "crm.lead.get?id=5"}}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .encoding import command
from .envelope import check_time, count, show
from .errors import BitrixError, MalformedResponse, from_envelope

MAX_COMMANDS = 50

Command = tuple[str, Mapping[str, Any] | None] | str
"""``(method, params)`` or a ready ``"method?query"`` string."""


@dataclass
class BatchResult:
    """Outcome of :meth:`Client.batch`: per-command results, errors, totals and next offsets.

    Example::

        res = client.batch({"me": ("user.current", {}), "n": ("crm.deal.list", {"start": -1})})
        res.result["me"]["ID"], res.errors    # {} when everything worked
    """

    result: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, BitrixError] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    next: dict[str, int] = field(default_factory=dict)
    time: dict[str, dict] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        for name in ("result", "errors", "total", "next", "time"):
            getattr(self, name).update(getattr(other, name))

    def __getitem__(self, name: str) -> Any:
        """The result of command ``name``; raises its error if it failed."""
        if name in self.errors:
            raise self.errors[name]
        return self.result[name]


def normalize(commands: Mapping[str, Command] | list[Command]) -> dict[str, Command]:
    """Accept a mapping or a list (numeric names, as the portal does)."""
    if isinstance(commands, Mapping):
        return {str(k): v for k, v in commands.items()}
    return {str(i): v for i, v in enumerate(commands)}


def method_of(cmd: Command) -> str:
    """The method name of one command."""
    if isinstance(cmd, str):
        return cmd.split("?", 1)[0]
    return cmd[0]


def encode(cmd: Command) -> str:
    return cmd if isinstance(cmd, str) else command(cmd[0], cmd[1])


def chunks(commands: dict[str, Command], size: int = MAX_COMMANDS) -> Iterator[dict[str, Command]]:
    """Split commands into batches of at most ``size`` (references only work inside a chunk)."""
    items = list(commands.items())
    for i in range(0, len(items), size):
        yield dict(items[i : i + size])


def request_body(commands: dict[str, Command], *, halt: bool) -> dict[str, Any]:
    """The JSON body of one ``batch`` request."""
    return {"halt": 1 if halt else 0, "cmd": {name: encode(c) for name, c in commands.items()}}


def _as_map(value: Any, name: str = "", method: str | None = None) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, list):  # PHP: a map keyed 0..n-1 is emitted as a list; empty map as []
        return {str(i): v for i, v in enumerate(value)}
    if value is None:
        return {}
    raise MalformedResponse(f"batch {name} is {show(value)}, not an object", method=method)


def parse(envelope: Any, commands: dict[str, Command]) -> BatchResult:
    """Split a batch envelope's ``result`` into a :class:`BatchResult`.

    Fields of the wrong type (``result_total: {"a": "many"}``, a string ``result``) raise
    :class:`~bitrix_frames.errors.MalformedResponse`."""
    inner = envelope.get("result") if isinstance(envelope, dict) else None
    if not isinstance(inner, dict):
        raise MalformedResponse(f"batch result is {show(inner)}, not an object", method="batch")
    out = BatchResult(
        result=_as_map(inner.get("result"), "result", "batch"),
        total={
            k: count(v, f"result_total[{k}]", "batch")
            for k, v in _as_map(inner.get("result_total"), "result_total", "batch").items()
        },
        next={
            k: count(v, f"result_next[{k}]", "batch")
            for k, v in _as_map(inner.get("result_next"), "result_next", "batch").items()
        },
        time={
            k: check_time(v, f"result_time[{k}]", "batch")
            for k, v in _as_map(inner.get("result_time"), "result_time", "batch").items()
        },
    )
    for name, body in _as_map(inner.get("result_error"), "result_error", "batch").items():
        cmd = commands.get(name)
        out.errors[name] = from_envelope(body, method=method_of(cmd) if cmd else None)
    return out
