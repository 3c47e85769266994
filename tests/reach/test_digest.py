"""The daily digest: kinds set to DAILY_DIGEST by EMAIL are gathered in one mail per person
and day, of what is still unread and not hidden; queued once however often it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from delivery.email import CHANNEL as EMAIL_CHANNEL
from delivery.notification_mail import enqueue_daily_digests
from models.accounts import Account
from models.clock import now
from models.delivery import DeliveryJob
from models.notifications import Notification, NotificationKind
from models.questions import Question as QuestionRow
from tests.factories import make_person, make_territory
from tests.mailbox import SmtpServer
from tests.questions.stories import asked
from tests.reach.stories import pk, set_preference


async def test_alice_gets_one_digest_of_the_days_unread_comments(
    gql: Any, smtp: SmtpServer, mail: Callable[[], Awaitable[int]]
) -> None:
    # Given alice, who wants comments once a day by email, and bob, who wants the same but
    # got nothing
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    for person in (alice, bob):
        await Account.filter(id=person.account.id).update(email_verified_at=now())
        await set_preference(gql, person.token, "NEW_COMMENT", "EMAIL", "DAILY_DIGEST")
    shown = await asked(gql, alice.token, territory, title="Bus line 4 on Sundays?")
    hidden = await asked(gql, alice.token, territory, title="A question hidden since")
    await QuestionRow.filter(id=pk(hidden["id"])).update(hidden=True)

    async def note(subject: str, message: str, *, read: bool = False,
                   kind: NotificationKind = NotificationKind.NEW_COMMENT) -> None:
        await Notification.create(account_id=alice.account.id, kind=kind, subject_type="Question",
                                  subject_id=pk(subject), message=message, read=read)

    await note(shown["id"], "Bob commented on “Bus line 4 on Sundays?”.")
    await note(shown["id"], "Carol commented on “Bus line 4 on Sundays?”.")
    await note(shown["id"], "Already read in the app.", read=True)
    await note(hidden["id"], "A comment on what moderation hid.")
    await note(shown["id"], "Not a digest kind.", kind=NotificationKind.IDEA_STATUS_CHANGED)

    # When the day's digests are queued, twice (two processes, say)
    today = now().date()
    await enqueue_daily_digests(today)
    await enqueue_daily_digests(today)
    await mail()

    # Then alice gets one mail with the two unread comments, and bob none
    assert await DeliveryJob.filter(channel=EMAIL_CHANNEL, recipient=alice.email, key__startswith="email:digest:").count() == 1
    [message] = smtp.mailbox.wait_for(alice.email)
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Your daily summary on Parvis"
    assert "2 update(s)" in text
    assert "Bob commented" in text and "Carol commented" in text
    for absent in ("Already read", "moderation hid", "Not a digest kind"):
        assert absent not in text
    assert smtp.mailbox.to(bob.email) == []
