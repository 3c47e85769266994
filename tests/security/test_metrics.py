"""/metrics stays small whatever clients name their operations, answers only to its token
when PARVIS_METRICS_TOKEN is set, and with `serve --workers N` one scrape shows every worker
(issue 10 §5). Against real server processes in production mode.

Before the fix, every client-chosen operation name became a label of three series (6,000
names made /metrics 12 MB), /metrics answered anyone, and each worker kept its own
registry, so a scrape showed the one worker that answered it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from app.observability import MAX_LABEL_VALUES
from tests.e2e.server import ServerProcess
from tests.security.server import production_server

TOKEN = "metrics-token-5b1e0c2f9a"


def operations_counted(text: str) -> dict[str, float]:
    """operation label -> parvis_graphql_requests_total, summed over statuses."""
    counted: dict[str, float] = {}
    for name, value in re.findall(r'^parvis_graphql_requests_total\{operation="([^"]*)",[^}]*\} (\S+)$', text, re.M):
        counted[name] = counted.get(name, 0) + float(value)
    return counted


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from production_server(PARVIS_METRICS_TOKEN=TOKEN)


def scrape(server: ServerProcess, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.url}/metrics", headers=headers, timeout=30)


def test_metrics_answer_only_to_their_bearer_token(server: ServerProcess):
    for refused in (scrape(server, None), scrape(server, "metrics-token-5b1e0c2f9b")):
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "parvis_" not in refused.text
    assert scrape(server).status_code == 200


def test_client_chosen_operation_names_do_not_grow_the_metrics(server: ServerProcess):
    # Given a client that names each of its operations differently, and one long name
    names = [f"Op{i}" for i in range(MAX_LABEL_VALUES + 50)] + ["L" * 5000]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for name in names:
            assert client.post("/graphql", json={"query": f"query {name} {{ viewer {{ id }} }}"}).status_code == 200
    # Then /metrics labels at most MAX_LABEL_VALUES of them, and counts the rest as "other"
    text = scrape(server).text
    counted = operations_counted(text)
    assert len(counted) <= MAX_LABEL_VALUES + 1, len(counted)
    assert counted.get("other", 0) >= 51
    assert sum(counted.values()) >= len(names)
    assert "L" * 65 not in text
    assert len(text) < 200_000, len(text)


def test_one_scrape_shows_every_worker():
    """Fails before the fix unless one worker took all 40 connections: each scrape showed the
    counts of the one worker that answered it."""
    # The response cache off: every request executes (and counts) its operation.
    for server in production_server("--workers", "2", PARVIS_RESPONSE_CACHE="off"):
        requests = 40
        for _ in range(requests):
            # A new connection each: the workers share the listening socket.
            response = httpx.post(f"{server.url}/graphql", json={"query": "query Counted { viewer { id } }"},
                                  headers={"Connection": "close"}, timeout=30)
            assert response.status_code == 200
        for _ in range(4):
            counted = operations_counted(httpx.get(f"{server.url}/metrics", headers={"Connection": "close"},
                                                   timeout=30).text)
            assert counted.get("Counted") == requests, counted
