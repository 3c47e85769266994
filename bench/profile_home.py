"""Where the home query's CPU goes: cProfile of N requests through the app in-process, grouped.

    .venv/bin/python bench/profile_home.py --scale 10 [-n 300] [--authenticated] [--schema-only]

Sets up parvis_bench like bench/home.py, builds the app as `server.py serve` does
(PARVIS_ENV=production), and sends it the home query N times, serially, through httpx's ASGI
transport (no sockets: the app's whole request path, middleware, caches and extensions
included, plus the client's own cost). --schema-only runs `schema.execute` with a bare Context
instead (no HTTP layer, no response cache, no shared pages). Prints wall and CPU time per
request without the profiler, then the CPU time (cProfile with a process-time clock, so
waiting on the database counts for nothing) by library and the top functions.
(For the whole server under load: bench/home.py --profile out.txt|out.html, pyinstrument.)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import DEMO_SLUG, drop_database, prepare_database  # noqa: E402
from home import home_query, make_viewer  # noqa: E402


def family(filename: str) -> str:
    for lib in ("strawberry", "graphql", "tortoise", "pypika_tortoise", "asyncpg", "asyncio", "json",
                "starlette", "httpx", "httpcore", "anyio", "logging"):
        if f"/{lib}/" in filename:
            return lib
    if "/work/main/" in filename and "site-packages" not in filename:
        return "parvis (" + filename.split("/work/main/")[1].split("/")[0] + ")"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "other stdlib/libs"


async def measure(once: Callable[[], Awaitable[None]], n: int, label: str) -> None:
    for _ in range(20):
        await once()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await once()
    wall, cpu = (time.perf_counter() - started) / n, (time.process_time() - cpu) / n
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(n):
        await once()
    profiler.disable()

    stats = pstats.Stats(profiler)
    if dump := os.environ.get("PROFILE_DUMP"):  # for pstats' callers and callees
        stats.dump_stats(dump)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    by_family: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_family[family(filename)] += tottime
    print(f"{label}, {n} serial requests: {wall * 1000:.2f} ms wall, {cpu * 1000:.2f} ms CPU per request "
          "without the profiler (server and database on the same 2 CPUs)")
    print("CPU self time by library (share of profiled CPU time):")
    for name, seconds in sorted(by_family.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {seconds / total:6.1%}")
    print("top functions by self time, then by cumulative time:")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


async def run_schema(url: str, n: int, authenticated: bool) -> None:
    from tortoise import Tortoise

    from access.context import Context
    from access.tokens import account_for_token
    from app.api import schema
    from app.database import tortoise_config
    from events.brokers import InProcessBroker

    await Tortoise.init(config=tortoise_config(url))
    token = (await make_viewer(url))[0] if authenticated else None
    broker = InProcessBroker()
    query = home_query(authenticated)

    async def once() -> None:
        account = access = None
        if token:
            account, access = await account_for_token(token)  # type: ignore[misc]
        ctx = Context(request=None, response=None, broker=broker, settings=None, account=account, token=access)
        result = await schema.execute(query, variable_values={"slug": DEMO_SLUG}, context_value=ctx)
        assert not result.errors, result.errors

    try:
        await measure(once, n, f"home query ({'authenticated' if authenticated else 'anonymous'}, schema.execute)")
    finally:
        await Tortoise.close_connections()


async def run_app(url: str, n: int, authenticated: bool) -> None:
    import httpx

    import server
    from app.settings import Settings

    os.environ.update(PARVIS_ENV="production", PARVIS_RATE_LIMITS="requests_ip=1000000000/60")
    app = server.build_app(Settings.from_env(os.environ))
    token = (await make_viewer(url))[0] if authenticated else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": home_query(authenticated), "variables": {"slug": DEMO_SLUG}}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:

        async def once() -> None:
            response = await client.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200 and b'"errors"' not in response.content, response.text

        await measure(once, n, f"home query ({'authenticated' if authenticated else 'anonymous'}, the app in-process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--authenticated", action="store_true")
    parser.add_argument("--schema-only", action="store_true", help="schema.execute, no HTTP layer or caches")
    parser.add_argument("--db", default="parvis_bench")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    url = prepare_database(args.db, args.scale, args.keep_db)
    os.environ["DATABASE_URL"] = url
    try:
        runner = run_schema if args.schema_only else run_app
        asyncio.run(runner(url, args.n, args.authenticated))
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))


if __name__ == "__main__":
    main()
