"""Many subscribers of one poll or territory share one read per event (in process,
through schema.subscribe on the app's own broker)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from access.context import Context
from app.api import schema
from models.accounts import Role
from schema.relay import encode_id
from subscriptions.hubs import hubs_for
from tests.factories import make_person, make_territory

WATCHERS = 25


async def first_result(stream: Any) -> dict[str, Any]:
    result = await asyncio.wait_for(stream.__anext__(), 5)
    assert not result.errors, result.errors
    return result.data  # type: ignore[no-any-return]


async def test_a_poll_watched_by_many_is_read_once_per_tick(gql: Any, app_broker: Any, settings: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    alice = await make_person("alice", territory)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await gql(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": encode_id("Territory", territory.id), "question": "Q?",
               "options": ["A", "B"], "closesAt": closes}},
        token=odile.token,
    ))["data"]["createPoll"]["poll"]

    streams = []
    for _ in range(WATCHERS):
        ctx = Context(request=None, response=None, broker=app_broker, settings=settings)
        streams.append(await schema.subscribe(
            "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes } }",
            variable_values={"p": poll["id"]}, context_value=ctx,
        ))
    try:
        for stream in streams:
            assert (await first_result(stream))["pollResults"] == {"totalVotes": 0}
        hub = hubs_for(app_broker).find(("poll", _pk(poll["id"])))
        assert hub.ticks == 1 and len(hub.slots) == WATCHERS

        await gql(
            "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }",
            {"p": poll["id"], "o": [poll["options"][0]["id"]]}, token=alice.token,
        )
        for stream in streams:
            assert (await first_result(stream))["pollResults"] == {"totalVotes": 1}
        assert hub.ticks == 2  # one read for all the watchers
    finally:
        for stream in streams:
            await stream.aclose()
    # The last watcher gone, the hub (and its broker listener) is gone too
    assert hubs_for(app_broker).find(("poll", _pk(poll["id"]))) is None


def _pk(global_id: str) -> int:
    from schema.relay import decode_id_of

    pk = decode_id_of(global_id, "Poll")
    assert pk is not None
    return pk
