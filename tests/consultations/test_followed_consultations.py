"""A consultation one follows is in "my activity" (Viewer.follows) like any followed content; a
draft is there only for whom may read drafts."""

from __future__ import annotations

from models.accounts import Member, Role
from models.clock import now
from models.reach import Follow
from tests.consultations.stories import created, pk_of, published
from tests.factories import make_person, make_territory
from tests.reach.stories import FOLLOW

FOLLOWS = "{ viewer { follows(first: 10) { totalCount edges { node { subject { __typename id } } } } } }"


def followed(answer: dict) -> list[tuple[str, str]]:
    edges = answer["data"]["viewer"]["follows"]["edges"]
    return [(e["node"]["subject"]["__typename"], e["node"]["subject"]["id"]) for e in edges]


async def test_alice_finds_the_consultation_she_follows_in_her_activity(gql):
    # Given a published consultation that alice follows
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    consultation = await published(gql, odile.token, t)
    done = await gql(FOLLOW, {"input": {"subjectId": consultation["id"]}}, token=alice.token)
    assert done["data"]["follow"]["userErrors"] == []
    # When she reads what she follows, then it is there, as a Consultation
    assert followed(await gql(FOLLOWS, token=alice.token)) == [("Consultation", consultation["id"])]


async def test_a_followed_draft_leaves_the_list_of_an_official_who_left(gql):
    # Given odile, an official, following a draft of her territory
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    draft = await created(gql, odile.token, t)
    done = await gql(FOLLOW, {"input": {"subjectId": draft["id"]}}, token=odile.token)
    assert done["data"]["follow"]["userErrors"] == []
    answer = await gql(FOLLOWS, token=odile.token)
    assert followed(answer) == [("Consultation", draft["id"])]
    # When she leaves the territory, then the draft is out of her list and its count
    await Member.filter(id=odile.member.id).update(left_at=now())
    answer = await gql(FOLLOWS, token=odile.token)
    assert followed(answer) == [] and answer["data"]["viewer"]["follows"]["totalCount"] == 0
    # though her follow row is still there (nothing was deleted, only not shown)
    assert await Follow.filter(subject_type="Consultation", subject_id=pk_of(draft["id"], "Consultation")).count() == 1

