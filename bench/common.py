"""Shared plumbing of the benchmarks: the database, the servers under test, the load runs.

Not a library for the application: only bench/*.py import it. Everything runs on
127.0.0.1; servers and the load generator are child processes, stopped on exit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Production's serve requires PARVIS_SECRET (docs/adr/0009): one for this run's servers.
BENCH_SECRET = os.environ.get("PARVIS_SECRET") or secrets.token_urlsafe(48)
DEMO_SLUG = "carcassonne-agglo"


def database_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
    }


# --- the database -----------------------------------------------------------------------


async def recreate_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def server_cli(url: str, *args: str) -> None:
    """`python server.py <args>` with DATABASE_URL=url, failing loudly."""
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run(
        [PYTHON, "server.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"server.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    log(f"server.py {' '.join(args)}: {result.stdout.strip()[:200]}")


def prepare_database(name: str, scale: int, keep: bool) -> str:
    """A fresh database with the demo seeded at `scale` (or the existing one with --keep-db)."""
    import asyncio

    url = database_url(name)
    if keep:
        log(f"reusing database {name}")
        return url
    asyncio.run(recreate_database(name))
    server_cli(url, "migrate")
    server_cli(url, "seed-demo", "--scale", str(scale))
    return url


def new_token() -> tuple[str, str]:
    """A bearer token and the sha256 the access_token table stores."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def far_future() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=30)


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wait_healthy(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode} at start")
        try:
            with urllib.request.urlopen(server.base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer /healthz within {timeout:.0f}s")


def start_server(name: str, argv: Sequence[str], url: str, port: int, env: dict[str, str] | None = None) -> Server:
    logfile = open(BENCH / f".{name}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [PYTHON, *argv], cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, **(env or {})},
        stdout=logfile, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name, port, process)
    _wait_healthy(server)
    log(f"{name} up on port {port} (pid {process.pid})")
    return server


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def servers(url: str, *, pool: int, profile: str | None = None) -> Iterator[tuple[Server, Server]]:
    """The application (`server.py serve`, one process) and the baseline, both on `url`."""
    # Always explicit: `server.py` defaults its pool to 20 connections, the baseline to `pool`.
    app_url = f"{url}?maxsize={pool}"
    app_argv = ["server.py", "serve", "--port", str(port_app := free_port())]
    if profile:
        # .html: the interactive tree; .pstats: for pstats (self time per function); else text.
        renderer = {".html": "html", ".pstats": "pstats"}.get(Path(profile).suffix, "text")
        app_argv = ["-m", "pyinstrument", "-r", renderer, "-o", profile, *app_argv]
    started: list[Server] = []
    try:
        started.append(start_server("graphql", app_argv, app_url, port_app,
                                    # One load generator is one client address: the per-IP
                                    # request limit (600/min) would answer it 429.
                                    {"PARVIS_ENV": "production", "PARVIS_SECRET": BENCH_SECRET,
                                     "PARVIS_RATE_LIMITS": "requests_ip=1000000000/60"}))
        port_base = free_port()
        started.append(start_server(
            "baseline", ["bench/baseline_server.py", "--port", str(port_base), "--pool", str(pool)],
            url, port_base,
        ))
        yield started[0], started[1]
    finally:
        for server in reversed(started):
            stop_server(server)


# --- the peer: PostGraphile 4 on the same database (bench/peer/) -----------------------------

PEER = BENCH / "peer"
PEER_JWT_SECRET = "parvis-bench-peer-secret"


async def install_peer_functions(url: str) -> None:
    """peer.sql's computed columns, in the bench database only."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute((PEER / "peer.sql").read_text())
    finally:
        await conn.close()


def start_peer(url: str, pool: int) -> Server:
    """PostGraphile (one Node process) on `url`, with `pool` connections, like the others."""
    if not (PEER / "node_modules" / "postgraphile").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=PEER, check=True, capture_output=True)
    port = free_port()
    logfile = open(BENCH / ".postgraphile.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        ["node", str(PEER / "serve.js"), "--port", str(port), "--pool", str(pool), "--jwt-secret", PEER_JWT_SECRET,
         "--database", url.replace("postgres://", "postgresql://", 1)],
        cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server("postgraphile", port, process)
    _wait_healthy(server)
    log(f"postgraphile up on port {port} (pid {process.pid})")
    return server


def peer_jwt(account_id: int) -> str:
    """A signed-in viewer for PostGraphile: an HS256 JWT whose claims it copies into the
    transaction (jwt.claims.account_id), as a PostGraphile deployment authenticates."""
    import base64
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"aud": "postgraphile", "account_id": account_id, "exp": int(time.time()) + 86400}
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(PEER_JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def global_id(kind: str, pk: int) -> str:
    """Parvis's opaque global id of a row (base64 of "Kind:pk", as schema.relay.encode_id)."""
    import base64

    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


# --- HTTP helpers (setup and checks, not timed) ---------------------------------------------


def post_json(url: str, body: Any, token: str | None = None) -> Any:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# --- load runs ------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    ok_total: int
    sent_total: int
    bad_samples: list[str]


def run_load(
    label: str, port: int, requests: list[dict[str, Any]], *, concurrency: int, duration: float,
    warmup: float, max_requests: int | None = None, check: str = "status",
) -> Result:
    """Run bench/loadgen.py in its own process against 127.0.0.1:port; its JSON report back."""
    spec = {
        "port": port, "requests": requests, "concurrency": concurrency, "duration": duration,
        "warmup": warmup, "max_requests": max_requests, "check": check,
    }
    spec_path = BENCH / f".spec-{''.join(c if c.isalnum() else '_' for c in label)}.json"
    spec_path.write_text(json.dumps(spec))
    try:
        result = subprocess.run(
            [PYTHON, str(BENCH / "loadgen.py"), str(spec_path)],
            capture_output=True, text=True, timeout=duration + warmup + 120,
        )
    finally:
        spec_path.unlink(missing_ok=True)
    if result.returncode != 0:
        raise SystemExit(f"loadgen failed:\n{result.stderr}")
    report = json.loads(result.stdout)
    return Result(label=label, **report)


def http_request(path: str, body: Any, token: str | None = None) -> dict[str, Any]:
    """One request for the load generator's spec."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {"path": path, "body": json.dumps(body, separators=(",", ":")), "headers": headers}


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(widths[i]) if cell[:1].isdigit() or cell == "" else cell.ljust(widths[i])
                               for i, cell in enumerate(row)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
