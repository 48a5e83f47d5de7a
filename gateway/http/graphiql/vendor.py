"""Fetch GraphiQL's built files from the npm registry into ``static/``: run by a maintainer when
a pin changes (``python -m gateway.http.graphiql.vendor``), never by the gateway.

The gateway serves GraphiQL from its own package, so the page works behind a firewall and loads
nothing from a CDN. Each package is pinned twice: its tarball by the registry's ``sha512``
integrity, and every file taken from it by the ``sha384`` the page's ``integrity`` attribute
carries (the same values the upstream GraphiQL examples and Strawberry use), so a tampered
registry, tarball or checkout cannot change what a browser runs. Each package's licence is kept
next to its files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import httpx

STATIC = Path(__file__).with_name("static")
MANIFEST = STATIC / "manifest.json"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Pin:
    package: str
    version: str
    #: The registry's ``dist.integrity`` of the tarball.
    tarball_integrity: str
    #: Served file name → (path inside the package, its SRI hash).
    files: dict[str, tuple[str, str]]
    #: The licence text's path, None when the tarball ships none (its package.json names it).
    licence: str | None = "LICENSE"


PINS = (
    Pin(
        "react",
        "18.2.0",
        "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
        {
            "react.production.min.js": (
                "umd/react.production.min.js",
                "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
            )
        },
    ),
    Pin(
        "react-dom",
        "18.2.0",
        "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
        {
            "react-dom.production.min.js": (
                "umd/react-dom.production.min.js",
                "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
            )
        },
    ),
    Pin(
        "graphiql",
        "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        {
            "graphiql.min.js": (
                "graphiql.min.js",
                "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
            ),
            "graphiql.min.css": (
                "graphiql.min.css",
                "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
            ),
        },
    ),
    Pin(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
        {
            "plugin-explorer.umd.js": (
                "dist/index.umd.js",
                "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
            ),
            "plugin-explorer.css": (
                "dist/style.css",
                "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
            ),
        },
        licence=None,
    ),
    Pin(
        # The browser client of the graphql-transport-ws protocol: GraphiQL runs subscriptions
        # over it (its UMD build defines ``window.graphqlWs``).
        "graphql-ws",
        "6.4.2",
        "sha512-wxhPhhOGJo8PbGDkBYVE76sZLDrS+GkyrR4bZECSLVbo0pZZNKs0HtBh2Ip/uaUuiVUxwO9ssI9R92buQfNSqQ==",
        {
            "graphql-ws.min.js": (
                "umd/graphql-ws.min.js",
                "sha384-mxvR4Mzbsb6QVx/9xI2gtQikQA6m8zMDBFnu3l//4/ROsWt7y2sUGWd+/tYQqDm7",
            )
        },
        licence="LICENSE.md",
    ),
)


def subresource_integrity(content: bytes, algorithm: str = "sha384") -> str:
    digest = hashlib.new(algorithm, content).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


def _tarball(client: httpx.Client, pin: Pin) -> tarfile.TarFile:
    name = pin.package.rsplit("/", 1)[-1]
    url = f"{REGISTRY}/{pin.package}/-/{name}-{pin.version}.tgz"
    response = client.get(url)
    response.raise_for_status()
    if subresource_integrity(response.content, "sha512") != pin.tarball_integrity:
        raise SystemExit(
            f"{pin.package}@{pin.version}: the tarball's integrity is not the pinned one"
        )
    return tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz")


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    extracted = archive.extractfile(f"package/{path}")
    if extracted is None:
        raise SystemExit(f"{path} is not a file in the package")
    return extracted.read()


def _licence(archive: tarfile.TarFile, pin: Pin) -> bytes:
    if pin.licence is not None:
        return _member(archive, pin.licence)
    declared = json.loads(_member(archive, "package.json")).get("license", "UNKNOWN")
    return (
        f"{pin.package}@{pin.version} is published under the {declared} licence, as its "
        "package.json declares; its tarball ships no licence text.\n"
    ).encode()


def vendor() -> None:
    STATIC.mkdir(exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    with httpx.Client(timeout=60, follow_redirects=True) as client:
        for pin in PINS:
            archive = _tarball(client, pin)
            for served, (path, integrity) in pin.files.items():
                content = _member(archive, path)
                if subresource_integrity(content) != integrity:
                    raise SystemExit(f"{pin.package}/{path}: not the pinned file")
                (STATIC / served).write_bytes(content)
                manifest[served] = {
                    "package": pin.package,
                    "version": pin.version,
                    "path": path,
                    "integrity": integrity,
                }
            licence = pin.package.replace("@", "").replace("/", "-") + ".LICENSE.txt"
            (STATIC / licence).write_bytes(_licence(archive, pin))
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"vendored {len(manifest)} files into {STATIC}")


if __name__ == "__main__":
    vendor()
