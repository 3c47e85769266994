"""The baseline: a minimal Starlette + asyncpg server answering what the benchmarks ask of
the GraphQL API, with hand-written SQL, and the same JSON as the GraphQL answer.

    python bench/baseline_server.py --port 8001 [--pool 5]    (DATABASE_URL: PostgreSQL)

POST /home  {"slug": S, "polls": 5, "ideas": 10, "questions": 10}  [Authorization: Bearer T]
    -> {"data": {"territory": {...}}} exactly as bench/home.py's HOME_QUERY (and, with a token,
       HOME_QUERY_AUTH) returns it.
POST /vote  {"pollId": GID, "optionIds": [GID]}  Authorization: Bearer T
    -> {"data": {"castVote": {"poll": {"id", "results": {"totalVotes"}}, "userErrors": []}}},
       in one transaction doing what castVote does (see cast_ballot).

It runs under the same uvicorn settings as `server.py serve` (asyncio loop, h11, access
log at info) so that the ratio measures the application stack, not the HTTP server.
It is a yardstick, not an API: no validation beyond what the measured path needs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FORMER_MEMBER = "Former member"
STAFF = ("MODERATOR", "ADMIN")


def gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def pk_of(global_id: str, kind: str) -> int | None:
    try:
        decoded = base64.urlsafe_b64decode((global_id + "=" * (-len(global_id) % 4)).encode()).decode()
        found, _, pk = decoded.partition(":")
        return int(pk) if found == kind else None
    except ValueError:
        return None


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def name_of(display_name: str, deleted_at: dt.datetime | None) -> str:
    return FORMER_MEMBER if deleted_at is not None else display_name


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# --- SQL ------------------------------------------------------------------------------------

VIEWER_SQL = """
SELECT a.id, a.display_name FROM access_token t JOIN account a ON a.id = t.account_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND a.deleted_at IS NULL
"""
MEMBERSHIP_SQL = "SELECT id, role, verified FROM member WHERE account_id = $1 AND territory_id = $2"
TERRITORY_SQL = "SELECT id, name FROM territory WHERE slug = $1"
# Open polls (the same rule as schema.polls.poll_status), newest first, with their options.
POLLS_SQL = """
SELECT p.id, p.question, p.multiple_choice, p.closes_at, p.results_visibility, p.total_votes,
       o.id AS option_id, o.label, o.votes
FROM (SELECT * FROM poll
      WHERE territory_id = $1 AND (NOT hidden OR $2) AND closed_at IS NULL
        AND opens_at <= $3 AND closes_at > $3
      ORDER BY id DESC LIMIT $4) p
JOIN poll_option o ON o.poll_id = p.id
ORDER BY p.id DESC, o.position
"""
IDEAS_SQL = """
SELECT i.id, i.title, i.status, i.support_count, i.created_at,
       m.id AS author_id, a.display_name, a.deleted_at
FROM idea i JOIN member m ON m.id = i.author_id JOIN account a ON a.id = m.account_id
WHERE i.territory_id = $1 AND (NOT i.hidden OR $2)
ORDER BY i.support_count DESC, i.id DESC LIMIT $3
"""
QUESTIONS_SQL = """
SELECT q.id, q.title, q.created_at,
       qm.id AS author_id, qa.display_name AS author_name, qa.deleted_at AS author_deleted,
       r.id AS reply_id, r.body AS reply_body, r.created_at AS reply_at, r.hidden AS reply_hidden,
       om.id AS official_id, om.title AS official_title,
       oa.display_name AS official_name, oa.deleted_at AS official_deleted
FROM question q
JOIN member qm ON qm.id = q.author_id JOIN account qa ON qa.id = qm.account_id
LEFT JOIN reply r ON r.question_id = q.id
LEFT JOIN member om ON om.id = r.official_id LEFT JOIN account oa ON oa.id = om.account_id
WHERE q.territory_id = $1 AND q.status = 'ANSWERED' AND (NOT q.hidden OR $2)
ORDER BY q.id DESC LIMIT $3
"""
VOTED_SQL = """
SELECT pp.poll_id FROM poll_participation pp JOIN member m ON m.id = pp.member_id
WHERE pp.poll_id = ANY($1::int[]) AND m.account_id = $2
"""
SUPPORTS_SQL = """
SELECT s.idea_id FROM support s JOIN member m ON m.id = s.member_id
WHERE s.idea_id = ANY($1::int[]) AND m.account_id = $2
"""


async def viewer_of(conn: asyncpg.Connection, request: Request) -> asyncpg.Record | None | bool:
    """The viewer's account row, None when anonymous, False for a bad token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    row = await conn.fetchrow(VIEWER_SQL, hashlib.sha256(token.strip().encode()).hexdigest())
    return row if row is not None else False


def unauthenticated() -> JSON:
    return JSON({"data": None, "errors": [{"message": "The bearer token is invalid, expired or revoked.",
                                           "extensions": {"code": "UNAUTHENTICATED"}}]})


async def home(request: Request) -> Response:
    args = orjson.loads(await request.body())
    pool: asyncpg.Pool = request.app.state.pool
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        viewer = await viewer_of(conn, request)
        if viewer is False:
            return unauthenticated()
        territory = await conn.fetchrow(TERRITORY_SQL, args["slug"])
        if territory is None:
            return JSON({"data": {"territory": None}})
        tid = territory["id"]
        staff = False
        if viewer:
            member = await conn.fetchrow(MEMBERSHIP_SQL, viewer["id"], tid)
            staff = member is not None and member["role"] in STAFF
        poll_rows = await conn.fetch(POLLS_SQL, tid, staff, now, args.get("polls", 5))
        idea_rows = await conn.fetch(IDEAS_SQL, tid, staff, args.get("ideas", 10))
        question_rows = await conn.fetch(QUESTIONS_SQL, tid, staff, args.get("questions", 10))
        voted: set[int] = set()
        supported: set[int] = set()
        if viewer:
            poll_ids = list(dict.fromkeys(r["id"] for r in poll_rows))
            voted = {r[0] for r in await conn.fetch(VOTED_SQL, poll_ids, viewer["id"])}
            supported = {r[0] for r in await conn.fetch(SUPPORTS_SQL, [r["id"] for r in idea_rows], viewer["id"])}

    polls: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for row in poll_rows:
        if current is None or current["_pk"] != row["id"]:
            live = row["results_visibility"] == "LIVE"
            current = {
                "_pk": row["id"],
                "id": gid("Poll", row["id"]),
                "question": row["question"],
                "multipleChoice": row["multiple_choice"],
                "closesAt": iso(row["closes_at"]),
                "status": "OPEN",
                "resultsVisibility": row["results_visibility"],
                "results": {"totalVotes": row["total_votes"], "final": False,
                            "options": [] if live else None},
            }
            if viewer:
                current["viewerHasVoted"] = row["id"] in voted
            polls.append(current)
        options = current["results"]["options"]
        if options is not None:
            total = row["total_votes"]
            options.append({
                "option": {"id": gid("PollOption", row["option_id"]), "label": row["label"]},
                "votes": row["votes"],
                "share": row["votes"] / total if total else 0.0,
            })
    for poll in polls:
        del poll["_pk"]

    ideas = []
    for row in idea_rows:
        idea = {
            "id": gid("Idea", row["id"]),
            "title": row["title"],
            "status": row["status"],
            "supportCount": row["support_count"],
            "createdAt": iso(row["created_at"]),
            "author": {"id": gid("Member", row["author_id"]),
                       "displayName": name_of(row["display_name"], row["deleted_at"])},
        }
        if viewer:
            idea["viewerSupports"] = row["id"] in supported
        ideas.append(idea)

    questions = []
    for row in question_rows:
        reply = None
        if row["reply_id"] is not None and (staff or not row["reply_hidden"]):
            reply = {
                "id": gid("Reply", row["reply_id"]),
                "body": row["reply_body"],
                "createdAt": iso(row["reply_at"]),
                "official": {
                    "id": gid("Member", row["official_id"]),
                    "displayName": name_of(row["official_name"], row["official_deleted"]),
                    "title": row["official_title"] or "",
                },
            }
        questions.append({
            "id": gid("Question", row["id"]),
            "title": row["title"],
            "createdAt": iso(row["created_at"]),
            "author": {"id": gid("Member", row["author_id"]),
                       "displayName": name_of(row["author_name"], row["author_deleted"])},
            "reply": reply,
        })

    data: dict[str, Any] = {
        "territory": {
            "id": gid("Territory", tid),
            "name": territory["name"],
            "polls": {"edges": [{"node": p} for p in polls]},
            "ideas": {"edges": [{"node": i} for i in ideas]},
            "questions": {"edges": [{"node": q} for q in questions]},
        }
    }
    if viewer:
        data["viewer"] = {"id": gid("Account", viewer["id"]), "displayName": viewer["display_name"]}
    return JSON({"data": data})


# --- votes ----------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


async def cast_ballot(
    conn: asyncpg.Connection, account_id: int, poll_id: int, chosen: Sequence[int]
) -> int:
    """What castVote writes, in one transaction: the participation row (who voted) and the
    counters (what was voted), with the same reads and checks before. Returns total_votes."""
    now = dt.datetime.now(dt.UTC)
    async with conn.transaction():
        poll = await conn.fetchrow(
            "SELECT id, territory_id, hidden, verified_only, opens_at, closes_at, closed_at "
            "FROM poll WHERE id = $1", poll_id)
        if poll is None or poll["hidden"]:
            raise Refused("NOT_FOUND")
        member = await conn.fetchrow(MEMBERSHIP_SQL, account_id, poll["territory_id"])
        if member is None:
            raise Refused("NOT_A_MEMBER")
        if poll["verified_only"] and not member["verified"]:
            raise Refused("NOT_VERIFIED")
        if poll["closed_at"] is not None or not poll["opens_at"] <= now < poll["closes_at"]:
            raise Refused("POLL_NOT_OPEN")
        own = {r[0] for r in await conn.fetch("SELECT id FROM poll_option WHERE poll_id = $1", poll_id)}
        if not chosen or not set(chosen) <= own:
            raise Refused("NOT_FOUND")
        try:
            await conn.execute(
                "INSERT INTO poll_participation (poll_id, member_id) VALUES ($1, $2)", poll_id, member["id"])
        except asyncpg.UniqueViolationError as exc:
            raise Refused("ALREADY_VOTED") from exc
        total = await conn.fetchval(
            "UPDATE poll SET total_votes = total_votes + 1 WHERE id = $1 AND closed_at IS NULL "
            "AND opens_at <= $2 AND closes_at > $2 RETURNING total_votes", poll_id, now)
        if total is None:
            raise Refused("POLL_NOT_OPEN")
        # Every option row is rewritten, as castVote does (no xmin links a voter to a choice).
        await conn.execute(
            "UPDATE poll_option SET votes = CASE WHEN id = ANY($2::int[]) THEN votes + 1 ELSE votes END "
            "WHERE poll_id = $1", poll_id, list(chosen))
    return int(total)


async def vote(request: Request) -> Response:
    args = orjson.loads(await request.body())
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn:
        viewer = await viewer_of(conn, request)
        if not viewer:
            return unauthenticated()
        poll_id = pk_of(args["pollId"], "Poll") or 0
        chosen = [pk_of(o, "PollOption") or 0 for o in args["optionIds"]]
        try:
            total = await cast_ballot(conn, viewer["id"], poll_id, chosen)
        except Refused as refusal:
            return JSON({"data": {"castVote": {"poll": None, "userErrors": [{"code": refusal.code}]}}})
    return JSON({"data": {"castVote": {
        "poll": {"id": gid("Poll", poll_id), "results": {"totalVotes": total}},
        "userErrors": [],
    }}})


async def healthz(request: Request) -> Response:
    return JSON({"status": "ok"})


def build_app(database_url: str, pool_size: int) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(database_url, min_size=1, max_size=pool_size)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Starlette(
        routes=[Route("/home", home, methods=["POST"]), Route("/vote", vote, methods=["POST"]),
                Route("/healthz", healthz)],
        lifespan=lifespan,
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--pool", type=int, default=5, help="asyncpg pool size (Tortoise's default is 5)")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    uvicorn.run(build_app(url, args.pool), host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
