"""Fixtures of the fuzzers: the world they act in, and a gql that can send any JSON string."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fuzz.world import World, build_world


@pytest.fixture(scope="module")
async def world() -> World:
    return await build_world()


@pytest.fixture
def gql(http: Any) -> Any:
    """Like the suite's gql, but the JSON is written with ASCII escapes, so that strings
    no UTF-8 encoder accepts (lone surrogates, "\\ud800") reach the server as JSON allows."""

    async def call(query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True).encode()
        response = await http.post("/graphql", content=body, headers=headers)
        assert response.status_code == 200, (variables, response.status_code, response.text[:2000])
        return response.json()  # type: ignore[no-any-return]

    return call
