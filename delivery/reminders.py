"""Reminders by email: officials the day before a question addressed to them falls due,
moderators once a day of the reports still open in their territory.

Both go through the email channel of the delivery queue, each keyed so that running the
check again, or from every process, queues it once. Reminders go to verified addresses
of accounts not erased only, unless the person turned their kind (QUESTION_DUE,
REPORTS_OPEN) off by email; each carries its one-click unsubscribe link (delivery/email.py).
"""

from __future__ import annotations

import datetime as dt

from delivery import enqueue
from delivery.email import CHANNEL as EMAIL_CHANNEL
from models.accounts import Account, Member, Role
from models.moderation import Report, ReportStatus
from models.notifications import NotificationKind
from models.questions import Question, QuestionStatus
from models.reach import Channel, Frequency, frequency_of

# An open question falling due within this is reminded of (once).
DUE_SOON = dt.timedelta(days=1)
STAFF = (Role.MODERATOR, Role.ADMIN)


async def mailable(account_id: int, kind: NotificationKind) -> Account | None:
    """The account, when it has a verified address and wants reminders of `kind` by email."""
    if await frequency_of(account_id, kind, Channel.EMAIL) is Frequency.NEVER:
        return None
    return await Account.get_or_none(id=account_id, deleted_at__isnull=True, email_verified_at__isnull=False)


async def enqueue_due_reminders(at: dt.datetime) -> int:
    """Queue a reminder to the official of every open, visible question due within a day
    of `at` and not yet past due. Returns how many were queued (again: none)."""
    questions = await Question.filter(
        status=QuestionStatus.OPEN, hidden=False, official_id__isnull=False, due_at__gt=at, due_at__lte=at + DUE_SOON
    ).order_by("id")
    queued = 0
    for question in questions:
        official = await Member.get_or_none(id=question.official_id)
        account = await mailable(official.account_id, NotificationKind.QUESTION_DUE) if official is not None else None
        if account is None or not account.email:
            continue
        payload = {"kind": "question_due", "locale": account.locale,
                   "params": {"name": account.display_name, "title": question.title},
                   "unsubscribe": {"account": account.id, "kinds": [NotificationKind.QUESTION_DUE.value]}}
        await enqueue(EMAIL_CHANNEL, account.email, payload, f"email:due:{question.id}")
        queued += 1
    return queued


async def enqueue_report_digests(day: dt.date) -> int:
    """Queue, for `day`, one mail per moderator or admin of each territory with reports
    still pending. Returns how many were queued."""
    pending: dict[int, int] = {}
    for (territory_id,) in await Report.filter(status=ReportStatus.PENDING).values_list("territory_id"):
        pending[int(territory_id)] = pending.get(int(territory_id), 0) + 1
    queued = 0
    for territory_id, count in sorted(pending.items()):
        for member in await Member.filter(territory_id=territory_id, role__in=STAFF).order_by("id"):
            account = await mailable(member.account_id, NotificationKind.REPORTS_OPEN)
            if account is None or not account.email:
                continue
            payload = {"kind": "reports_open", "locale": account.locale,
                       "params": {"name": account.display_name, "count": count},
                       "unsubscribe": {"account": account.id, "kinds": [NotificationKind.REPORTS_OPEN.value]}}
            await enqueue(EMAIL_CHANNEL, account.email, payload, f"email:reports:{member.id}:{day.isoformat()}")
            queued += 1
    return queued
