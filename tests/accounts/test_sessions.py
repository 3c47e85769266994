"""Sessions: a token per device, listed with its device and last use, revoked one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.accounts import AccessToken
from models.clock import now
from tests.accounts.stories import REVOKE, VIEWER
from tests.factories import PASSWORD, make_person

LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code } } }"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


async def log_in_from(http: Any, email: str, user_agent: str) -> str:
    response = await http.post("/graphql", headers={"User-Agent": user_agent},
                               json={"query": LOG_IN, "variables": {"i": {"email": email, "password": PASSWORD}}})
    token: str = response.json()["data"]["logIn"]["token"]
    return token


async def sessions_of(gql: Any, token: str) -> list[dict[str, Any]]:
    result = await gql(VIEWER, token=token)
    return [edge["node"] for edge in result["data"]["viewer"]["sessions"]["edges"]]


async def test_each_device_has_its_session_named_by_its_user_agent(gql, http):
    alice = await make_person("alice")
    phone = await log_in_from(http, alice.account.email, PHONE)
    laptop = await log_in_from(http, alice.account.email, LAPTOP)

    seen = await sessions_of(gql, laptop)

    # Newest first: the laptop, the phone, then the factory's token.
    assert [(s["device"], s["current"]) for s in seen] == [(LAPTOP, True), (PHONE, False), (None, False)]
    assert [s["current"] for s in await sessions_of(gql, phone)] == [False, True, False]


async def test_last_use_moves_at_most_once_a_minute(gql):
    bob = await make_person("bob")
    long_ago = now() - dt.timedelta(minutes=5)
    await AccessToken.filter(account_id=bob.account.id).update(last_used_at=long_ago)

    await gql(VIEWER, token=bob.token)
    first = (await AccessToken.get(account_id=bob.account.id)).last_used_at
    assert first is not None and first > long_ago + dt.timedelta(minutes=4)
    await gql(VIEWER, token=bob.token)
    await gql(VIEWER, token=bob.token)

    # Within the minute, requests write nothing.
    assert (await AccessToken.get(account_id=bob.account.id)).last_used_at == first


async def test_revoking_a_session_stops_its_token_at_once_and_spares_the_others(gql, http):
    carol = await make_person("carol")
    phone = await log_in_from(http, carol.account.email, PHONE)
    [phone_session] = [s for s in await sessions_of(gql, phone) if s["current"]]

    done = await gql(REVOKE, {"input": {"sessionId": phone_session["id"]}}, token=carol.token)

    assert done["data"] == {"revokeSession": True}
    refused = await gql(VIEWER, token=phone)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(await sessions_of(gql, carol.token)) == 1
    # Revoked twice: there is no such live session.
    again = await gql(REVOKE, {"input": {"sessionId": phone_session["id"]}}, token=carol.token)
    assert again["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_session_is_a_node_only_for_its_owner(gql):
    dave = await make_person("dave")
    eve = await make_person("eve")
    [session] = await sessions_of(gql, dave.token)
    node = "query($id: ID!) { node(id: $id) { ... on Session { id current } } }"

    assert (await gql(node, {"id": session["id"]}, token=dave.token))["data"]["node"] == {
        "id": session["id"], "current": True
    }
    assert (await gql(node, {"id": session["id"]}, token=eve.token))["data"]["node"] is None
