"""The one TLS trust store of an app: certifi, the system's ``SSL_CERT_FILE``/``SSL_CERT_DIR``,
and the operator's extra CAs, used by the identity client, token introspection and every REST
upstream.

Built once per app (an ``SSLContext`` costs tens of milliseconds) and shared by every client.
An identity provider or upstream behind a company CA is the usual case in production; a CA
file that cannot be read refuses start-up with the path named, rather than failing every call
later with a certificate error.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

import certifi

#: Files a CA directory may hold, besides OpenSSL's hashed names (``ab12cd34.0``).
_CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer")


class TrustStoreError(RuntimeError):
    """A configured CA certificate file or directory cannot be loaded."""


def _load(context: ssl.SSLContext, path: Path, origin: str) -> None:
    try:
        if path.is_dir():
            context.load_verify_locations(capath=str(path))  # hashed names, looked up lazily
            for candidate in sorted(path.iterdir()):
                if candidate.suffix.lower() in _CERTIFICATE_SUFFIXES and candidate.is_file():
                    context.load_verify_locations(cafile=str(candidate))
        elif path.is_file():
            context.load_verify_locations(cafile=str(path))
        else:
            raise TrustStoreError(f"{origin} names no file or directory: {path}")
    except (ssl.SSLError, OSError, ValueError) as error:
        reason = type(error).__name__
        raise TrustStoreError(
            f"{origin} ({path}) holds no usable CA certificate: {reason}"
        ) from None


def trust_store(
    extra: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> ssl.SSLContext:
    """certifi's bundle, plus ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` and ``extra`` when set."""
    environ = os.environ if environ is None else environ
    context = ssl.create_default_context(cafile=certifi.where())
    for variable in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = environ.get(variable)
        if value:
            _load(context, Path(value), variable)
    if extra is not None:
        _load(context, extra, "GATEWAY_CA_CERTIFICATES")
    return context
