"""Keep webhook secrets out of every text the process shows: messages, reprs and log records.

Every secret a :class:`~bitrix_frames.webhook.Webhook` sees is registered here; :func:`mask`
replaces them with ``***``. A logging filter on the HTTP libraries' loggers (urllib3 logs the
request path, which contains the secret, at DEBUG) masks their records before any handler sees them.

Example::

    >>> register_secret("s3cr3tcode")
    >>> mask("POST /rest/1/s3cr3tcode/crm.lead.list")
    'POST /rest/1/***/crm.lead.list'
"""

from __future__ import annotations

import logging
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
_MIN_LEN = 3  # masking a one-letter "secret" would garble every message

# urllib3 and requests log to their module loggers; filters on a parent logger do not apply to
# records of its children, so each known child gets the filter.
_HTTP_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "bitrix_frames",
)


def register_secret(secret: str) -> None:
    """Remember ``secret`` so that :func:`mask` and the log filter hide it from now on."""
    if secret and len(secret) >= _MIN_LEN:
        with _lock:
            _secrets.add(secret)
        _install_log_filter()


def mask(text: object) -> str:
    """``str(text)`` with every registered secret replaced by ``***``."""
    s = str(text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in s:
            s = s.replace(secret, "***")
    return s


class MaskingFilter(logging.Filter):
    """Rewrites a record's message with secrets masked (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info, record.exc_text = None, text
        return True


_filter = MaskingFilter()
_installed = False


def _install_log_filter() -> None:
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            for name in _HTTP_LOGGERS:
                logging.getLogger(name).addFilter(_filter)
            _installed = True
