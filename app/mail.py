"""Delivery in the server: the email channel built from settings, and the worker every
process runs (delivery/, docs/adr/0010)."""

from __future__ import annotations

import asyncio
from email.utils import parseaddr

from app.settings import Settings
from delivery import register_sender
from delivery.email import CHANNEL, EmailSender
from delivery.worker import Policy, Worker


def delivery_policy(settings: Settings) -> Policy:
    lease = settings.delivery_lease_seconds
    return Policy(
        poll_seconds=settings.delivery_poll_seconds,
        max_attempts=settings.delivery_max_attempts,
        backoff_seconds=settings.delivery_backoff_seconds,
        lease_seconds=lease,
        # Cut off well before the lease lapses: no second worker sends while this one still may.
        send_timeout=min(60.0, lease / 2),
    )


def email_sender(settings: Settings) -> EmailSender:
    _, address = parseaddr(settings.mail_from)
    return EmailSender(
        smtp_url=settings.smtp_url,
        mail_dir=settings.mail_dir,
        from_address=settings.mail_from,
        domain=address.rpartition("@")[2] or "parvis",
        public_url=settings.public_url,
        timeout=min(30.0, settings.delivery_lease_seconds / 2),
        secret=settings.secret,
    )


def register_channels(settings: Settings) -> None:
    """The senders of this process (the push channel registers beside email)."""
    register_sender(CHANNEL, email_sender(settings))


def start_worker(settings: Settings) -> asyncio.Task[None]:
    return asyncio.create_task(Worker(delivery_policy(settings)).run_forever())
