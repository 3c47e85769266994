"""Notifications by email: the "notification_email" channel of the delivery queue.

A notification whose recipient wants it by EMAIL IMMEDIATELY (and whose address is
verified) is queued in the notification's transaction, to leave after a grace period
(`GRACE`). When the worker takes it, it is dropped if by then:

- the notification was read (seen in the app or from a push), or a live `notifications`
  stream handed it to one of the recipient's open sockets (`shown_at`);
- a push of it reached one of the recipient's devices (a push delivered is not repeated
  by email);
- the recipient turned emails of that kind off since;
- its subject was hidden by moderation since (hidden means hidden; CONTENT_HIDDEN, which
  tells an author about their own hidden content, still goes).

Otherwise it is rendered and sent by the email channel's sender (delivery/email.py).

Kinds set to DAILY_DIGEST by EMAIL are gathered once a day (`enqueue_daily_digests`): one
mail per person and day, of the day's notifications of those kinds still unread and whose
subject is not hidden.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from delivery import Job, Sender, enqueue
from delivery.email import CHANNEL as EMAIL_CHANNEL
from delivery.push import CHANNEL as PUSH_CHANNEL
from models.accounts import Account
from models.clock import now
from models.delivery import DeliveryJob, JobStatus
from models.notifications import Notification, NotificationKind
from models.questions import Reply
from models.reach import Channel, Frequency, NotificationPreference, frequency_of
from models.references import SECTIONS, content_path
from models.territories import Territory
from reads.nodes import KINDS

CHANNEL = "notification_email"
# Long enough for a person with the app open to see it there first.
GRACE = dt.timedelta(seconds=60)


def job_key(notification_id: int) -> str:
    return f"email:notification:{notification_id}"


async def enqueue_notification_emails(notifications: Sequence[tuple[int, int, NotificationKind]]) -> int:
    """Queue the emails of stored notifications (id, account id, kind) whose recipients want
    them at once, in the transaction that stored them. Returns how many were queued."""
    queued = 0
    accounts: dict[int, Account | None] = {}
    for notification_id, account_id, kind in notifications:
        if await frequency_of(account_id, kind, Channel.EMAIL) is not Frequency.IMMEDIATELY:
            continue
        if account_id not in accounts:
            accounts[account_id] = await Account.get_or_none(
                id=account_id, deleted_at__isnull=True, email_verified_at__isnull=False
            )
        account = accounts[account_id]
        if account is None or not account.email:
            continue  # no verified address: a stranger's address is never mailed
        row = await Notification.get(id=notification_id)
        params = {"name": account.display_name, "message": row.message}
        path = await subject_path(row)
        if path is not None:
            params["path"] = path
        payload = {"kind": "notification", "locale": account.locale, "notification": notification_id,
                   "params": params,
                   # Its link turns this kind off by email (delivery/email.py).
                   "unsubscribe": {"account": account_id, "kinds": [NotificationKind(kind).value]}}
        await enqueue(CHANNEL, account.email, payload, job_key(notification_id))
        await DeliveryJob.filter(key=job_key(notification_id), status=JobStatus.PENDING).update(
            run_after=now() + GRACE
        )
        queued += 1
    return queued


async def subject_path(row: Notification) -> str | None:
    """The deep-link path of the question or idea a notification is about (a reply's: its
    question's), for the mail's link; None for other subjects."""
    kind, pk = row.subject_type, row.subject_id
    if kind == "Reply":
        reply = await Reply.get_or_none(id=pk)
        if reply is None:
            return None
        kind, pk = "Question", reply.question_id
    if kind not in SECTIONS:
        return None
    subject = await KINDS[kind].model.get_or_none(id=pk)
    reference = getattr(subject, "reference", None)
    territory_id = getattr(subject, "territory_id", None)
    territory = await Territory.get_or_none(id=territory_id) if territory_id is not None else None
    if reference is None or territory is None:
        return None
    return content_path(territory.slug, kind, reference)


async def subject_hidden(row: Notification) -> bool:
    """Whether moderation hid what the notification is about since (CONTENT_HIDDEN is about
    the recipient's own hidden content: never counted as hidden here)."""
    if NotificationKind(row.kind) is NotificationKind.CONTENT_HIDDEN or row.subject_type not in KINDS:
        return False
    subject = await KINDS[row.subject_type].model.get_or_none(id=row.subject_id)
    return subject is None or bool(getattr(subject, "hidden", False))


async def still_worth_mailing(row: Notification) -> bool:
    if row.read or row.shown_at is not None:
        return False
    kind = NotificationKind(row.kind)
    if await frequency_of(row.account_id, kind, Channel.EMAIL) is not Frequency.IMMEDIATELY:
        return False
    pushed = await DeliveryJob.filter(
        channel=PUSH_CHANNEL, key__startswith=f"push:{row.id}:", status=JobStatus.SENT
    ).exists()
    if pushed:
        return False
    return not await subject_hidden(row)


DIGEST_LINES = 50


async def enqueue_daily_digests(day: dt.date) -> int:
    """Queue the digest mail of `day` (UTC) for everyone with a kind set to DAILY_DIGEST by
    EMAIL and something unread of those kinds that day. Safe to run again and from every
    process: the key is one per person and day. Returns how many digests were queued."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    wanted: dict[int, list[NotificationKind]] = {}
    for account_id, kind in await NotificationPreference.filter(
        channel=Channel.EMAIL, frequency=Frequency.DAILY_DIGEST
    ).values_list("account_id", "kind"):
        wanted.setdefault(int(account_id), []).append(NotificationKind(kind))
    queued = 0
    for account_id, kinds in sorted(wanted.items()):
        account = await Account.get_or_none(id=account_id, deleted_at__isnull=True, email_verified_at__isnull=False)
        if account is None or not account.email:
            continue
        rows = await Notification.filter(
            account_id=account_id, kind__in=kinds, read=False, created_at__gte=start, created_at__lt=end
        ).order_by("id")
        shown = [row for row in rows if not await subject_hidden(row)]
        if not shown:
            continue
        lines = "\n".join(f"- {row.message}" for row in shown[:DIGEST_LINES])
        # Its link turns every kind the digest gathers off by email: no more digest.
        payload = {"kind": "digest", "locale": account.locale,
                   "params": {"name": account.display_name, "count": len(shown), "lines": lines},
                   "unsubscribe": {"account": account_id, "kinds": sorted(kind.value for kind in kinds)}}
        await enqueue(EMAIL_CHANNEL, account.email, payload, f"email:digest:{account_id}:{day.isoformat()}")
        queued += 1
    return queued


class NotificationMailSender:
    """Sends a notification's email through the email channel's sender, unless it is no
    longer worth it (see the module's docstring)."""

    def __init__(self, email: Sender) -> None:
        self.email = email

    async def __call__(self, job: Job) -> None:
        row = await Notification.get_or_none(id=int(job.payload["notification"]))
        if row is None or not await still_worth_mailing(row):
            return
        await self.email(replace(job, channel="email"))
