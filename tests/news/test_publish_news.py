"""publishNews: officials and admins publish to their territory's feed."""

from __future__ import annotations

from typing import Any

from events.envelopes import territory_channel
from models.accounts import Role
from models.feed import FeedEntry
from models.news import NewsPost
from tests.factories import make_person, make_territory
from tests.news.stories import (
    PUBLISH,
    codes,
    events_on,
    feed_of,
    gid,
    make_project,
    pk_of,
    publish,
    top_code,
)

NEWS = """
query News($slug: String!) {
  territory(slug: $slug) { news(first: 10) { totalCount edges { node { id title } } } }
}
"""


def publish_input(territory_id: int, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "territoryId": gid("Territory", territory_id),
        "title": "Works on the bridge",
        "body": "The bridge closes in May.",
    }
    fields.update(overrides)
    return {"input": fields}


async def test_an_official_publishes_news_to_the_feed(gql: Any, app_broker: Any) -> None:
    # Given odile, an official of the territory
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL, title="Mayor")

    # When she publishes a post
    async with events_on(app_broker, territory_channel(territory.id)) as events:
        post = await publish(gql, odile.token, territory, title="  Works on the bridge ", body="From May.")

    # Then the post is hers, trimmed, and tops the territory's news and feed
    assert post["title"] == "Works on the bridge"
    assert post["body"] == "From May."
    assert post["author"] == {
        "id": odile.member_gid, "displayName": "Odile", "title": "Mayor", "role": "OFFICIAL",
    }
    assert post["territory"] == {"id": gid("Territory", territory.id)}
    assert post["project"] is None
    assert post["comments"] == {"totalCount": 0}
    assert post["publishedAt"].endswith("+00:00")
    news = (await gql(NEWS, {"slug": territory.slug}))["data"]["territory"]["news"]
    assert news["totalCount"] == 1 and news["edges"][0]["node"]["id"] == post["id"]
    feed = await feed_of(gql, territory)
    assert [e["node"] for e in feed["edges"]] == [
        {"__typename": "NewsPost", "id": post["id"], "title": "Works on the bridge"}
    ]
    # And one feed event went out, after commit
    entry = await FeedEntry.get(territory_id=territory.id, subject_type="NewsPost")
    assert [(e.type, e.data) for e in events] == [
        ("feed", {"entry": entry.id, "kind": "NewsPost", "id": pk_of(post["id"])})
    ]


async def test_an_admin_publishes_as_the_territory_administration(gql: Any) -> None:
    territory = await make_territory()
    adam = await make_person("adam", territory, Role.ADMIN)

    post = await publish(gql, adam.token, territory)

    assert post["author"]["title"] == "Territory administration"
    assert post["author"]["role"] == "ADMIN"


async def test_a_post_about_a_project_of_the_territory(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    library = await make_project(territory, odile.member)  # type: ignore[arg-type]

    post = await publish(gql, odile.token, territory, project=gid("Project", library.id))

    assert post["project"] == {"id": gid("Project", library.id), "title": "New library"}


async def test_a_project_elsewhere_hidden_or_unknown_is_not_found(gql: Any) -> None:
    territory, elsewhere = await make_territory(), await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    other = await make_person("otto", elsewhere, Role.OFFICIAL)
    foreign = await make_project(elsewhere, other.member)  # type: ignore[arg-type]
    hidden = await make_project(territory, odile.member)  # type: ignore[arg-type]
    hidden.hidden = True
    await hidden.save()

    for project_id in (gid("Project", foreign.id), gid("Project", hidden.id),
                       gid("Idea", hidden.id), "not-an-id"):
        body = await gql(PUBLISH, publish_input(territory.id, projectId=project_id), odile.token)
        assert codes(body, "publishNews") == ["NOT_FOUND"]
        assert body["data"]["publishNews"]["userErrors"][0]["field"] == ["input", "projectId"]
        assert body["data"]["publishNews"]["newsPost"] is None

    assert await NewsPost.filter(territory_id=territory.id).count() == 0
    assert await FeedEntry.filter(territory_id=territory.id).count() == 0


async def test_only_officials_and_admins_may_publish(gql: Any, app_broker: Any) -> None:
    territory, elsewhere = await make_territory(), await make_territory()
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, Role.MODERATOR)
    otto = await make_person("otto", elsewhere, Role.OFFICIAL)
    nobody = await make_person("nina")

    async with events_on(app_broker, territory_channel(territory.id)) as events:
        assert top_code(await gql(PUBLISH, publish_input(territory.id))) == "UNAUTHENTICATED"
        for person in (alice, mona, otto, nobody):
            body = await gql(PUBLISH, publish_input(territory.id), person.token)
            assert top_code(body) == "FORBIDDEN", person.account.display_name

    assert await NewsPost.filter(territory_id=territory.id).count() == 0
    assert await FeedEntry.filter(territory_id=territory.id).count() == 0
    assert events == []


async def test_an_unknown_territory_is_not_found(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)

    for territory_id in (gid("Territory", 2**31 - 1), gid("Project", territory.id), "garbage"):
        body = await gql(PUBLISH, publish_input(territory.id, territoryId=territory_id), odile.token)
        assert codes(body, "publishNews") == ["NOT_FOUND"]


async def test_title_and_body_are_checked_together(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)

    body = await gql(
        PUBLISH, publish_input(territory.id, title="   ", body="x" * 20_001), odile.token
    )

    errors = body["data"]["publishNews"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        (["input", "title"], "INVALID"), (["input", "body"], "INVALID"),
    ]
    body = await gql(PUBLISH, publish_input(territory.id, title="t" * 201), odile.token)
    assert codes(body, "publishNews") == ["INVALID"]
    body = await gql(PUBLISH, publish_input(territory.id, body="bad \x00 byte"), odile.token)
    assert codes(body, "publishNews") == ["INVALID"]
    assert await NewsPost.filter(territory_id=territory.id).count() == 0

    post = await publish(gql, odile.token, territory, title="t" * 200, body="b" * 20_000)
    assert len(post["title"]) == 200 and len(post["body"]) == 20_000
