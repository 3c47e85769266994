"""addComment: members discuss questions, ideas, projects and news posts; authors are told."""

from __future__ import annotations

import datetime as dt
from typing import Any

from events.envelopes import account_channel, territory_channel
from models.accounts import Role
from models.comments import Comment
from models.notifications import Notification, NotificationKind
from tests.factories import make_person, make_territory
from tests.news.stories import (
    ADD_COMMENT,
    codes,
    comment,
    comments_of,
    events_on,
    gid,
    inbox,
    make_idea,
    make_poll,
    make_project,
    make_question,
    pk_of,
    publish,
    top_code,
)


def comment_input(subject_id: str, body: str = "Thank you!") -> dict[str, Any]:
    return {"input": {"subjectId": subject_id, "body": body}}


async def test_alice_comments_on_a_news_post_and_odile_is_told(gql: Any, app_broker: Any) -> None:
    # Given odile's news post
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    post = await publish(gql, odile.token, territory, title="Works on the bridge")

    # When alice comments on it
    async with events_on(app_broker, territory_channel(territory.id)) as public, \
            events_on(app_broker, account_channel(odile.account.id)) as private:
        said = await comment(gql, alice.token, post["id"], "  When does it reopen?  ")

    # Then the comment is alice's and the post lists it
    assert said["body"] == "When does it reopen?"
    assert said["author"] == {"__typename": "Citizen", "id": alice.member_gid, "displayName": "Alice"}
    page = await comments_of(gql, post["id"])
    assert page["totalCount"] == 1
    assert [e["node"]["id"] for e in page["edges"]] == [said["id"]]
    # And odile is notified, about her post
    notes = await inbox(gql, odile.token)
    assert [(n["node"]["kind"], n["node"]["subject"]) for n in notes["edges"]] == [
        ("NEW_COMMENT", {"__typename": "NewsPost", "id": post["id"]})
    ]
    assert notes["edges"][0]["node"]["message"] == "Alice commented on “Works on the bridge”."
    # And the territory and odile heard of it live, after commit
    assert [(e.type, e.data) for e in public] == [
        ("comment", {"comment": pk_of(said["id"]), "kind": "NewsPost", "subject": pk_of(post["id"])})
    ]
    assert [e.type for e in private] == ["notification"]


async def test_the_author_of_each_kind_of_item_is_told(gql: Any) -> None:
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    odile = await make_person("odile", territory, Role.OFFICIAL)
    question = await make_question(territory, bob.member)  # type: ignore[arg-type]
    idea = await make_idea(territory, bob.member)  # type: ignore[arg-type]
    project = await make_project(territory, odile.member)  # type: ignore[arg-type]

    for kind, row in (("Question", question), ("Idea", idea), ("Project", project)):
        said = await comment(gql, alice.token, gid(kind, row.id))
        assert (await Comment.get(id=pk_of(said["id"]))).subject_type == kind

    bob_notes = await Notification.filter(account_id=bob.account.id).order_by("id")
    assert [(n.kind, n.subject_type, n.subject_id) for n in bob_notes] == [
        (NotificationKind.NEW_COMMENT, "Question", question.id),
        (NotificationKind.NEW_COMMENT, "Idea", idea.id),
    ]
    odile_notes = await Notification.filter(account_id=odile.account.id)
    assert [(n.subject_type, n.subject_id) for n in odile_notes] == [("Project", project.id)]


async def test_no_notification_for_commenting_on_ones_own_post(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    post = await publish(gql, odile.token, territory)

    await comment(gql, odile.token, post["id"], "Details below.")

    assert await Notification.filter(account_id=odile.account.id).count() == 0


async def test_comments_read_oldest_first_page_by_page(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    post = await publish(gql, odile.token, territory)
    said = [(await comment(gql, alice.token, post["id"], f"Comment {i}"))["id"] for i in range(5)]

    first = await comments_of(gql, post["id"], first=2)
    assert [e["node"]["id"] for e in first["edges"]] == said[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    # A comment written while paging comes at the end, not in the next page
    said.append((await comment(gql, alice.token, post["id"], "Late"))["id"])
    rest = await comments_of(gql, post["id"], first=10, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == said[2:]
    assert rest["totalCount"] == 6
    tail = await comments_of(gql, post["id"], last=2)
    assert [e["node"]["id"] for e in tail["edges"]] == said[-2:]


async def test_a_former_member_still_signs_their_comments(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    post = await publish(gql, odile.token, territory)
    await comment(gql, alice.token, post["id"])

    alice.account.deleted_at = dt.datetime.now(dt.UTC)
    alice.account.display_name = ""
    await alice.account.save()

    page = await comments_of(gql, post["id"])
    assert page["edges"][0]["node"]["author"] == {"displayName": "Former member"}


async def test_anonymous_may_not_comment(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    post = await publish(gql, odile.token, territory)

    assert top_code(await gql(ADD_COMMENT, comment_input(post["id"]))) == "UNAUTHENTICATED"
    assert await Comment.filter(territory_id=territory.id).count() == 0


async def test_one_must_join_the_territory_to_comment(gql: Any, app_broker: Any) -> None:
    territory, elsewhere = await make_territory(), await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    otto = await make_person("otto", elsewhere)
    post = await publish(gql, odile.token, territory)

    async with events_on(app_broker, territory_channel(territory.id)) as events:
        body = await gql(ADD_COMMENT, comment_input(post["id"]), otto.token)

    assert codes(body, "addComment") == ["NOT_A_MEMBER"]
    assert body["data"]["addComment"]["comment"] is None
    assert await Comment.filter(territory_id=territory.id).count() == 0
    assert await Notification.filter(account_id=odile.account.id).count() == 0
    assert events == []


async def test_what_cannot_be_commented_is_not_found(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    poll = await make_poll(territory, odile.member)  # type: ignore[arg-type]
    hidden = await make_question(territory, bob.member)  # type: ignore[arg-type]
    hidden.hidden = True
    await hidden.save()

    for subject_id in (
        gid("Poll", poll.id),  # polls take votes, not comments
        gid("Territory", territory.id),
        gid("Question", hidden.id),  # hidden from alice
        gid("Question", 2**31 - 1),
        "garbage",
    ):
        body = await gql(ADD_COMMENT, comment_input(subject_id), alice.token)
        assert codes(body, "addComment") == ["NOT_FOUND"], subject_id
        assert body["data"]["addComment"]["userErrors"][0]["field"] == ["input", "subjectId"]
    assert await Comment.filter(territory_id=territory.id).count() == 0


async def test_the_body_must_hold_1_to_20000_characters(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    post = await publish(gql, odile.token, territory)

    for body_text in ("", "   ", "x" * 20_001):
        body = await gql(ADD_COMMENT, comment_input(post["id"], body_text), alice.token)
        assert codes(body, "addComment") == ["INVALID"]
        assert body["data"]["addComment"]["userErrors"][0]["field"] == ["input", "body"]
    assert await Comment.filter(territory_id=territory.id).count() == 0
    assert await Notification.filter(account_id=odile.account.id).count() == 0

    said = await comment(gql, alice.token, post["id"], "y" * 20_000)
    assert len(said["body"]) == 20_000
