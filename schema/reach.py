"""Reach: notification preferences per kind and channel, push subscriptions, follows."""

from __future__ import annotations

from enum import Enum

import strawberry

from models import reach as mr
from models.notifications import NotificationKind as KindRow
from schema.errors import UserError
from schema.notifications import NotificationKind


@strawberry.enum(description="Where a notification reaches a person.")
class NotificationChannel(Enum):
    IN_APP = strawberry.enum_value("IN_APP", description="In the app: Viewer.notifications and its live stream.")
    EMAIL = strawberry.enum_value("EMAIL", description="By email, to the account's address.")
    PUSH = strawberry.enum_value(
        "PUSH", description="Pushed to the devices the viewer registered (registerPushSubscription)."
    )


@strawberry.enum(description="How often a channel carries a kind of notification.")
class NotificationFrequency(Enum):
    IMMEDIATELY = strawberry.enum_value("IMMEDIATELY", description="As soon as it happens.")
    DAILY_DIGEST = strawberry.enum_value(
        "DAILY_DIGEST", description="Gathered in one message a day (email only)."
    )
    NEVER = strawberry.enum_value(
        "NEVER",
        description=(
            "Not on this channel. For IN_APP the notification is still kept (pushes and emails "
            "point at it) but arrives already read."
        ),
    )


@strawberry.type(description="How one kind of notification reaches the viewer on one channel.")
class NotificationPreference:
    kind: NotificationKind = strawberry.field(description="The kind of notification.")
    channel: NotificationChannel = strawberry.field(description="The channel.")
    frequency: NotificationFrequency = strawberry.field(
        description="How often; the default when the viewer never chose."
    )

    @classmethod
    def of(cls, kind: KindRow, channel: mr.Channel, frequency: mr.Frequency) -> NotificationPreference:
        return cls(
            kind=NotificationKind(kind.value),
            channel=NotificationChannel(channel.value),
            frequency=NotificationFrequency(frequency.value),
        )


@strawberry.input(description="One choice of how a kind of notification reaches the viewer.")
class SetNotificationPreferenceInput:
    kind: NotificationKind = strawberry.field(description="The kind of notification.")
    channel: NotificationChannel = strawberry.field(description="The channel.")
    frequency: NotificationFrequency = strawberry.field(
        description="How often. IN_APP and PUSH take IMMEDIATELY or NEVER; EMAIL also DAILY_DIGEST."
    )


@strawberry.type(description="The result of setNotificationPreference.")
class NotificationPreferencePayload:
    preferences: list[NotificationPreference] = strawberry.field(
        description="All the viewer's preferences after the change (every kind and channel)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")


@strawberry.input(description="The browser's PushSubscription (endpoint and keys), as the Push API gives it.")
class RegisterPushSubscriptionInput:
    endpoint: str = strawberry.field(
        description="The push service's URL for this browser (https, a public host)."
    )
    p256dh: str = strawberry.field(
        description="The browser's P-256 public key, base64url (65 bytes uncompressed)."
    )
    auth: str = strawberry.field(description="The browser's authentication secret, base64url (16 bytes).")


@strawberry.enum(description="A mobile platform's push service.")
class NativePushPlatform(Enum):
    FCM = strawberry.enum_value("FCM", description="Firebase Cloud Messaging (Android): a registration token.")
    APNS = strawberry.enum_value("APNS", description="Apple Push Notification service (iOS): a device token, hex.")


@strawberry.input(description="A mobile app's device token, as its platform's push SDK gives it.")
class RegisterNativePushTokenInput:
    platform: NativePushPlatform = strawberry.field(description="Which push service issued the token.")
    token: str = strawberry.field(
        description="The token: FCM's registration token, or APNs' device token in hex. Forget it with "
        "unregisterPushSubscription(endpoint: token)."
    )


@strawberry.input(description="A push subscription of the viewer to forget.")
class UnregisterPushSubscriptionInput:
    endpoint: str = strawberry.field(description="The endpoint given to registerPushSubscription.")


@strawberry.type(description="The result of registerPushSubscription.")
class PushSubscriptionPayload:
    registered: bool = strawberry.field(description="Whether the subscription is now stored for the viewer.")
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")


@strawberry.input(description="What to follow or stop following.")
class FollowInput:
    subject_id: strawberry.ID = strawberry.field(
        description="Global id of a question, idea, project, poll or consultation the viewer can see."
    )


@strawberry.type(description="The result of follow or unfollow.")
class FollowPayload:
    following: bool = strawberry.field(description="Whether the viewer follows the subject now.")
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")
