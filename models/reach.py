"""Reach: how notifications leave Parvis (preferences per kind and channel, push
subscriptions) and what a person follows to be told about it."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.notifications import NotificationKind

if TYPE_CHECKING:
    from models.accounts import Account


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    PUSH = "PUSH"


class Frequency(StrEnum):
    IMMEDIATELY = "IMMEDIATELY"
    DAILY_DIGEST = "DAILY_DIGEST"
    NEVER = "NEVER"


# One choice a person made; a (kind, channel) without a row has its default
# (see DEFAULT_FREQUENCIES).
class NotificationPreference(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notification_preferences", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    channel = fields.CharEnumField(Channel, max_length=16)
    frequency = fields.CharEnumField(Frequency, max_length=16)

    account_id: int

    class Meta:
        table = "notification_preference"
        unique_together = (("account", "kind", "channel"),)


# Reminders go by email only, as they come (once per question, once a day of reports).
REMINDER_KINDS = frozenset({NotificationKind.QUESTION_DUE, NotificationKind.REPORTS_OPEN})


def _default(kind: NotificationKind, channel: Channel) -> Frequency:
    if kind in REMINDER_KINDS:
        return Frequency.IMMEDIATELY if channel is Channel.EMAIL else Frequency.NEVER
    if channel is Channel.IN_APP or kind is NotificationKind.QUESTION_ANSWERED:
        return Frequency.IMMEDIATELY
    return Frequency.NEVER


# Replies to my question reach me everywhere at once; everything else waits in the app;
# reminders come by email.
DEFAULT_FREQUENCIES: dict[tuple[NotificationKind, Channel], Frequency] = {
    (kind, channel): _default(kind, channel) for kind in NotificationKind for channel in Channel
}


class PushPlatform(StrEnum):
    WEB = "WEB"  # a browser's PushSubscription (RFC 8030), encrypted per RFC 8291
    FCM = "FCM"  # a Firebase Cloud Messaging registration token (Android)
    APNS = "APNS"  # an Apple Push Notification service device token (iOS)


# Where to push a person's notifications: a browser's endpoint and keys, or a native
# app's device token (endpoint holds the token, keys stay empty).
class PushSubscription(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="push_subscriptions", on_delete=fields.CASCADE
    )
    platform = fields.CharEnumField(PushPlatform, max_length=8, default=PushPlatform.WEB)
    endpoint = fields.TextField()
    # sha256 of the endpoint: unique per account without indexing a 2 KB URL.
    endpoint_hash = fields.CharField(max_length=64)
    p256dh = fields.CharField(max_length=128, default="")
    auth = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    account_id: int

    class Meta:
        table = "push_subscription"
        unique_together = (("account", "endpoint_hash"),)


# A person follows a question, idea, project, poll or consultation: they are told of its replies,
# status changes, comments, results, phases and outcomes.
class Follow(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="follows", on_delete=fields.CASCADE
    )
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    account_id: int

    class Meta:
        table = "follow"
        unique_together = (("account", "subject_type", "subject_id"),)
        indexes = (("subject_type", "subject_id"),)


async def frequency_of(account_id: int, kind: NotificationKind, channel: Channel) -> Frequency:
    """How often `channel` carries `kind` to this person: their choice, else the default."""
    row = await NotificationPreference.get_or_none(account_id=account_id, kind=kind, channel=channel)
    return Frequency(row.frequency) if row is not None else DEFAULT_FREQUENCIES[(kind, channel)]


async def preferences_of(account_id: int) -> dict[tuple[NotificationKind, Channel], Frequency]:
    """Every (kind, channel) of a person with its frequency, defaults filled in."""
    chosen = {
        (NotificationKind(row.kind), Channel(row.channel)): Frequency(row.frequency)
        for row in await NotificationPreference.filter(account_id=account_id)
    }
    return {key: chosen.get(key, default) for key, default in DEFAULT_FREQUENCIES.items()}
