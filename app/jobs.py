"""Work the server does on its own, in every process: closing polls by the clock."""

from __future__ import annotations

import asyncio
import logging

from access.context import Context
from app.settings import Settings
from events.brokers import Broker
from resolvers.polls import do_close_due_polls

log = logging.getLogger("parvis.polls")


async def close_due_polls_forever(settings: Settings, broker: Broker) -> None:
    """Polls close by the clock: every few seconds, close those past closesAt (each is
    claimed once across processes), so voters get POLL_CLOSED with nobody acting."""
    while True:
        await asyncio.sleep(settings.poll_closer_seconds)
        try:
            await do_close_due_polls(Context(request=None, response=None, broker=broker, settings=settings))
        except Exception:  # noqa: BLE001 - keep closing polls after a passing database error
            log.exception("closing due polls failed; retrying in %s s", settings.poll_closer_seconds)
