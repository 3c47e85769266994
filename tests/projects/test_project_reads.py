"""Reading a project: its ideas and polls (hidden ones for staff only), its lists in the territory."""

from __future__ import annotations

import datetime as dt

from models.accounts import Role
from models.ideas import Idea as IdeaRow
from models.polls import Poll as PollRow
from models.projects import Project as ProjectRow
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed
from tests.projects.stories import NODE, created, pk_of


async def test_a_project_lists_its_ideas_and_polls_hiding_hidden_ones_from_citizens(gql):
    # Given the rail yard project with two ideas and two polls, one of each hidden
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    project = await created(gql, odile.token, territory)
    project_pk = pk_of(project["id"], "Project")
    garden = await proposed(gql, alice.token, territory, title="Garden", project_id=project["id"])
    benches = await proposed(gql, alice.token, territory, title="Benches", project_id=project["id"])
    await proposed(gql, alice.token, territory, title="Unrelated")
    await IdeaRow.filter(id=pk_of(benches["id"], "Idea")).update(hidden=True)
    now = dt.datetime.now(dt.UTC)
    for question, hidden in (("Which trees?", False), ("Which fence?", True)):
        await PollRow.create(
            territory_id=territory.id, project_id=project_pk, created_by_id=odile.member.id,
            question=question, opens_at=now, closes_at=now + dt.timedelta(days=7), hidden=hidden,
        )

    # When alice reads the project, she sees the visible ones
    seen = (await gql(NODE, {"id": project["id"]}, token=alice.token))["data"]["node"]
    assert [e["node"]["title"] for e in seen["ideas"]["edges"]] == ["Garden"]
    assert seen["ideas"]["edges"][0]["node"]["project"] == {"id": project["id"]}
    assert seen["ideas"]["totalCount"] == 1
    assert [e["node"]["question"] for e in seen["polls"]["edges"]] == ["Which trees?"]
    assert seen["comments"] == {"totalCount": 0}

    # And mona the moderator sees them all, newest first
    staff = (await gql(NODE, {"id": project["id"]}, token=mona.token))["data"]["node"]
    assert [e["node"]["title"] for e in staff["ideas"]["edges"]] == ["Benches", "Garden"]
    assert [e["node"]["question"] for e in staff["polls"]["edges"]] == ["Which fence?", "Which trees?"]
    assert garden["project"]["id"] == project["id"]


async def test_a_hidden_project_vanishes_from_its_ideas_and_the_territory_for_citizens(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    alice = await make_person("alice", territory)
    project = await created(gql, odile.token, territory)
    idea = await proposed(gql, alice.token, territory, project_id=project["id"])
    await ProjectRow.filter(id=pk_of(project["id"], "Project")).update(hidden=True)

    read = await gql(
        """query($id: ID!, $slug: String!) {
             node(id: $id) { ... on Idea { project { id } } }
             territory(slug: $slug) { projects(first: 10) { totalCount } }
           }""",
        {"id": idea["id"], "slug": territory.slug},
        token=alice.token,
    )

    assert read["data"]["node"] == {"project": None}
    assert read["data"]["territory"]["projects"]["totalCount"] == 0
    assert (await gql(NODE, {"id": project["id"]}, token=alice.token))["data"]["node"] is None
    document_id = project["documents"][0]["id"]
    assert (await gql(NODE, {"id": document_id}, token=alice.token))["data"]["node"] is None


async def test_territory_projects_newest_first(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    for title in ("First", "Second", "Third"):
        await created(gql, odile.token, territory, title=title, documents=[])

    read = await gql(
        """query($slug: String!) { territory(slug: $slug) { projects(first: 2) {
             totalCount pageInfo { hasNextPage }
             edges { node { title budget { amount } documents { id } } } } } }""",
        {"slug": territory.slug},
    )

    projects = read["data"]["territory"]["projects"]
    assert [e["node"]["title"] for e in projects["edges"]] == ["Third", "Second"]
    assert projects["totalCount"] == 3
    assert projects["pageInfo"]["hasNextPage"] is True
