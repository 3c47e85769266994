"""Reach in the server: the push channel and notifications by email, senders of the delivery
queue built from settings (docs/notifications.md)."""

from __future__ import annotations

import logging

from app.mail import email_sender
from app.settings import Settings
from delivery import register_sender
from delivery.notification_mail import CHANNEL as NOTIFICATION_MAIL
from delivery.notification_mail import NotificationMailSender
from delivery.push import CHANNEL, PushSender, VapidKeys

log = logging.getLogger("parvis.push")


def register_notification_mail(settings: Settings) -> None:
    """Notifications by email go out through the email channel's sender (app/mail.py)."""
    register_sender(NOTIFICATION_MAIL, NotificationMailSender(email_sender(settings)))


def register_push_channel(settings: Settings) -> PushSender | None:
    """The push sender of this process, or None (said once in the log) without a VAPID key:
    then the server stores no subscription and queues no push."""
    if settings.vapid_private_key is None:
        log.info("Web Push is off: set PARVIS_VAPID_PRIVATE_KEY (python server.py generate-vapid-keys) to push")
        return None
    vapid = VapidKeys(private_key=settings.vapid_private_key, subject=settings.vapid_subject)
    sender = PushSender(vapid, allow_loopback=settings.push_allow_loopback,
                        timeout=min(30.0, settings.delivery_lease_seconds / 2))
    register_sender(CHANNEL, sender)
    return sender
