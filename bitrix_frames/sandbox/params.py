"""The parameter array of a REST request, built like ``CRestUtil::getRequestData`` (PROTOCOL §2).

Example::

    >>> request_params("a=1&b=2", b'{"b": 3}', "application/json", "POST")
    {'a': '1', 'b': 3}
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, cast

from .phpjson import decode_json_body
from .phpquery import MAX_INPUT_VARS, parse_pairs, parse_query


def request_params(query: str, body: bytes, content_type: str, verb: str) -> dict[str, Any]:
    """Query string + body as one parameter dict; body keys win (``array_replace``)."""
    params = parse_query(query)
    ctype = content_type.split(";")[0].strip().lower()
    form: dict[str, Any] = {}
    if verb == "POST" and body:
        if ctype == "multipart/form-data":
            form = parse_multipart(body, content_type)
        else:
            # form-urlencoded fields, or (no form fields decoded) the raw body: JSON for
            # application/json, a query string for anything else.
            form = decode_json_body(body) if ctype == "application/json" else parse_query(body)
    params.update(form)  # array_replace: body keys win over query keys
    return params


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """The text fields of a ``multipart/form-data`` body, bracket-parsed (files are ignored)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    pairs: list[tuple[str, str]] = []
    if message.is_multipart():
        for part in message.iter_parts():
            if len(pairs) >= MAX_INPUT_VARS:
                break
            name = part.get_param("name", header="content-disposition")
            if name is None or part.get_filename() is not None:
                continue
            payload = cast(bytes, part.get_payload(decode=True) or b"")
            pairs.append((str(name), payload.decode("utf-8", "replace")))
    return parse_pairs(pairs)
