"""Notifications by email: queued with the notification, sent after a grace period by the
email channel, unless by then it was read in the app, pushed to a device, turned off or
its subject hidden; never to an address that is not verified."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from access.context import Context
from app.api import schema
from app.mail import email_sender
from app.settings import Settings
from delivery import register_sender
from delivery.notification_mail import CHANNEL, GRACE, NotificationMailSender
from delivery.worker import Policy, Worker
from models.accounts import AccessToken, Account, Role
from models.clock import now
from models.delivery import DeliveryJob
from models.notifications import Notification
from models.questions import Question as QuestionRow
from tests.factories import Persona, make_person, make_territory
from tests.mailbox import SmtpServer
from tests.questions.stories import asked, reply
from tests.reach.push_service import PushService
from tests.reach.stories import pk, register, set_preference


@pytest.fixture
def mail_notifications(smtp: SmtpServer, settings: Settings) -> Callable[[], Awaitable[int]]:
    """Notification emails pointed at `smtp`; calling the fixture lets the grace period pass
    and delivers every due job now."""
    register_sender(CHANNEL, NotificationMailSender(email_sender(replace(settings, smtp_url=smtp.url))))
    worker = Worker(Policy(backoff_seconds=0.01, send_timeout=5.0))

    async def run() -> int:
        await DeliveryJob.filter(channel=CHANNEL).update(run_after=now())
        return await worker.drain()

    return run


async def verified(name: str, territory: Any) -> Persona:
    person = await make_person(name, territory)
    await Account.filter(id=person.account.id).update(email_verified_at=now())
    return person


async def test_alice_gets_odiles_reply_by_email_after_the_grace_period(
    gql: Any, smtp: SmtpServer, mail_notifications: Callable[[], Awaitable[int]]
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await verified("alice", territory)
    question = await asked(gql, alice.token, territory)

    assert not (await reply(gql, odile.token, question["id"])).get("errors")

    # The mail waits out the grace period (the app may show it first)
    [job] = await DeliveryJob.filter(channel=CHANNEL, recipient=alice.email)
    assert job.run_after >= now() + GRACE - dt.timedelta(seconds=5)
    await mail_notifications()
    [message] = smtp.mailbox.wait_for(alice.email)
    assert message["Subject"] == "News for you on Parvis"
    assert "replied to your question" in message.get_body(("plain",)).get_content()
    # And it links to the question's canonical path (Question.url), by its reference
    year = now().year
    words = message.get_body(("plain",)).get_content().split()
    assert any(word.endswith(f"/t/{territory.slug}/questions/Q-{year}-0001") for word in words)
    assert "Open in Parvis" in message.get_body(("html",)).get_content()


async def test_no_email_when_read_in_the_app_first_hidden_since_or_turned_off(
    gql: Any, smtp: SmtpServer, mail_notifications: Callable[[], Awaitable[int]]
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    reader, hidden, quiet, unverified = [await verified(n, territory) for n in ("reader", "hidden", "quiet")] + [
        await make_person("unverified", territory)
    ]
    questions = {p.account.id: await asked(gql, p.token, territory) for p in (reader, hidden, quiet, unverified)}
    for question in questions.values():
        assert not (await reply(gql, odile.token, question["id"])).get("errors")

    # reader saw it in the app; hidden's question was hidden since; quiet turned emails off
    await Notification.filter(account_id=reader.account.id).update(read=True)
    await QuestionRow.filter(id=pk(questions[hidden.account.id]["id"])).update(hidden=True)
    await set_preference(gql, quiet.token, "QUESTION_ANSWERED", "EMAIL", "NEVER")
    await mail_notifications()

    for person in (reader, hidden, quiet, unverified):
        assert smtp.mailbox.to(person.email) == []
    # And an address nobody verified was not even queued (a stranger's address is never mailed)
    assert not await DeliveryJob.filter(channel=CHANNEL, recipient=unverified.email).exists()


async def test_a_push_delivered_is_not_repeated_by_email(
    pgql: Any, push_service: PushService, deliver: Any, smtp: SmtpServer,
    mail_notifications: Callable[[], Awaitable[int]],
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await verified("alice", territory)
    bob = await verified("bob", territory)
    await register(pgql, alice.token, push_service.browser("alice").subscription())
    questions = [await asked(pgql, p.token, territory) for p in (alice, bob)]
    for question in questions:
        assert not (await reply(pgql, odile.token, question["id"])).get("errors")

    # The push reaches alice's browser at once; bob has no device
    await deliver()
    assert len(push_service.received) == 1
    await mail_notifications()

    # Then only bob, whom no push reached, gets the email
    assert smtp.mailbox.to(alice.email) == []
    assert len(smtp.mailbox.wait_for(bob.email)) == 1


async def test_a_notification_shown_on_an_open_socket_is_not_repeated_by_email(
    gql: Any, smtp: SmtpServer, mail_notifications: Callable[[], Awaitable[int]], app_broker: Any,
    settings: Settings,
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await verified("alice", territory)
    bob = await verified("bob", territory)
    questions = [await asked(gql, p.token, territory) for p in (alice, bob)]

    # Given alice's app open on a `notifications` stream; bob's closed
    token = await AccessToken.filter(account_id=alice.account.id).first()
    context = Context(request=None, response=None, broker=app_broker, settings=settings,
                      account=alice.account, token=token)
    stream: Any = await schema.subscribe("subscription { notifications { node { kind } } }", context_value=context)
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.3)  # the stream listens before the replies
    for question in questions:
        assert not (await reply(gql, odile.token, question["id"])).get("errors")
    shown = await asyncio.wait_for(first, 10)
    assert shown.data["notifications"]["node"]["kind"] == "QUESTION_ANSWERED"
    # (the stream marks what it handed over when the socket takes the next message)
    following = asyncio.ensure_future(stream.__anext__())
    for _ in range(50):
        if await Notification.filter(account_id=alice.account.id, shown_at__isnull=False).exists():
            break
        await asyncio.sleep(0.1)
    following.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await following
    await stream.aclose()

    # When the grace period passes, only bob, whose app showed nothing, gets the email
    await mail_notifications()
    assert smtp.mailbox.to(alice.email) == []
    assert len(smtp.mailbox.wait_for(bob.email)) == 1
