"""GraphQL documents, the town and small steps shared by the polls stories."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from events.brokers import InProcessBroker
from events.envelopes import Event, poll_channel
from models.accounts import Role
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from models.polls import PollParticipation
from models.territories import Territory as TerritoryRow
from schema.relay import decode_id_of, encode_id
from tests.factories import Persona, make_person, make_territory

POLL_FIELDS = """
  id question multipleChoice verifiedOnly opensAt closesAt status resultsVisibility viewerHasVoted
  territory { id slug }
  project { id }
  options { id label }
  results {
    totalVotes countedVotes final
    poll { id }
    options { option { id label } votes share }
  }
"""

CREATE = f"""
mutation Create($input: CreatePollInput!) {{
  createPoll(input: $input) {{
    poll {{ {POLL_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

VOTE = f"""
mutation Vote($input: CastVoteInput!) {{
  castVote(input: $input) {{
    poll {{ {POLL_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

CLOSE = f"""
mutation Close($input: PollInput!) {{
  closePoll(input: $input) {{
    poll {{ {POLL_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{ __typename ... on Poll {{ {POLL_FIELDS} }} }}
}}
"""

TERRITORY_POLLS = f"""
query Polls($slug: String!, $status: PollStatus) {{
  territory(slug: $slug) {{
    polls(first: 50, status: $status) {{
      totalCount
      edges {{ node {{ {POLL_FIELDS} }} }}
    }}
  }}
}}
"""

NOTIFICATIONS = """
query {
  viewer {
    notifications(first: 20) {
      edges { node { kind message subject { __typename ... on Poll { id } } } }
    }
  }
}
"""

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
COLOURS = ["Blue", "Green", "Red"]


@dataclass
class Town:
    """Carcassonne with alice and bob the citizens, vera the verified resident, odile the
    official, mona the moderator and adam the admin. Its ballots are counted one by one
    (batch size K = 1) unless a story says otherwise: these stories are about what one ballot
    does; batches mixed across voters are told in tests/security/test_ballot_adversary.py."""

    territory: TerritoryRow
    alice: Persona
    bob: Persona
    vera: Persona
    odile: Persona
    mona: Persona
    adam: Persona

    @property
    def gid(self) -> str:
        return encode_id("Territory", self.territory.id)


async def town(ballot_batch: int = 1) -> Town:
    territory = await make_territory(name="Carcassonne Agglo", ballot_batch=ballot_batch)
    return Town(
        territory=territory,
        alice=await make_person("alice", territory),
        bob=await make_person("bob", territory),
        vera=await make_person("vera", territory, verified=True),
        odile=await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor"),
        mona=await make_person("mona", territory, role=Role.MODERATOR),
        adam=await make_person("adam", territory, role=Role.ADMIN),
    )


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pk_of(global_id: str, kind: str) -> int:
    pk = decode_id_of(global_id, kind)
    assert pk is not None, global_id
    return pk


def poll_input(territory_gid: str, **overrides: Any) -> dict[str, Any]:
    """A valid createPoll input: which colour for the new tram, closing in a week."""
    values: dict[str, Any] = {
        "territoryId": territory_gid,
        "question": "Which colour for the new tram?",
        "options": list(COLOURS),
        "closesAt": iso(now() + 7 * DAY),
    }
    values.update(overrides)
    return values


async def create(gql: Any, token: str | None, territory_gid: str, **overrides: Any) -> dict[str, Any]:
    """The whole createPoll response (data and errors)."""
    variables = {"input": poll_input(territory_gid, **overrides)}
    return await gql(CREATE, variables, token=token)  # type: ignore[no-any-return]


async def created(gql: Any, token: str | None, territory_gid: str, **overrides: Any) -> dict[str, Any]:
    """A poll that was created successfully."""
    result = await create(gql, token, territory_gid, **overrides)
    assert not result.get("errors"), result
    payload = result["data"]["createPoll"]
    assert payload["userErrors"] == [], payload
    return payload["poll"]  # type: ignore[no-any-return]


async def vote(gql: Any, token: str | None, poll_id: str, *option_ids: str) -> dict[str, Any]:
    """The whole castVote response (data and errors)."""
    variables = {"input": {"pollId": poll_id, "optionIds": list(option_ids)}}
    return await gql(VOTE, variables, token=token)  # type: ignore[no-any-return]


async def voted(gql: Any, token: str | None, poll_id: str, *option_ids: str) -> dict[str, Any]:
    """The poll after a ballot that was counted."""
    result = await vote(gql, token, poll_id, *option_ids)
    assert not result.get("errors"), result
    payload = result["data"]["castVote"]
    assert payload["userErrors"] == [], payload
    return payload["poll"]  # type: ignore[no-any-return]


async def close(gql: Any, token: str | None, poll_id: str) -> dict[str, Any]:
    """The whole closePoll response (data and errors)."""
    return await gql(CLOSE, {"input": {"pollId": poll_id}}, token=token)  # type: ignore[no-any-return]


async def read(gql: Any, token: str | None, poll_id: str) -> dict[str, Any]:
    """The poll through node(id)."""
    result = await gql(NODE, {"id": poll_id}, token=token)
    assert not result.get("errors"), result
    return result["data"]["node"]  # type: ignore[no-any-return]


def option_ids(poll: dict[str, Any]) -> list[str]:
    return [option["id"] for option in poll["options"]]


def tally(poll: dict[str, Any]) -> dict[str, int] | None:
    """label -> votes from a poll's results, or None while hidden."""
    options = poll["results"]["options"]
    if options is None:
        return None
    return {row["option"]["label"]: row["votes"] for row in options}


async def counters(poll_id: str) -> tuple[int, dict[str, int], int]:
    """(total_votes, votes per label, participations) as stored: to show nothing moved."""
    pk = pk_of(poll_id, "Poll")
    row = await PollRow.get(id=pk)
    votes = dict(await PollOptionRow.filter(poll_id=pk).values_list("label", "votes"))
    participants = await PollParticipation.filter(poll_id=pk).count()
    return row.total_votes, votes, participants


async def move_in_time(poll_id: str, *, opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    """Set a poll's window directly in the database, as time passing would."""
    await PollRow.filter(id=pk_of(poll_id, "Poll")).update(opens_at=opens_at, closes_at=closes_at)


def top_code(result: dict[str, Any]) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def user_errors(result: dict[str, Any], mutation: str) -> list[tuple[list[str] | None, str]]:
    """(field, code) of a payload's userErrors."""
    assert not result.get("errors"), result
    return [(e["field"], e["code"]) for e in result["data"][mutation]["userErrors"]]


@asynccontextmanager
async def published(broker: Any, *channels: str) -> AsyncIterator[list[Event]]:
    """Collect the events published on these channels during the block (the list is
    filled when the block ends). A broker that is not in-process gets a moment to deliver."""
    seen: list[Event] = []
    patience = 0.0 if isinstance(broker, InProcessBroker) else 0.3
    async with AsyncExitStack() as stack:
        queues = [await stack.enter_async_context(broker.listen(c)) for c in channels]
        yield seen
        for queue in queues:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), patience) if patience else queue.get_nowait()
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                seen.append(event)


def on_poll(poll_id: str) -> str:
    """The channel of a poll's live events."""
    return poll_channel(pk_of(poll_id, "Poll"))
