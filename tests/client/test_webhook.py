"""Webhook URL parsing, validation and masking (no server needed)."""

from __future__ import annotations

import pytest

from bitrix_frames.errors import WebhookURLError
from bitrix_frames.webhook import ENV_VAR, parse_webhook

SECRET = "k3yS3cretValue42"


@pytest.mark.parametrize(
    "url",
    [
        f"https://x.bitrix24.com/rest/7/{SECRET}/",
        f"https://x.bitrix24.com/rest/7/{SECRET}",
        f"https://x.bitrix24.com/rest/7/{SECRET}/profile.json",
        f"https://x.bitrix24.com/rest/7/{SECRET}/crm.lead.list",
        f"  https://x.bitrix24.com/rest/7/{SECRET}/  ",
    ],
)
def test_valid_forms_normalise_and_mask(url):
    hook = parse_webhook(url)
    assert hook.base_url == f"https://x.bitrix24.com/rest/7/{SECRET}/"
    assert hook.masked_url == "https://x.bitrix24.com/rest/7/***/"
    assert SECRET not in repr(hook) and SECRET not in str(hook)
    assert hook.method_url("crm.deal.list").endswith(f"/{SECRET}/crm.deal.list")


def test_http_only_on_loopback():
    assert parse_webhook(f"http://127.0.0.1:8080/rest/1/{SECRET}/").scheme == "http"
    assert parse_webhook(f"http://localhost/rest/1/{SECRET}/").netloc == "localhost"
    with pytest.raises(WebhookURLError, match="loopback"):
        parse_webhook(f"http://x.bitrix24.com/rest/1/{SECRET}/")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"ftp://x.com/rest/1/{SECRET}/", "https"),
        (f"https:///rest/1/{SECRET}/", "host"),
        (f"https://x.com/api/1/{SECRET}/", "/rest/"),
        (f"https://x.com/rest/one/{SECRET}/", "user id"),
        (f"https://x.com/rest/1/{SECRET}!/", "secret"),
        (f"https://x.com/rest/1/{SECRET}/?a=1", "query"),
        ("https://x.com/rest/1/", "/rest/"),
    ],
)
def test_errors_name_the_problem_without_the_secret(url, words):
    with pytest.raises(WebhookURLError) as info:
        parse_webhook(url)
    assert words in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_environment_variable(monkeypatch):
    monkeypatch.setenv(ENV_VAR, f"https://env.bitrix24.com/rest/3/{SECRET}/")
    assert parse_webhook().masked_url == "https://env.bitrix24.com/rest/3/***/"


def test_dotenv_file(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    (tmp_path / ".env").write_text(f"{ENV_VAR}=https://dot.bitrix24.com/rest/4/{SECRET}/\n")
    monkeypatch.chdir(tmp_path)
    assert parse_webhook().netloc == "dot.bitrix24.com"


def test_missing_everywhere(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WebhookURLError, match=ENV_VAR):
        parse_webhook()
