"""Trusted documents: a production deployment that runs only what its own apps registered."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.settings import Settings
from server import build_app
from tests.e2e.server import run_cli
from tests.factories import make_territory

TERRITORY = "query Territory($slug: String!) { territory(slug: $slug) { name } }"


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def trusted_api(settings: Settings) -> Any:
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    return build_app(dataclasses.replace(settings, env="production", trusted_documents=True),
                     manage_database=False, limiter=unlimited)


async def test_only_the_registered_documents_run(settings: Settings, database_url: str, tmp_path: Path) -> None:
    territory = await make_territory(name="Castelnaudary")
    document = TERRITORY + " # web 2.3.0"
    # Given the web app's manifest, as graphql-codegen writes it, registered by the operator
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({digest(document): document}))
    registered = run_cli(database_url, "register-documents", str(manifest), "--client", "web 2.3.0")
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.strip() == "1 documents registered for web 2.3.0 (0 already were)"
    again = run_cli(database_url, "register-documents", str(manifest), "--client", "web 2.3.0")
    assert again.stdout.strip() == "0 documents registered for web 2.3.0 (1 already were)"

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=trusted_api(settings)),
                                 base_url="http://api") as api:
        variables = {"slug": territory.slug}
        # When the app names its document by id, over POST and GET, or sends it whole
        by_id = await api.post("/graphql", json={"documentId": f"sha256:{digest(document)}", "variables": variables})
        by_get = await api.get("/graphql", params={"documentId": digest(document), "variables": json.dumps(variables)})
        whole = await api.post("/graphql", json={"query": document, "variables": variables})
        # Then it runs
        for answer in (by_id, by_get, whole):
            assert answer.status_code == 200 and answer.json()["data"] == {"territory": {"name": "Castelnaudary"}}

        # When anyone sends a document no app registered (even a tiny one, even by APQ)
        for request in ({"query": "{ __typename }"},
                        {"query": "{ __typename }", "extensions": {"persistedQuery": {
                            "version": 1, "sha256Hash": digest("{ __typename }")}}},
                        {"documentId": "sha256:" + "0" * 64}):
            refused = await api.post("/graphql", json=request)
            # Then it is refused before anything runs
            assert refused.status_code == 400
            assert refused.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


def test_a_manifest_that_lies_about_a_hash_registers_nothing(database_url: str, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": digest("{ __typename }"), "name": "Ok", "type": "query", "body": "{ __typename }"},
        {"id": digest("{ viewer { id } }"), "name": "Lie", "type": "query", "body": "mutation { logOut }"},
    ]}))
    lying = run_cli(database_url, "register-documents", str(manifest), "--client", "ios 1.0")
    assert lying.returncode == 2
    assert lying.stderr.startswith("parvis: ") and "does not match its hash" in lying.stderr
    assert "Traceback" not in lying.stderr
