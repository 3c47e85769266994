"""supportIdea and withdrawSupport: one support per member, counted exactly, idempotent both ways."""

from __future__ import annotations

import asyncio

from models.accounts import Role
from models.ideas import Idea as IdeaRow
from models.ideas import Support
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.ideas.stories import NODE, idea_row, proposed, support, top_code, withdraw


def supported(result: dict) -> dict:
    assert not result.get("errors"), result
    payload = next(iter(result["data"].values()))
    assert payload["userErrors"] == [], payload
    return payload["idea"]  # type: ignore[no-any-return]


async def test_bob_supports_alices_idea_once_however_often_he_asks(gql):
    # Given alice's idea and bob, a citizen of the same territory
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    idea = await proposed(gql, alice.token, territory)

    # When bob supports it
    first = supported(await support(gql, bob.token, idea["id"]))

    # Then it counts one support, his
    assert first["supportCount"] == 1
    assert first["viewerSupports"] is True
    row = await idea_row(idea["id"])
    assert row.support_count == 1
    assert await Support.filter(idea_id=row.id).values_list("member_id", flat=True) == [bob.member.id]

    # When he supports it again, no error and no double count
    again = supported(await support(gql, bob.token, idea["id"]))
    assert again["supportCount"] == 1
    assert again["viewerSupports"] is True
    assert (await idea_row(idea["id"])).support_count == 1
    assert await Support.filter(idea_id=row.id).count() == 1

    # And alice sees one support that is not hers
    seen = (await gql(NODE, {"id": idea["id"]}, token=alice.token))["data"]["node"]
    assert (seen["supportCount"], seen["viewerSupports"]) == (1, False)


async def test_authors_may_support_their_own_idea(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)

    mine = supported(await support(gql, alice.token, idea["id"]))

    assert (mine["supportCount"], mine["viewerSupports"]) == (1, True)


async def test_withdrawing_removes_the_support_once_and_is_idempotent(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    carol = await make_person("carol", territory)
    idea = await proposed(gql, alice.token, territory)
    supported(await support(gql, bob.token, idea["id"]))
    supported(await support(gql, carol.token, idea["id"]))

    # When bob withdraws his support, twice
    after = supported(await withdraw(gql, bob.token, idea["id"]))
    assert (after["supportCount"], after["viewerSupports"]) == (1, False)
    again = supported(await withdraw(gql, bob.token, idea["id"]))

    # Then only carol's support remains, counted once
    assert (again["supportCount"], again["viewerSupports"]) == (1, False)
    row = await idea_row(idea["id"])
    assert row.support_count == 1
    assert await Support.filter(idea_id=row.id).values_list("member_id", flat=True) == [carol.member.id]

    # And withdrawing what was never given changes nothing
    never = supported(await withdraw(gql, alice.token, idea["id"]))
    assert never["supportCount"] == 1
    assert (await idea_row(idea["id"])).support_count == 1

    # And bob may support again
    back = supported(await support(gql, bob.token, idea["id"]))
    assert (back["supportCount"], back["viewerSupports"]) == (2, True)


async def test_anonymous_visitors_must_log_in(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)

    for mutate in (support, withdraw):
        result = await mutate(gql, None, idea["id"])
        assert top_code(result) == "UNAUTHENTICATED"
        assert result["data"] is None
    assert (await idea_row(idea["id"])).support_count == 0


async def test_members_of_other_territories_may_not_support(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", await make_territory())
    idea = await proposed(gql, alice.token, territory)

    for mutate in (support, withdraw):
        payload = next(iter((await mutate(gql, bob.token, idea["id"]))["data"].values()))
        assert payload["idea"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["NOT_A_MEMBER"]
    row = await idea_row(idea["id"])
    assert row.support_count == 0
    assert await Support.filter(idea_id=row.id).count() == 0


async def test_unknown_and_hidden_ideas_are_not_found_except_for_moderators(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    idea = await proposed(gql, alice.token, territory)
    await IdeaRow.filter(id=(await idea_row(idea["id"])).id).update(hidden=True)

    for idea_id in (idea["id"], encode_id("Idea", 2**31 - 1), encode_id("Project", 1), "nope"):
        payload = (await support(gql, bob.token, idea_id))["data"]["supportIdea"]
        assert payload == {
            "idea": None,
            "userErrors": [{"field": ["input", "ideaId"], "message": "No such idea.", "code": "NOT_FOUND"}],
        }
    assert (await idea_row(idea["id"])).support_count == 0

    # A moderator still sees the hidden idea (and may support it as a member)
    assert supported(await support(gql, mona.token, idea["id"]))["supportCount"] == 1


async def test_many_members_supporting_at_once_are_all_counted(gql):
    # Given 25 members of the territory
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)
    crowd = [await make_person(f"citizen{i}", territory) for i in range(25)]

    # When they all support the idea at the same moment
    results = await asyncio.gather(*(support(gql, person.token, idea["id"]) for person in crowd))

    # Then every support is counted, exactly
    for result in results:
        supported(result)
    row = await idea_row(idea["id"])
    assert row.support_count == 25
    assert await Support.filter(idea_id=row.id).count() == 25


async def test_one_member_supporting_twenty_times_at_once_counts_once(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    idea = await proposed(gql, alice.token, territory)

    results = await asyncio.gather(*(support(gql, bob.token, idea["id"]) for _ in range(20)))

    for result in results:
        assert supported(result)["viewerSupports"] is True
    row = await idea_row(idea["id"])
    assert row.support_count == 1
    assert await Support.filter(idea_id=row.id).count() == 1


async def test_supports_and_withdrawals_racing_end_at_the_true_count(gql):
    # Given 10 supporters, of whom 5 withdraw (twice each) while 5 others join (twice each)
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)
    leaving = [await make_person(f"leaving{i}", territory) for i in range(5)]
    staying = [await make_person(f"staying{i}", territory) for i in range(5)]
    joining = [await make_person(f"joining{i}", territory) for i in range(5)]
    for person in leaving + staying:
        supported(await support(gql, person.token, idea["id"]))

    await asyncio.gather(
        *(withdraw(gql, p.token, idea["id"]) for p in leaving for _ in range(2)),
        *(support(gql, p.token, idea["id"]) for p in joining for _ in range(2)),
    )

    row = await idea_row(idea["id"])
    assert row.support_count == 10
    assert await Support.filter(idea_id=row.id).count() == 10
