"""Does a burst of logins stall everyone else? `{ __typename }` latency during 40 logins in flight.

Starts `server.py serve` (one process) on a fresh database, signs one account up, then:

1. idle: a probe client sends `{ __typename }` one after the other for --seconds;
2. burst: --in-flight clients log in (right password) in a loop, keeping that many logins in
   flight, while the probe client does the same as in 1; its latencies are the figure that
   matters (argon2 on the event loop would hold every probe behind 50-250 ms of hashing);
3. sign-ups: --signups concurrent signUp calls at once: how many succeed, how long the last takes.

Limits are lifted (PARVIS_RATE_LIMITS): this measures the server, not the limiter.
Usage: .venv/bin/python bench/logins.py [--database-url postgres://...] [--in-flight 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, log, machine, server_cli, start_server, stop_server  # noqa: E402

PASSWORD = "correct horse battery staple"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code retryAfterSeconds } } }"
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { code } } }"
UNLIMITED = ",".join(f"{bucket}=1000000000/60" for bucket in (
    "requests_ip", "login_ip", "login_email", "login_email_ip", "signup_ip"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50": round(statistics.median(ms), 1), "p99": round(percentile(ms, 99), 1),
            "max": round(max(ms), 1)}


async def probe(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    """`{ __typename }` one after the other until `stop`: latencies in ms."""
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": "{ __typename }"})
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.01)
    return latencies


FAILURES: list[str] = []
BUSY: list[float] = []  # logins told RATE_LIMITED (the password pool is full), and how fast


async def logins(client: httpx.AsyncClient, email: str, stop: asyncio.Event) -> list[float]:
    """Log in again and again until `stop`, waiting retryAfterSeconds when told to, as a client
    should: latencies in ms of the logins that succeeded."""
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": LOG_IN, "variables": {
            "i": {"email": email, "password": PASSWORD}}})
        elapsed = (time.perf_counter() - started) * 1000
        payload = (response.json().get("data") or {}).get("logIn") or {}
        if payload.get("token"):
            latencies.append(elapsed)
        elif payload.get("userErrors") and payload["userErrors"][0]["code"] == "RATE_LIMITED":
            BUSY.append(elapsed)
            await asyncio.sleep(payload["userErrors"][0]["retryAfterSeconds"])
        else:
            FAILURES.append(response.text[:300])
    return latencies


async def measure(base: str, seconds: float, in_flight: int, signups: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=in_flight + signups + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client, \
            httpx.AsyncClient(base_url=base, timeout=60) as prober:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.org"
        created = await client.post("/graphql", json={"query": SIGN_UP, "variables": {
            "i": {"email": email, "password": PASSWORD, "displayName": "Bench"}}})
        assert created.json()["data"]["signUp"]["token"], created.text

        stop = asyncio.Event()
        idle = asyncio.create_task(probe(prober, stop))
        await asyncio.sleep(seconds)
        stop.set()
        idle_ms = await idle

        stop = asyncio.Event()
        workers = [asyncio.create_task(logins(client, email, stop)) for _ in range(in_flight)]
        await asyncio.sleep(1.0)  # every worker has a login in flight
        probing = asyncio.create_task(probe(prober, stop))
        await asyncio.sleep(seconds)
        stop.set()
        burst_ms = await probing
        login_ms = [ms for worker in await asyncio.gather(*workers) for ms in worker]

        async def sign_up(n: int) -> tuple[str, float]:
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": SIGN_UP, "variables": {"i": {
                "email": f"bench-{uuid.uuid4().hex[:8]}-{n}@example.org", "password": PASSWORD,
                "displayName": f"Bench {n}"}}})
            payload = (response.json().get("data") or {}).get("signUp") or {}
            outcome = "ok" if payload.get("token") else (
                payload["userErrors"][0]["code"] if payload.get("userErrors") else "error")
            return outcome, (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        results = await asyncio.gather(*(sign_up(n) for n in range(signups)))
        return {
            "probe_idle_ms": summary(idle_ms),
            "probe_during_logins_ms": summary(burst_ms),
            "logins": {**summary(login_ms), "per_second": round(len(login_ms) / (seconds + 1.0), 1),
                       "failed": len(FAILURES), "first_failure": FAILURES[0] if FAILURES else None,
                       "told_to_retry": len(BUSY), "retry_answer_p99_ms": round(percentile(BUSY, 99), 1) if BUSY else None},
            "signups": {"sent": signups, "ok": sum(o == "ok" for o, _ in results),
                        "told_to_retry": sum(o == "RATE_LIMITED" for o, _ in results),
                        "failed": sum(o not in ("ok", "RATE_LIMITED") for o, _ in results),
                        "slowest_ms": round(max(ms for _, ms in results), 1),
                        "all_done_s": round(time.perf_counter() - started, 2)},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--in-flight", type=int, default=40)
    parser.add_argument("--signups", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    url = args.database_url or f"sqlite://{Path(tempfile.mkdtemp(prefix='parvis-bench-')) / 'logins.sqlite3'}"
    server_cli(url, "migrate")
    port = free_port()
    server = start_server("logins", ["server.py", "serve", "--port", str(port)], url, port,
                          env={"PARVIS_RATE_LIMITS": UNLIMITED, "PARVIS_RESPONSE_CACHE": "off"})
    try:
        figures = asyncio.run(measure(f"http://127.0.0.1:{port}", args.seconds, args.in_flight, args.signups))
    finally:
        stop_server(server)
    print(json.dumps({"machine": machine(), "in_flight": args.in_flight, **figures}, indent=2))
    log("done")


if __name__ == "__main__":
    main()
