"""closePoll: officials and admins close a poll once; those who voted, and only they, hear of it."""

from __future__ import annotations

from events.envelopes import account_channel
from models.accounts import Role
from models.notifications import Notification
from models.polls import Poll as PollRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.polls.stories import (
    COLOURS,
    DAY,
    HOUR,
    NOTIFICATIONS,
    close,
    counters,
    created,
    move_in_time,
    now,
    on_poll,
    option_ids,
    pk_of,
    published,
    top_code,
    town,
    user_errors,
    voted,
)


async def poll_notifications(poll_id: str) -> list[tuple[int, str, str]]:
    """(account, kind, subject type) of every notification about this poll."""
    rows = await Notification.filter(subject_type="Poll", subject_id=pk_of(poll_id, "Poll")).order_by(
        "account_id"
    )
    return [(row.account_id, row.kind.value, row.subject_type) for row in rows]


async def test_odile_closes_the_poll_and_the_voters_hear_of_it(gql, app_broker):
    # Given a poll where alice and bob voted, and vera did not
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(poll)
    await voted(gql, t.alice.token, poll["id"], blue)
    await voted(gql, t.bob.token, poll["id"], green)

    # When odile closes it
    async with (
        published(app_broker, account_channel(t.alice.account.id)) as alice_events,
        published(app_broker, on_poll(poll["id"])) as events,
    ):
        result = await close(gql, t.odile.token, poll["id"])

    # Then it is closed, final, and its tally stands
    payload = result["data"]["closePoll"]
    assert payload["userErrors"] == []
    assert payload["poll"]["status"] == "CLOSED" and payload["poll"]["results"]["final"] is True
    assert (await PollRow.get(id=pk_of(poll["id"], "Poll"))).closed_at is not None
    assert await counters(poll["id"]) == (2, {"Blue": 1, "Green": 1, "Red": 0}, 2)
    # And alice and bob, only they, are told; the message names no option
    expected = sorted((p.account.id, "POLL_CLOSED", "Poll") for p in (t.alice, t.bob))
    assert await poll_notifications(poll["id"]) == expected
    for row in await Notification.filter(subject_type="Poll", subject_id=pk_of(poll["id"], "Poll")):
        assert not any(label.lower() in row.message.lower() for label in COLOURS)
    assert [e.type for e in alice_events] == ["notification"]
    # And the poll's channel hears that it closed
    assert [(e.type, e.data) for e in events] == [("closed", {"poll": pk_of(poll["id"], "Poll")})]
    # And alice finds it among her notifications
    inbox = await gql(NOTIFICATIONS, token=t.alice.token)
    assert not inbox.get("errors"), inbox
    kinds = [
        (e["node"]["kind"], e["node"]["subject"]) for e in inbox["data"]["viewer"]["notifications"]["edges"]
    ]
    assert kinds == [("POLL_CLOSED", {"__typename": "Poll", "id": poll["id"]})]
    for persona in (t.vera, t.odile):
        assert await Notification.filter(account_id=persona.account.id).count() == 0


async def test_closing_twice_changes_nothing_and_notifies_once(gql, app_broker):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    await close(gql, t.odile.token, poll["id"])
    closed_at = (await PollRow.get(id=pk_of(poll["id"], "Poll"))).closed_at

    async with published(app_broker, on_poll(poll["id"])) as events:
        again = await close(gql, t.adam.token, poll["id"])

    assert again["data"]["closePoll"]["userErrors"] == []
    assert again["data"]["closePoll"]["poll"]["status"] == "CLOSED"
    assert (await PollRow.get(id=pk_of(poll["id"], "Poll"))).closed_at == closed_at
    assert await poll_notifications(poll["id"]) == [(t.alice.account.id, "POLL_CLOSED", "Poll")]
    assert events == []


async def test_closing_a_poll_past_its_time_records_when_it_really_closed(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.bob.token, poll["id"], option_ids(poll)[2])
    ended = now() - HOUR
    await move_in_time(poll["id"], opens_at=now() - DAY, closes_at=ended)

    result = await close(gql, t.adam.token, poll["id"])

    assert result["data"]["closePoll"]["poll"]["status"] == "CLOSED"
    row = await PollRow.get(id=pk_of(poll["id"], "Poll"))
    assert abs((row.closed_at - ended).total_seconds()) < 0.001
    assert row.close_notified is True
    assert await poll_notifications(poll["id"]) == [(t.bob.account.id, "POLL_CLOSED", "Poll")]


async def test_a_poll_nobody_voted_in_closes_quietly(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    result = await close(gql, t.odile.token, poll["id"])
    assert result["data"]["closePoll"]["poll"]["results"]["totalVotes"] == 0
    assert await poll_notifications(poll["id"]) == []


async def test_only_officials_and_admins_of_the_territory_close_polls(gql):
    t = await town()
    elsewhere = await make_territory()
    olga = await make_person("olga", elsewhere, role=Role.OFFICIAL, title="Mayor")
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])

    assert top_code(await close(gql, None, poll["id"])) == "UNAUTHENTICATED"
    for persona in (t.alice, t.mona, olga):
        assert top_code(await close(gql, persona.token, poll["id"])) == "FORBIDDEN"
    row = await PollRow.get(id=pk_of(poll["id"], "Poll"))
    assert row.closed_at is None and row.close_notified is False
    assert await poll_notifications(poll["id"]) == []

    for poll_id in ("garbage", encode_id("Poll", 2**31 - 1)):
        assert user_errors(await close(gql, t.odile.token, poll_id), "closePoll") == [
            (["input", "pollId"], "NOT_FOUND")
        ]
