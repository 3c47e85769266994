"""Reach: the viewer's notification preferences, push subscriptions and follows."""

from __future__ import annotations

import hashlib
from typing import Any

import strawberry
from strawberry.types import Info
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from access.context import Context
from delivery.push import VapidKeys, check_endpoint, check_keys, check_native_token
from models.notifications import NotificationKind as KindRow
from models.reach import (
    REMINDER_KINDS,
    Channel,
    Follow,
    Frequency,
    NotificationPreference,
    PushPlatform,
    PushSubscription,
)
from models.reach import preferences_of as read_preferences
from reads.nodes import load_row
from resolvers.mutations import mutate, run_in_transaction
from schema.errors import Refusal, UserError, UserErrorCode
from schema.reach import (
    FollowInput,
    FollowPayload,
    NotificationPreferencePayload,
    PushSubscriptionPayload,
    RegisterNativePushTokenInput,
    RegisterPushSubscriptionInput,
    SetNotificationPreferenceInput,
    UnregisterPushSubscriptionInput,
)
from schema.reach import (
    NotificationPreference as Preference,
)
from schema.relay import decode_id

FOLLOWABLE_KINDS = ("Question", "Idea", "Project", "Poll", "Consultation")
# A person's devices; past this the oldest subscription makes room (browsers rotate them).
MAX_PUSH_SUBSCRIPTIONS = 20
# Only email gathers notifications into a daily message.
DIGEST_CHANNELS = frozenset({Channel.EMAIL})


async def preferences(account_id: int) -> list[Preference]:
    """Every kind and channel of the account, defaults filled in, in a stable order."""
    return [Preference.of(kind, channel, frequency) for (kind, channel), frequency in (await read_preferences(account_id)).items()]


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def allow_loopback(ctx: Context) -> bool:
    return bool(getattr(ctx.settings, "push_allow_loopback", False))


def vapid_of(ctx: Context) -> VapidKeys | None:
    """This server's VAPID keys, or None when it does not push."""
    key = getattr(ctx.settings, "vapid_private_key", None)
    return VapidKeys(private_key=key, subject=ctx.settings.vapid_subject) if key else None


async def check_followable(ctx: Context, global_id: str) -> tuple[str, int]:
    """(kind, pk) of a question, idea, project, poll or consultation the viewer can see; NOT_FOUND for
    anything else, hidden or unknown alike."""
    decoded = decode_id(global_id)
    row = None
    if decoded is not None and decoded[0] in FOLLOWABLE_KINDS:
        row = await load_row(ctx, *decoded)
    if decoded is None or row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "Nothing to follow with this id.", "subjectId")
    return decoded


@strawberry.type
class ReachQuery:
    @strawberry.field(
        description=(
            "The server's VAPID public key (base64url), the applicationServerKey browsers "
            "subscribe to push with; null when this server does not push."
        )
    )
    def push_public_key(self, info: Info[Context, None]) -> str | None:
        vapid = vapid_of(info.context)
        return vapid.public_key if vapid is not None else None


@strawberry.type
class ReachMutation:
    @strawberry.mutation(
        description=(
            "Choose how often one kind of notification reaches the viewer on one channel. "
            "Returns every preference of the viewer."
        )
    )
    async def set_notification_preference(
        self, info: Info[Context, None], input: SetNotificationPreferenceInput
    ) -> NotificationPreferencePayload:
        ctx = info.context
        account = ctx.require_account()
        kind = KindRow(input.kind.name)
        channel = Channel(input.channel.name)
        frequency = Frequency(input.frequency.name)

        async def work() -> None:
            if frequency is Frequency.DAILY_DIGEST and channel not in DIGEST_CHANNELS:
                raise Refusal.of(
                    UserErrorCode.INVALID, "Only EMAIL gathers notifications into a daily digest.", "frequency"
                )
            if kind in REMINDER_KINDS and channel is not Channel.EMAIL:
                raise Refusal.of(UserErrorCode.INVALID, "Reminders go by email only.", "channel")
            if kind in REMINDER_KINDS and frequency is Frequency.DAILY_DIGEST:
                raise Refusal.of(
                    UserErrorCode.INVALID, "Reminders come as they are due: IMMEDIATELY or NEVER.", "frequency"
                )
            await do_upsert(
                NotificationPreference, {"account_id": account.id, "kind": kind, "channel": channel},
                {"frequency": frequency},
            )

        _, errors = await run_in_transaction(ctx, work)
        return NotificationPreferencePayload(preferences=await preferences(account.id), user_errors=errors)

    @strawberry.mutation(
        description=(
            "Store the browser's push subscription for the viewer: notifications whose PUSH "
            "preference is IMMEDIATELY are pushed to it, carrying their cursor. Registering "
            "the same endpoint again updates its keys."
        )
    )
    async def register_push_subscription(
        self, info: Info[Context, None], input: RegisterPushSubscriptionInput
    ) -> PushSubscriptionPayload:
        ctx = info.context
        account = ctx.require_account()

        async def work() -> bool:
            if vapid_of(ctx) is None:
                raise Refusal.of(
                    UserErrorCode.INVALID, "This server does not send push notifications (no VAPID key).", "endpoint"
                )
            endpoint = input.endpoint.strip()
            if (problem := check_endpoint(endpoint, allow_loopback=allow_loopback(ctx))) is not None:
                raise Refusal.of(UserErrorCode.INVALID, problem, "endpoint")
            if (bad_key := check_keys(input.p256dh.strip(), input.auth.strip())) is not None:
                field, why = bad_key
                raise Refusal.of(UserErrorCode.INVALID, why, field)
            key = endpoint_hash(endpoint)
            values = {"p256dh": input.p256dh.strip(), "auth": input.auth.strip(), "platform": PushPlatform.WEB}
            if await do_upsert(PushSubscription, {"account_id": account.id, "endpoint_hash": key},
                               values, endpoint=endpoint):
                await do_drop_oldest_subscriptions(account.id)
            return True

        def respond(result: bool | None, errors: list[UserError]) -> PushSubscriptionPayload:
            return PushSubscriptionPayload(registered=bool(result), user_errors=errors)

        return await mutate(ctx, work, respond)

    @strawberry.mutation(
        description=(
            "Store a mobile app's device token (FCM or APNs) for the viewer: notifications whose "
            "PUSH preference is IMMEDIATELY are sent to it once the operator configured that "
            "platform (docs/notifications.md). Registering the same token again is the same as once."
        )
    )
    async def register_native_push_token(
        self, info: Info[Context, None], input: RegisterNativePushTokenInput
    ) -> PushSubscriptionPayload:
        ctx = info.context
        account = ctx.require_account()

        async def work() -> bool:
            platform = PushPlatform(input.platform.name)
            token = input.token.strip()
            if (problem := check_native_token(platform, token)) is not None:
                raise Refusal.of(UserErrorCode.INVALID, problem, "token")
            key = endpoint_hash(token)
            if await do_upsert(PushSubscription, {"account_id": account.id, "endpoint_hash": key},
                               {"platform": platform}, endpoint=token):
                await do_drop_oldest_subscriptions(account.id)
            return True

        def respond(result: bool | None, errors: list[UserError]) -> PushSubscriptionPayload:
            return PushSubscriptionPayload(registered=bool(result), user_errors=errors)

        return await mutate(ctx, work, respond)

    @strawberry.mutation(
        description=(
            "Forget one of the viewer's push subscriptions. True when it was the viewer's and "
            "is gone; false for an endpoint the viewer never registered (another account's "
            "included: it stays)."
        )
    )
    async def unregister_push_subscription(
        self, info: Info[Context, None], input: UnregisterPushSubscriptionInput
    ) -> bool:
        account = info.context.require_account()
        deleted = await PushSubscription.filter(
            account_id=account.id, endpoint_hash=endpoint_hash(input.endpoint.strip())
        ).delete()
        return deleted > 0

    @strawberry.mutation(
        description=(
            "Follow a question, idea, project, poll or consultation: the viewer is told of its replies, "
            "status changes, comments, results, phases and outcomes. Following twice is the same as once."
        )
    )
    async def follow(self, info: Info[Context, None], input: FollowInput) -> FollowPayload:
        ctx = info.context
        account = ctx.require_account()

        async def work() -> bool:
            kind, pk = await check_followable(ctx, input.subject_id)
            # get_or_create is atomic on the unique (account, subject): a concurrent twin
            # neither fails nor doubles the row.
            await Follow.get_or_create(account_id=account.id, subject_type=kind, subject_id=pk)
            return True

        return await mutate(ctx, work, follow_payload)

    @strawberry.mutation(description="Stop following a question, idea, project, poll or consultation.")
    async def unfollow(self, info: Info[Context, None], input: FollowInput) -> FollowPayload:
        ctx = info.context
        account = ctx.require_account()

        async def work() -> bool:
            # Any id of a followable kind, visible or not: a subject hidden since it was
            # followed can still be let go, and the answer is the same for one never seen.
            decoded = decode_id(input.subject_id)
            if decoded is None or decoded[0] not in FOLLOWABLE_KINDS:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "Nothing to follow with this id.", "subjectId")
            await Follow.filter(account_id=account.id, subject_type=decoded[0], subject_id=decoded[1]).delete()
            return False

        return await mutate(ctx, work, follow_payload)


async def do_upsert(model: type[Model], match: dict[str, Any], values: dict[str, Any], **on_create: Any) -> bool:
    """Set `values` on the row `match` names, creating it (with `on_create` too) when there is
    none; True when created. Of concurrent twins one inserts and the others update: the
    insert runs in a savepoint, so losing the race leaves the mutation's transaction usable
    (PostgreSQL aborts a transaction at its first error)."""
    if await model.filter(**match).update(**values):
        return False
    try:
        async with in_transaction():
            await model.create(**match, **values, **on_create)
    except IntegrityError:
        await model.filter(**match).update(**values)
        return False
    return True


def follow_payload(result: bool | None, errors: list[UserError]) -> FollowPayload:
    return FollowPayload(following=bool(result), user_errors=errors)


async def do_drop_oldest_subscriptions(account_id: int) -> None:
    """Keep at most MAX_PUSH_SUBSCRIPTIONS per account, the newest."""
    keep = await PushSubscription.filter(account_id=account_id).order_by("-id").limit(MAX_PUSH_SUBSCRIPTIONS).values_list("id", flat=True)
    await PushSubscription.filter(account_id=account_id).exclude(id__in=list(keep)).delete()
