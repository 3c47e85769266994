"""leaveTerritory and viewerMembership: alice leaves, her rights go, her ballot stays hers."""

from __future__ import annotations

from typing import Any

from models.accounts import Member, Role
from tests.factories import gid, make_person, make_territory
from tests.polls.stories import created, option_ids, town, vote

LEAVE = "mutation($t: ID!) { leaveTerritory(input: {territoryId: $t}) }"
JOIN = "mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { id role verified } userErrors { code } } }"
MEMBERSHIP = "query($slug: String!) { territory(slug: $slug) { viewerMembership { id role verified } } }"
MEMBERSHIPS = "{ viewer { memberships { id } } }"


async def membership(gql: Any, slug: str, token: str | None) -> Any:
    result = await gql(MEMBERSHIP, {"slug": slug}, token=token)
    assert not result.get("errors"), result
    return result["data"]["territory"]["viewerMembership"]


async def leave(gql: Any, territory_gid: str, token: str | None) -> dict[str, Any]:
    return await gql(LEAVE, {"t": territory_gid}, token=token)  # type: ignore[no-any-return]


async def test_viewer_membership_is_the_viewers_own(gql):
    # Given vera the verified resident, bob who never joined, and nobody
    territory = await make_territory()
    vera = await make_person("vera", territory, verified=True)
    bob = await make_person("bob")

    # When each reads the same territory, in turn and again (the territory is a shared part)
    for _ in range(2):
        assert await membership(gql, territory.slug, vera.token) == {
            "id": vera.member_gid, "role": "CITIZEN", "verified": True
        }
        assert await membership(gql, territory.slug, bob.token) is None
        assert await membership(gql, territory.slug, None) is None


async def test_alice_leaves_and_comes_back_a_citizen_whose_ballot_still_counts(gql):
    # Given vera, verified, who voted
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue = option_ids(poll)[0]
    assert not (await vote(gql, t.vera.token, poll["id"], blue))["data"]["castVote"]["userErrors"]

    # When she leaves (twice: leaving is idempotent)
    assert (await leave(gql, t.gid, t.vera.token))["data"]["leaveTerritory"] is True
    assert (await leave(gql, t.gid, t.vera.token))["data"]["leaveTerritory"] is True

    # Then she is no member: no membership, no vote, gone from the viewer's memberships
    assert await membership(gql, t.territory.slug, t.vera.token) is None
    assert (await gql(MEMBERSHIPS, token=t.vera.token))["data"]["viewer"]["memberships"] == []
    refused = await vote(gql, t.vera.token, poll["id"], blue)
    assert [e["code"] for e in refused["data"]["castVote"]["userErrors"]] == ["NOT_A_MEMBER"]

    # And when she joins again, she is the same member, a citizen no longer verified,
    # who cannot vote a second time
    joined = (await gql(JOIN, {"t": t.gid}, token=t.vera.token))["data"]["joinTerritory"]["member"]
    assert joined == {"id": t.vera.member_gid, "role": "CITIZEN", "verified": False}
    again = await vote(gql, t.vera.token, poll["id"], blue)
    assert [e["code"] for e in again["data"]["castVote"]["userErrors"]] == ["ALREADY_VOTED"]


async def test_an_official_who_leaves_loses_the_role(gql):
    t = await town()
    assert (await leave(gql, t.gid, t.odile.token))["data"]["leaveTerritory"] is True
    row = await Member.get(id=t.odile.member.id)
    assert (row.role, row.left_at is not None) == (Role.CITIZEN, True)
    officials = await gql(
        "query($slug: String!) { territory(slug: $slug) { officials { totalCount } } }", {"slug": t.territory.slug}
    )
    assert officials["data"]["territory"]["officials"]["totalCount"] == 0


async def test_the_last_admin_cannot_leave_but_one_of_two_can(gql):
    # Given a territory with one admin
    territory = await make_territory()
    adam = await make_person("adam", territory, Role.ADMIN)
    territory_gid = gid("Territory", territory.id)

    # Then adam may not leave it
    refused = await leave(gql, territory_gid, adam.token)
    assert refused["errors"][0]["extensions"]["code"] == "LAST_ADMIN"
    assert (await Member.get(id=adam.member.id)).left_at is None

    # But once ada is admin too, adam may, and then ada is the last one
    ada = await make_person("ada", territory, Role.ADMIN)
    assert (await leave(gql, territory_gid, adam.token))["data"]["leaveTerritory"] is True
    assert (await leave(gql, territory_gid, ada.token))["errors"][0]["extensions"]["code"] == "LAST_ADMIN"


async def test_leaving_needs_an_account_and_a_real_territory(gql):
    alice = await make_person("alice")
    assert (await leave(gql, gid("Territory", 1), None))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await leave(gql, "not-an-id", alice.token))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
