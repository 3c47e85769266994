"""Health, readiness, metrics and logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from app.observability import JsonFormatter, account_hash
from tests.factories import make_person


async def test_health_and_readiness(http: httpx.AsyncClient):
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "migrations": "ok", "broker": "ok"}


def published(text: str) -> float:
    """The value of parvis_events_published_total in a /metrics page."""
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith("parvis_events_published_total ")]
    assert len(values) == 1, text
    return values[0]


async def test_metrics_count_operations_errors_and_latency(http: httpx.AsyncClient, gql):
    before = published((await http.get("/metrics")).text)
    await gql("query HomePage { viewer { id } }")
    await gql("{ nope }")
    # A committed mutation publishes events (at least the "data changed" announcement)
    await gql("mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
              {"i": {"email": "metrics-reader@example.org", "password": "a long passphrase", "displayName": "M"}})
    text = (await http.get("/metrics")).text
    assert 'parvis_graphql_requests_total{operation="HomePage",status="ok"}' in text
    assert 'parvis_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}' in text
    assert 'parvis_graphql_duration_seconds_bucket{le="+Inf",operation="HomePage"}' in text
    assert "# TYPE parvis_events_published_total counter" in text
    assert published(text) > before


async def test_operation_logs_carry_no_secret(gql, settings, caplog: pytest.LogCaptureFixture):
    alice = await make_person("alice")
    caplog.set_level(logging.INFO, logger="parvis.operations")
    logger = logging.getLogger("parvis")
    logger.addHandler(caplog.handler)
    try:
        await gql("mutation LogIn($i: LogInInput!) { logIn(input: $i) { token } }",
                  {"i": {"email": alice.email, "password": "correct horse battery"}}, token=alice.token)
    finally:
        logger.removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == "parvis.operations"]
    assert records, "no operation was logged"
    line = JsonFormatter().format(records[-1])
    entry = json.loads(line)
    assert entry["operation"] == "LogIn" and entry["status"] == "ok"
    assert entry["account"] == account_hash(alice.account.id, settings.secret)
    for secret in ("correct horse battery", alice.token, alice.email):
        assert secret not in line


async def test_rate_limit_refusals_are_counted(settings):
    from access.ratelimit import Limiter
    from server import build_app

    app = build_app(settings, manage_database=False, limiter=Limiter(overrides={"requests_ip": (1, 60)}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.post("/graphql", json={"query": "{ viewer { id } }"})
        refused = await client.post("/graphql", json={"query": "{ viewer { id } }"})
        assert refused.status_code == 429
        text = (await client.get("/metrics")).text
    assert 'parvis_rate_limited_total{bucket="requests_ip"} 1' in text
