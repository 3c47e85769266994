"""Work the server does on its own, in every process: closing polls by the clock, queueing
the daily digests."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from access.context import Context
from app.settings import Settings
from delivery.notification_mail import enqueue_daily_digests
from delivery.reminders import enqueue_due_reminders, enqueue_report_digests
from events.brokers import Broker
from models.clock import now
from resolvers.consultations.clock import do_announce_due_phases
from resolvers.polls import do_close_due_polls
from resolvers.survey_box import do_close_due_surveys

log = logging.getLogger("parvis.polls")
digest_log = logging.getLogger("parvis.digests")


# Digests of the day before leave from this hour (UTC) on.
DIGEST_HOUR = 6
DIGEST_CHECK_SECONDS = 600.0


async def send_daily_digests_forever() -> None:
    """Every few minutes: reminders of questions falling due within a day; past DIGEST_HOUR,
    yesterday's notification digests and today's digest of open reports. Each is queued once
    (its key), whichever process or check comes first."""
    while True:
        try:
            current = now()
            await enqueue_due_reminders(current)
            if current.hour >= DIGEST_HOUR:
                await enqueue_daily_digests(current.date() - dt.timedelta(days=1))
                await enqueue_report_digests(current.date())
        except Exception:  # noqa: BLE001 - keep sending digests after a passing database error
            digest_log.exception("queueing daily digests failed; retrying in %s s", DIGEST_CHECK_SECONDS)
        await asyncio.sleep(DIGEST_CHECK_SECONDS)


async def close_due_polls_forever(settings: Settings, broker: Broker) -> None:
    """Polls close by the clock: every few seconds, close those past closesAt (each is
    claimed once across processes), so voters get POLL_CLOSED with nobody acting. Consultation
    phases that started are announced in the same round (feed, followers, live watchers)."""
    while True:
        await asyncio.sleep(settings.poll_closer_seconds)
        try:
            context = Context(request=None, response=None, broker=broker, settings=settings)
            await do_close_due_polls(context)
            # Surveys closed by the clock: their last sealed responses are counted (docs/adr/0021).
            await do_close_due_surveys(context)
        except Exception:  # noqa: BLE001 - keep closing polls after a passing database error
            log.exception("closing due polls failed; retrying in %s s", settings.poll_closer_seconds)
        try:
            await do_announce_due_phases(Context(request=None, response=None, broker=broker, settings=settings))
        except Exception:  # noqa: BLE001 - keep announcing after a passing database error
            log.exception("announcing consultation phases failed; retrying in %s s", settings.poll_closer_seconds)
