"""GraphQL over HTTP: media types, status codes, GET for queries only, CSRF-safe POST."""

from __future__ import annotations

import httpx

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_application_json_clients_keep_200_with_errors(http: httpx.AsyncClient):
    response = await http.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_graphql_response_json_clients_get_4xx_without_data_for_request_errors(http: httpx.AsyncClient):
    headers = {"Accept": GRAPHQL_RESPONSE}
    for query in ("{ nope }", "{ territories("):
        response = await http.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        body = response.json()
        assert "data" not in body and body["errors"]


async def test_graphql_response_json_keeps_200_for_executed_operations(http: httpx.AsyncClient):
    response = await http.post("/graphql", json={"query": "{ viewer { id } }"},
                               headers={"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"] == {"viewer": None}


async def test_get_serves_queries_and_refuses_mutations(http: httpx.AsyncClient):
    ok = await http.get("/graphql", params={"query": "{ viewer { id } }"})
    assert ok.status_code == 200 and ok.json()["data"] == {"viewer": None}
    refused = await http.get("/graphql", params={"query": "mutation { logOut }"})
    assert refused.status_code == 405


async def test_a_subscription_over_http_is_told_where_subscriptions_are(http: httpx.AsyncClient):
    # (executed as a query, it answered INTERNAL_SERVER_ERROR)
    query = 'subscription { feed(territoryId: "VGVycml0b3J5OjE=") { cursor } }'
    for response in (await http.post("/graphql", json={"query": query}),
                     await http.get("/graphql", params={"query": query}),
                     await http.post("/graphql", json={"query": query}, headers={"Accept-Language": "fr"})):
        assert response.status_code == 400, response.text
        assert "INTERNAL" not in response.text and "websocket" in response.text, response.text


async def test_post_refuses_what_a_browser_sends_cross_site_without_a_preflight(http: httpx.AsyncClient):
    body = '{"query": "mutation { logOut }"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = await http.post("/graphql", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 415, content_type


async def test_malformed_json_is_a_400(http: httpx.AsyncClient):
    response = await http.post("/graphql", content="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
