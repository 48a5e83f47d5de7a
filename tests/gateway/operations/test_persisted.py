"""Automatic persisted queries (shared through Redis) and trusted documents."""

from __future__ import annotations

import hashlib
import json

import pytest

from gateway.operations.persisted import ManifestError, TrustedDocuments
from tests.bodies import result
from tests.helpers import codes

ME = "query Me { me { id } }"
ME_HASH = hashlib.sha256(ME.encode()).hexdigest()


def apq(sha256: str = ME_HASH) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


async def test_an_unknown_hash_is_persisted_query_not_found(gateway):
    response, statements = await gateway.post({"extensions": apq()})

    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert statements == 0


async def test_apq_round_trip_over_post(gateway):
    miss, _ = await gateway.post({"extensions": apq()})
    registered, _ = await gateway.post({"query": ME, "extensions": apq()})
    hit, _ = await gateway.post({"extensions": apq()})

    assert codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert registered.status_code == 200
    assert hit.status_code == 200
    assert result(hit.json()) == {"data": {"me": None}}


async def test_apq_round_trip_over_get(gateway):
    params = {"extensions": json.dumps(apq())}

    miss, _ = await gateway.get(params)
    registered, _ = await gateway.get({**params, "query": ME})
    hit, _ = await gateway.get(params)

    assert miss.status_code == 400
    assert codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert miss.headers["cache-control"] == "no-store"
    assert registered.status_code == 200
    assert hit.status_code == 200
    assert result(hit.json()) == {"data": {"me": None}}


async def test_a_query_registered_on_one_replica_is_found_by_another(make_gateway):
    first = await make_gateway()
    second = await make_gateway()

    await first.post({"query": ME, "extensions": apq()})
    hit, _ = await second.post({"extensions": apq()})

    assert hit.status_code == 200
    assert result(hit.json()) == {"data": {"me": None}}


async def test_a_hash_that_is_not_the_querys_sha256_is_refused_and_not_stored(gateway):
    forged = "0" * 64

    response, statements = await gateway.post({"query": ME, "extensions": apq(forged)})
    lookup, _ = await gateway.post({"extensions": apq(forged)})

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0
    assert codes(lookup) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_an_invalid_query_is_not_registered(gateway):
    invalid = "{ me { shoeSize } }"
    digest = hashlib.sha256(invalid.encode()).hexdigest()

    refused, _ = await gateway.post({"query": invalid, "extensions": apq(digest)})
    lookup, _ = await gateway.post({"extensions": apq(digest)})

    assert codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(lookup) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_query_over_a_limit_is_not_registered(make_gateway):
    gateway = await make_gateway(max_depth=1)
    deep = "{ me { orders { edges { node { id } } } } }"
    digest = hashlib.sha256(deep.encode()).hexdigest()

    refused, _ = await gateway.post({"query": deep, "extensions": apq(digest)})
    lookup, _ = await gateway.post({"extensions": apq(digest)})

    assert codes(refused) == ["MAX_DEPTH_LIMIT"]
    assert codes(lookup) == ["PERSISTED_QUERY_NOT_FOUND"]


# --- trusted documents ---------------------------------------------------------------------


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"me-v1": ME, ME_HASH: ME}))
    return path


async def test_persisted_only_refuses_an_ad_hoc_document(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest, persisted_only=True)

    response, statements = await gateway.post({"query": "{ me { id name } }"})

    assert response.status_code == 400
    assert codes(response) == ["OPERATION_NOT_ALLOWED"]
    assert statements == 0


async def test_persisted_only_serves_a_manifest_document_by_id(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest, persisted_only=True)

    response, _ = await gateway.post({"documentId": "me-v1"})

    assert response.status_code == 200
    assert result(response.json()) == {"data": {"me": None}}


async def test_persisted_only_serves_a_manifest_document_by_hash_over_get(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest, persisted_only=True)

    by_hash, _ = await gateway.get({"extensions": json.dumps(apq())})
    by_document_id, _ = await gateway.get({"documentId": f"sha256:{ME_HASH}"})

    assert result(by_hash.json()) == {"data": {"me": None}}
    assert result(by_document_id.json()) == {"data": {"me": None}}


async def test_persisted_only_refuses_apq_registration(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest, persisted_only=True)
    other = "{ me { name } }"
    digest = hashlib.sha256(other.encode()).hexdigest()

    response, statements = await gateway.post({"query": other, "extensions": apq(digest)})

    assert response.status_code == 400
    assert codes(response) == ["OPERATION_NOT_ALLOWED"]
    assert statements == 0


async def test_the_bypass_scope_may_send_any_document(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest, persisted_only=True)
    token = gateway.token("protection-subject", "operations:any")

    response, _ = await gateway.post({"query": "{ me { id } }"}, token=token)

    assert response.status_code == 200


async def test_an_unknown_document_id_is_persisted_query_not_found(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest)

    response, statements = await gateway.post({"documentId": "nope"})

    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert statements == 0


async def test_apollos_manifest_format_is_accepted(make_gateway, tmp_path):
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": ME_HASH, "name": "Me", "type": "query", "body": ME}],
            }
        )
    )
    gateway = await make_gateway(persisted_manifest=path, persisted_only=True)

    response, _ = await gateway.post({"extensions": apq()})

    assert result(response.json()) == {"data": {"me": None}}


async def test_manifest_documents_are_validated_once_at_start(make_gateway, manifest):
    gateway = await make_gateway(persisted_manifest=manifest, persisted_only=True)
    pipeline = gateway.app.state.resources.pipeline
    validator = pipeline.validator
    validated = []

    def counting(document):
        validated.append(document)
        return validator(document)

    pipeline.validator = counting
    for _ in range(3):
        await gateway.post({"documentId": "me-v1"})

    assert validated == []


def test_a_manifest_with_an_invalid_document_refuses_to_load(tmp_path, app):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"bad": "{ me { shoeSize } }"}))
    validator = app.state.resources.pipeline.validator

    with pytest.raises(ManifestError, match="'bad' is invalid"):
        TrustedDocuments.load(path, validator=validator)
