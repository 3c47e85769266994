"""notifications: the viewer's own notifications as they arrive, resumable from a cursor.

Few subscribers share an account's channel (its owner's devices): each reads its own rows,
which also catches bulk inserts whose events carry no id. A viewer whose token was revoked
or expired, or whose account was erased, since connecting stops receiving.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import unauthenticated
from access.tokens import token_still_live
from events.envelopes import account_channel
from models.clock import now
from models.notifications import Notification as NotificationRow
from reads.nodes import notification_subject
from reads.paging import encode_cursor
from schema.notifications import Notification
from schema.relay import Edge
from subscriptions.streams import after_id

REPLAY_BATCH = 100

NotificationEdge = Edge[Notification]


@strawberry.type
class NotificationsSubscription:
    @strawberry.subscription(
        description=(
            "The viewer's own notifications as they arrive, as edges; needs authentication. "
            "With `after` (a cursor from Viewer.notifications or an earlier message) those since "
            "are replayed first, oldest first."
        )
    )
    async def notifications(
        self, info: Info[Context, None], after: str | None = None
    ) -> AsyncGenerator[NotificationEdge, None]:
        ctx = info.context
        ctx.fresh_loaders()
        account = ctx.require_account()
        known = after_id(after)
        async with ctx.broker.listen(account_channel(account.id)) as queue:
            if known is not None:
                last = known
            else:
                newest = await NotificationRow.filter(account_id=account.id).order_by("-id").first()
                last = newest.id if newest is not None else 0
            while True:
                rows = list(
                    await NotificationRow.filter(account_id=account.id, id__gt=last)
                    .order_by("id")
                    .limit(REPLAY_BATCH)
                )
                ctx.fresh_loaders()
                for row in rows:
                    last = row.id
                    # Hidden content the viewer may not see hides what points at it.
                    if not (await notification_subject(ctx, row))[0]:
                        continue
                    yield Edge(cursor=encode_cursor([row.id]), node=Notification.from_model(row))
                    # Handed to an open socket: an email of it would repeat what the app showed.
                    if row.shown_at is None:
                        await NotificationRow.filter(id=row.id, shown_at__isnull=True).update(shown_at=now())
                if len(rows) == REPLAY_BATCH:
                    continue
                await queue.get()
                while not queue.empty():
                    queue.get_nowait()
                if not await token_still_live(ctx.token):
                    raise unauthenticated("The token of this connection was revoked or expired: authenticate again.")
