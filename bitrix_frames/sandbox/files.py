"""Files of CRM file fields (contact PHOTO, company LOGO, ``file`` user fields).

Uploads come in every form the docs list for the legacy CRM methods and ``crm.item.*``
(``api-reference/files/how-to-upload-files.md``): ``{"fileData": ["name.png", "<base64>"]}``,
``{"fileData": "<base64>"}``, ``["name.png", "<base64>"]`` and a bare base64 string; ``{"id": N}``
keeps a stored file, ``""`` clears the field, ``{"remove": "Y"}`` / ``{"del": "Y"}`` removes.
Answers carry the core's file object (``CCrmRestProxyBase::externalizeFile``)::

    {"id": 12, "showUrl": "/bitrix/components/bitrix/crm.contact.show/show_file.php?ownerId=3&...",
     "downloadUrl": "/bitrix/components/bitrix/crm.contact.show/show_file.php?auth=&ownerId=3&..."}

and the sandbox serves the bytes at those (portal-relative) URLs. ``auth`` stays empty: a
webhook has no access token, and the secret is never written into data.

Example::

    file_id = save(db, parse_upload({"fileData": ["a.txt", "aGk="]}))
    file_object("contact", 3, "PHOTO", file_id, dynamic=False)["showUrl"]
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from .store import Store, register_schema

register_schema(
    "CREATE TABLE IF NOT EXISTS b_file (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "content BLOB NOT NULL, content_type TEXT);"
)

HANDLER = "/bitrix/components/bitrix/crm.{entity}.show/show_file.php"
PATH_PREFIX = "/bitrix/components/bitrix/"


@dataclass(frozen=True)
class Upload:
    """One parsed file value: ``kind`` is ``new`` (name, content), ``keep`` (file_id) or ``clear``."""

    kind: str
    name: str = ""
    content: bytes = b""
    file_id: int = 0


class BadFile(ValueError):
    """A file value in none of the documented forms (or not base64)."""


def _decode(text: Any) -> bytes:
    if not isinstance(text, str) or not text.strip():
        raise BadFile("empty file content")
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadFile("file content is not base64") from exc


def parse_upload(value: Any) -> Upload:
    """A client file value -> :class:`Upload` (raises :class:`BadFile`)."""
    if value is None or value == "" or value is False:
        return Upload("clear")
    if isinstance(value, dict):
        if "fileData" in value:
            return parse_upload(value["fileData"])
        if str(value.get("remove", value.get("del", ""))).upper() == "Y":
            return Upload("clear")
        if "id" in value or "ID" in value:
            try:
                return Upload("keep", file_id=int(value.get("id", value.get("ID")) or 0))
            except (TypeError, ValueError) as exc:
                raise BadFile("bad file id") from exc
        raise BadFile("unknown file object")
    if isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, str) for v in value):
            return Upload("new", name=value[0] or "file", content=_decode(value[1]))
        if len(value) == 1:
            return parse_upload(value[0])
        raise BadFile("a file is [name, base64]")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Upload("keep", file_id=int(value))
    return Upload("new", name="file", content=_decode(value))  # bare base64: a generated name


def save(db: sqlite3.Connection, upload: Upload) -> int | None:
    """Store a ``new`` upload (-> its id); ``keep`` -> the kept id if it exists; ``clear`` -> None."""
    if upload.kind == "clear":
        return None
    if upload.kind == "keep":
        found = db.execute("SELECT id FROM b_file WHERE id = ?", (upload.file_id,)).fetchone()
        return found[0] if found else None
    ctype = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
    cur = db.execute(
        "INSERT INTO b_file (name, content, content_type) VALUES (?, ?, ?)",
        (upload.name, upload.content, ctype),
    )
    return int(cur.lastrowid or 0)


def file_object(entity: str, owner_id: Any, field: str, file_id: Any, *, dynamic: bool) -> dict:
    """The documented file object of one stored file."""
    query = {
        "ownerId": owner_id,
        "fieldName": field,
        "dynamic": "Y" if dynamic else "N",
        "fileId": file_id,
    }
    handler = HANDLER.format(entity=entity)
    return {
        "id": int(file_id),
        "showUrl": f"{handler}?{urlencode(query)}",
        "downloadUrl": f"{handler}?{urlencode({'auth': '', **query})}",
    }


def serve(store: Store, path: str, query: str) -> tuple[int, bytes, str, dict] | None:
    """The answer to a GET of a show/download URL: (status, bytes, content type, headers).
    None when ``path`` is not a file URL."""
    if not (path.startswith(PATH_PREFIX) and path.endswith("/show_file.php")):
        return None
    args = parse_qs(query)
    try:
        file_id = int(args.get("fileId", ["0"])[0])
    except ValueError:
        file_id = 0
    rows = store.query("SELECT name, content, content_type FROM b_file WHERE id = ?", (file_id,))
    if not rows:
        return 404, b"File not found", "text/plain; charset=utf-8", {}
    name, content, ctype = rows[0]
    disposition = "attachment" if "auth" in args or query.startswith("auth=") else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    return 200, bytes(content), ctype or "application/octet-stream", headers
