"""Territories and memberships: joining, verification, roles, settings."""

from __future__ import annotations

from models.accounts import Member, Role
from models.territories import Territory
from tests.factories import gid, make_person, make_territory

MEMBER_FIELDS = "id displayName role verified ... on Official { title } territory { slug }"
JOIN = f"mutation($t: ID!) {{ joinTerritory(input: {{territoryId: $t}}) {{ member {{ {MEMBER_FIELDS} }} userErrors {{ code field }} }} }}"
VERIFY = f"mutation($m: ID!) {{ verifyMember(input: {{memberId: $m}}) {{ member {{ {MEMBER_FIELDS} }} userErrors {{ code }} }} }}"
APPOINT = f"mutation($m: ID!, $t: String!) {{ appointOfficial(input: {{memberId: $m, title: $t}}) {{ member {{ __typename {MEMBER_FIELDS} }} userErrors {{ code field }} }} }}"
SET_ROLE = f"mutation($m: ID!, $r: Role!) {{ setMemberRole(input: {{memberId: $m, role: $r}}) {{ member {{ __typename {MEMBER_FIELDS} }} userErrors {{ code field }} }} }}"


async def test_alice_joins_a_territory_once(gql):
    territory = await make_territory()
    alice = await make_person("alice")

    first = await gql(JOIN, {"t": gid("Territory", territory.id)}, token=alice.token)
    second = await gql(JOIN, {"t": gid("Territory", territory.id)}, token=alice.token)

    member = first["data"]["joinTerritory"]["member"]
    assert member["role"] == "CITIZEN" and member["verified"] is False
    assert member["territory"]["slug"] == territory.slug
    assert second["data"]["joinTerritory"]["member"]["id"] == member["id"]
    assert await Member.filter(account_id=alice.account.id).count() == 1


async def test_joining_needs_an_account_and_a_real_territory(gql):
    alice = await make_person("alice")
    anonymous = await gql(JOIN, {"t": gid("Territory", 1)})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    missing = await gql(JOIN, {"t": "not-an-id"}, token=alice.token)
    assert missing["data"]["joinTerritory"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["input", "territoryId"]}]


async def test_mona_verifies_residents_and_alice_may_not(gql):
    territory = await make_territory()
    mona = await make_person("mona", territory, Role.MODERATOR)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)

    refused = await gql(VERIFY, {"m": bob.member_gid}, token=alice.token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await Member.get(id=bob.member.id)).verified is False

    done = await gql(VERIFY, {"m": bob.member_gid}, token=mona.token)
    assert done["data"]["verifyMember"]["member"]["verified"] is True


async def test_a_moderator_of_another_territory_cannot_verify(gql):
    here, elsewhere = await make_territory(), await make_territory()
    mona = await make_person("mona", elsewhere, Role.MODERATOR)
    bob = await make_person("bob", here)
    result = await gql(VERIFY, {"m": bob.member_gid}, token=mona.token)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_admin_appoints_an_official_who_keeps_her_id(gql):
    territory = await make_territory()
    adam = await make_person("adam", territory, Role.ADMIN)
    odile = await make_person("odile", territory)

    result = await gql(APPOINT, {"m": odile.member_gid, "t": "Vice-president for mobility"}, token=adam.token)

    member = result["data"]["appointOfficial"]["member"]
    assert member["__typename"] == "Official"
    assert member["title"] == "Vice-president for mobility"
    assert member["id"] == odile.member_gid
    node = await gql("query($id: ID!) { node(id: $id) { __typename id } }", {"id": odile.member_gid})
    assert node["data"]["node"] == {"__typename": "Official", "id": odile.member_gid}
    officials = await gql("query($s: String!) { territory(slug: $s) { officials { totalCount edges { node { title } } } } }", {"s": territory.slug})
    assert officials["data"]["territory"]["officials"]["edges"] == [{"node": {"title": "Vice-president for mobility"}}]


async def test_only_admins_appoint_and_change_roles(gql):
    territory = await make_territory()
    mona = await make_person("mona", territory, Role.MODERATOR)
    alice = await make_person("alice", territory)
    for token in (mona.token, alice.token):
        appoint = await gql(APPOINT, {"m": alice.member_gid, "t": "Mayor"}, token=token)
        assert appoint["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        role = await gql(SET_ROLE, {"m": alice.member_gid, "r": "MODERATOR"}, token=token)
        assert role["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await Member.get(id=alice.member.id)).role == Role.CITIZEN


async def test_set_member_role_and_its_rules(gql):
    territory = await make_territory()
    adam = await make_person("adam", territory, Role.ADMIN)
    alice = await make_person("alice", territory)

    promoted = await gql(SET_ROLE, {"m": alice.member_gid, "r": "MODERATOR"}, token=adam.token)
    assert promoted["data"]["setMemberRole"]["member"]["role"] == "MODERATOR"
    assert promoted["data"]["setMemberRole"]["member"]["__typename"] == "Citizen"

    no_mandate = await gql(SET_ROLE, {"m": alice.member_gid, "r": "OFFICIAL"}, token=adam.token)
    assert no_mandate["data"]["setMemberRole"]["userErrors"] == [{"code": "INVALID", "field": ["input", "role"]}]

    last_admin = await gql(SET_ROLE, {"m": adam.member_gid, "r": "CITIZEN"}, token=adam.token)
    assert last_admin["data"]["setMemberRole"]["userErrors"][0]["code"] == "INVALID"
    assert (await Member.get(id=adam.member.id)).role == Role.ADMIN


async def test_members_list_is_for_moderators_and_admins(gql):
    territory = await make_territory()
    mona = await make_person("mona", territory, Role.MODERATOR)
    alice = await make_person("alice", territory, verified=True)
    await make_person("bob", territory)
    query = "query($s: String!) { territory(slug: $s) { members(verified: true) { totalCount edges { node { displayName } } } } }"

    for token in (None, alice.token):
        refused = await gql(query, {"s": territory.slug}, token=token)
        assert refused["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}
    seen = await gql(query, {"s": territory.slug}, token=mona.token)
    assert seen["data"]["territory"]["members"]["totalCount"] == 1
    assert seen["data"]["territory"]["members"]["edges"] == [{"node": {"displayName": "Alice"}}]


async def test_admin_updates_the_charter_and_deadline(gql):
    territory = await make_territory()
    adam = await make_person("adam", territory, Role.ADMIN)
    alice = await make_person("alice", territory)
    mutation = """mutation($i: UpdateTerritoryInput!) { updateTerritory(input: $i) {
        territory { name replyDeadlineDays charter population } userErrors { field code } } }"""
    t = gid("Territory", territory.id)

    refused = await gql(mutation, {"i": {"territoryId": t, "name": "X"}}, token=alice.token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    invalid = await gql(mutation, {"i": {"territoryId": t, "replyDeadlineDays": 0, "population": -1}}, token=adam.token)
    assert {tuple(e["field"]) for e in invalid["data"]["updateTerritory"]["userErrors"]} == {
        ("input", "replyDeadlineDays"), ("input", "population")
    }
    done = await gql(mutation, {"i": {"territoryId": t, "charter": "Be kind.", "replyDeadlineDays": 10}}, token=adam.token)
    assert done["data"]["updateTerritory"]["territory"] == {
        "name": territory.name, "replyDeadlineDays": 10, "charter": "Be kind.", "population": 110000
    }
    assert (await Territory.get(id=territory.id)).reply_deadline_days == 10


async def test_a_slug_no_territory_can_have_finds_nothing_instead_of_failing(http):
    for slug in ("\\ud800", "nul\\u0000byte", "x" * 300):
        body = '{"query": "query($s: String!) { territory(slug: $s) { id } }", "variables": {"s": "%s"}}' % slug
        response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert response.json()["data"] == {"territory": None}
        assert "errors" not in response.json()


async def test_a_join_and_a_leave_show_in_their_own_answers(gql):
    # The memberships an HTTP request reads with its token (access/tokens.viewer_for_token) are
    # from before the mutation: the answer must show the membership as it is after it.
    territory = await make_territory()
    alice = await make_person("alice")
    t = gid("Territory", territory.id)
    joined = await gql(
        "mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { territory { "
        "viewerMembership { role } } } } }", {"t": t}, token=alice.token)
    assert joined["data"]["joinTerritory"]["member"]["territory"]["viewerMembership"] == {"role": "CITIZEN"}
    after = await gql("query($t: ID!) { node(id: $t) { ... on Territory { viewerMembership { role } } } }",
                      {"t": t}, token=alice.token)
    assert after["data"]["node"]["viewerMembership"] == {"role": "CITIZEN"}

    left = await gql("mutation($t: ID!) { leaveTerritory(input: {territoryId: $t}) }", {"t": t}, token=alice.token)
    assert left["data"]["leaveTerritory"] is True
    gone = await gql("query($t: ID!) { node(id: $t) { ... on Territory { viewerMembership { role } } } }",
                     {"t": t}, token=alice.token)
    assert gone["data"]["node"]["viewerMembership"] is None
