"""Notifications: writing them (`do_notify`), and the viewer marking theirs read."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from access.context import Context
from events.envelopes import Event, account_channel
from models.notifications import Notification, NotificationKind
from reads.paging import bad_argument
from schema.notifications import MarkNotificationsReadInput
from schema.relay import decode_id_of


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


MAX_IDS = 1000


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(
        description=(
            "Mark the viewer's notifications read: those listed, or all unread ones when ids "
            "is null. Returns how many were marked (ids of someone else's notifications, "
            "unknown or already read, count for nothing)."
        )
    )
    async def mark_notifications_read(self, info: Info[Context, None], input: MarkNotificationsReadInput) -> int:
        ctx = info.context
        account = ctx.require_account()
        unread = Notification.filter(account_id=account.id, read=False)
        if input.ids is not None:
            if len(input.ids) > MAX_IDS:
                raise bad_argument(f"At most {MAX_IDS} ids at once.")
            pks = {pk for gid in input.ids if (pk := decode_id_of(gid, "Notification")) is not None}
            if not pks:
                return 0
            unread = unread.filter(id__in=sorted(pks))
        # One UPDATE: the count is the rows this statement changed, so two clients marking
        # the same notifications at once do not both count them.
        return await unread.update(read=True)
