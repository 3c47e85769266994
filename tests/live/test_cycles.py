"""Closing a subscription releases everything at once: after thousands of connect /
subscribe / disconnect cycles against a real uvicorn server (run in this process, so its
tasks, hubs and broker can be counted), nothing is left behind. And an idle shared
subscription holds no task of its own (memory per idle subscription bounds a process).

LIVE_CYCLES sets the number of cycles (default 10,000: about 20-25 s; set fewer for a quick run)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect

from access.ratelimit import Limiter
from app.settings import Settings
from models.accounts import Role
from schema.relay import encode_id
from server import build_app
from subscriptions.hubs import hubs_for
from subscriptions.shared import streams_for
from tests.e2e.server import free_port
from tests.factories import make_person, make_territory
from tests.live.harness import PROTOCOL

CYCLES = int(os.environ.get("LIVE_CYCLES", "10000"))
PARALLEL = 40


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, Any, uvicorn.Server]]:
    # Ten thousand subscribes from one address: each socket operation counts as a request
    # (docs/adr/0013), so the address limit is out of the way here.
    app = build_app(settings, manage_database=False, limiter=Limiter(overrides={"requests_ip": (10**9, 60)}))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws="websockets-sansio", log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # pytest keeps its own
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql", app.state.broker, server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_thousands_of_subscribe_and_disconnect_cycles_leave_nothing_behind(
    served: tuple[str, Any, uvicorn.Server], gql: Any,
) -> None:
    url, broker, server = served
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    alice = await make_person("alice", territory)
    territory_id = encode_id("Territory", territory.id)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await gql(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id } } }",
        {"i": {"territoryId": territory_id, "question": "Q?", "options": ["A", "B"], "closesAt": closes}},
        token=odile.token,
    ))["data"]["createPoll"]["poll"]
    streams = [
        ("subscription($p: ID!) { pollResults(pollId: $p) { totalVotes } }", {"p": poll["id"]}, None),
        ("subscription($t: ID!) { feed(territoryId: $t) { cursor } }", {"t": territory_id}, None),
        ("subscription($t: ID!) { officialReplies(territoryId: $t) { id } }", {"t": territory_id}, None),
        ("subscription { notifications { cursor } }", {}, alice.token),
    ]
    hubs = hubs_for(broker)
    await asyncio.sleep(0.2)
    baseline = len(asyncio.all_tasks())

    async def cycle(n: int) -> None:
        query, variables, token = streams[n % len(streams)]
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=10, compression=None) as conn:
            init = {"authorization": f"Bearer {token}"} if token else {}
            await conn.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await conn.recv())["type"] == "connection_ack"
            await conn.send(json.dumps({"id": "1", "type": "subscribe",
                                        "payload": {"query": query, "variables": variables}}))
            how = random.random()
            if query.startswith("subscription($p"):
                assert json.loads(await conn.recv())["type"] == "next"  # the current tally
            elif how < 0.3:
                await asyncio.sleep(0.01)  # let it reach the hub or broker
            if how < 0.5:
                await conn.send(json.dumps({"id": "1", "type": "complete"}))
            # else: the socket just closes with the subscription running (or still starting)

    loop = asyncio.get_running_loop()
    started = loop.time()
    done = 0
    while done < CYCLES:
        batch = min(PARALLEL, CYCLES - done)
        await asyncio.gather(*(cycle(done + i) for i in range(batch)))
        done += batch
    elapsed = loop.time() - started
    print(f"\n{CYCLES} cycles in {elapsed:.1f} s ({CYCLES / elapsed:.0f}/s)")

    async def settled() -> bool:
        return (not server.server_state.connections and not len(hubs)
                and not _local_queues(broker) and not getattr(broker, "_wanted", set())
                and len(asyncio.all_tasks()) <= baseline)

    deadline = loop.time() + 5
    while not await settled() and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert not server.server_state.connections
    assert not len(hubs)
    assert not _local_queues(broker)
    assert len(asyncio.all_tasks()) <= baseline, [t.get_coro() for t in asyncio.all_tasks()]
    if hasattr(broker, "_wanted"):  # Redis: only the control channel remains subscribed
        assert broker._wanted == set()
        await asyncio.sleep(0.3)
        assert set(broker._pubsub.channels) == {broker.control_channel.encode()}
        numsub = dict(await broker._publisher.pubsub_numsub(
            f"{broker.prefix}poll:{poll_pk(poll['id'])}", f"{broker.prefix}territory:{territory.id}",
            f"{broker.prefix}account:{alice.account.id}",
        ))
        assert set(numsub.values()) == {0}, numsub


IDLE = 20
# The coroutines of tasks an operation of a connection runs (Strawberry's, ours).
OPERATION_TASKS = {"run_operation", "write_shared"}


def operation_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_coro().__name__ in OPERATION_TASKS]  # type: ignore[union-attr]


async def test_idle_shared_subscriptions_hold_no_task_and_wake_for_each_tally(
    served: tuple[str, Any, uvicorn.Server], gql: Any,
) -> None:
    url, broker, _ = served
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    alice = await make_person("alice", territory)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await gql(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": encode_id("Territory", territory.id), "question": "Q?", "options": ["A", "B"],
               "closesAt": closes}},
        token=odile.token,
    ))["data"]["createPoll"]["poll"]
    query = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes } }"

    # Given twenty phones, each watching the poll twice, all past their first tally
    phones = []
    for _ in range(IDLE):
        conn = await connect(url, subprotocols=[PROTOCOL], open_timeout=10, compression=None)
        await conn.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        for op in ("1", "2"):
            await conn.send(json.dumps({"id": op, "type": "subscribe",
                                        "payload": {"query": query, "variables": {"p": poll["id"]}}}))
        firsts = [json.loads(await asyncio.wait_for(conn.recv(), 5)) for _ in range(2)]
        assert sorted(m["id"] for m in firsts) == ["1", "2"]
        phones.append(conn)
    try:
        await asyncio.sleep(0.1)
        # Then they share one group, and no operation keeps a task while idle
        groups = list(streams_for(broker).groups.values())
        assert len(groups) == 1 and len(groups[0].recipients) == 2 * IDLE
        assert operation_tasks() == []

        # When alice votes (on the served app), every subscription gets the new tally under its own id
        async with httpx.AsyncClient(base_url=url.replace("ws://", "http://").removesuffix("/graphql")) as http:
            voted = (await http.post("/graphql", headers={"Authorization": f"Bearer {alice.token}"}, json={
                "query": "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) "
                         "{ userErrors { code } } }",
                "variables": {"p": poll["id"], "o": [poll["options"][0]["id"]]},
            })).json()
        assert voted["data"]["castVote"]["userErrors"] == []
        for conn in phones:
            got = [json.loads(await asyncio.wait_for(conn.recv(), 5)) for _ in range(2)]
            assert sorted(m["id"] for m in got) == ["1", "2"]
            assert {m["payload"]["data"]["pollResults"]["totalVotes"] for m in got} == {1}
        # And once written, the writers are gone again
        await asyncio.sleep(0.1)
        assert operation_tasks() == []
    finally:
        await asyncio.gather(*(conn.close() for conn in phones))
    deadline = asyncio.get_running_loop().time() + 5
    while streams_for(broker).groups and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert streams_for(broker).groups == {}


def _local_queues(broker: Any) -> dict[str, Any]:
    local = getattr(broker, "_local", broker)
    return local._queues  # type: ignore[no-any-return]


def poll_pk(global_id: str) -> int:
    from schema.relay import decode_id_of

    pk = decode_id_of(global_id, "Poll")
    assert pk is not None
    return pk
