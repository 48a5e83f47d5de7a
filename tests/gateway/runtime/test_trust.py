"""Trust: a CA the operator names (a file, a directory, or SSL_CERT_FILE/SSL_CERT_DIR) is
trusted by the REST upstreams and the identity provider's client, over real TLS on loopback;
forwarded headers decide the client address only from trusted proxies."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.runtime.tls import TrustStoreError, trust_store
from tests.processes import gateway_process
from tests.upstreams import running_tls


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_upstream(ca) -> Iterator[str]:
    """A content-shaped service on https://localhost, its certificate signed by ``ca``."""

    async def content(request: Request) -> Response:
        return JSONResponse({"items": []})

    app = Starlette(routes=[Route("/content", content)])
    with running_tls(app, ca.issue_cert("localhost", "127.0.0.1")) as url:
        yield url


def ca_file(ca: trustme.CA, directory: Path) -> Path:
    path = directory / "company-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def get_content(url: str, context: ssl.SSLContext) -> int:
    async with httpx.AsyncClient(verify=context) as client:
        return (await client.get(f"{url}/content")).status_code


async def test_a_private_ca_file_is_trusted(ca, tls_upstream, tmp_path):
    assert await get_content(tls_upstream, trust_store(ca_file(ca, tmp_path), environ={})) == 200


async def test_a_directory_of_ca_files_is_trusted(ca, tls_upstream, tmp_path):
    ca_file(ca, tmp_path)

    assert await get_content(tls_upstream, trust_store(tmp_path, environ={})) == 200


async def test_ssl_cert_file_is_honoured(ca, tls_upstream, tmp_path):
    context = trust_store(None, environ={"SSL_CERT_FILE": str(ca_file(ca, tmp_path))})

    assert await get_content(tls_upstream, context) == 200


async def test_without_the_ca_the_upstream_is_refused(tls_upstream):
    with pytest.raises(httpx.ConnectError):
        await get_content(tls_upstream, trust_store(None, environ={}))


def test_a_ca_path_that_does_not_exist_refuses_to_start(tmp_path):
    with pytest.raises(TrustStoreError, match="names no file or directory"):
        trust_store(tmp_path / "missing.pem", environ={})


def test_a_file_that_holds_no_certificate_refuses_to_start(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")

    with pytest.raises(TrustStoreError, match="no usable CA certificate"):
        trust_store(junk, environ={})


async def test_the_gateway_reads_content_from_an_upstream_behind_the_private_ca(
    make_gateway, ca, tls_upstream, tmp_path
):
    gateway = await make_gateway(content_url=tls_upstream, ca_certificates=ca_file(ca, tmp_path))

    response = await gateway.execute('{ content(id: "Q29udGVudDo5MDAz") { title } }')

    assert response.errors == []
    assert response.data == {"content": None}


async def test_without_the_setting_that_upstream_is_unavailable(make_gateway, tls_upstream):
    gateway = await make_gateway(content_url=tls_upstream, upstream_retry_attempts=1)

    response = await gateway.execute('{ content(id: "Q29udGVudDo5MDA0") { title } }')

    assert [error["extensions"]["code"] for error in response.errors] == ["UPSTREAM_UNAVAILABLE"]


# --- trusted proxies ------------------------------------------------------------------------

ANONYMOUS = {"query": "{ contents(first: 1) { edges { node { id } } } }"}


def remaining(response: httpx.Response) -> int:
    return int(response.headers["RateLimit-Remaining"])


def budgets_seen_by(base_url: str, *forwarded_for: str) -> list[int]:
    """``RateLimit-Remaining`` after one anonymous request per ``X-Forwarded-For`` value."""
    return [
        remaining(
            httpx.post(f"{base_url}/graphql", json=ANONYMOUS, headers={"X-Forwarded-For": client})
        )
        for client in forwarded_for
    ]


@pytest.mark.faults
def test_by_default_x_forwarded_for_cannot_pick_the_anonymous_budget(process_settings, tmp_path):
    with gateway_process(process_settings, tmp_path / "gateway.log") as gateway:
        first, second = budgets_seen_by(gateway.base_url, "198.51.100.1", "198.51.100.2")

    assert second < first  # one bucket: the peer's own address


@pytest.mark.faults
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    process_settings, tmp_path
):
    settings = {**process_settings, "trusted_proxies": ["127.0.0.1"]}
    with gateway_process(settings, tmp_path / "gateway.log") as gateway:
        first, second = budgets_seen_by(gateway.base_url, "198.51.100.3", "198.51.100.4")
        log = "\n".join(gateway.lines())

    assert second == first
    assert '"client":"198.51.100.3"' in log  # the access line names the forwarded client
