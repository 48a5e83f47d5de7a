"""GraphiQL served by the gateway itself: the page and every file it loads come from the
package, pinned with subresource integrity, so it works with no internet access. In a real
browser: tests/node/test_graphiql_in_chromium.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.http.graphiql.vendor import PINS, STATIC, subresource_integrity
from gateway.settings import Settings
from tests.helpers import Gateway
from tests.processes import REPOSITORY

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SUBRESOURCE = re.compile(r'(?:src|href)="([^"]+)" integrity="([^"]+)"')


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'id="manifold-graphiql-config">(.*?)</script>', html)
    assert found is not None
    config: dict[str, Any] = json.loads(found.group(1))
    return config


async def _page(gateway: Gateway) -> httpx.Response:
    response, _ = await gateway.request("GET", headers=BROWSER)
    return response


async def test_the_page_loads_nothing_from_another_origin(gateway):
    page = await _page(gateway)

    assert page.status_code == 200
    assert "unpkg" not in page.text
    assert "cdn" not in page.text.lower()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]


async def test_every_file_the_page_loads_is_served_with_the_hash_it_names(gateway):
    page = await _page(gateway)
    subresources = SUBRESOURCE.findall(page.text)

    assert len(subresources) == 8  # 6 scripts, 2 stylesheets
    for url, integrity in subresources:
        response = await gateway.http.get(url)
        assert response.status_code == 200, url
        assert subresource_integrity(response.content) == integrity, url
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_scripts_and_stylesheets_have_their_media_types(gateway):
    script = await gateway.http.get("/graphiql/graphiql.min.js")
    stylesheet = await gateway.http.get("/graphiql/graphiql.min.css")

    assert script.headers["content-type"].startswith("text/javascript")
    assert stylesheet.headers["content-type"].startswith("text/css")


async def test_an_unknown_asset_is_404(gateway):
    response = await gateway.http.get("/graphiql/../settings.py")

    assert response.status_code == 404


def test_the_vendored_files_are_the_pinned_ones():
    for pin in PINS:
        for served, (_, integrity) in pin.files.items():
            assert subresource_integrity((STATIC / served).read_bytes()) == integrity, served


async def test_without_a_token_the_page_starts_signed_out_and_may_be_revalidated(gateway):
    page = await _page(gateway)

    assert _config(page.text)["headers"] == {}
    assert page.headers["cache-control"] == "no-cache"


async def test_with_a_development_token_the_page_starts_signed_in_and_is_never_stored(
    make_gateway,
):
    gateway = await make_gateway(graphiql_token="dev-token-for-graphiql")

    page = await _page(gateway)

    assert _config(page.text)["headers"] == {"Authorization": "Bearer dev-token-for-graphiql"}
    assert page.headers["cache-control"] == "no-store"


def test_a_graphiql_token_is_refused_in_production():
    with pytest.raises(ValueError, match="GATEWAY_GRAPHIQL_TOKEN is for development only"):
        Settings(env="prod", graphiql_token="x" * 40)


async def test_with_graphiql_off_there_is_no_page_and_no_assets(make_gateway):
    gateway = await make_gateway(graphiql=False)

    page = await _page(gateway)
    asset = await gateway.http.get("/graphiql/graphiql.min.js")

    assert page.headers["content-type"].startswith("application/json")
    assert asset.status_code == 404


def test_a_wheel_carries_the_page_and_its_files(tmp_path: Path):
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "source"
    shutil.copytree(
        REPOSITORY,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "node_modules",
            "build",
            "*.egg-info",
            ".data",
            "__pycache__",
            ".mypy_cache",
            ".ruff_cache",
            ".pytest_cache",
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("manifold_gateway-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "gateway/http/graphiql/page.html" in names
    for served in [
        "graphiql.min.js",
        "react.production.min.js",
        "manifold-graphiql.js",
        "manifest.json",
    ]:
        assert f"gateway/http/graphiql/static/{served}" in names
