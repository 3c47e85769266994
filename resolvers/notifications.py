"""Writes of notifications (reads are schema/notifications.py)."""

from __future__ import annotations

from models.notifications import Notification, NotificationKind
from resolvers.context import Context
from subscriptions.events import Event, account_channel


async def do_notify(
    ctx: Context,
    account_id: int,
    kind: NotificationKind,
    subject_type: str,
    subject_id: int,
    message: str,
) -> Notification:
    """Store a notification for one person and queue its live event (sent after commit)."""
    row = await Notification.create(
        account_id=account_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        message=message,
    )
    ctx.queue(Event(channel=account_channel(account_id), type="notification", data={"id": row.id}))
    return row


async def do_notify_many(
    ctx: Context,
    account_ids: list[int],
    kind: NotificationKind,
    subject_type: str,
    subject_id: int,
    message: str,
) -> None:
    """The same notification to many people in one insert (e.g. everyone who voted)."""
    if not account_ids:
        return
    rows = [
        Notification(
            account_id=account_id,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            message=message,
        )
        for account_id in sorted(set(account_ids))
    ]
    await Notification.bulk_create(rows)
    for account_id in sorted(set(account_ids)):
        ctx.queue(
            Event(channel=account_channel(account_id), type="notification", data={"kind": kind.value})
        )
