"""File fields of loaded frames: where the portal serves each file.

File columns (contact ``PHOTO``, company ``LOGO``, ``file`` user fields) hold file ids (a list for
a multiple field). The portal's download URL of a CRM file is built from the owner, the field and
the file id, as the core does (``CCrmRestProxyBase::externalizeFile``; PROTOCOL §8).

Example::

    file_urls(contacts, 12, "PHOTO")
    # ['/bitrix/components/bitrix/crm.contact.show/show_file.php?auth=&ownerId=12&...']
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pandas as pd

from .errors import ValidationError


def download_url(entity: str, owner_id: int, field: str, file_id: int) -> str:
    """The ``downloadUrl`` of one CRM file (portal-relative)."""
    query = {
        "auth": "",
        "ownerId": owner_id,
        "fieldName": field,
        "dynamic": "Y" if field.startswith("UF_") else "N",
        "fileId": file_id,
    }
    return f"/bitrix/components/bitrix/crm.{entity}.show/show_file.php?{urlencode(query)}"


def file_urls(frame: pd.DataFrame, row: Any, column: str) -> list[str]:
    """Download URLs of the file(s) in one cell of a loaded frame; [] when the cell is empty."""
    meta = frame.attrs.get("bitrix") or {}
    spec = (meta.get("fields") or {}).get(column) or {}
    if spec.get("type") != "file":
        raise ValidationError(f"column {column!r} is not a file field")
    entity = meta.get("entity")
    if entity not in ("lead", "deal", "contact", "company"):
        raise ValidationError(f"files of {entity!r} frames are not downloadable here")
    value = frame.loc[row, column]
    ids = value if isinstance(value, list) else ([] if pd.isna(value) else [value])
    return [download_url(entity, int(row), column, int(i)) for i in ids]
