"""b24pysdk, unmodified but for its hard-coded https base URL, as an oracle against the sandbox."""

from __future__ import annotations

import pytest

from .conftest import id_of, reference_ids, split_webhook

b24pysdk = pytest.importorskip("b24pysdk")

LISTS = ["crm.lead.list", "crm.deal.list", "crm.contact.list", "crm.company.list"]


@pytest.fixture(scope="module")
def token(sandbox):
    import importlib

    call_method = importlib.import_module("b24pysdk.api.callers.call_method")

    # The SDK only speaks https; the sandbox serves plain http on loopback.
    caller = call_method._MethodCaller
    original = caller._base_url
    caller._base_url = property(lambda self: f"http://{self._domain}/rest")
    domain, webhook_token = split_webhook(sandbox.webhook_url)
    yield b24pysdk.BitrixWebhook(domain=domain, webhook_token=webhook_token)
    caller._base_url = original


def _result(response):
    return response["result"] if isinstance(response, dict) else response.result


def _rows(response) -> list[dict]:
    return list(_result(response))


@pytest.mark.parametrize("method", LISTS)
def test_call_list(sandbox, token, method):
    rows = _rows(token.call_list(method, {"select": ["ID", "TITLE"]}))
    assert sorted(id_of(r) for r in rows) == reference_ids(sandbox.webhook_url, method)


@pytest.mark.parametrize("method", LISTS)
def test_call_list_fast(sandbox, token, method):
    rows = _rows(token.call_list_fast(method, {"select": ["ID"]}))
    ids = [id_of(r) for r in rows]
    assert ids == reference_ids(sandbox.webhook_url, method)


def test_call_method_and_batch(sandbox, token):
    me = _result(token.call_method("user.current"))
    assert str(me["ID"]) == "1"
    res = token.call_batch(
        {
            "a": ("crm.deal.fields", {}),
            "b": ("crm.deal.list", {"select": ["ID"], "start": -1}),
        }
    )
    payload = _result(_result(res))
    assert "STAGE_ID" in payload["a"]
    assert len(payload["b"]) == 50
