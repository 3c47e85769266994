"""GraphQL documents and small steps shared by the reach stories."""

from __future__ import annotations

from typing import Any

from models.notifications import Notification
from schema.relay import decode_id, encode_id

PREFERENCES = "query { viewer { notificationPreferences { kind channel frequency } } }"

SET_PREFERENCE = """
mutation Set($input: SetNotificationPreferenceInput!) {
  setNotificationPreference(input: $input) {
    preferences { kind channel frequency }
    userErrors { field message code }
  }
}
"""

REGISTER = """
mutation Register($input: RegisterPushSubscriptionInput!) {
  registerPushSubscription(input: $input) { registered userErrors { field message code } }
}
"""

UNREGISTER = """
mutation Unregister($input: UnregisterPushSubscriptionInput!) { unregisterPushSubscription(input: $input) }
"""

FOLLOW = """
mutation Follow($input: FollowInput!) { follow(input: $input) { following userErrors { field message code } } }
"""

UNFOLLOW = """
mutation Unfollow($input: FollowInput!) { unfollow(input: $input) { following userErrors { field message code } } }
"""

INBOX = """
query Inbox { viewer { notifications(first: 50) { edges { cursor node { id kind message read } } } } }
"""


def as_map(preferences: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    return {(p["kind"], p["channel"]): p["frequency"] for p in preferences}


async def preferences(gql: Any, token: str) -> dict[tuple[str, str], str]:
    result = await gql(PREFERENCES, token=token)
    assert "errors" not in result, result
    return as_map(result["data"]["viewer"]["notificationPreferences"])


async def set_preference(gql: Any, token: str | None, kind: str, channel: str, frequency: str) -> Any:
    return await gql(SET_PREFERENCE, {"input": {"kind": kind, "channel": channel, "frequency": frequency}}, token)


async def follow(gql: Any, token: str | None, subject_id: str, *, document: str = FOLLOW) -> dict[str, Any]:
    result = await gql(document, {"input": {"subjectId": subject_id}}, token)
    assert "errors" not in result, result
    return next(iter(result["data"].values()))  # type: ignore[no-any-return]


async def register(gql: Any, token: str | None, subscription: dict[str, str]) -> dict[str, Any]:
    result = await gql(REGISTER, {"input": subscription}, token)
    assert "errors" not in result, result
    return result["data"]["registerPushSubscription"]  # type: ignore[no-any-return]


async def inbox(gql: Any, token: str) -> list[dict[str, Any]]:
    result = await gql(INBOX, token=token)
    assert "errors" not in result, result
    return [edge["node"] | {"cursor": edge["cursor"]} for edge in result["data"]["viewer"]["notifications"]["edges"]]


async def notes_of(account_id: int) -> list[tuple[str, str, int]]:
    """(kind, subject type, subject id) of every notification of an account, oldest first."""
    rows = await Notification.filter(account_id=account_id).order_by("id")
    return [(row.kind.value, row.subject_type, row.subject_id) for row in rows]


def gid(kind: str, pk: int) -> str:
    return encode_id(kind, pk)


def pk(global_id: str) -> int:
    decoded = decode_id(global_id)
    assert decoded is not None, global_id
    return decoded[1]
