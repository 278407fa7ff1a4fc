"""Incoming-webhook URLs: parse, validate, mask.

A webhook looks like ``https://portal.bitrix24.com/rest/<user_id>/<secret>/``; a trailing method
(``profile.json``, ``crm.lead.list``) is accepted and stripped. Plain ``http`` is only allowed for
loopback hosts (the sandbox). Errors say what is wrong without repeating the secret.

Example::

    >>> hook = parse_webhook("https://x.bitrix24.com/rest/1/s3cr3t/profile.json")
    >>> hook.masked_url
    'https://x.bitrix24.com/rest/1/***/'
    >>> hook.method_url("crm.lead.list")  # doctest: +SKIP   (contains the secret: never print it)
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import WebhookURLError
from .redact import register_secret

ENV_VAR = "BITRIX_WEBHOOK_URL"
_UID = re.compile(r"^\d+$")
_SECRET = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class Webhook:
    """A validated incoming webhook. ``repr`` and ``str`` show only the masked form."""

    scheme: str
    netloc: str
    user_id: int
    secret: str = field(repr=False)
    prefix: str = ""
    """Path before ``/rest/`` (portals behind a reverse proxy); usually empty."""

    @property
    def base_url(self) -> str:
        """The full URL including the secret. Never log or display it."""
        return f"{self.scheme}://{self.netloc}{self.prefix}/rest/{self.user_id}/{self.secret}/"

    @property
    def masked_url(self) -> str:
        """``https://host/rest/<uid>/***/``: the only form that may be shown."""
        return f"{self.scheme}://{self.netloc}{self.prefix}/rest/{self.user_id}/***/"

    def method_url(self, method: str) -> str:
        """URL to POST ``method`` to (contains the secret)."""
        return self.base_url + method

    def __str__(self) -> str:
        return self.masked_url

    def __repr__(self) -> str:
        return f"Webhook({self.masked_url!r})"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_webhook(url: str | None = None) -> Webhook:
    """Validate ``url`` (or ``$BITRIX_WEBHOOK_URL``, also read from a ``.env`` file).

    Raises :class:`~bitrix_frames.errors.WebhookURLError` naming the problem.

    Example::

        >>> parse_webhook("http://127.0.0.1:8000/rest/1/abc/")
        Webhook('http://127.0.0.1:8000/rest/1/***/')
    """
    if url is None:
        url = os.environ.get(ENV_VAR)
        if not url:
            try:
                from dotenv import dotenv_values, find_dotenv

                url = dotenv_values(find_dotenv(usecwd=True)).get(ENV_VAR)
            except Exception:  # a broken .env is as good as none
                url = None
        if not url:
            raise WebhookURLError(
                f"no webhook URL given and {ENV_VAR} is not set (environment or .env)",
                code="NO_WEBHOOK_URL",
            )
    if not isinstance(url, str):
        raise WebhookURLError(f"webhook URL must be a string, not {type(url).__name__}")
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise WebhookURLError("webhook URL cannot be parsed (bad host or port)") from None
    segments = [s for s in parts.path.split("/") if s]
    # /[prefix/]rest/<uid>/<secret>[/<method>]: find "rest" counting from the end.
    at = next(
        (i for i in (len(segments) - 3, len(segments) - 4) if i >= 0 and segments[i] == "rest"), -1
    )
    # Register the candidate secret first so that nothing below can leak it.
    if at >= 0:
        register_secret(segments[at + 2])
    if parts.scheme not in ("http", "https"):
        raise WebhookURLError(f"webhook URL must start with https:// (got scheme {parts.scheme!r})")
    if not host:
        raise WebhookURLError("webhook URL has no host")
    if parts.scheme == "http" and not _is_loopback(host):
        raise WebhookURLError(
            f"plain http is only allowed for loopback hosts; use https://{host}/..."
        )
    if parts.query or parts.fragment:
        raise WebhookURLError("webhook URL must not carry a query string or fragment")
    if at < 0:
        raise WebhookURLError(
            "webhook URL path must look like /rest/<user_id>/<secret>/ "
            f"(got {len(segments)} path segment(s))"
        )
    uid, secret = segments[at + 1], segments[at + 2]
    prefix = "".join("/" + s for s in segments[:at])
    if not _UID.match(uid):
        raise WebhookURLError("webhook user id (after /rest/) must be a number")
    if not _SECRET.match(secret):
        raise WebhookURLError(
            "webhook secret contains characters other than letters, digits, _ and -"
        )
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    return Webhook(parts.scheme, netloc, int(uid), secret, prefix)
