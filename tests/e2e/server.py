"""Real Parvis server processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any

import httpx

from app.settings import normalize_database_url
from tests.pg import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_database_url() -> str:
    """A new empty database: PostgreSQL when TEST_DATABASE_URL is set, else a SQLite file."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        return fresh_postgres_database(normalize_database_url(base), f"parvis_e2e_{uuid.uuid4().hex[:8]}")
    return f"sqlite://{Path(tempfile.mkdtemp(prefix='parvis-e2e-')) / 'parvis.sqlite3'}"


def run_cli(database_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url}
    environment.pop("REDIS_URL", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "server.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


class ServerProcess:
    """`python server.py serve` on a free port, as a user would start it."""

    # Workers each import the app: on a busy machine that takes a while.
    startup_seconds = 30.0

    def __init__(self, database_url: str, *args: str, **env: str) -> None:
        self.database_url = database_url
        self.args = args  # more `serve` options, e.g. "--workers", "2"
        self.port = free_port()
        # Mails of the embedded default go to a folder of the test's own, not the tree's var/mail.
        mail_dir = tempfile.mkdtemp(prefix="parvis-mail-")
        self.env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(self.port), "PARVIS_MAIL_DIR": mail_dir,
                    **env}
        self.env.pop("REDIS_URL", None) if "REDIS_URL" not in env else None
        self.proc: subprocess.Popen[bytes] | None = None
        # The server's stderr goes to a file: a pipe nobody reads would fill and block it.
        self.log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        """What the server wrote on stderr so far."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def start(self) -> ServerProcess:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "server.py", "serve", *self.args], cwd=ROOT, env=self.env,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.stderr()
                self.stop()
                raise RuntimeError(f"server exited: {output}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start in {self.startup_seconds:g} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Client:
    """A GraphQL client over real HTTP."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = httpx.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
            headers=headers, timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]
