"""Where the home query's CPU goes: cProfile of N executions in-process (no HTTP), grouped.

    .venv/bin/python bench/profile_home.py --scale 10 [-n 200] [--authenticated]

Sets up parvis_bench like bench/home.py, then runs the home query through the schema with a
real Context (fresh loaders per request, as over HTTP), serially, under cProfile. Prints
the wall time per request, the self time by library, and the top functions by self time.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import DEMO_SLUG, drop_database, prepare_database  # noqa: E402
from home import home_query, make_viewer  # noqa: E402


def family(filename: str) -> str:
    for lib in ("strawberry", "graphql", "tortoise", "pypika_tortoise", "asyncpg", "asyncio", "json"):
        if f"/{lib}/" in filename:
            return lib
    if "/work/main/" in filename and "site-packages" not in filename:
        return "parvis (" + filename.split("/work/main/")[1].split("/")[0] + ")"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "other stdlib/libs"


async def run(url: str, n: int, authenticated: bool) -> None:
    from tortoise import Tortoise

    import server
    from resolvers.context import Context, account_for_token
    from schema.root import schema
    from subscriptions.broker import InProcessBroker

    await Tortoise.init(config=server.tortoise_config(url))
    token = await make_viewer(url) if authenticated else None
    broker = InProcessBroker()
    query = home_query(authenticated)

    async def once() -> None:
        account = access = None
        if token:
            account, access = await account_for_token(token)  # type: ignore[misc]
        ctx = Context(request=None, response=None, broker=broker, settings=None, account=account, token=access)
        result = await schema.execute(query, variable_values={"slug": DEMO_SLUG}, context_value=ctx)
        assert not result.errors, result.errors
        import json
        json.dumps({"data": result.data})

    for _ in range(20):
        await once()
    started = time.perf_counter()
    for _ in range(n):
        await once()
    plain = (time.perf_counter() - started) / n
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        await once()
    profiler.disable()
    await Tortoise.close_connections()

    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    by_family: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_family[family(filename)] += tottime
    print(f"home query ({'authenticated' if authenticated else 'anonymous'}), {n} serial executions: "
          f"{plain * 1000:.2f} ms wall per request without the profiler (server and database on the same 2 CPUs)")
    print("self time by library (share of profiled time):")
    for name, seconds in sorted(by_family.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {seconds / total:6.1%}")
    print("top functions by self time, then by cumulative time:")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--authenticated", action="store_true")
    parser.add_argument("--db", default="parvis_bench")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    url = prepare_database(args.db, args.scale, args.keep_db)
    os.environ["DATABASE_URL"] = url
    try:
        asyncio.run(run(url, args.n, args.authenticated))
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))


if __name__ == "__main__":
    main()
