"""Where castVote's CPU goes: cProfile of N votes through the app in-process, beside the baseline's.

    .venv/bin/python bench/profile_votes.py --scale 10 [-n 1000] [--concurrency 16] [--freeze]

Sets up parvis_bench like bench/votes.py (fresh voters, a fresh open poll per variant), builds
the app as `server.py serve` does (PARVIS_ENV=production) and the hand-written baseline
(bench/baseline_server.py), and sends each N votes, serially, each by a new voter, through
httpx's ASGI transport (no sockets: the whole request path of each app, plus the client's own
cost, which is the same for both). Prints wall and CPU time per vote without the profiler for
both, their ratio, then castVote's CPU by library and its top functions (as
bench/profile_home.py). Serial votes (the default) make batches of one: the group commit's
gain under concurrency is not in these figures, the request's own cost is; --concurrency C
sends C votes at a time (times are then per C votes); --freeze freezes the heap after warming
up, as `server.py serve` does once it is up (docs/adr/0025).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from baseline_server import build_app as build_baseline  # noqa: E402
from baseline_server import gid  # noqa: E402
from common import BENCH_SECRET, drop_database, prepare_database  # noqa: E402
from profile_home import measure  # noqa: E402
from votes import CAST_VOTE, make_poll, make_voters, tally  # noqa: E402

WARM = 20  # measure() sends 20 requests before timing


async def cpu_per_vote(once: Callable[[], Awaitable[None]], n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        await once()
    return (time.process_time() - started) / n


def together(vote: Callable[[], Awaitable[None]], concurrency: int) -> Callable[[], Awaitable[None]]:
    async def votes() -> None:
        await asyncio.gather(*(vote() for _ in range(concurrency)))
    return votes if concurrency > 1 else vote


async def run(url: str, n: int, concurrency: int, freeze: bool) -> None:
    import httpx

    import server
    from app.settings import Settings

    os.environ.update(PARVIS_ENV="production", PARVIS_SECRET=BENCH_SECRET,
                      PARVIS_RATE_LIMITS="requests_ip=1000000000/60")
    # Each variant: 20 warm votes, n timed, n profiled (castVote), each by a new voter.
    voters = await make_voters(url, 2 * (WARM * concurrency + 2 * n))
    app = server.build_app(Settings.from_env(os.environ))
    baseline = build_baseline(url, 5)
    polls = {kind: await make_poll(url, f"profile {kind}") for kind in ("graphql", "baseline")}
    cursor = {"graphql": 0, "baseline": WARM * concurrency + 2 * n}

    def next_voter(kind: str) -> tuple[int, str]:
        voter = voters[cursor[kind]]
        cursor[kind] += 1
        return voter

    async with app.router.lifespan_context(app), baseline.router.lifespan_context(baseline), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client, httpx.AsyncClient(transport=httpx.ASGITransport(app=baseline), base_url="http://base") as base:
        poll_id, options = polls["graphql"]
        base_poll, base_options = polls["baseline"]

        async def graphql_vote() -> None:
            _, token = next_voter("graphql")
            body = {"query": CAST_VOTE, "variables": {"input": {
                "pollId": gid("Poll", poll_id), "optionIds": [gid("PollOption", options[cursor["graphql"] % 4])]}}}
            response = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200 and b'"userErrors":[]' in response.content, response.text

        async def baseline_vote() -> None:
            _, token = next_voter("baseline")
            body = {"pollId": gid("Poll", base_poll), "optionIds": [gid("PollOption", base_options[cursor["baseline"] % 4])]}
            response = await base.post("/vote", json=body, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200 and b'"userErrors":[]' in response.content, response.text

        rounds = n // concurrency
        if freeze:  # as a serving process does once it is up (server.py, docs/adr/0025)
            gc.collect()
            gc.freeze()
        full = gc.get_stats()[2]["collections"]
        for _ in range(WARM):
            await baseline_vote()
        base_cpu = await cpu_per_vote(together(baseline_vote, concurrency), 2 * rounds) / concurrency
        print(f"baseline POST /vote: {base_cpu * 1000:.2f} ms CPU per vote ({2 * n} votes, {concurrency} at a time)")
        await measure(together(graphql_vote, concurrency), rounds,
                      f"castVote (the app in-process), {concurrency} at a time: per {concurrency} votes")
    print(f"full garbage collections during the measurements: {gc.get_stats()[2]['collections'] - full}"
          f"{' (heap frozen first)' if freeze else ''}")
    for kind, (pid, _) in polls.items():
        counts = await tally(url, pid)
        print(f"{kind}: total_votes, participations, option votes + sealed = {counts}")
        if len(set(counts)) != 1:
            raise SystemExit(f"{kind}: inconsistent counts {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() after warming up, as `serve` does")
    parser.add_argument("--db", default="parvis_bench")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    url = prepare_database(args.db, args.scale, args.keep_db)
    os.environ["DATABASE_URL"] = url
    try:
        asyncio.run(run(url, args.n, args.concurrency, args.freeze))
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))


if __name__ == "__main__":
    main()
