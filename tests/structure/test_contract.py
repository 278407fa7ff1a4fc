"""The client contract and the list query: what the layers above the client rely on."""

from __future__ import annotations

import inspect

import pytest
from sandboxes import FAST, SIZES

from bitrix_frames.client import Client
from bitrix_frames.contract import BitrixClient, PagingClient
from bitrix_frames.errors import ValidationError
from bitrix_frames.query import ListQuery


def test_the_client_satisfies_the_contract_with_the_same_signatures():
    client = Client("https://portal.example/rest/1/s3cr3t/")
    try:
        assert isinstance(client, BitrixClient) and isinstance(client, PagingClient)
        for name in ("call", "batch", "list", "list_with", "call_raw", "batch_chunk"):
            ours = inspect.signature(getattr(PagingClient, name))
            theirs = inspect.signature(getattr(Client, name))
            assert list(ours.parameters) == list(theirs.parameters), name
        assert "s3cr3t" not in client.masked_url
    finally:
        client.close()


def test_an_object_without_the_methods_is_not_a_client():
    assert not isinstance(object(), BitrixClient)


def test_list_query_normalises_and_is_frozen():
    q = ListQuery.checked("crm.deal.list", filter={"CLOSED": "N"}, select=("ID",), params=None)
    assert q == ListQuery(filter={"CLOSED": "N"}, select=["ID"], order=None, params={})
    with pytest.raises(AttributeError):
        q.filter = {}  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"filter": [("ID", 1)]}, "filter must be a dict, not list"),
        ({"order": "ID"}, "order must be a dict, not str"),
        ({"select": "ID"}, "select must be a list of field names"),
        ({"params": {"start": 5}}, "pass start as arguments of list()"),
    ],
)
def test_list_query_refuses_wrong_shapes_before_anything_is_sent(kw, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ListQuery.checked("crm.deal.list", **kw)


def test_a_wrong_query_is_refused_before_any_request_and_a_right_one_reads_every_row(make_sandbox):
    sb = make_sandbox("tiny")
    with Client(sb.webhook_url, **FAST) as client:
        with pytest.raises(ValidationError, match="select must be a list"):
            client.list("crm.deal.list", select="ID")
        with pytest.raises(ValidationError, match="filter must be a dict"):
            client.list_with("crm.deal.list", {}, filter=["ID"])
        assert sb.stats()["http_requests"] == 0
        rows = client.list("crm.deal.list", select=["ID"], order={"ID": "ASC"})
    assert len(rows) == SIZES["tiny"]
    assert [int(r["ID"]) for r in rows] == sorted(int(r["ID"]) for r in rows)
