"""Benchmark: a territory's home page, GraphQL (anonymous and authenticated) vs a hand-written baseline.

    .venv/bin/python bench/home.py --scale 10 [--peer] [--writes 10]

Creates a fresh PostgreSQL database (parvis_bench), migrates it, seeds the demo at --scale,
gives one demo citizen a bearer token, starts `server.py serve` (one process) and
bench/baseline_server.py on the same database, checks that both return the same data,
then measures, alternating, GraphQL anonymous / baseline anonymous / GraphQL authenticated /
baseline authenticated, --rounds times, with bench/loadgen.py (a separate process) at
--concurrency for --duration seconds after --warmup. Prints the table; drops the database.

--peer also serves the same database with PostGraphile 4 (bench/peer/, simplify inflector, one
Node process, the same pool) and measures its equivalent query in each round. --writes R runs
bench/writer.py during every measurement: R committed writes a second (votes, supports,
comments, through Parvis's API), as a territory that lives while people read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    DEMO_SLUG,
    PYTHON,
    Result,
    Server,
    drop_database,
    far_future,
    global_id,
    http_request,
    install_peer_functions,
    log,
    machine,
    new_token,
    peer_jwt,
    post_json,
    prepare_database,
    run_load,
    servers,
    start_peer,
    stop_server,
    table,
)
from votes import make_voters  # noqa: E402

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


STATS_AND_FEED = """
    stats { participants reach questionsAsked questionsAnswered questionsOverdue onTimeReplyRate
      medianReplySeconds ideasProposed ideasRealized pollsHeld votesCast }
    feed(first: 10) { edges { node { __typename
      ... on Poll { id question } ... on Reply { id body } ... on Idea { id title }
      ... on NewsPost { id title } ... on Project { id title } ... on Consultation { id title } } } }"""


def home_with_stats_query(authenticated: bool) -> str:
    """The home page with the territory's stats and the first page of its feed (--stats)."""
    query = home_query(authenticated)
    head, _, tail = query.partition("    polls(")
    return head + STATS_AND_FEED.strip("\n") + "\n    polls(" + tail


def peer_home_query(authenticated: bool) -> str:
    """The same page from PostGraphile: its names (simplify inflector) and peer.sql's computed
    columns (open polls, the viewer's vote and supports)."""
    viewer_voted = "viewerHasVoted" if authenticated else ""
    viewer_supports = "viewerSupports" if authenticated else ""
    viewer = "currentAccount { id displayName }" if authenticated else ""
    return f"""
query Home($slug: String!) {{
  territoryBySlug(slug: $slug) {{
    id
    name
    openPolls(first: {POLLS}) {{
      nodes {{
        id question multipleChoice closesAt resultsVisibility totalVotes
        pollOptions(orderBy: POSITION_ASC) {{ nodes {{ id label votes }} }}
        {viewer_voted}
      }}
    }}
    ideas(first: {IDEAS}, orderBy: [SUPPORT_COUNT_DESC, ID_DESC], condition: {{hidden: false}}) {{
      nodes {{
        id title status supportCount createdAt
        author {{ id account {{ displayName }} }}
        {viewer_supports}
      }}
    }}
    questions(first: {QUESTIONS}, orderBy: ID_DESC, condition: {{status: "ANSWERED", hidden: false}}) {{
      nodes {{
        id title createdAt
        author {{ id account {{ displayName }} }}
        reply {{ id body createdAt official {{ id title account {{ displayName }} }} }}
      }}
    }}
  }}
  {viewer}
}}"""


async def make_viewer(url: str) -> tuple[str, int]:
    """A bearer token (and the account id) of the demo citizen who supports the most ideas
    among those who voted."""
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
        return token, int(account_id)
    finally:
        await conn.close()


async def writer_spec(url: str, port: int, rate: float) -> dict[str, object]:
    """What bench/writer.py writes: fresh voters, the open polls with their options, the ideas."""
    import asyncpg

    voters = await make_voters(url, 1000)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        polls = await conn.fetch(
            "SELECT p.id FROM poll p JOIN territory t ON t.id = p.territory_id WHERE t.slug = $1 "
            "AND p.closed_at IS NULL AND p.opens_at <= now() AND p.closes_at > now() AND NOT p.hidden", DEMO_SLUG)
        options = {
            global_id("Poll", row["id"]): [global_id("PollOption", r["id"]) for r in await conn.fetch(
                "SELECT id FROM poll_option WHERE poll_id = $1 ORDER BY position", row["id"])]
            for row in polls
        }
        ideas = await conn.fetch(
            "SELECT i.id FROM idea i JOIN territory t ON t.id = i.territory_id WHERE t.slug = $1 AND NOT i.hidden "
            "ORDER BY i.support_count DESC, i.id DESC LIMIT 20", DEMO_SLUG)
    finally:
        await conn.close()
    return {"port": port, "rate": rate, "voters": voters, "polls": list(options), "options": options,
            "ideas": [global_id("Idea", row["id"]) for row in ideas]}


class Writer:
    """bench/writer.py in its own process while the readers are measured."""

    def __init__(self, spec: dict[str, object]) -> None:
        self.spec_path = BENCH / ".writer-spec.json"
        self.spec_path.write_text(json.dumps(spec))
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Writer:
        self.process = subprocess.Popen([PYTHON, str(BENCH / "writer.py"), str(self.spec_path)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=30)
        self.spec_path.unlink(missing_ok=True)
        report = json.loads(out) if out.strip() else {"failed": err[-2000:]}
        log(f"writer: {report}")
        self.report = report


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
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the measurements")
    parser.add_argument("--pool", type=int, default=5, help="database pool of every server (Tortoise: 5)")
    parser.add_argument("--db", default="parvis_bench")
    parser.add_argument("--keep-db", action="store_true", help="reuse --db as it is, and keep it")
    parser.add_argument("--profile", metavar="HTML",
                        help="run the GraphQL server under pyinstrument and write its profile here")
    parser.add_argument("--only", choices=("anonymous", "authenticated"),
                        help="measure only this variant (with --profile, say)")
    parser.add_argument("--peer", action="store_true", help="also measure PostGraphile 4 (bench/peer/)")
    parser.add_argument("--stats", action="store_true",
                        help="also measure Parvis's home page with the territory's stats and feed")
    parser.add_argument("--writes", type=float, default=0.0, metavar="R",
                        help="R writes a second (votes, supports, comments) during every measurement")
    args = parser.parse_args()

    url = prepare_database(args.db, args.scale, args.keep_db)
    writer_report: dict[str, object] | None = None
    try:
        token, account_id = asyncio.run(make_viewer(url))
        if args.peer:
            asyncio.run(install_peer_functions(url))
        with servers(url, pool=args.pool, profile=args.profile) as (app, baseline), contextlib.ExitStack() as stack:
            peer: Server | None = None
            if args.peer:
                peer = start_peer(url, args.pool)
                stack.callback(stop_server, peer)
            for who, tok in (("anonymous", None), ("authenticated", token)):
                shape = check_same(app.base, baseline.base, tok)
                log(f"same data ({who}): {shape}")
            if peer is not None:
                for authenticated in (False, True):
                    answer = post_json(peer.base + "/graphql", {"query": peer_home_query(authenticated),
                                                                "variables": {"slug": DEMO_SLUG}},
                                       peer_jwt(account_id) if authenticated else None)
                    if answer.get("errors") or not answer["data"]["territoryBySlug"]:
                        raise SystemExit(f"PostGraphile's home query failed: {json.dumps(answer)[:2000]}")
            variants = [("anonymous", None), ("authenticated", token)]
            if args.only:
                variants = [v for v in variants if v[0] == args.only]
            writer = None
            if args.writes > 0:
                writer = stack.enter_context(Writer(asyncio.run(writer_spec(url, app.port, args.writes))))
            results: dict[str, list[Result]] = {}
            for round_no in range(1, args.rounds + 1):
                for who, tok in variants:
                    body = {"query": home_query(tok is not None), "variables": {"slug": DEMO_SLUG}}
                    plain = {"slug": DEMO_SLUG, "polls": POLLS, "ideas": IDEAS, "questions": QUESTIONS}
                    runs = [
                        (f"GraphQL {who}", app, http_request("/graphql", body, tok)),
                        (f"baseline {who}", baseline, http_request("/home", plain, tok)),
                    ]
                    if args.stats:
                        rich = {"query": home_with_stats_query(tok is not None), "variables": {"slug": DEMO_SLUG}}
                        runs.append((f"GraphQL+stats {who}", app, http_request("/graphql", rich, tok)))
                    if peer is not None:
                        peer_body = {"query": peer_home_query(tok is not None), "variables": {"slug": DEMO_SLUG}}
                        runs.append((f"PostGraphile {who}", peer,
                                     http_request("/graphql", peer_body, peer_jwt(account_id) if tok else None)))
                    for label, server, request in runs:
                        if args.profile and server is not app:
                            continue
                        result = run_load(label, server.port, [request], concurrency=args.concurrency,
                                          duration=args.duration, warmup=args.warmup, check="no-errors")
                        log(f"round {round_no} {label}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                            f"p99 {result.p99_ms:.1f} ms, {result.errors} errors {result.bad_samples[:1]}")
                        results.setdefault(label, []).append(result)
            if writer is not None:
                stack.close()
                writer_report = writer.report
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))

    report(args, results, writer_report)


def report(args: argparse.Namespace, results: dict[str, list[Result]], writer: dict[str, object] | None) -> None:
    m = machine()
    print(f"home query: scale {args.scale}, concurrency {args.concurrency}, {args.duration:g} s after "
          f"{args.warmup:g} s warm-up, {args.rounds} rounds alternating; pool {args.pool}; "
          f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}")
    if writer is not None:
        print(f"under writes: {args.writes:g}/s asked; the writer did {writer}")
    rows = [["round", "variant", "req/s", "p50 ms", "p99 ms", "errors", "vs baseline", "vs PostGraphile"]]
    for round_no in range(args.rounds):
        for who in ("anonymous", "authenticated"):
            base = results.get(f"baseline {who}")
            peer = results.get(f"PostGraphile {who}")
            for label in (f"GraphQL {who}", f"GraphQL+stats {who}", f"baseline {who}", f"PostGraphile {who}"):
                if label not in results:
                    continue
                r = results[label][round_no]
                graphql = label.startswith("GraphQL")
                vs_base = f"{r.rps / base[round_no].rps:.2f}x" if base and graphql else ""
                vs_peer = f"{r.rps / peer[round_no].rps:.2f}x" if peer and graphql else ""
                rows.append([str(round_no + 1), label, f"{r.rps:.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                             str(r.errors), vs_base, vs_peer])
    print(table(rows))
    for who in ("anonymous", "authenticated"):
        g = results.get(f"GraphQL {who}")
        for other in ("baseline", "PostGraphile"):
            b = results.get(f"{other} {who}")
            if g and b:
                print(f"{who}: GraphQL/{other} = {sum(r.rps for r in g) / sum(r.rps for r in b):.2f}x over all rounds")
        rich = results.get(f"GraphQL+stats {who}")
        if g and rich:
            print(f"{who}: with stats and feed / without = {sum(r.rps for r in rich) / sum(r.rps for r in g):.2f}x "
                  "over all rounds")


if __name__ == "__main__":
    main()
