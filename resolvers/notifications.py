"""Notifications: writing them (`do_notify`), and the viewer marking theirs read."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.i18n import DEFAULT_LOCALE, LOCALES, translate
from delivery.notification_mail import enqueue_notification_emails
from delivery.push import enqueue_pushes
from events.envelopes import Event, account_channel
from models.accounts import Account
from models.notifications import Notification, NotificationKind
from models.reach import Channel, Follow, Frequency, NotificationPreference, frequency_of
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
    **params: Any,
) -> Notification:
    """Store a notification for one person, queue its live event and its pushes (sent
    after commit). With IN_APP set to NEVER it is stored already read: pushes and emails
    point at it. `message` is the catalogue's msgid, written in the recipient's language
    (their account's locale: the app, the push and the email show the same text)."""
    in_app = await frequency_of(account_id, kind, Channel.IN_APP)
    locales = await locales_of([account_id])
    row = await Notification.create(
        account_id=account_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        message=translate(locales.get(account_id, DEFAULT_LOCALE), kind.value, message, params),
        read=in_app is Frequency.NEVER,
    )
    ctx.queue(Event(channel=account_channel(account_id), type="notification", data={"id": row.id}))
    await do_queue_deliveries(ctx, [(row.id, account_id, kind)])
    return row


async def do_queue_deliveries(ctx: Context, notifications: list[tuple[int, int, NotificationKind]]) -> None:
    """The notifications' pushes and emails join the delivery queue in this transaction
    (they leave once it commits), as each recipient's preferences say; no pushes when this
    server has no VAPID key."""
    if getattr(ctx.settings, "vapid_private_key", None):
        await enqueue_pushes(notifications)
    await enqueue_notification_emails(notifications)


async def do_notify_many(
    ctx: Context,
    account_ids: list[int],
    kind: NotificationKind,
    subject_type: str,
    subject_id: int,
    message: str,
    **params: Any,
) -> None:
    """The same notification to many people in one insert (e.g. everyone who voted), each in
    their account's language."""
    if not account_ids:
        return
    recipients = sorted(set(account_ids))
    # Those who turned this kind off in the app still get it, already read (see do_notify).
    quiet: set[Any] = set(
        await NotificationPreference.filter(
            account_id__in=recipients, kind=kind, channel=Channel.IN_APP, frequency=Frequency.NEVER
        ).values_list("account_id", flat=True)
    )
    newest = await Notification.all().order_by("-id").first()
    locales = await locales_of(recipients)
    texts = {locale: translate(locale, kind.value, message, params) for locale in LOCALES}
    rows = [
        Notification(
            account_id=account_id,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            message=texts.get(locales.get(account_id, DEFAULT_LOCALE), texts[DEFAULT_LOCALE]),
            read=account_id in quiet,
        )
        for account_id in recipients
    ]
    await Notification.bulk_create(rows)
    for account_id in recipients:
        ctx.queue(
            Event(channel=account_channel(account_id), type="notification", data={"kind": kind.value})
        )
    # bulk_create does not hand back ids on every backend: read back the rows just written.
    written: list[Any] = await Notification.filter(
        id__gt=newest.id if newest is not None else 0,
        account_id__in=recipients,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
    ).values_list("id", "account_id")
    await do_queue_deliveries(ctx, [(int(pk), int(account_id), kind) for pk, account_id in written])


async def do_notify_followers(
    ctx: Context,
    kind: NotificationKind,
    subject_type: str,
    subject_id: int,
    message: str,
    *,
    told: set[int],
    **params: Any,
) -> None:
    """Tell the followers of a subject what happened to it, but for the accounts in `told`
    (already notified, or the one who acted) and erased accounts."""
    followers: list[Any] = await Follow.filter(
        subject_type=subject_type, subject_id=subject_id, account__deleted_at__isnull=True
    ).values_list("account_id", flat=True)
    await do_notify_many(
        ctx, [int(a) for a in followers if int(a) not in told], kind, subject_type, subject_id, message, **params
    )


async def locales_of(account_ids: list[int]) -> dict[int, str]:
    """The accounts' languages (one query)."""
    rows: list[Any] = await Account.filter(id__in=account_ids).values_list("id", "locale")
    return {int(pk): str(locale) for pk, locale in rows}


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
