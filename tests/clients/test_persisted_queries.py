"""Automatic persisted queries (Apollo's protocol) and HTTP caching of anonymous GET answers.

An app sends a document's sha256; the first time the server answers PersistedQueryNotFound
and the app sends the document once with its hash; from then on the hash alone runs it, and
over GET the short URL is what a browser or a CDN caches (ETag, Cache-Control).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from tests.factories import make_person, make_territory

TERRITORY = "query Territory($slug: String!) { territory(slug: $slug) { name } }"


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(document.encode()).hexdigest()}}


def get_params(document: str | None, variables: dict[str, Any], extensions: dict[str, Any] | None) -> dict[str, str]:
    params = {"variables": json.dumps(variables)}
    if document is not None:
        params["query"] = document
    if extensions is not None:
        params["extensions"] = json.dumps(extensions)
    return params


async def test_a_hash_unknown_to_the_server_is_sent_once_then_runs_alone(http: httpx.AsyncClient) -> None:
    territory = await make_territory(name="Narbonne")
    document = TERRITORY + f" # {territory.slug}"  # a document no earlier test registered
    variables = {"slug": territory.slug}

    # When an app first sends only the hash
    first = await http.post("/graphql", json={"variables": variables, "extensions": persisted(document)})
    # Then the server asks for the document, in the shape Apollo's link recognises
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/json")
    assert first.json() == {"errors": [{"message": "PersistedQueryNotFound",
                                        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}

    # When it sends the document with its hash, then the hash alone again
    full = await http.post("/graphql", json={"query": document, "variables": variables,
                                             "extensions": persisted(document)})
    again = await http.post("/graphql", json={"variables": variables, "extensions": persisted(document)})
    # Then both run it
    assert full.json()["data"] == again.json()["data"] == {"territory": {"name": "Narbonne"}}


async def test_a_document_that_does_not_match_its_hash_is_refused(http: httpx.AsyncClient) -> None:
    lying = {"query": "{ __typename }", "extensions": persisted("{ viewer { id } }")}
    answer = await http.post("/graphql", json=lying)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    # And the lie registered nothing: the hash alone is still unknown
    unknown = await http.post("/graphql", json={"extensions": persisted("{ viewer { id } }")})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_malformed_persisted_query_gets_a_json_error(http: httpx.AsyncClient) -> None:
    for extensions in ({"persistedQuery": {"version": 2, "sha256Hash": "ab"}}, {"persistedQuery": "x"}):
        answer = await http.post("/graphql", json={"extensions": extensions})
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


async def test_an_anonymous_get_is_cacheable_and_revalidates_with_its_etag(http: httpx.AsyncClient) -> None:
    territory = await make_territory(name="Limoux")
    document = TERRITORY + f" # get {territory.slug}"
    variables = {"slug": territory.slug}
    # Given a document registered over GET (the hash alone first: unknown)
    unknown = await http.get("/graphql", params=get_params(None, variables, persisted(document)))
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await http.get("/graphql", params=get_params(document, variables, persisted(document)))
    assert registered.json()["data"] == {"territory": {"name": "Limoux"}}

    # When a browser asks with the short URL
    short = get_params(None, variables, persisted(document))
    answer = await http.get("/graphql", params=short)
    # Then the answer says how to cache it
    assert answer.status_code == 200 and answer.json()["data"] == {"territory": {"name": "Limoux"}}
    assert answer.headers["cache-control"] == "public, max-age=0"
    etag = answer.headers["etag"]
    # And asking again with its ETag costs no body
    fresh = await http.get("/graphql", params=short, headers={"If-None-Match": etag})
    assert fresh.status_code == 304 and fresh.content == b"" and fresh.headers["etag"] == etag
    # Until the data changes: then the ETag no longer matches
    territory.name = "Limoux-en-Razès"
    await territory.save(update_fields=["name"])
    changed = await http.get("/graphql", params=short, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["data"] == {"territory": {"name": "Limoux-en-Razès"}}
    assert changed.headers["etag"] != etag


async def test_what_is_personal_or_failed_is_never_cached_publicly(http: httpx.AsyncClient) -> None:
    alice = await make_person("alice")
    mine = await http.get("/graphql", params={"query": "{ viewer { displayName } }"},
                          headers={"Authorization": f"Bearer {alice.token}"})
    assert mine.json()["data"] == {"viewer": {"displayName": "Alice"}}
    assert mine.headers["cache-control"] == "private, no-store" and "etag" not in mine.headers
    failed = await http.get("/graphql", params={"query": "{ nope }"})
    assert failed.headers["cache-control"] == "no-store" and "etag" not in failed.headers


async def test_a_mutation_cannot_ride_a_get_through_a_persisted_hash(http: httpx.AsyncClient) -> None:
    mutation = "mutation { logOut }"
    await http.post("/graphql", json={"query": mutation, "extensions": persisted(mutation)})
    answer = await http.get("/graphql", params=get_params(None, {}, persisted(mutation)))
    assert answer.status_code == 405
