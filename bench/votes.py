"""Benchmark: castVote with many concurrent voters vs the same transaction in plain asyncpg.

    .venv/bin/python bench/votes.py --scale 10

Creates a fresh PostgreSQL database (parvis_bench), migrates it, seeds the demo at --scale,
then creates --voters fresh voters (account + membership + bearer token, in SQL). Each
measurement gets a fresh open poll (4 options, LIVE, single choice) so the same voters can
vote again; alternating, --rounds times:
  - GraphQL: the castVote mutation through `server.py serve` (one process);
  - baseline: POST /vote of bench/baseline_server.py, the same transaction in hand-written SQL
    (token lookup; poll, membership and option reads; participation insert; poll and option
    counter updates), behind the same uvicorn;
  - asyncpg direct: that same transaction from this process, no HTTP at all (the database's
    ceiling at this concurrency and pool size).
Every voter votes at most once per poll (bounded count) within --duration seconds after
--warmup. After each measurement: total_votes == participations == sum of option votes ==
the successful responses (nothing lost, nothing counted twice; castVote's ballots not yet
counted in a batch are counted sealed, docs/adr/0009).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg  # noqa: E402
from baseline_server import cast_ballot, gid  # noqa: E402
from common import (  # noqa: E402
    DEMO_SLUG,
    Result,
    drop_database,
    far_future,
    http_request,
    log,
    machine,
    new_token,
    post_json,
    prepare_database,
    run_load,
    servers,
    table,
)

CAST_VOTE = """
mutation Vote($input: CastVoteInput!) {
  castVote(input: $input) { poll { id results { totalVotes } } userErrors { code field message } }
}"""
OPTIONS = 4


def pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def make_voters(url: str, count: int) -> list[tuple[int, str]]:
    """`count` fresh citizens of the demo territory: (account id, bearer token)."""
    conn = await asyncpg.connect(pg(url))
    try:
        territory_id = await conn.fetchval("SELECT id FROM territory WHERE slug = $1", DEMO_SLUG)
        now = dt.datetime.now(dt.UTC)
        stamp = int(time.time())
        async with conn.transaction():
            ids = [r[0] for r in await conn.fetch(
                """INSERT INTO account (email, display_name, created_at, locale)
                   SELECT 'voter.' || $1 || '.' || n || '@bench.example', 'Voter ' || n, $2, 'fr'
                   FROM generate_series(1, $3) n RETURNING id""", str(stamp), now, count)]
            await conn.executemany(
                "INSERT INTO member (account_id, territory_id, role, verified, joined_at) "
                "VALUES ($1, $2, 'CITIZEN', true, $3)", [(i, territory_id, now) for i in ids])
            tokens = [new_token() for _ in ids]
            await conn.executemany(
                "INSERT INTO access_token (token_hash, created_at, expires_at, account_id) VALUES ($1, $2, $3, $4)",
                [(digest, now, far_future(), i) for i, (_, digest) in zip(ids, tokens, strict=True)])
        return [(i, token) for i, (token, _) in zip(ids, tokens, strict=True)]
    finally:
        await conn.close()


async def make_poll(url: str, label: str) -> tuple[int, list[int]]:
    """A fresh open poll of the demo territory: (poll id, option ids in order)."""
    conn = await asyncpg.connect(pg(url))
    try:
        now = dt.datetime.now(dt.UTC)
        async with conn.transaction():
            territory_id, official_id = await conn.fetchrow(
                "SELECT t.id, m.id FROM territory t JOIN member m ON m.territory_id = t.id "
                "WHERE t.slug = $1 AND m.role = 'OFFICIAL' ORDER BY m.id LIMIT 1", DEMO_SLUG)
            poll_id = await conn.fetchval(
                """INSERT INTO poll (territory_id, created_by_id, question, multiple_choice, verified_only,
                   opens_at, closes_at, results_visibility, total_votes, counted_votes, created_at, close_notified, hidden)
                   VALUES ($1, $2, $3, false, false, $4, $5, 'LIVE', 0, 0, $4, false, false) RETURNING id""",
                territory_id, official_id, f"Bench: {label}", now - dt.timedelta(minutes=1), far_future())
            options = [await conn.fetchval(
                "INSERT INTO poll_option (poll_id, position, label, votes) VALUES ($1, $2, $3, 0) RETURNING id",
                poll_id, n, f"Option {n + 1}") for n in range(OPTIONS)]
        return poll_id, options
    finally:
        await conn.close()


async def tally(url: str, poll_id: int) -> tuple[int, int, int]:
    """(poll.total_votes, participation rows, sum of option votes + ballots still sealed)."""
    conn = await asyncpg.connect(pg(url))
    try:
        return tuple(await conn.fetchrow(  # type: ignore[return-value]
            """SELECT (SELECT total_votes FROM poll WHERE id = $1),
                      (SELECT count(*) FROM poll_participation WHERE poll_id = $1),
                      (SELECT coalesce(sum(votes), 0) FROM poll_option WHERE poll_id = $1)
                      + (SELECT count(*) FROM poll_sealed_ballot WHERE poll_id = $1)""", poll_id))
    finally:
        await conn.close()


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ballots(voters: list[tuple[int, str]], options: list[int]) -> list[int]:
    """Each voter's choice, spread over the options, the same for every measurement."""
    return [options[n % len(options)] for n in range(len(voters))]


async def direct(url: str, voters: list[tuple[int, str]], poll_id: int, options: list[int], *,
                 concurrency: int, duration: float, warmup: float, pool_size: int) -> dict[str, Any]:
    """The castVote transaction straight from asyncpg (no HTTP), same concurrency and pool."""
    pool = await asyncpg.create_pool(pg(url), min_size=pool_size, max_size=pool_size)
    choices = ballots(voters, options)
    started = time.perf_counter()
    warm_end, deadline = started + warmup, started + warmup + duration
    latencies: list[float] = []
    state = {"next": 0, "ok": 0, "errors": 0, "last": warm_end}

    async def worker() -> None:
        while True:
            begin = time.perf_counter()
            n = state["next"]
            if begin >= deadline or n >= len(voters):
                return
            state["next"] = n + 1
            try:
                async with pool.acquire() as conn:
                    await cast_ballot(conn, voters[n][0], poll_id, [choices[n]])
                state["ok"] += 1
                good = True
            except Exception:  # noqa: BLE001 - counted as an error
                good = False
            end = time.perf_counter()
            if begin >= warm_end:
                latencies.append(end - begin)
                state["last"] = max(state["last"], end)
                state["errors"] += not good

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await pool.close()
    latencies.sort()
    seconds = max(state["last"] - warm_end, 1e-9)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "errors": state["errors"], "seconds": seconds,
            "rps": len(latencies) / seconds, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "ok_total": state["ok"], "sent_total": state["next"], "bad_samples": []}


def check_same(app_base: str, baseline_base: str, url: str, voters: list[tuple[int, str]]) -> None:
    """One vote each way (on fresh polls): the same data shape and values."""
    answers = []
    for kind, base, (account_id, token) in (("graphql", app_base, voters[0]), ("baseline", baseline_base, voters[1])):
        poll_id, options = asyncio.run(make_poll(url, f"check {kind}"))
        pgid, ogid = gid("Poll", poll_id), gid("PollOption", options[0])
        if kind == "graphql":
            answer = post_json(base + "/graphql", {"query": CAST_VOTE, "variables": {
                "input": {"pollId": pgid, "optionIds": [ogid]}}}, token)
        else:
            answer = post_json(base + "/vote", {"pollId": pgid, "optionIds": [ogid]}, token)
        if answer.get("errors"):
            raise SystemExit(f"{kind} castVote failed: {answer['errors']}")
        data = answer["data"]["castVote"]
        if data["userErrors"] or data["poll"] != {"id": pgid, "results": {"totalVotes": 1}}:
            raise SystemExit(f"{kind} castVote answered {data}")
        answers.append(data)
        if asyncio.run(tally(url, poll_id)) != (1, 1, 1):
            raise SystemExit(f"{kind}: the check vote was not counted exactly once")
    log("same data (castVote): poll {id, results {totalVotes: 1}}, userErrors []")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--voters", type=int, default=20000,
                        help="fresh voters; a measurement ends early if they have all voted")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=5, help="database pool of both servers (Tortoise: 5)")
    parser.add_argument("--db", default="parvis_bench")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--profile", metavar="HTML",
                        help="run the GraphQL server under pyinstrument and write its profile here "
                        "(the other variants are skipped)")
    args = parser.parse_args()

    url = prepare_database(args.db, args.scale, args.keep_db)
    results: dict[str, list[Result]] = {}
    audits: list[str] = []
    # The server process's CPU time (user + system) per vote it answered, warm-up included:
    # less sensitive than a rate to what else the machine is doing.
    cpu_ms: dict[str, list[float]] = {"GraphQL castVote": [], "baseline /vote": []}
    lost = 0
    try:
        voters = asyncio.run(make_voters(url, args.voters))
        log(f"{len(voters)} fresh voters")
        with servers(url, pool=args.pool, profile=args.profile) as (app, baseline):
            check_same(app.base, baseline.base, url, voters)
            for round_no in range(1, args.rounds + 1):
                for label in ("GraphQL castVote", "baseline /vote", "asyncpg direct"):
                    if args.profile and not label.startswith("GraphQL"):
                        continue
                    poll_id, options = asyncio.run(make_poll(url, f"{label} round {round_no}"))
                    choices = ballots(voters, options)
                    pgid = gid("Poll", poll_id)
                    if label == "asyncpg direct":
                        result = Result(label=label, **asyncio.run(direct(
                            url, voters, poll_id, options, concurrency=args.concurrency,
                            duration=args.duration, warmup=args.warmup, pool_size=args.pool)))
                    else:
                        if label.startswith("GraphQL"):
                            requests = [http_request("/graphql", {"query": CAST_VOTE, "variables": {"input": {
                                "pollId": pgid, "optionIds": [gid("PollOption", c)]}}}, token)
                                for (_, token), c in zip(voters, choices, strict=True)]
                            port = app.port
                        else:
                            requests = [http_request("/vote", {"pollId": pgid, "optionIds": [gid("PollOption", c)]},
                                                     token) for (_, token), c in zip(voters, choices, strict=True)]
                            port = baseline.port
                        server = app if label.startswith("GraphQL") else baseline
                        cpu = process_cpu(server.process.pid)
                        result = run_load(label, port, requests, concurrency=args.concurrency,
                                          duration=args.duration, warmup=args.warmup,
                                          max_requests=len(requests), check="vote")
                        cpu_ms[label].append((process_cpu(server.process.pid) - cpu) * 1000 / max(result.ok_total, 1))
                    counted = asyncio.run(tally(url, poll_id))
                    consistent = counted[0] == counted[1] == counted[2] == result.ok_total
                    lost += 0 if consistent else 1
                    audit = (f"round {round_no} {label}: {result.ok_total} ok of {result.sent_total} sent; "
                             f"total_votes {counted[0]}, participations {counted[1]}, option votes + sealed {counted[2]}: "
                             f"{'consistent' if consistent else 'INCONSISTENT'}")
                    audits.append(audit)
                    log(f"{audit}; {result.rps:.0f}/s p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms "
                        f"{result.bad_samples[:1]}")
                    results.setdefault(label, []).append(result)
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))

    if args.profile:
        print("\n".join(audits))
        print(f"profile written to {args.profile} when the server stops")
        return
    m = machine()
    print(f"castVote: scale {args.scale}, {args.voters} voters, concurrency {args.concurrency}, "
          f"{args.duration:g} s after {args.warmup:g} s warm-up (bounded by voters), {args.rounds} rounds "
          f"alternating; pool {args.pool}; {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}")
    rows = [["round", "variant", "votes/s", "p50 ms", "p99 ms", "errors", "vs baseline", "vs direct",
             "server CPU ms/vote"]]
    for n in range(args.rounds):
        base, direct_r = results["baseline /vote"][n], results["asyncpg direct"][n]
        for label in ("GraphQL castVote", "baseline /vote", "asyncpg direct"):
            r = results[label][n]
            rows.append([str(n + 1), label, f"{r.rps:.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", str(r.errors),
                         f"{r.rps / base.rps:.2f}x" if label != "baseline /vote" else "",
                         f"{r.rps / direct_r.rps:.2f}x" if label != "asyncpg direct" else "",
                         f"{cpu_ms[label][n]:.3f}" if label in cpu_ms else ""])
    print(table(rows))
    for audit in audits:
        print(audit)
    g = sum(r.rps for r in results["GraphQL castVote"])
    b = sum(r.rps for r in results["baseline /vote"])
    d = sum(r.rps for r in results["asyncpg direct"])
    print(f"castVote/baseline = {g / b:.2f}x, castVote/direct = {g / d:.2f}x over all rounds "
          f"(issue 12's target, >= 1.0x the baseline: {'met' if g / b >= 1.0 else 'NOT met'}); "
          f"{'no vote lost or double-counted' if not lost else f'{lost} INCONSISTENT measurements'}")
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
