"""The material of a partner API key: its format, the server pepper, the secret's hash, and
the sealing of a new key kept for a retried ``createApiKey``.

Kept apart from the key service so that the parts every layer needs (recognising a key in a
header or a URL, parsing it, hashing its secret) carry no database or cache dependencies.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import string
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contract.errors import API_KEY_SCHEME, AuthenticationError

KEY_PREFIX = "mfk_"
KEY_ID_LENGTH = 12
SECRET_LENGTH = 40  # ~238 bits from 62 symbols
PEPPER_FILE_NAME = "api-key-pepper"

ALPHANUMERIC = string.ascii_letters + string.digits
_KEY_PATTERN = re.compile(r"mfk_([a-z0-9]{12})_([A-Za-z0-9]{40})", re.ASCII)


def looks_like_api_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX)


def format_key(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}{key_id}_{secret}"


def parse_key(presented: str) -> tuple[str, str]:
    """The key id and secret of a well-formed key; anything else is a 401."""
    match = _KEY_PATTERN.fullmatch(presented.strip())
    if match is None:
        raise AuthenticationError(
            "malformed API key: expected mfk_<key id>_<secret>", scheme=API_KEY_SCHEME
        )
    return match.group(1), match.group(2)


def load_pepper(configured: str | None, data_dir: Path) -> bytes:
    """The configured pepper, or in development one kept in ``data_dir`` so that keys made by
    ``gateway keys create`` keep working across restarts and workers (prod requires one set).

    The file is written whole under a temporary name and then hard-linked into place, so a
    worker that loses the race to create it reads the winner's complete pepper, never a file
    still being written. An empty pepper is refused: every key would hash with no secret.
    """
    if configured:
        return configured.encode()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / PEPPER_FILE_NAME
    if not path.exists():
        _create_pepper_file(path)
    pepper = path.read_text(encoding="ascii").strip()
    if not pepper:
        raise RuntimeError(
            f"the API key pepper file {path} is empty: delete it to have a new one made "
            "(keys made with the old pepper will stop working) or set GATEWAY_API_KEY_PEPPER"
        )
    return pepper.encode()


def _create_pepper_file(path: Path) -> None:
    # mkstemp creates the file 0600 in the same directory, so the link below cannot cross
    # file systems and the pepper is never readable by others.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32))
            handle.flush()
            os.fsync(handle.fileno())
        # Atomic, and fails rather than replace a winner's file: if another worker's complete
        # file is already in place, everyone reads that one.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def hash_secret(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


#: Binds sealed values to their purpose: the key derived from the pepper seals nothing else.
_SEAL_CONTEXT = b"manifold idempotent createApiKey v1"
_NONCE_BYTES = 12


def _sealing_key(pepper: bytes) -> bytes:
    return hmac.new(pepper, _SEAL_CONTEXT, hashlib.sha256).digest()


def seal(pepper: bytes, plaintext: str) -> str:
    """``plaintext`` encrypted (AES-256-GCM) under a key derived from the pepper: a new key
    kept for a retried ``createApiKey`` is unreadable from a database dump alone, like the
    stored hashes."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_sealing_key(pepper)).encrypt(nonce, plaintext.encode(), _SEAL_CONTEXT)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(pepper: bytes, sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed.encode())
    key = AESGCM(_sealing_key(pepper))
    return key.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _SEAL_CONTEXT).decode()
