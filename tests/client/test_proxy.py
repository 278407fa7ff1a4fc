"""Proxies and private CAs: the standard environment variables work, the secret stays hidden.

An https webhook goes through a loopback CONNECT proxy of our own to a TLS server of our own whose
certificate (for ``portal.example.test``) is trusted only through ``REQUESTS_CA_BUNDLE`` /
``verify=``. The proxy may see ``CONNECT host:port`` and encrypted bytes, never the secret.
Loopback targets (the sandbox) never use a proxy, and ``sandbox --tls``'s advice
(``REQUESTS_CA_BUNDLE``) is true for our client.
"""

from __future__ import annotations

import ssl
import subprocess

import pytest
from client_helpers import FAST
from connect_proxy import ConnectProxy
from hostile_server import HostileServer, answer

from bitrix_frames import errors as E
from bitrix_frames.client import Client
from bitrix_frames.portal import connect
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.transport import CA_ENV_VARS, Transport
from bitrix_frames.webhook import parse_webhook

SECRET = "proxiedSecret0077"
HOST = "portal.example.test"
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*PROXY_VARS, *NO_PROXY_VARS, *CA_ENV_VARS):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def portal_cert(tmp_path_factory):
    """A self-signed certificate for portal.example.test and its server context."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return str(cert), context


@pytest.fixture
def tunnelled(portal_cert):
    """(TLS server answering every method, CONNECT proxy that relays every host to it)."""
    _, context = portal_cert
    server = HostileServer(answer({"result": [{"ID": "1"}], "total": 1}), tls=context)
    with server, ConnectProxy(upstream=("127.0.0.1", server.port)) as proxy:
        yield server, proxy


def assert_only_connect(proxy: ConnectProxy) -> None:
    assert proxy.lines and {line.rsplit(" ", 1)[0] for line in proxy.lines} == {
        f"CONNECT {HOST}:443"
    }
    assert SECRET.encode() not in proxy.seen and b"/rest/" not in proxy.seen


@pytest.mark.timeout(60)
def test_https_proxy_and_ca_bundle_from_the_environment(clean_env, portal_cert, tunnelled):
    cert, _ = portal_cert
    server, proxy = tunnelled
    clean_env.setenv("HTTPS_PROXY", proxy.url)
    clean_env.setenv("REQUESTS_CA_BUNDLE", cert)
    client = Client(f"https://{HOST}/rest/1/{SECRET}/", **FAST)
    assert client.call("crm.deal.list") == [{"ID": "1"}]
    assert client.list("user.get") == [{"ID": "1"}]
    assert_only_connect(proxy)
    # it really went through the tunnel to our server, with the secret inside TLS only
    assert len(server.requests) == 2 and SECRET in server.requests[0].line


@pytest.mark.timeout(60)
@pytest.mark.parametrize("ca_var", ["CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_all_proxy_and_other_ca_variables(clean_env, portal_cert, tunnelled, ca_var):
    cert, _ = portal_cert
    server, proxy = tunnelled
    clean_env.setenv("all_proxy", proxy.url)
    clean_env.setenv(ca_var, cert)
    assert Client(f"https://{HOST}/rest/1/{SECRET}/", **FAST).call("crm.deal.list")
    assert_only_connect(proxy)


@pytest.mark.timeout(60)
def test_explicit_proxies_and_verify_on_connect(clean_env, portal_cert, tunnelled):
    cert, _ = portal_cert
    server, proxy = tunnelled
    portal = connect(
        f"https://{HOST}/rest/1/{SECRET}/", proxies={"https": proxy.url}, verify=cert, **FAST
    )
    assert portal.call("crm.deal.list") == [{"ID": "1"}]
    assert_only_connect(proxy)


@pytest.mark.timeout(60)
def test_untrusted_certificate_is_a_transport_error(clean_env, tunnelled):
    server, proxy = tunnelled
    client = Client(f"https://{HOST}/rest/1/{SECRET}/", proxies=proxy.url, max_retries=0, **FAST)
    with pytest.raises(E.TransportError) as info:
        client.call("crm.deal.list")
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) and SECRET not in str(info.value)
    assert server.requests == []  # the request never left the client in clear
    assert_only_connect(proxy)


@pytest.mark.timeout(60)
def test_loopback_targets_never_use_a_proxy(clean_env):
    with HostileServer(answer({"result": []})) as dummy, ConnectProxy(("127.0.0.1", 1)) as proxy:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
            clean_env.setenv(name, proxy.url)
        client = Client(dummy.url(SECRET), proxies=None, **FAST)
        assert client.call("crm.deal.list") == []
        explicit = Client(dummy.url(SECRET), proxies=proxy.url, **FAST)
        assert explicit.call("crm.deal.list") == []
        assert proxy.lines == [] and len(dummy.requests) == 2


def test_no_proxy_and_false_bypass_the_proxy(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    url = parse_webhook(f"https://{HOST}/rest/1/{SECRET}/").method_url("crm.deal.list")
    hook = parse_webhook(url)
    assert Transport(hook)._proxy_for(url, "m") == {"https": "http://proxy.invalid:3128"}
    assert Transport(hook, proxies=False)._proxy_for(url, "m") == {}
    clean_env.setenv("NO_PROXY", "example.test")
    assert Transport(hook)._proxy_for(url, "m") == {}


@pytest.mark.timeout(120)
def test_sandbox_tls_advice_works(clean_env):
    """``bitrix-frames sandbox --tls`` says: trust its certificate with REQUESTS_CA_BUNDLE."""
    with Sandbox(deals=3, limits=False, tls=True) as sb:
        assert sb.webhook_url.startswith("https://127.0.0.1:")
        with pytest.raises(E.TransportError):  # not trusted by default
            Client(sb.webhook_url, max_retries=0, **FAST).call("crm.deal.list")
        clean_env.setenv("REQUESTS_CA_BUNDLE", sb.ca_file)
        rows = Client(sb.webhook_url, **FAST).list("crm.deal.list", select=["ID"])
        assert len(rows) == 3
        assert connect(sb.webhook_url, verify=sb.ca_file, **FAST).deals().shape[0] == 3
