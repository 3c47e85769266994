"""A poll whose closesAt passes with nobody acting is closed by the server itself:
its voters get POLL_CLOSED once, and watchers the `closed` event."""

from __future__ import annotations

import datetime as dt

from access.context import Context
from events.envelopes import poll_channel
from models.notifications import Notification, NotificationKind
from models.polls import Poll as PollRow
from resolvers.polls import do_close_due_polls
from tests.polls.stories import created, option_ids, pk_of, published, town, voted


async def test_a_poll_past_its_closing_time_is_closed_and_its_voters_told_once(gql, app_broker, settings):
    # Given a poll alice and vera voted in, whose closing time has just passed
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue = option_ids(poll)[0]
    await voted(gql, t.alice.token, poll["id"], blue)
    await voted(gql, t.vera.token, poll["id"], blue)
    closes_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await PollRow.filter(id=pk_of(poll["id"], "Poll")).update(closes_at=closes_at)
    ctx = Context(request=None, response=None, broker=app_broker, settings=settings)

    # When the server's closer runs (twice, as two processes might)
    async with published(app_broker, poll_channel(pk_of(poll["id"], "Poll"))) as events:
        await do_close_due_polls(ctx)
        await do_close_due_polls(ctx)

    # Then the poll is closed at its closing time, each voter told once, watchers once
    row = await PollRow.get(id=pk_of(poll["id"], "Poll"))
    assert row.close_notified is True
    assert abs((row.closed_at - closes_at).total_seconds()) < 0.001
    told = await Notification.filter(kind=NotificationKind.POLL_CLOSED, subject_id=row.id, subject_type="Poll")
    assert sorted(n.account_id for n in told) == sorted([t.alice.account.id, t.vera.account.id])
    assert [e.type for e in events] == ["closed"]


async def test_open_polls_are_left_alone(gql, app_broker, settings):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    ctx = Context(request=None, response=None, broker=app_broker, settings=settings)
    await do_close_due_polls(ctx)
    row = await PollRow.get(id=pk_of(poll["id"], "Poll"))
    assert (row.closed_at, row.close_notified) == (None, False)
