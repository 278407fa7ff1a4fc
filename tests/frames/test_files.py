"""File fields: every documented upload form is stored, loaders type the column as file ids and
the portal's download URL serves the bytes (issue 16)."""

from __future__ import annotations

import base64

import pytest
import requests

import bitrix_frames as bf
from bitrix_frames.errors import TransportError, ValidationError

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
B64 = base64.b64encode(PNG).decode()


@pytest.mark.parametrize(
    "photo",
    [
        {"fileData": ["face.png", B64]},  # crm-contact-add.md, how-to-upload-files.md#filedata
        {"fileData": B64},
        ["face.png", B64],  # the crm.item form
        B64,  # bare base64: the portal makes up a name
    ],
)
def test_documented_upload_forms_round_trip(sandbox, photo):
    with bf.connect(sandbox.webhook_url) as portal:
        cid = portal.call("crm.contact.add", {"fields": {"NAME": "Pic", "PHOTO": photo}})
        got = portal.call("crm.contact.get", {"id": cid})["PHOTO"]
        assert set(got) == {"id", "showUrl", "downloadUrl"} and isinstance(got["id"], int)
        assert got["showUrl"].startswith(
            "/bitrix/components/bitrix/crm.contact.show/show_file.php?"
        )
        assert "auth=" in got["downloadUrl"] and sandbox.webhook_url.split("/")[-2] not in str(got)
        origin = sandbox.webhook_url.split("/rest/")[0]
        assert requests.get(origin + got["showUrl"], timeout=10).content == PNG

        contacts = portal.contacts(filter={"ID": cid}, select=["ID", "NAME", "PHOTO"])
        assert str(contacts["PHOTO"].dtype) == "Int64" and contacts.loc[cid, "PHOTO"] == got["id"]
        assert portal.download(contacts, cid, "PHOTO") == PNG


def test_keep_clear_and_bad_files(sandbox):
    with bf.connect(sandbox.webhook_url) as portal:
        cid = portal.call("crm.contact.add", {"fields": {"NAME": "Pic", "PHOTO": ["a.png", B64]}})
        first = portal.call("crm.contact.get", {"id": cid})["PHOTO"]["id"]
        portal.call("crm.contact.update", {"id": cid, "fields": {"PHOTO": {"id": first}}})
        assert portal.call("crm.contact.get", {"id": cid})["PHOTO"]["id"] == first
        portal.call("crm.contact.update", {"id": cid, "fields": {"PHOTO": ""}})
        assert portal.call("crm.contact.get", {"id": cid})["PHOTO"] is None
        with pytest.raises(bf.errors.BitrixError, match="PHOTO"):
            portal.call("crm.contact.update", {"id": cid, "fields": {"PHOTO": {"fileData": "*"}}})
        contacts = portal.contacts(filter={"ID": cid}, select=["ID", "NAME", "PHOTO"])
        assert portal.download(contacts, cid, "PHOTO") == b""
        with pytest.raises(ValidationError):
            portal.download(contacts, cid, "NAME")


def test_download_refuses_other_origins(sandbox):
    with (
        bf.connect(sandbox.webhook_url) as portal,
        pytest.raises(TransportError, match="another origin"),
    ):
        portal.client.download("https://example.com/bitrix/x.php")
