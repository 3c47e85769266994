"""The viewer's notifications: newest first, unreadOnly, and markNotificationsRead."""

from __future__ import annotations

from typing import Any

from models.accounts import Role
from models.notifications import Notification, NotificationKind
from tests.factories import Persona, make_person, make_territory
from tests.news.stories import MARK_READ, NODE, gid, inbox, pk_of, publish, top_code


async def notify(person: Persona, subject_id: int, message: str) -> Notification:
    return await Notification.create(
        account_id=person.account.id, kind=NotificationKind.NEW_COMMENT,
        subject_type="NewsPost", subject_id=subject_id, message=message,
    )


async def mark(gql: Any, token: str | None, ids: list[str] | None) -> Any:
    return await gql(MARK_READ, {"input": {"ids": ids}}, token)


async def test_alice_reads_her_notifications_and_marks_them_read(gql: Any) -> None:
    # Given three notifications for alice about odile's post, and one for bob
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    post = await publish(gql, odile.token, territory)
    post_pk = pk_of(post["id"])
    first, second, third = [await notify(alice, post_pk, f"Note {i}") for i in range(3)]
    bobs = await notify(bob, post_pk, "For bob")

    # Then she sees them newest first, with their subject
    notes = await inbox(gql, alice.token)
    assert notes["totalCount"] == 3
    assert [e["node"]["message"] for e in notes["edges"]] == ["Note 2", "Note 1", "Note 0"]
    assert {e["node"]["subject"]["id"] for e in notes["edges"]} == {post["id"]}
    assert all(e["node"]["read"] is False and e["node"]["kind"] == "NEW_COMMENT" for e in notes["edges"])

    # When she marks one read
    assert (await mark(gql, alice.token, [gid("Notification", second.id)]))["data"] == {
        "markNotificationsRead": 1
    }

    # Then unreadOnly leaves it out, and the full list shows it read
    unread = await inbox(gql, alice.token, unreadOnly=True)
    assert [e["node"]["message"] for e in unread["edges"]] == ["Note 2", "Note 0"]
    assert unread["totalCount"] == 2
    everything = await inbox(gql, alice.token, unreadOnly=False)
    assert [e["node"]["read"] for e in everything["edges"]] == [False, True, False]

    # And marking it again, or marking bob's, or nonsense, counts for nothing
    for ids in (
        [gid("Notification", second.id)],
        [gid("Notification", bobs.id)],
        ["garbage", gid("Comment", first.id)],
        [],
    ):
        assert (await mark(gql, alice.token, ids))["data"] == {"markNotificationsRead": 0}
    assert not (await Notification.get(id=bobs.id)).read

    # When she marks all read
    assert (await mark(gql, alice.token, None))["data"]["markNotificationsRead"] == 2

    # Then none of hers is unread, and bob's is untouched
    assert (await inbox(gql, alice.token, unreadOnly=True))["totalCount"] == 0
    assert {n.read for n in await Notification.filter(id__in=[first.id, third.id])} == {True}
    assert not (await Notification.get(id=bobs.id)).read
    assert (await inbox(gql, bob.token, unreadOnly=True))["totalCount"] == 1


async def test_marking_read_needs_authentication(gql: Any) -> None:
    assert top_code(await mark(gql, None, None)) == "UNAUTHENTICATED"
    assert top_code(await mark(gql, "not-a-token", None)) == "UNAUTHENTICATED"


async def test_notifications_page_by_page(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    post = pk_of((await publish(gql, odile.token, territory))["id"])
    made = [await notify(alice, post, f"Note {i}") for i in range(5)]

    page = await inbox(gql, alice.token, first=2)
    assert [e["node"]["message"] for e in page["edges"]] == ["Note 4", "Note 3"]
    assert page["pageInfo"]["hasNextPage"] is True
    await notify(alice, post, "Newest")
    rest = await inbox(gql, alice.token, first=10, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["message"] for e in rest["edges"]] == ["Note 2", "Note 1", "Note 0"]
    assert len(made) == 5


async def test_a_notification_is_its_recipients_only(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    # About a post of their territory: a notification about content hidden from its
    # recipient (any other territory's row 1 may be) is hidden with it.
    post = pk_of((await publish(gql, odile.token, territory))["id"])
    note = await notify(alice, post, "Private")

    node_id = gid("Notification", note.id)
    assert (await gql(NODE, {"id": node_id}, alice.token))["data"]["node"]["id"] == node_id
    assert (await gql(NODE, {"id": node_id}, bob.token))["data"]["node"] is None
    assert (await gql(NODE, {"id": node_id}))["data"]["node"] is None


async def test_a_subject_hidden_since_does_not_break_the_inbox(gql: Any) -> None:
    # Given alice was told a poll closed, and a moderator hid the poll since
    from tests.news.stories import make_poll

    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    poll = await make_poll(territory, odile.member)  # type: ignore[arg-type]
    await Notification.create(
        account_id=alice.account.id, kind=NotificationKind.POLL_CLOSED,
        subject_type="Poll", subject_id=poll.id, message="The poll closed.",
    )
    poll.hidden = True
    await poll.save()

    # Then her inbox still reads, without the notification that would show the hidden poll
    # (hidden means hidden on every path: ADR 0014)
    notes = await inbox(gql, alice.token)
    assert notes["edges"] == [] and notes["totalCount"] == 0
    # And the poll itself stays hidden from her elsewhere
    assert (await gql(NODE, {"id": gid("Poll", poll.id)}, alice.token))["data"]["node"] is None
