"""Reminders: an official is mailed once the day before a question addressed to them falls
due; moderators get one mail a day while reports wait."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from delivery.reminders import enqueue_due_reminders, enqueue_report_digests
from models.accounts import Account, Role
from models.clock import now
from models.moderation import Report
from models.questions import Question as QuestionRow
from tests.factories import Persona, make_person, make_territory
from tests.mailbox import SmtpServer
from tests.questions.stories import asked
from tests.reach.stories import pk


async def verify(*people: Persona) -> None:
    for person in people:
        await Account.filter(id=person.account.id).update(email_verified_at=now())


async def test_odile_is_reminded_once_of_a_question_due_tomorrow(
    gql: Any, smtp: SmtpServer, mail: Callable[[], Awaitable[int]]
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    await verify(odile)
    soon = await asked(gql, alice.token, territory, title="Due tomorrow", official_id=odile.member_gid)
    later = await asked(gql, alice.token, territory, title="Due next week", official_id=odile.member_gid)
    hidden = await asked(gql, alice.token, territory, title="Hidden since", official_id=odile.member_gid)
    at = now()
    await QuestionRow.filter(id__in=[pk(soon["id"]), pk(hidden["id"])]).update(due_at=at + dt.timedelta(hours=20))
    await QuestionRow.filter(id=pk(later["id"])).update(due_at=at + dt.timedelta(days=6))
    await QuestionRow.filter(id=pk(hidden["id"])).update(hidden=True)

    await enqueue_due_reminders(at)
    await enqueue_due_reminders(at + dt.timedelta(minutes=10))
    await mail()

    [message] = smtp.mailbox.wait_for(odile.email)
    assert message["Subject"] == "A question awaits your reply by tomorrow"
    assert "Due tomorrow" in message.get_body(("plain",)).get_content()


async def test_moderators_get_one_mail_a_day_while_reports_wait(
    gql: Any, smtp: SmtpServer, mail: Callable[[], Awaitable[int]]
) -> None:
    territory = await make_territory()
    mona = await make_person("mona", territory, Role.MODERATOR)
    alice = await make_person("alice", territory)
    await verify(mona, alice)
    question = await asked(gql, alice.token, territory)
    assert alice.member is not None
    for reason in ("Spam", "Insult"):
        await Report.create(territory_id=territory.id, reporter_id=alice.member.id, subject_type="Question",
                            subject_id=pk(question["id"]), reason=reason)

    day = now().date()
    await enqueue_report_digests(day)
    await enqueue_report_digests(day)
    await mail()

    [message] = smtp.mailbox.wait_for(mona.email)
    assert "2 report(s)" in message.get_body(("plain",)).get_content()
    assert smtp.mailbox.to(alice.email) == []
