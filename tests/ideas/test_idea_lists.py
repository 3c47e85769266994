"""Reading ideas: a territory's ideas newest or most supported first, paged by cursors."""

from __future__ import annotations

from models.accounts import Role
from models.ideas import Idea as IdeaRow
from tests.factories import make_person, make_territory
from tests.ideas.stories import NODE, TERRITORY_IDEAS, pk_of, proposed, set_status, support


async def ideas_page(gql, territory, token=None, **arguments) -> dict:
    result = await gql(TERRITORY_IDEAS, {"slug": territory.slug, **arguments}, token=token)
    assert not result.get("errors"), result
    return result["data"]["territory"]["ideas"]  # type: ignore[no-any-return]


def titles(page: dict) -> list[str]:
    return [edge["node"]["title"] for edge in page["edges"]]


async def given_five_ideas_with_supports(gql):
    """A territory where ideas A..E (proposed in that order) have 2, 0, 3, 2, 1 supports."""
    territory = await make_territory()
    alice = await make_person("alice", territory)
    crowd = [await make_person(f"citizen{i}", territory) for i in range(3)]
    ideas = {}
    for title, supports in (("A", 2), ("B", 0), ("C", 3), ("D", 2), ("E", 1)):
        idea = await proposed(gql, alice.token, territory, title=title)
        for person in crowd[:supports]:
            await support(gql, person.token, idea["id"])
        ideas[title] = idea
    return territory, alice, crowd, ideas


async def test_most_supported_first_then_newest_among_equals_paged_by_cursor(gql):
    territory, _, crowd, _ = await given_five_ideas_with_supports(gql)

    # Page by page forwards
    first = await ideas_page(gql, territory, first=2, orderBy="MOST_SUPPORTED")
    assert titles(first) == ["C", "D"]
    assert [e["node"]["supportCount"] for e in first["edges"]] == [3, 2]
    assert first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False

    second = await ideas_page(
        gql, territory, first=2, after=first["pageInfo"]["endCursor"], orderBy="MOST_SUPPORTED"
    )
    assert titles(second) == ["A", "E"]
    assert (second["pageInfo"]["hasNextPage"], second["pageInfo"]["hasPreviousPage"]) == (True, True)

    third = await ideas_page(
        gql, territory, first=2, after=second["pageInfo"]["endCursor"], orderBy="MOST_SUPPORTED"
    )
    assert titles(third) == ["B"]
    assert third["pageInfo"]["hasNextPage"] is False

    # And backwards from the last item
    back = await ideas_page(
        gql, territory, last=2, before=third["pageInfo"]["startCursor"], orderBy="MOST_SUPPORTED"
    )
    assert titles(back) == ["A", "E"]
    assert back["pageInfo"]["hasPreviousPage"] is True

    # The viewer's own supports show in the list
    mine = await ideas_page(gql, territory, crowd[2].token, first=5, orderBy="MOST_SUPPORTED")
    assert [e["node"]["viewerSupports"] for e in mine["edges"]] == [True, False, False, False, False]


async def test_newest_first_by_default_and_filtered_by_status(gql):
    territory, _, _, ideas = await given_five_ideas_with_supports(gql)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    await set_status(gql, odile.token, ideas["B"]["id"], "ACCEPTED")
    await set_status(gql, odile.token, ideas["D"]["id"], "ACCEPTED")

    assert titles(await ideas_page(gql, territory, first=10)) == ["E", "D", "C", "B", "A"]
    assert titles(await ideas_page(gql, territory, first=10, orderBy="NEWEST")) == ["E", "D", "C", "B", "A"]
    accepted = await ideas_page(gql, territory, first=10, status="ACCEPTED", orderBy="MOST_SUPPORTED")
    assert titles(accepted) == ["D", "B"]
    assert accepted["totalCount"] == 2


async def test_hidden_ideas_show_only_to_moderators_and_admins(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    shown = await proposed(gql, alice.token, territory, title="Shown")
    hidden = await proposed(gql, alice.token, territory, title="Hidden")
    await IdeaRow.filter(id=pk_of(hidden["id"], "Idea")).update(hidden=True)

    assert titles(await ideas_page(gql, territory, alice.token, first=10)) == ["Shown"]
    assert titles(await ideas_page(gql, territory, None, first=10)) == ["Shown"]
    assert titles(await ideas_page(gql, territory, mona.token, first=10)) == ["Hidden", "Shown"]
    assert (await gql(NODE, {"id": hidden["id"]}, token=alice.token))["data"]["node"] is None
    assert (await gql(NODE, {"id": hidden["id"]}, token=mona.token))["data"]["node"]["title"] == "Hidden"
    assert (await gql(NODE, {"id": shown["id"]}))["data"]["node"]["title"] == "Shown"


async def test_an_idea_resolves_as_a_node_with_its_comments(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)

    node = (await gql(NODE, {"id": idea["id"]}))["data"]["node"]

    assert node["__typename"] == "Idea"
    assert node["id"] == idea["id"]
    assert node["viewerSupports"] is False
    assert node["comments"] == {"totalCount": 0, "edges": []}
