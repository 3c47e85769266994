"""Redis restarts under two live server processes: neither goes down, streams resume, and
feed and notification subscribers recover from the database what was published while
Redis was away (runs with TEST_DATABASE_URL; needs redis-server on PATH)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import ServerProcess, free_port, new_database_url
from tests.live.harness import Http, Live, log_in, prepare_database, sign_up

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") or shutil.which("redis-server") is None,
    reason="needs TEST_DATABASE_URL (two processes share PostgreSQL) and redis-server",
)

FEED = "subscription($t: ID!) { feed(territoryId: $t) { cursor node { ... on NewsPost { title } } } }"
NOTIFICATIONS = "subscription { notifications { node { kind } } }"
RESULTS = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes final } }"


class PrivateRedis:
    """A redis-server of this test's own, so it can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def world() -> Iterator[tuple[PrivateRedis, ServerProcess, ServerProcess]]:
    redis = PrivateRedis()
    redis.start()
    db = new_database_url()
    prepare_database(db, "storm-agglo")
    try:
        with ServerProcess(db, REDIS_URL=redis.url) as a, ServerProcess(db, REDIS_URL=redis.url) as b:
            yield redis, a, b
    finally:
        redis.stop()


async def test_a_redis_restart_loses_nothing(world: tuple[PrivateRedis, ServerProcess, ServerProcess]) -> None:
    redis, a, b = world
    territory = (await Http(b.url)('{ territory(slug: "storm-agglo") { id } }'))["territory"]["id"]
    adam = await log_in(b.url, "adam@storm-agglo.example", territory)
    alice = await sign_up(b.url, "alice@storm.example", "Alice", territory)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await adam.http(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": territory, "question": "Night buses?", "options": ["Yes", "No"], "closesAt": closes}},
    ))["createPoll"]["poll"]
    publish = "mutation($i: PublishNewsInput!) { publishNews(input: $i) { newsPost { id } } }"

    async with await Live.open(a.url, alice.token) as live:
        feed = await live.subscribe(FEED, {"t": territory})
        notes = await live.subscribe(NOTIFICATIONS)
        results = await live.subscribe(RESULTS, {"p": poll["id"]})
        assert (await live.next(results))["pollResults"] == {"totalVotes": 0, "final": False}
        await adam.http(publish, {"i": {"territoryId": territory, "title": "Before", "body": "."}})
        assert (await live.next(feed))["feed"]["node"] == {"title": "Before"}

        # Redis goes away; people keep acting through process B.
        redis.stop()
        await adam.http(publish, {"i": {"territoryId": territory, "title": "During 1", "body": "."}})
        await adam.http(publish, {"i": {"territoryId": territory, "title": "During 2", "body": "."}})
        await alice.http(
            "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }",
            {"p": poll["id"], "o": [poll["options"][0]["id"]]},
        )
        await adam.http("mutation($p: ID!) { closePoll(input: {pollId: $p}) { poll { id } } }", {"p": poll["id"]})
        async with httpx.AsyncClient() as client:
            for server in (a, b):
                assert (await client.get(f"{server.url}/healthz")).status_code == 200
                assert (await client.get(f"{server.url}/readyz")).status_code == 503

        # Redis comes back: A reconnects and its subscribers catch up from the database.
        await asyncio.sleep(1)
        redis.start()
        titles = [(await live.next(feed, timeout=30))["feed"]["node"]["title"] for _ in range(2)]
        assert titles == ["During 1", "During 2"]
        assert (await live.next(notes, timeout=15))["notifications"]["node"] == {"kind": "POLL_CLOSED"}
        last = (await live.next(results, timeout=15))["pollResults"]
        while not last["final"]:
            last = (await live.next(results, timeout=15))["pollResults"]
        assert last == {"totalVotes": 1, "final": True}
        await live.completes(results)

        # And the live stream goes on through Redis, without repeating anything.
        await adam.http(publish, {"i": {"territoryId": territory, "title": "After", "body": "."}})
        assert (await live.next(feed, timeout=10))["feed"]["node"] == {"title": "After"}
        await live.silent(feed)
        await live.silent(notes)
        async with httpx.AsyncClient() as client:
            for server in (a, b):
                assert (await client.get(f"{server.url}/readyz")).status_code == 200
