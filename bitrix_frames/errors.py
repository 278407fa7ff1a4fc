"""One exception hierarchy for everything that can go wrong talking to a portal.

Every error carries ``code`` (the envelope's ``error``), ``description``, ``method`` and the HTTP
``status``; none of them ever contains the webhook secret. :func:`from_envelope` is the one place
where an error envelope (or a bare HTTP status) becomes an exception.

Example::

    try:
        client.call("crm.lead.get", id=999)
    except NotFound as e:
        print(e.code, e.description, e.method, e.status)

Hierarchy::

    BitrixError
    +-- WebhookURLError        (also ValueError)
    +-- ValidationError        (also ValueError; the write-back layer subclasses it)
    |   +-- BadValue           (one value the API would not accept; schema.to_api)
    |   +-- ReportInputError   (a report's input does not fit: not a history, unknown pipeline)
    +-- TransportError
    |   +-- DeadlineExceeded   (the whole exchange took longer than the deadline)
    |   +-- ResponseTooLarge   (body above the size caps, on the wire or decompressed)
    |   +-- MalformedResponse  (not JSON, hostile JSON, or an envelope of the wrong shape)
    |   +-- RedirectError      (a redirect to another origin, or a redirect loop)
    +-- AmbiguousWriteError
    +-- IncompleteReadError
    +-- ApiError
        +-- QueryLimitExceeded
        +-- OperationTimeLimit
        +-- AuthError
        +-- AccessDenied
        |   +-- InsufficientScope
        +-- MethodNotFound
        +-- NotFound
        +-- InvalidArgument
        +-- ServerError
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "BitrixError",
    "WebhookURLError",
    "ValidationError",
    "BadValue",
    "ReportInputError",
    "TransportError",
    "DeadlineExceeded",
    "ResponseTooLarge",
    "MalformedResponse",
    "RedirectError",
    "AmbiguousWriteError",
    "IncompleteReadError",
    "ApiError",
    "QueryLimitExceeded",
    "OperationTimeLimit",
    "AuthError",
    "AccessDenied",
    "InsufficientScope",
    "MethodNotFound",
    "NotFound",
    "InvalidArgument",
    "ServerError",
    "from_envelope",
]


class BitrixError(Exception):
    """Base class of every bitrix_frames error."""

    def __init__(
        self,
        description: str = "",
        *,
        code: str = "",
        method: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.method = method
        self.status = status

    def __str__(self) -> str:
        head = " ".join(
            p
            for p in (self.method or "", self.code, f"(HTTP {self.status})" if self.status else "")
            if p
        )
        return f"{head}: {self.description}" if head else self.description

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, description={self.description!r}, "
            f"method={self.method!r}, status={self.status!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:  # keep keyword attributes through pickling
        return (_rebuild, (type(self), self.description, self.code, self.method, self.status))


def _rebuild(
    cls: type[BitrixError], description: str, code: str, method: str | None, status: int | None
):
    err = cls.__new__(cls)
    BitrixError.__init__(err, description, code=code, method=method, status=status)
    return err


class WebhookURLError(BitrixError, ValueError):
    """The webhook URL is malformed (the message never repeats the secret)."""


class ValidationError(BitrixError, ValueError):
    """Bad input detected before anything was sent."""


class ReportInputError(ValidationError):
    """A report's input does not fit: not a stage history, unknown pipeline or column, bad window."""


class BadValue(ValidationError):
    """One value that cannot be converted to what the API expects.

    ``reason`` says what was expected, without the column (the write-back adds row and field);
    the message is ``"<column>: <reason>"`` when ``column`` is known.

    Example::

        >>> str(BadValue("expected a number, got 'lots'", column="OPPORTUNITY"))
        "OPPORTUNITY: expected a number, got 'lots'"
    """

    def __init__(self, reason: str = "", *, column: str | None = None, value: Any = None) -> None:
        super().__init__(f"{column}: {reason}" if column else reason)
        self.reason = reason
        self.column = column
        self.value = value

    def __reduce__(self) -> tuple:  # the value itself may not pickle; reason and column do
        return (_rebuild_bad_value, (type(self), self.reason, self.column))


def _rebuild_bad_value(cls: type[BadValue], reason: str, column: str | None) -> BadValue:
    err = cls.__new__(cls)
    BadValue.__init__(err, reason, column=column)
    return err


class TransportError(BitrixError):
    """The HTTP exchange failed (connection, timeout, unreadable body)."""

    def __init__(self, description: str = "", *, sent: bool = True, **kw: Any) -> None:
        super().__init__(description, **kw)
        self.sent = sent
        """False only when the request provably never reached the server."""


class DeadlineExceeded(TransportError):
    """The exchange (connect, request and the whole response body) outlived the deadline.

    Not retried: a server that trickles its answer would do it again. A write that ends this way
    may have executed (the Client raises :class:`AmbiguousWriteError` from it).
    """


class ResponseTooLarge(TransportError):
    """The response body is above ``max_response_bytes`` (on the wire) or ``max_decoded_bytes``
    (after gzip/deflate); reading stopped there. Not retried."""


class MalformedResponse(TransportError):
    """The answer is not a usable Bitrix24 response: not JSON, not UTF-8, nested too deeply,
    non-finite or out-of-range numbers, or envelope fields (``result``, ``total``, ``next``,
    ``time``) of the wrong type. Not retried."""


class RedirectError(TransportError):
    """A redirect to another origin (scheme, host or port), a redirect loop, or one without
    ``Location``. Nothing was sent to the new address and the client's target is unchanged;
    the message shows only the target's origin. If the portal really moved, connect with its
    new webhook URL.

    Example::

        >>> str(RedirectError("redirect to https://new.example:443 refused", status=302))
        '(HTTP 302): redirect to https://new.example:443 refused'
    """


class AmbiguousWriteError(BitrixError):
    """A write may or may not have executed; it was not resent. Look before retrying."""


class IncompleteReadError(BitrixError):
    """A list read returned fewer rows than the portal counts."""


class ApiError(BitrixError):
    """The portal answered with an error envelope."""


class QueryLimitExceeded(ApiError):
    """503 QUERY_LIMIT_EXCEEDED: refused by the rate limit, nothing executed (safe to retry)."""


class OperationTimeLimit(ApiError):
    """429 OPERATION_TIME_LIMIT: the method used up its operating time; wait for the reset."""


class AuthError(ApiError):
    """401: wrong webhook secret or user, expired or invalid token."""


class AccessDenied(ApiError):
    """403 or a business 'access denied': the webhook user may not do this."""


class InsufficientScope(AccessDenied):
    """insufficient_scope: the method is outside the webhook's scopes."""


class MethodNotFound(ApiError):
    """ERROR_METHOD_NOT_FOUND: no such REST method."""


class NotFound(ApiError):
    """The addressed record does not exist."""


class InvalidArgument(ApiError):
    """The portal rejected the parameters (400-class business or validation error)."""


class ServerError(ApiError):
    """5xx: the portal failed; the call may or may not have executed."""


_BY_CODE: dict[str, type[ApiError]] = {
    "query_limit_exceeded": QueryLimitExceeded,
    "operation_time_limit": OperationTimeLimit,
    "no_auth_found": AuthError,
    "expired_token": AuthError,
    "invalid_token": AuthError,
    "wrong_client": AuthError,
    "authorization_error": AuthError,
    "insufficient_scope": InsufficientScope,
    "access_denied": AccessDenied,
    "invalid_credentials": AccessDenied,
    "user_access_error": AccessDenied,
    "allowed_only_intranet_user": AccessDenied,
    "error_method_not_found": MethodNotFound,
    "not_found": NotFound,
    "invalid_arg_value": InvalidArgument,
    "invalid_request": InvalidArgument,
    "error_core": InvalidArgument,
    "error_batch_length_exceeded": InvalidArgument,
    "error_batch_method_not_allowed": InvalidArgument,
    "internal_server_error": ServerError,
    "error_unexpected_answer": ServerError,
    "overload_limit": ServerError,
    "portal_deleted": ServerError,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthError,
    403: AccessDenied,
    404: MethodNotFound,
    429: OperationTimeLimit,
}
_NOT_FOUND_TEXT = re.compile(r"not found|is not exist|does not exist", re.I)
_DENIED_TEXT = re.compile(r"access denied|not allowed|no access", re.I)


def from_envelope(body: Any, *, status: int | None = None, method: str | None = None) -> ApiError:
    """Map an error envelope ``{"error", "error_description"}`` (or a bare status) to an exception.

    Known codes win (compared case-insensitively); empty or numeric codes (classic CRM and
    tasks errors) are classified by their description, then by the HTTP status.

    Example::

        >>> from_envelope({"error": "", "error_description": "Not found"}, status=400)
        NotFound(code='', description='Not found', method=None, status=400)
    """
    if isinstance(body, dict):
        code = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
    else:
        code, description = "", ""
    cls = _BY_CODE.get(code.lower())
    if cls is None and description:
        if _NOT_FOUND_TEXT.search(description):
            cls = NotFound
        elif _DENIED_TEXT.search(description):
            cls = AccessDenied
    if cls is None and status is not None:
        cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else None)
    if cls is None:
        cls = InvalidArgument if status is None or status < 500 else ServerError
    if not description:
        description = f"HTTP {status}" if status else "error without description"
    return cls(description, code=code, method=method, status=status)


# --- write-back (appended by the write-back layer) ------------------------------------------------
class WriteValidationError(ValidationError):
    """A write-back plan has bad input; ``.problems`` is a DataFrame (row, field, message, frame)."""

    def __init__(self, description: str = "", *, problems: Any = None, **kw: Any) -> None:
        super().__init__(description, **kw)
        self.problems = problems


class ConflictError(BitrixError):
    """Records were modified on the portal since they were loaded; ``.ids`` names them."""

    def __init__(self, description: str = "", *, ids: Any = None, **kw: Any) -> None:
        super().__init__(description, **kw)
        self.ids = list(ids or [])
