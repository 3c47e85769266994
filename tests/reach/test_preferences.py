"""Notification preferences: every kind x channel with its default, the viewer's choices,
and what they change (IN_APP NEVER: kept, already read)."""

from __future__ import annotations

import asyncio
from typing import Any

from models.accounts import Role
from models.notifications import Notification
from models.reach import NotificationPreference
from tests.factories import make_person, make_territory
from tests.questions.stories import asked, reply
from tests.reach.stories import preferences, set_preference

KINDS = ("QUESTION_ANSWERED", "IDEA_STATUS_CHANGED", "POLL_CLOSED", "NEW_COMMENT", "CONTENT_HIDDEN",
         "CONSULTATION_PHASE_STARTED", "OUTCOME_PUBLISHED")
REMINDERS = ("QUESTION_DUE", "REPORTS_OPEN")
CHANNELS = ("IN_APP", "EMAIL", "PUSH")


async def test_alice_sees_every_kind_and_channel_with_its_default(gql: Any) -> None:
    # Given alice, who never chose anything
    alice = await make_person("alice", await make_territory())

    # Then she sees all 21 preferences: replies to her questions everywhere at once,
    # everything else in the app only, reminders by email
    seen = await preferences(gql, alice.token)
    assert set(seen) == {(kind, channel) for kind in KINDS + REMINDERS for channel in CHANNELS}
    for (kind, channel), frequency in seen.items():
        if kind in REMINDERS:
            expected = "IMMEDIATELY" if channel == "EMAIL" else "NEVER"
        else:
            expected = "IMMEDIATELY" if kind == "QUESTION_ANSWERED" or channel == "IN_APP" else "NEVER"
        assert frequency == expected, (kind, channel)


async def test_alice_changes_a_preference_and_sees_it_everywhere(gql: Any) -> None:
    alice = await make_person("alice", await make_territory())

    # When she turns off pushes of replies and asks for a daily email of comments
    first = (await set_preference(gql, alice.token, "QUESTION_ANSWERED", "PUSH", "NEVER"))["data"]
    second = (await set_preference(gql, alice.token, "NEW_COMMENT", "EMAIL", "DAILY_DIGEST"))["data"]

    # Then each payload holds all her preferences, the change included
    assert first["setNotificationPreference"]["userErrors"] == []
    payload = second["setNotificationPreference"]
    assert payload["userErrors"] == []
    assert len(payload["preferences"]) == len(KINDS + REMINDERS) * len(CHANNELS)
    seen = await preferences(gql, alice.token)
    assert seen[("QUESTION_ANSWERED", "PUSH")] == "NEVER"
    assert seen[("NEW_COMMENT", "EMAIL")] == "DAILY_DIGEST"
    assert seen[("QUESTION_ANSWERED", "EMAIL")] == "IMMEDIATELY"

    # And setting the same choice twice keeps one row
    await set_preference(gql, alice.token, "QUESTION_ANSWERED", "PUSH", "IMMEDIATELY")
    await set_preference(gql, alice.token, "QUESTION_ANSWERED", "PUSH", "NEVER")
    assert await NotificationPreference.filter(account_id=alice.account.id).count() == 2


async def test_a_daily_digest_is_only_for_email_and_refusals_change_nothing(gql: Any) -> None:
    alice = await make_person("alice", await make_territory())

    for channel in ("PUSH", "IN_APP"):
        result = await set_preference(gql, alice.token, "POLL_CLOSED", channel, "DAILY_DIGEST")
        payload = result["data"]["setNotificationPreference"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "frequency"])]
        # The payload still shows what holds: the default
        assert {(p["kind"], p["channel"]): p["frequency"] for p in payload["preferences"]}[
            ("POLL_CLOSED", channel)
        ] == ("IMMEDIATELY" if channel == "IN_APP" else "NEVER")
    assert await NotificationPreference.filter(account_id=alice.account.id).count() == 0


async def test_an_anonymous_visitor_has_no_preferences_to_set(gql: Any) -> None:
    result = await set_preference(gql, None, "POLL_CLOSED", "EMAIL", "NEVER")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_in_app_never_keeps_the_notification_but_already_read(gql: Any) -> None:
    # Given alice, who turned replies off in the app
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    await set_preference(gql, alice.token, "QUESTION_ANSWERED", "IN_APP", "NEVER")
    question = await asked(gql, alice.token, territory)

    # When odile replies
    assert not (await reply(gql, odile.token, question["id"])).get("errors")

    # Then the notification is kept (a push or an email points at it) but read
    rows = await Notification.filter(account_id=alice.account.id)
    assert [(row.kind.value, row.read) for row in rows] == [("QUESTION_ANSWERED", True)]


async def test_concurrent_choices_of_one_preference_never_fail(gql: Any) -> None:
    """Two devices saving at once: one row, no error (the loser of the insert race updates)."""
    alice = await make_person("alice", await make_territory())
    results = await asyncio.gather(
        *(set_preference(gql, alice.token, "POLL_CLOSED", "PUSH", "IMMEDIATELY") for _ in range(5))
    )
    for result in results:
        assert "errors" not in result, result
        assert result["data"]["setNotificationPreference"]["userErrors"] == []
    assert await NotificationPreference.filter(account_id=alice.account.id).count() == 1
    assert (await preferences(gql, alice.token))[("POLL_CLOSED", "PUSH")] == "IMMEDIATELY"
