"""Reading a response body within size caps, and parsing it as strict JSON.

:func:`read_body` reads the raw bytes (never more than ``max_wire`` from the socket), inflates
gzip/deflate incrementally (never more than ``max_decoded`` bytes of output: a 10 KB bomb stops at
the cap, not at 10 GB) and returns the decoded bytes. :func:`parse_json` accepts only what a
Bitrix24 portal sends: UTF-8 JSON with finite numbers of at most 20 digits and bounded nesting.
Everything else is a :class:`~bitrix_frames.errors.MalformedResponse`.

Bodies are parsed by ``orjson`` when it is installed (about twice as fast as the standard
library on list pages, and it reads the ``bytearray`` without copying it to ``str``). Whatever
orjson refuses, and every body holding a run of 19 or more digits (orjson turns integers past
64 bits into floats where the strict parser refuses or keeps them), goes to the standard
library's parser, which gives the verdict and the reason.

Example::

    >>> parse_json(b'{"result": [1, 2], "total": 2}', method="crm.deal.list")
    {'result': [1, 2], 'total': 2}
    >>> parse_json(b'{"total": Infinity}', method="x")
    Traceback (most recent call last):
    ...
    bitrix_frames.errors.MalformedResponse: x: response is not valid JSON: non-finite number Infinity
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from .errors import MalformedResponse, ResponseTooLarge
from .redact import mask

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a core dependency; the parser works without
    _orjson = None  # type: ignore[assignment]

_CHUNK = 64 * 1024
_MAX_DIGITS = 20  # a 64-bit id has 19 or 20; longer integers only come from hostile servers


class _Inflater:
    """Incremental gzip/deflate/identity decoding with a cap on the output."""

    def __init__(self, encoding: str, limit: int, method: str) -> None:
        self.encoding, self.limit, self.method = encoding, limit, method
        self.out = bytearray()
        self._raw_deflate = False
        self._obj = self._new()

    def _new(self) -> Any:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)
        return None

    def _grow(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > self.limit:
            raise ResponseTooLarge(
                f"response body above {self.limit} bytes once decompressed ({self.encoding})",
                method=self.method,
            )

    def feed(self, data: bytes) -> None:
        if self._obj is None:
            self._grow(data)
            return
        while data:
            # At most _CHUNK out per step: one 64 KiB chunk of a bomb would inflate to 64 MiB.
            room = min(self.limit - len(self.out) + 1, _CHUNK)
            try:
                chunk = self._obj.decompress(data, room)
            except zlib.error:
                if self.encoding == "deflate" and not self._raw_deflate and not self.out:
                    self._raw_deflate = True  # some servers send raw deflate without zlib header
                    self._obj = self._new()
                    continue
                raise MalformedResponse(
                    f"response body is not valid {self.encoding} data", method=self.method
                ) from None
            self._grow(chunk)
            if self._obj.eof:  # a gzip stream may hold several members
                data = self._obj.unused_data
                self._obj = self._new() if data and self.encoding != "deflate" else self._obj
                if self.encoding == "deflate":
                    return
            else:
                data = self._obj.unconsumed_tail


def read_body(
    chunks: Iterable[bytes],
    *,
    encoding: str,
    max_wire: int,
    max_decoded: int,
    method: str,
    check: Callable[[], None] = lambda: None,
) -> bytearray:
    """The decoded body from raw ``chunks``; raises :class:`ResponseTooLarge` past a cap.

    ``check`` runs after every chunk (the transport raises there once its deadline passed).
    """
    enc = (encoding or "identity").strip().lower()
    if enc not in ("identity", "gzip", "x-gzip", "deflate"):
        raise MalformedResponse(f"unsupported Content-Encoding {enc[:40]!r}", method=method)
    inflater = _Inflater(enc, max_decoded, method)
    wire = 0
    for chunk in chunks:
        wire += len(chunk)
        if wire > max_wire:
            raise ResponseTooLarge(
                f"response body above {max_wire} bytes; stopped reading", method=method
            )
        inflater.feed(chunk)
        check()
    return inflater.out


class _Refused(Exception):
    pass


def _constant(name: str) -> Any:
    raise _Refused(f"non-finite number {name}")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise _Refused(f"integer of {len(text)} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number out of range {text[:30]}")
    return value


_DIGITS = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN = b"0" * 19
_BOM = b"\xef\xbb\xbf"


def _long_integer(body: bytes | bytearray) -> bool:
    """Whether ``body`` holds a run of 19+ digits that is not a fraction's (``0.0074374675750``:
    the envelope's timings have them; they parse alike either way)."""
    digits = body.translate(_DIGITS)
    at = digits.find(_LONG_RUN)
    while at >= 0:
        start = at
        while start > 0 and digits[start - 1] == 0x30:
            start -= 1
        if start == 0 or body[start - 1] != 0x2E:  # not after "."
            return True
        end = at + len(_LONG_RUN)
        while end < len(digits) and digits[end] == 0x30:
            end += 1
        at = digits.find(_LONG_RUN, end)
    return False


def _fast(body: bytes | bytearray) -> Any:
    """orjson's reading of ``body``, or ``_SLOW`` when the strict parser must decide."""
    if _orjson is None or body[:3] == _BOM or _long_integer(body):
        return _SLOW
    try:
        return _orjson.loads(body)
    except _orjson.JSONDecodeError:
        return _SLOW


_SLOW = object()


def parse_json(body: bytes | bytearray, *, method: str, status: int | None = None) -> Any:
    """Strict JSON: UTF-8 (BOM tolerated), finite numbers, integers of at most 20 digits."""
    parsed = _fast(body)
    if parsed is not _SLOW:
        return parsed
    try:
        text = bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MalformedResponse(
            f"response is not UTF-8 (byte {e.start})", method=method, status=status
        ) from None
    reason = ""
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_int, parse_float=_float)
    except _Refused as e:
        reason = str(e)
    except RecursionError:
        reason = "nested too deeply"
    except ValueError:  # JSONDecodeError
        reason = "not JSON: " + repr(mask(text[:120]))
    raise MalformedResponse(f"response is not valid JSON: {reason}", method=method, status=status)
