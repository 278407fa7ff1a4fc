"""HTTP: one keep-alive ``requests.Session`` per Client, JSON POST, bounded reads, redirects.

The transport moves one request and says what happened; it neither throttles nor retries (the
Client does). What it guarantees against a bad network or a hostile server:

- **deadline**: connect, request, headers and the whole body end within ``deadline`` seconds
  (:mod:`bitrix_frames.deadline`), else :class:`~bitrix_frames.errors.DeadlineExceeded`;
- **size caps**: at most ``max_response_bytes`` read from the wire and ``max_decoded_bytes`` after
  gzip/deflate, else :class:`~bitrix_frames.errors.ResponseTooLarge` (:mod:`bitrix_frames.body`);
- **strict JSON**: anything but sane UTF-8 JSON is :class:`~bitrix_frames.errors.MalformedResponse`;
- **redirects**: a redirect within the same origin (scheme, host, port) is followed for this call
  only, re-POSTing the same body (``requests`` would turn a 302 POST into a body-less GET); one to
  another origin raises :class:`~bitrix_frames.errors.RedirectError`, nothing is sent there and
  the target never changes;
- **proxies and CAs**: ``proxies=None`` and ``verify=None`` take the standard environment variables
  (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``; ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
  ``SSL_CERT_FILE``, ``SSL_CERT_DIR``). Loopback targets never go through a proxy; https goes
  through a ``CONNECT`` tunnel, so a proxy sees only ``host:port``, never the webhook path.

Every failure is a :class:`~bitrix_frames.errors.TransportError` (or subclass) with the secret
masked and ``sent=False`` only when the request provably never left.

Example::

    t = Transport(parse_webhook(url), deadline=30)
    status, envelope = t.post("crm.deal.list", {"select": ["ID"], "start": -1})
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.auth import AuthBase
from requests.utils import get_auth_from_url, get_environ_proxies, select_proxy

from ._version import __version__
from .body import _CHUNK, parse_json, read_body
from .deadline import Deadline, DeadlineAdapter, running
from .encoding import dumps
from .errors import (
    DeadlineExceeded,
    RedirectError,
    ResponseTooLarge,
    TransportError,
    ValidationError,
)
from .gate import DecodeGate
from .redact import mask, register_secret
from .webhook import Webhook, _is_loopback

DEFAULT_TIMEOUT = (10.0, 90.0)
"""(connect, read) seconds: a 50-command batch may run close to the portal's 60 s cut-off."""
DEFAULT_MAX_RESPONSE_BYTES = 32 * 2**20
"""Bytes read from the wire per response (a 50-page batch of wide rows is a few MB)."""
DEFAULT_MAX_DECODED_BYTES = 64 * 2**20
"""Bytes of body after gzip/deflate decoding."""
CA_ENV_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
_MAX_REDIRECTS = 5
MAX_DOWNLOAD = 100 * 2**20
"""Largest file :meth:`Transport.download` reads (bytes)."""
_REDIRECTS = (301, 302, 303, 307, 308)

Proxies = Mapping[str, str] | str | bool | None
"""``None``: from the environment; ``False``: none; a URL for every scheme; or a requests-style
``{"https": url, "all": url}`` mapping."""


class _NoAuth(AuthBase):
    """Keeps ``requests`` from adding ``~/.netrc`` credentials to a webhook request."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class Transport:
    """POST JSON to ``<webhook>/<method>`` and return ``(status, envelope)``.

    Args:
        timeout: ``(connect, read)`` seconds for each socket operation.
        deadline: seconds for the whole exchange (connect + request + whole body); ``None`` means
            connect + read timeout (100 s by default, above the portal's 60 s cut-off).
        max_response_bytes / max_decoded_bytes: body caps on the wire / after decompression.
        verify: ``True``, ``False`` or a CA bundle path; ``None`` reads ``REQUESTS_CA_BUNDLE``,
            ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` (first set), else ``True``.
        proxies: see :data:`Proxies`; ``None`` reads ``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``.
    """

    def __init__(
        self,
        webhook: Webhook,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
        verify: bool | str | None = None,
        proxies: Proxies = None,
        pool_size: int = 32,
    ) -> None:
        self.webhook = webhook
        self.timeout = timeout
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.deadline = float(deadline) if deadline is not None else float(connect) + float(read)
        if not self.deadline > 0:
            raise ValidationError(f"deadline must be a positive number of seconds, not {deadline}")
        self.max_response_bytes = int(max_response_bytes)
        self.max_decoded_bytes = int(max_decoded_bytes)
        self.verify = _verify_from(verify)
        self.proxies = _proxies_from(proxies)
        self.session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": f"bitrix-frames/{__version__}",
            }
        )
        # The environment was read above, once and explicitly; requests must not merge it again
        # per request, nor pick up ~/.netrc credentials.
        self.session.trust_env = False
        self.session.auth = _NoAuth()

    def close(self) -> None:
        self.session.close()

    def post(
        self, method: str, body: dict[str, Any] | None, *, gate: DecodeGate | None = None
    ) -> tuple[int, Any]:
        """One exchange. Returns the HTTP status and the decoded JSON (None for an error status
        whose body is not JSON).

        ``gate``: the body is read whole first, then decoded only once the calling thread holds
        the gate (:mod:`~bitrix_frames.gate`); it returns holding it, or raises having released it."""
        data = dumps(body or {})
        url = self.webhook.method_url(method)
        origin = _origin(url)
        for _ in range(_MAX_REDIRECTS + 1):
            status, headers, payload = self._exchange(url, data, method, gate)
            if status not in _REDIRECTS:
                return status, payload
            location = headers.get("Location")
            if not location:
                raise RedirectError("redirect without Location", method=method, status=status)
            target = urljoin(url, location)
            if _origin(target) != origin:
                raise RedirectError(
                    f"the server redirects to another origin ({_show_origin(target)}); "
                    "nothing was sent there. If the portal moved, connect with its new webhook URL",
                    method=method,
                    status=status,
                )
            url = target  # same origin: follow for this call only
        raise RedirectError(f"more than {_MAX_REDIRECTS} redirects", method=method)

    def download(self, url: str, *, max_bytes: int = MAX_DOWNLOAD) -> bytes:
        """GET a file URL the portal gave (``showUrl``/``downloadUrl``, usually portal-relative).

        Only URLs on the portal's own origin are fetched (no redirects followed), and at most
        ``max_bytes`` are read; anything else raises :class:`TransportError`.
        """
        hook = self.webhook
        base = f"{hook.scheme}://{hook.netloc}{hook.prefix}/"
        target = urljoin(base, url.lstrip("/") if not urlsplit(url).scheme else url)
        if _origin(target) != _origin(base):
            raise TransportError("refusing to download a file from another origin", method="file")
        deadline = Deadline(self.deadline)  # the whole download, as for every other exchange
        with running(deadline):
            try:
                response = self.session.get(
                    target,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept": "*/*"},
                    verify=self.verify,
                    proxies=self._proxy_for(target, "file"),
                )
            except requests.exceptions.RequestException as e:
                err = TransportError(f"file download failed: {mask(e)}", method="file")
                raise (self._too_slow("file") if deadline.fired else err) from None
            with response:
                if response.status_code != 200:
                    raise TransportError(
                        f"file download answered HTTP {response.status_code}",
                        method="file",
                        status=response.status_code,
                    )
                try:
                    data = response.raw.read(max_bytes + 1, decode_content=True)
                except (urllib3.exceptions.HTTPError, OSError) as e:
                    err = TransportError(f"file download broken: {mask(e)}", method="file")
                    raise (self._too_slow("file") if deadline.fired else err) from None
            if deadline.fired:
                raise self._too_slow("file")
        if len(data) > max_bytes:
            raise TransportError(f"file larger than {max_bytes} bytes", method="file")
        return data

    # -- one request/response --------------------------------------------------------------
    def _exchange(
        self, url: str, data: bytes, method: str, gate: DecodeGate | None = None
    ) -> tuple[int, Any, Any]:
        proxies = self._proxy_for(url, method)
        deadline = Deadline(self.deadline)
        with running(deadline):
            response = self._send(url, data, method, deadline, proxies)
            try:
                status, headers = response.status_code, response.headers
                if status in _REDIRECTS:
                    return status, headers, None
                raw = self._read(response, method, deadline)
            finally:
                response.close()
        if gate is None:
            return self._decode(status, headers, raw, method)
        gate.enter()  # the raw bytes of a gated read wait here, undecoded
        try:
            return self._decode(status, headers, raw, method)
        except BaseException:
            gate.leave()
            raise

    def _decode(
        self, status: int, headers: Any, raw: bytearray, method: str
    ) -> tuple[int, Any, Any]:
        if status < 400:
            return status, headers, parse_json(raw, method=method, status=status)
        try:  # an error status: its envelope if it has one (an HTML error page says nothing more)
            return status, headers, parse_json(raw, method=method, status=status) if raw else None
        except TransportError:
            return status, headers, None

    def _read(self, response: requests.Response, method: str, deadline: Deadline) -> bytearray:
        length = response.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > self.max_response_bytes:
            raise ResponseTooLarge(
                f"response announces {int(length)} bytes, above {self.max_response_bytes}",
                method=method,
                status=response.status_code,
            )
        status = response.status_code

        def check() -> None:
            if deadline.expired():
                raise self._too_slow(method, status)

        err: TransportError | None = None
        try:
            body = read_body(
                response.raw.stream(_CHUNK, decode_content=False),
                encoding=response.headers.get("Content-Encoding", ""),
                max_wire=self.max_response_bytes,
                max_decoded=self.max_decoded_bytes,
                method=method,
                check=check,
            )
        except TransportError as e:
            e.status = e.status or status
            raise
        except urllib3.exceptions.ReadTimeoutError as e:
            err = TransportError(f"read timeout: {mask(e)}", method=method, status=status)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as e:
            err = TransportError(
                f"connection broken while reading: {mask(e)}", method=method, status=status
            )
        if deadline.fired:  # the watchdog cut the socket: whatever came is incomplete
            raise self._too_slow(method, status)
        if err is not None:
            raise err
        return body

    def _too_slow(self, method: str, status: int | None = None) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"no complete answer within the {self.deadline:g} s deadline",
            method=method,
            status=status,
        )

    def _send(
        self, url: str, data: bytes, method: str, deadline: Deadline, proxies: dict[str, str]
    ) -> requests.Response:
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout,) * 2
        timeout = (min(float(connect), self.deadline), min(float(read), self.deadline))
        try:
            return self.session.post(
                url,
                data=data,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                verify=self.verify,
                proxies=proxies,
            )
        except requests.exceptions.ConnectTimeout as e:
            err = TransportError(f"connect timeout: {mask(e)}", method=method, sent=False)
        except requests.exceptions.Timeout as e:
            err = TransportError(f"read timeout: {mask(e)}", method=method, sent=True)
        except requests.exceptions.ConnectionError as e:
            err = TransportError(f"connection error: {mask(e)}", method=method, sent=_was_sent(e))
        except requests.exceptions.RequestException as e:
            err = TransportError(f"request failed: {mask(e)}", method=method, sent=True)
        if deadline.fired:
            err = self._too_slow(method)
        # Raised outside the except blocks: the requests exception (its text holds the URL with
        # the secret) must not travel along as __context__ into tracebacks.
        raise err

    def _proxy_for(self, url: str, method: str) -> dict[str, str]:
        """The proxy for ``url`` as a requests ``proxies`` mapping ({} for none)."""
        parts = urlsplit(url)
        if _is_loopback(parts.hostname or ""):
            return {}  # the sandbox and other local servers: never through a proxy
        proxies = get_environ_proxies(url) if self.proxies is None else self.proxies
        proxy = select_proxy(url, proxies) if proxies else None
        if not proxy:
            return {}
        if parts.scheme != "https":
            # A plain-http request through a proxy would show it the secret in the request line.
            raise TransportError(
                "refusing to send a plain-http webhook request through a proxy",
                method=method,
                sent=False,
            )
        _register_proxy_password(proxy)
        return {parts.scheme: proxy}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _show_origin(url: str) -> str:
    scheme, host, port = _origin(url)
    return mask(f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}")


def _verify_from(verify: bool | str | None) -> bool | str:
    if verify is not None:
        return verify
    for name in CA_ENV_VARS:
        value = os.environ.get(name)
        if value:
            return value
    return True


def _proxies_from(proxies: Proxies) -> dict[str, str] | None:
    if proxies is None:
        return None  # read from the environment per target
    if proxies is False or proxies == {}:
        return {}
    if isinstance(proxies, str):
        return {"all": proxies}
    if isinstance(proxies, Mapping):
        return {str(k): str(v) for k, v in proxies.items() if v}
    raise ValidationError(f"proxies must be a URL, a mapping, False or None, not {proxies!r}")


def _register_proxy_password(proxy: str) -> None:
    _, password = get_auth_from_url(proxy)
    if password:
        register_secret(password)


def _was_sent(error: requests.exceptions.ConnectionError) -> bool:
    """False only when the connection itself could not be opened (nothing was written)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | NameResolutionError | ConnectionRefusedError):
            return False
        reason = getattr(cause, "reason", None)
        cause = (
            reason if isinstance(reason, BaseException) else (cause.__cause__ or cause.__context__)
        )
    for arg in error.args:
        reason = getattr(arg, "reason", None)
        if isinstance(reason, NewConnectionError | NameResolutionError):
            return False
    return True
