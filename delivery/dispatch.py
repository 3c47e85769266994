"""Sending notifications out after commit: each notification a mutation stored is pushed to
the recipient's subscriptions when their preferences ask for it, outside the request, with
retries.

Until the delivery queue lands (docs/adr/0011), this runs as background tasks of the
committing process: at least once while that process lives (a killed process loses the
pushes it had not sent; the notification itself is committed and stays in the app).
Each push carries a Topic of its notification, so a retry after a lost answer replaces
the first copy at the push service instead of showing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Sequence

import httpx

from delivery.push import NativeSender, PushOutcome, VapidKeys, send_push
from models.notifications import Notification, NotificationKind
from models.reach import Channel, Frequency, PushSubscription, frequency_of
from reads.paging import encode_cursor

log = logging.getLogger("parvis.push")

# Seconds before each new attempt of a push that failed for a passing reason.
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0)


def push_payload(row: Notification) -> bytes:
    """What a push carries: the notification's kind and cursor, never its text. The app
    fetches the notification itself (`notifications(after:)` from its last cursor), so
    what a moderator hid since the push is not shown from it."""
    kind = row.kind.value if isinstance(row.kind, NotificationKind) else str(row.kind)
    return json.dumps({"kind": kind, "cursor": encode_cursor([row.id])}).encode()


class PushDeliveries:
    """The process's push sender: `deliver(ids)` after a commit returns at once; the pushes
    go out from background tasks (`idle()` waits for them)."""

    def __init__(
        self,
        vapid: VapidKeys | None,
        *,
        native: NativeSender | None = None,
        allow_loopback: bool = False,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = 10.0,
    ) -> None:
        self.vapid = vapid
        self.native = native
        self.allow_loopback = allow_loopback
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> httpx.AsyncClient:
        """One connection pool to the push services, made on first use (again after close).
        Proxies from the environment are ignored: the endpoint rule is checked against the
        push service itself."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)
        return self._client

    def deliver(self, notification_ids: Iterable[int]) -> None:
        """Send these (committed) notifications from a background task."""
        ids = sorted(set(notification_ids))
        if not ids:
            return
        task = asyncio.get_running_loop().create_task(self.deliver_now(ids))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def idle(self) -> None:
        """Wait until every push started so far is sent, given up or dropped."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def deliver_now(self, notification_ids: Sequence[int]) -> None:
        for notification_id in notification_ids:
            try:
                await self.deliver_one(notification_id)
            except Exception:  # noqa: BLE001 - one notification's failure must not stop the others
                log.exception("pushing notification %s failed", notification_id)

    async def deliver_one(self, notification_id: int) -> None:
        row = await Notification.get_or_none(id=notification_id)
        if row is None:
            return
        frequency = await frequency_of(row.account_id, NotificationKind(row.kind), Channel.PUSH)
        if frequency is not Frequency.IMMEDIATELY:
            return
        subscriptions = await PushSubscription.filter(account_id=row.account_id).order_by("id")
        payload = push_payload(row)
        await asyncio.gather(
            *(self.push_with_retries(subscription, payload, f"n{row.id}") for subscription in subscriptions)
        )

    async def push_with_retries(self, subscription: PushSubscription, payload: bytes, topic: str) -> None:
        for delay in (0.0, *self.retry_delays):
            if delay:
                await asyncio.sleep(delay)
            outcome = await send_push(
                self.client, subscription, payload, self.vapid, self.native,
                topic=topic, allow_loopback=self.allow_loopback,
            )
            if outcome is PushOutcome.GONE:
                # The browser unsubscribed or the push service expired it (404/410).
                await PushSubscription.filter(id=subscription.id).delete()
                return
            if outcome is not PushOutcome.RETRY:
                if outcome is PushOutcome.FAILED:
                    log.warning("push to subscription %s refused for good", subscription.id)
                return
        log.warning("push to subscription %s given up after %s attempts", subscription.id, len(self.retry_delays) + 1)
