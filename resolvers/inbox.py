"""The viewer's inbox: marking notifications read (writes of new ones are notifications.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from models.notifications import Notification as NotificationRow
from resolvers.context import Context
from schema.notifications import MarkNotificationsReadInput
from schema.relay import bad_argument, decode_id_of

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
    async def mark_notifications_read(self, info: Info, input: MarkNotificationsReadInput) -> int:
        ctx: Context = info.context
        account = ctx.require_account()
        unread = NotificationRow.filter(account_id=account.id, read=False)
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
