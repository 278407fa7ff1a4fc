"""HTTP: one keep-alive ``requests.Session`` per Client, JSON POST, envelope parsing, redirects.

The transport moves one request and says what happened; it neither throttles nor retries (the
Client does). Redirects (301/302/303/307/308, e.g. after a portal moved) are followed by POSTing
the same body to ``Location`` (``requests`` would turn a 302 POST into a body-less GET). Every
``requests`` exception becomes :class:`~bitrix_frames.errors.TransportError` with the secret
masked and ``sent=False`` only when the request provably never left.

Example::

    t = Transport(parse_webhook(url))
    status, envelope = t.post("crm.deal.list", {"select": ["ID"], "start": -1})
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .encoding import dumps
from .errors import TransportError
from .redact import mask
from .webhook import Webhook, _is_loopback, parse_webhook

DEFAULT_TIMEOUT = (10.0, 90.0)
"""(connect, read) seconds: a 50-command batch may run close to the portal's 60 s cut-off."""
_MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


class Transport:
    """POST JSON to ``<webhook>/<method>`` and return ``(status, envelope)``."""

    def __init__(
        self,
        webhook: Webhook,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        pool_size: int = 32,
    ) -> None:
        self.webhook = webhook
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "User-Agent": f"bitrix-frames/{__version__}",
            }
        )
        self.session.trust_env = False  # no proxies / netrc picked up from the environment

    def close(self) -> None:
        self.session.close()

    def post(self, method: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        """One exchange. Returns the HTTP status and the decoded JSON (None when not JSON)."""
        data = dumps(body or {})
        url = self.webhook.method_url(method)
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._send(url, data, method)
            if response.status_code not in _REDIRECTS:
                return response.status_code, _decode(response, method)
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise TransportError(
                    "redirect without Location", method=method, status=response.status_code
                )
            url = urljoin(url, location)
            self._follow_move(url, method)
        raise TransportError("too many redirects", method=method)

    def _follow_move(self, url: str, method: str) -> None:
        """Check a redirect target; one that moves the whole webhook base is kept for later calls."""
        parts = urlsplit(url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and _is_loopback(parts.hostname or "")
        ):
            # The Location carries the secret in its path: never send it over plain http.
            raise TransportError(
                f"refusing a redirect to {parts.scheme}://{parts.hostname}", method=method
            )
        suffix = "/" + method
        if url.endswith(suffix):
            with contextlib.suppress(Exception):  # not webhook-shaped: follow for this call only
                self.webhook = parse_webhook(url[: -len(suffix)] + "/")

    def _send(self, url: str, data: bytes, method: str) -> requests.Response:
        try:
            return self.session.post(url, data=data, timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.ConnectTimeout as e:
            err = TransportError(f"connect timeout: {mask(e)}", method=method, sent=False)
        except requests.exceptions.Timeout as e:
            err = TransportError(f"read timeout: {mask(e)}", method=method, sent=True)
        except requests.exceptions.ConnectionError as e:
            err = TransportError(f"connection error: {mask(e)}", method=method, sent=_was_sent(e))
        except requests.exceptions.RequestException as e:
            err = TransportError(f"request failed: {mask(e)}", method=method, sent=True)
        # Raised outside the except blocks: the requests exception (its text holds the URL with
        # the secret) must not travel along as __context__ into tracebacks.
        raise err


def _was_sent(error: requests.exceptions.ConnectionError) -> bool:
    """False only when the connection itself could not be opened (nothing was written)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    seen, cause = set(), error
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


def _decode(response: requests.Response, method: str) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        text = mask(response.text[:200]) if response.content else ""
        if response.status_code < 400:
            raise TransportError(
                f"response is not JSON: {text!r}", method=method, status=response.status_code
            ) from None
        return None
