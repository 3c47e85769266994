"""Benchmark: a territory's home page, GraphQL (anonymous and authenticated) vs a hand-written baseline.

    .venv/bin/python bench/home.py --scale 10

Creates a fresh PostgreSQL database (parvis_bench), migrates it, seeds the demo at --scale,
gives one demo citizen a bearer token, starts `server.py serve` (one process) and
bench/baseline_server.py on the same database, checks that both return the same data,
then measures, alternating, GraphQL anonymous / baseline anonymous / GraphQL authenticated /
baseline authenticated, --rounds times, with bench/loadgen.py (a separate process) at
--concurrency for --duration seconds after --warmup. Prints the table; drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

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

POLLS, IDEAS, QUESTIONS = 5, 10, 10


def home_query(authenticated: bool) -> str:
    """What the home page asks: open polls with results, the most supported ideas with their
    author and support count, the latest answered questions with the reply and the official."""
    viewer_voted = "viewerHasVoted" if authenticated else ""
    viewer_supports = "viewerSupports" if authenticated else ""
    viewer = "viewer { id displayName }" if authenticated else ""
    return f"""
query Home($slug: String!) {{
  territory(slug: $slug) {{
    id
    name
    polls(first: {POLLS}, status: OPEN) {{
      edges {{ node {{
        id question multipleChoice closesAt status resultsVisibility
        results {{ totalVotes final options {{ option {{ id label }} votes share }} }}
        {viewer_voted}
      }} }}
    }}
    ideas(first: {IDEAS}, orderBy: MOST_SUPPORTED) {{
      edges {{ node {{
        id title status supportCount createdAt
        author {{ id displayName }}
        {viewer_supports}
      }} }}
    }}
    questions(first: {QUESTIONS}, status: ANSWERED) {{
      edges {{ node {{
        id title createdAt
        author {{ id displayName }}
        reply {{ id body createdAt official {{ id displayName title }} }}
      }} }}
    }}
  }}
  {viewer}
}}"""


async def make_viewer(url: str) -> str:
    """A bearer token for the demo citizen who supports the most ideas among those who voted."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        account_id = await conn.fetchval(
            """
            SELECT m.account_id FROM member m
            JOIN territory t ON t.id = m.territory_id AND t.slug = $1
            JOIN account a ON a.id = m.account_id AND a.deleted_at IS NULL
            WHERE m.role = 'CITIZEN' AND EXISTS (SELECT 1 FROM poll_participation p WHERE p.member_id = m.id)
            ORDER BY (SELECT count(*) FROM support s WHERE s.member_id = m.id) DESC, m.id LIMIT 1
            """,
            DEMO_SLUG,
        )
        token, digest = new_token()
        await conn.execute(
            "INSERT INTO access_token (token_hash, created_at, expires_at, account_id) VALUES ($1, $2, $3, $4)",
            digest, dt.datetime.now(dt.UTC), far_future(), account_id,
        )
        return token
    finally:
        await conn.close()


def check_same(graphql_base: str, baseline_base: str, token: str | None) -> dict[str, int]:
    """The baseline's data equals the GraphQL data (one request each, before any timing)."""
    query = home_query(token is not None)
    answer = post_json(graphql_base + "/graphql", {"query": query, "variables": {"slug": DEMO_SLUG}}, token)
    if answer.get("errors"):
        raise SystemExit(f"GraphQL home query failed: {json.dumps(answer['errors'])[:2000]}")
    expected = answer["data"]
    got = post_json(baseline_base + "/home", {"slug": DEMO_SLUG, "polls": POLLS, "ideas": IDEAS,
                                                "questions": QUESTIONS}, token)["data"]
    if got != expected:
        Path("bench/.home-graphql.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False))
        Path("bench/.home-baseline.json").write_text(json.dumps(got, indent=1, ensure_ascii=False))
        raise SystemExit("the baseline's data differs from GraphQL's: see bench/.home-*.json")
    territory = expected["territory"]
    shape = {k: len(territory[k]["edges"]) for k in ("polls", "ideas", "questions")}
    shape["bytes"] = len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode())
    return shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the four measurements")
    parser.add_argument("--pool", type=int, default=5, help="database pool of both servers (Tortoise: 5)")
    parser.add_argument("--db", default="parvis_bench")
    parser.add_argument("--keep-db", action="store_true", help="reuse --db as it is, and keep it")
    parser.add_argument("--profile", metavar="HTML",
                        help="run the GraphQL server under pyinstrument and write its profile here")
    parser.add_argument("--only", choices=("anonymous", "authenticated"),
                        help="measure only this variant (with --profile, say)")
    args = parser.parse_args()

    url = prepare_database(args.db, args.scale, args.keep_db)
    try:
        token = asyncio.run(make_viewer(url))
        with servers(url, pool=args.pool, profile=args.profile) as (app, baseline):
            for who, tok in (("anonymous", None), ("authenticated", token)):
                shape = check_same(app.base, baseline.base, tok)
                log(f"same data ({who}): {shape}")
            variants = [("anonymous", None), ("authenticated", token)]
            if args.only:
                variants = [v for v in variants if v[0] == args.only]
            results: dict[str, list[Result]] = {}
            for round_no in range(1, args.rounds + 1):
                for who, tok in variants:
                    body = {"query": home_query(tok is not None), "variables": {"slug": DEMO_SLUG}}
                    plain = {"slug": DEMO_SLUG, "polls": POLLS, "ideas": IDEAS, "questions": QUESTIONS}
                    for label, server, request in (
                        (f"GraphQL {who}", app, http_request("/graphql", body, tok)),
                        (f"baseline {who}", baseline, http_request("/home", plain, tok)),
                    ):
                        if args.profile and server is baseline:
                            continue
                        result = run_load(label, server.port, [request], concurrency=args.concurrency,
                                          duration=args.duration, warmup=args.warmup, check="no-errors")
                        log(f"round {round_no} {label}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                            f"p99 {result.p99_ms:.1f} ms, {result.errors} errors {result.bad_samples[:1]}")
                        results.setdefault(label, []).append(result)
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))

    report(args, results)


def report(args: argparse.Namespace, results: dict[str, list[Result]]) -> None:
    m = machine()
    print(f"home query: scale {args.scale}, concurrency {args.concurrency}, {args.duration:g} s after "
          f"{args.warmup:g} s warm-up, {args.rounds} rounds alternating; pool {args.pool}; "
          f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}")
    rows = [["round", "variant", "req/s", "p50 ms", "p99 ms", "errors", "vs baseline"]]
    for round_no in range(args.rounds):
        for who in ("anonymous", "authenticated"):
            base = results.get(f"baseline {who}")
            for label in (f"GraphQL {who}", f"baseline {who}"):
                if label not in results:
                    continue
                r = results[label][round_no]
                ratio = f"{r.rps / base[round_no].rps:.2f}x" if base and label.startswith("GraphQL") else ""
                rows.append([str(round_no + 1), label, f"{r.rps:.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                             str(r.errors), ratio])
    print(table(rows))
    targets = {"anonymous": 1.0, "authenticated": 0.5}
    for who, target in targets.items():
        g, b = results.get(f"GraphQL {who}"), results.get(f"baseline {who}")
        if g and b:
            ratio = sum(r.rps for r in g) / sum(r.rps for r in b)
            print(f"{who}: GraphQL/baseline = {ratio:.2f}x over all rounds (target >= {target:.1f}x: "
                  f"{'met' if ratio >= target else 'NOT met'})")


if __name__ == "__main__":
    main()
