"""Persisted operations: automatic persisted queries (APQ) and trusted documents.

**APQ** (Apollo's protocol): a client sends ``extensions.persistedQuery.sha256Hash`` alone; on a
miss the gateway answers ``PERSISTED_QUERY_NOT_FOUND`` and the client resends hash and query,
which registers it (the hash must be the query's sha256, or anyone could poison another
document's hash). Registered queries live in the shared cache (Redis across replicas) so a hash
sent to any replica hits, over POST and GET alike (GET lets a CDN cache the response).

**Trusted documents**: a manifest of id → document, loaded, parsed and validated once at start
(an invalid manifest refuses to start); requests name one by ``documentId`` or by
``extensions.persistedQuery.sha256Hash``. With ``GATEWAY_PERSISTED_ONLY=true`` they are the only
documents served, except to principals holding the bypass scope.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLError, parse

from datasources.cache import Cache
from datasources.throttled_log import ThrottledWarning
from gateway.operations.analysis import analyse
from gateway.operations.documents import Document, Validator

logger = logging.getLogger("manifold.persisted")

APQ_KEY_PREFIX = "apq:"


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class ApqStore:
    """Registered APQ documents by hash, in the shared cache.

    APQ is an optimisation the client recovers from (it resends the query on a miss), so an
    unreachable cache degrades to misses and skipped registrations instead of failing requests.
    """

    def __init__(self, cache: Cache, *, ttl_seconds: float) -> None:
        self._cache = cache
        self._ttl_seconds = ttl_seconds
        self._warn = ThrottledWarning(logger)

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self._cache.get(APQ_KEY_PREFIX + sha256.lower())
        except Exception:  # any cache failure is a miss; the client resends the query
            self._warn("APQ lookup failed; answering as a miss")
            return None
        return value.decode() if value is not None else None

    async def register(self, sha256: str, query: str) -> None:
        try:
            await self._cache.set(
                APQ_KEY_PREFIX + sha256.lower(), query.encode(), ttl_seconds=self._ttl_seconds
            )
        except Exception:  # the operation still runs; only the next hit is lost
            self._warn("APQ registration failed; the next request by hash will miss")


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    id: str
    query: str
    #: Parsed, analysed and validated once, at start-up.
    document: Document


class ManifestError(ValueError):
    """The manifest cannot be served: unreadable, malformed, or holding an invalid document."""


def _entries(raw: object) -> Mapping[str, object]:
    """Accept ``{id: document}`` and Apollo's ``apollo-persisted-query-manifest`` format."""
    if isinstance(raw, dict) and raw.get("format") == "apollo-persisted-query-manifest":
        operations = raw.get("operations")
        if not isinstance(operations, list):
            raise ManifestError("an Apollo manifest needs an `operations` list")
        entries: dict[str, object] = {}
        for operation in operations:
            if not isinstance(operation, dict) or "id" not in operation:
                raise ManifestError("every operation of an Apollo manifest needs `id` and `body`")
            entries[str(operation["id"])] = operation.get("body")
        return entries
    if isinstance(raw, dict):
        return {str(key): value for key, value in raw.items()}
    raise ManifestError("a manifest is a JSON object of id -> document, or Apollo's format")


def _bare(document_id: str) -> str:
    """``sha256:abc…`` (the trusted-documents convention) and ``abc…`` name the same document."""
    return document_id.removeprefix("sha256:")


class TrustedDocuments:
    def __init__(self, documents: Mapping[str, TrustedDocument]) -> None:
        self._documents = {_bare(key): value for key, value in documents.items()}

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, document_id: str) -> TrustedDocument | None:
        return self._documents.get(_bare(document_id))

    @classmethod
    def load(cls, path: Path | None, *, validator: Validator) -> TrustedDocuments:
        """Read, parse and validate every document once; any failure names its id."""
        if path is None:
            return cls({})
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ManifestError(f"cannot read persisted manifest {path}: {error}") from None
        documents: dict[str, TrustedDocument] = {}
        for document_id, query in _entries(raw).items():
            if not isinstance(query, str) or not query.strip():
                raise ManifestError(f"persisted document {document_id!r} is not a document")
            try:
                document = Document(analyse(parse(query)))
            except GraphQLError as error:
                raise ManifestError(
                    f"persisted document {document_id!r}: {error.message}"
                ) from None
            errors = document.validated(validator)
            if errors:
                raise ManifestError(
                    f"persisted document {document_id!r} is invalid: {errors[0].message}"
                )
            documents[document_id] = TrustedDocument(document_id, query, document)
        return cls(documents)
