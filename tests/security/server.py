"""A real Parvis server in production mode, its stderr kept, for the security tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from tests.e2e.server import ServerProcess, new_database_url, run_cli

SLUG = "securite"


def production_server(*args: str, **env: str) -> Iterator[ServerProcess]:
    """A production server over a new database holding one territory (for pytest fixtures)."""
    database_url = new_database_url()
    migrated = run_cli(database_url, "migrate")  # PostgreSQL is migrated once per deployment
    assert migrated.returncode == 0, migrated.stderr
    made = run_cli(database_url, "create-territory", "--slug", SLUG, "--name", "Sécurité")
    assert made.returncode == 0, made.stderr
    # Production requires the deployment's secret (docs/adr/0009): a test one, unless given.
    env = {"PARVIS_SECRET": "test-secret-of-the-security-servers-0123456789", **env}
    server = ServerProcess(database_url, *args, PARVIS_ENV="production", **env)
    server.startup_seconds = 120  # two cores, eight engineers: workers take their time
    with server:
        yield server


def post(server: ServerProcess, body: Any, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, (bytes, str)):
        return httpx.post(f"{server.url}/graphql", content=body, timeout=30,
                          headers={"Content-Type": "application/json", **headers}, **kwargs)
    return httpx.post(f"{server.url}/graphql", json=body, headers=headers, timeout=30, **kwargs)


def log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    """Every line the server wrote on stderr, each of which must be one JSON object."""
    lines = [line for line in server.stderr().splitlines() if line.strip()]
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"a log line is not JSON: {line!r}") from None
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries
