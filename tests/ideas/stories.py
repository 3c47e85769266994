"""GraphQL documents and small steps shared by the ideas stories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from events.envelopes import Event
from models.ideas import Idea as IdeaRow
from models.territories import Territory as TerritoryRow
from schema.relay import decode_id_of, encode_id

IDEA_FIELDS = """
  id title body status statusNote supportCount viewerSupports createdAt
  author { id displayName }
  territory { id }
  project { id title }
"""

PROPOSE = f"""
mutation Propose($input: ProposeIdeaInput!) {{
  proposeIdea(input: $input) {{
    idea {{ {IDEA_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

SUPPORT = f"""
mutation Support($input: IdeaInput!) {{
  supportIdea(input: $input) {{
    idea {{ {IDEA_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

WITHDRAW = f"""
mutation Withdraw($input: IdeaInput!) {{
  withdrawSupport(input: $input) {{
    idea {{ {IDEA_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

SET_STATUS = f"""
mutation SetStatus($input: SetIdeaStatusInput!) {{
  setIdeaStatus(input: $input) {{
    idea {{ {IDEA_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

TERRITORY_IDEAS = """
query Ideas($slug: String!, $first: Int, $after: String, $last: Int, $before: String,
            $orderBy: IdeaOrder, $status: IdeaStatus) {
  territory(slug: $slug) {
    ideas(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, status: $status) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id title supportCount viewerSupports } }
    }
  }
}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{
    __typename
    ... on Idea {{ {IDEA_FIELDS} comments(first: 5) {{ totalCount edges {{ node {{ id }} }} }} }}
  }}
}}
"""


def territory_gid(territory: TerritoryRow) -> str:
    return encode_id("Territory", territory.id)


def pk_of(global_id: str, kind: str) -> int:
    pk = decode_id_of(global_id, kind)
    assert pk is not None, global_id
    return pk


def top_code(result: dict[str, Any]) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def propose(
    gql: Any,
    token: str | None,
    territory: TerritoryRow,
    *,
    title: str = "A shared garden on the old rail yard",
    body: str = "The yard behind the station has been empty for years; let neighbours grow vegetables there.",
    project_id: str | None = None,
) -> dict[str, Any]:
    """The whole proposeIdea response (data and errors)."""
    variables = {
        "input": {
            "territoryId": territory_gid(territory),
            "projectId": project_id,
            "title": title,
            "body": body,
        }
    }
    return await gql(PROPOSE, variables, token=token)  # type: ignore[no-any-return]


async def proposed(gql: Any, token: str | None, territory: TerritoryRow, **kwargs: Any) -> dict[str, Any]:
    """An idea proposed successfully."""
    result = await propose(gql, token, territory, **kwargs)
    assert not result.get("errors"), result
    payload = result["data"]["proposeIdea"]
    assert payload["userErrors"] == [], payload
    return payload["idea"]  # type: ignore[no-any-return]


async def support(gql: Any, token: str | None, idea_id: str) -> dict[str, Any]:
    return await gql(SUPPORT, {"input": {"ideaId": idea_id}}, token=token)  # type: ignore[no-any-return]


async def withdraw(gql: Any, token: str | None, idea_id: str) -> dict[str, Any]:
    return await gql(WITHDRAW, {"input": {"ideaId": idea_id}}, token=token)  # type: ignore[no-any-return]


async def set_status(
    gql: Any, token: str | None, idea_id: str, status: str, note: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"ideaId": idea_id, "status": status, "note": note}}
    return await gql(SET_STATUS, variables, token=token)  # type: ignore[no-any-return]


async def idea_row(idea_id: str) -> IdeaRow:
    return await IdeaRow.get(id=pk_of(idea_id, "Idea"))


@asynccontextmanager
async def recorded(broker: Any, *channels: str) -> AsyncIterator[list[Event]]:
    """The events published on `channels` while the block runs."""
    events: list[Event] = []
    async with _listening(broker, list(channels)) as queues:
        yield events
        for queue in queues:
            while not queue.empty():
                events.append(queue.get_nowait())


@asynccontextmanager
async def _listening(broker: Any, channels: list[str]) -> AsyncIterator[list[Any]]:
    if not channels:
        yield []
        return
    async with broker.listen(channels[0]) as queue, _listening(broker, channels[1:]) as rest:
        yield [queue, *rest]
