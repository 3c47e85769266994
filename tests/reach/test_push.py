"""Web Push end to end: a citizen's browser subscribes, an official replies, and the push
service in this process receives a push it can verify (VAPID, ES256) and the browser can
decrypt (aes128gcm) carrying the notification's cursor, from which the app catches up.
Then what the push service answers decides what Parvis does: 404/410 forget the
subscription, 5xx is retried, and preferences and the kill switch hold."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from app.push import register_push_channel
from app.settings import Settings
from delivery import register_sender
from delivery.push import CHANNEL, PushOutcome, PushSender, VapidKeys
from models.accounts import Role
from models.notifications import Notification
from models.reach import PushSubscription
from reads.paging import encode_cursor
from server import build_app
from tests.e2e.server import free_port
from tests.factories import make_person, make_territory
from tests.live.harness import Live
from tests.questions.stories import asked, reply
from tests.reach.harness import VAPID
from tests.reach.push_service import PushService, b64url, serve
from tests.reach.stories import REGISTER, UNREGISTER, register, set_preference

NOTIFICATIONS_AFTER = "subscription($after: String) { notifications(after: $after) { cursor node { id kind } } }"


async def test_alice_is_pushed_odiles_reply_and_catches_up_from_its_cursor(
    push_settings: Settings, push_service: PushService, deliver: Any
) -> None:
    # Given a pushing server over HTTP, and alice, who had one notification already
    port = free_port()
    async with serve(build_app(push_settings, manage_database=False), port):
        url = f"http://127.0.0.1:{port}"
        territory = await make_territory()
        odile = await make_person("odile", territory, Role.OFFICIAL)
        alice = await make_person("alice", territory)
        older = await Notification.create(account_id=alice.account.id, kind="NEW_COMMENT", subject_type="Question",
                                          subject_id=1, message="An older notification")
        older_cursor = encode_cursor([older.id])

        async with httpx.AsyncClient(base_url=url) as http:

            async def call(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
                response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                                           headers={"Authorization": f"Bearer {token}"} if token else {})
                return response.json()

            # Her browser subscribes with the server's public key, and she registers it
            key = (await call("{ pushPublicKey }"))["data"]["pushPublicKey"]
            assert key == VAPID.public_key == push_service.server_key
            browser = push_service.browser("alice")
            assert await register(call, alice.token, browser.subscription()) == {"registered": True, "userErrors": []}

            # When she asks a question and odile replies
            question = await asked(call, alice.token, territory)
            assert not (await reply(call, odile.token, question["id"])).get("errors")
            await deliver()

            # Then the push service receives one push, signed by the server's VAPID key
            # (checked by the service) and decrypted with her browser's key, holding the
            # cursor of the reply's notification and nothing of its text
            [push] = await push_service.until(1)
            assert push_service.refused == []
            assert push.path == browser.endpoint.removeprefix(push_service.origin)
            notification = await Notification.get(account_id=alice.account.id, kind="QUESTION_ANSWERED")
            assert push.payload == {"kind": "QUESTION_ANSWERED", "cursor": encode_cursor([notification.id])}
            assert push.headers["ttl"] == "86400"
            assert push.headers["topic"] == f"n{notification.id}"

        # And her app, resuming notifications(after:) from the older cursor, gets the reply's
        # notification, with the cursor the push carried
        async with await Live.open(url, alice.token) as live:
            op = await live.subscribe(NOTIFICATIONS_AFTER, {"after": older_cursor})
            edge = (await live.next(op))["notifications"]
            assert edge["cursor"] == push.payload["cursor"]
            assert edge["node"]["kind"] == "QUESTION_ANSWERED"


async def test_a_gone_subscription_is_forgotten_and_a_failing_one_retried(
    pgql: Any, push_service: PushService, deliver: Any
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    # alice's old laptop unsubscribed (410); bob's phone's push service stumbles twice (503)
    laptop = push_service.browser("alice-laptop")
    phone = push_service.browser("bob-phone")
    await register(pgql, alice.token, laptop.subscription())
    await register(pgql, bob.token, phone.subscription())
    push_service.answers[laptop.endpoint.removeprefix(push_service.origin)] = [410]
    push_service.answers[phone.endpoint.removeprefix(push_service.origin)] = [503, 503]

    for asker in (alice, bob):
        question = await asked(pgql, asker.token, territory)
        assert not (await reply(pgql, odile.token, question["id"])).get("errors")
    await deliver()

    # Then alice's subscription is gone, bob got his push on the third attempt, once
    assert await PushSubscription.filter(account_id=alice.account.id).count() == 0
    assert push_service.pushes_to(laptop) == []
    assert len(push_service.pushes_to(phone)) == 1
    assert push_service.attempts[phone.endpoint.removeprefix(push_service.origin)] == 3
    assert await PushSubscription.filter(account_id=bob.account.id).count() == 1


async def test_no_push_when_alice_turned_pushes_of_replies_off(
    pgql: Any, push_service: PushService, deliver: Any
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    browser = push_service.browser("alice")
    await register(pgql, alice.token, browser.subscription())
    await set_preference(pgql, alice.token, "QUESTION_ANSWERED", "PUSH", "NEVER")
    question = await asked(pgql, alice.token, territory)

    assert not (await reply(pgql, odile.token, question["id"])).get("errors")
    await deliver()

    assert push_service.attempts == {}
    # The notification itself is in the app as always
    assert await Notification.filter(account_id=alice.account.id, kind="QUESTION_ANSWERED").count() == 1


async def test_registering_checks_the_keys_and_twice_is_once(pgql: Any, push_service: PushService) -> None:
    alice = await make_person("alice", await make_territory())
    browser = push_service.browser("alice")
    good = browser.subscription()
    for bad, field in (
        ({"p256dh": good["p256dh"][:-4]}, "p256dh"),
        ({"p256dh": "!!not base64!!"}, "p256dh"),
        ({"p256dh": b64url(b"\x04" + bytes(64))}, "p256dh"),  # 65 bytes, not a point of the curve
        ({"auth": good["auth"] + "AAAA"}, "auth"),
        ({"endpoint": "ftp://127.0.0.1/push"}, "endpoint"),
    ):
        payload = await register(pgql, alice.token, good | bad)
        assert payload["registered"] is False
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", field])], bad
    assert await PushSubscription.filter(account_id=alice.account.id).count() == 0

    # The browser re-sends its subscription (every page load does): one row, keys updated
    await register(pgql, alice.token, good)
    renewed = push_service.browser("again").subscription() | {"endpoint": good["endpoint"]}
    await register(pgql, alice.token, renewed)
    [row] = await PushSubscription.filter(account_id=alice.account.id)
    assert (row.p256dh, row.auth) == (renewed["p256dh"], renewed["auth"])

    # And unregistering forgets it, once
    for expected in (True, False):
        result = await pgql(UNREGISTER, {"input": {"endpoint": good["endpoint"]}}, alice.token)
        assert result["data"]["unregisterPushSubscription"] is expected


async def test_a_server_without_vapid_keys_says_push_is_off(gql: Any) -> None:
    # The suite's default app has no PARVIS_VAPID_PRIVATE_KEY
    alice = await make_person("alice", await make_territory())
    assert (await gql("{ pushPublicKey }"))["data"] == {"pushPublicKey": None}
    result = await gql(REGISTER, {"input": {"endpoint": "https://push.example.net/x", "p256dh": "a", "auth": "b"}},
                       alice.token)
    payload = result["data"]["registerPushSubscription"]
    assert payload["registered"] is False
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert "VAPID" in payload["userErrors"][0]["message"]
    assert await PushSubscription.filter(account_id=alice.account.id).count() == 0


async def test_many_pushes_in_flight_all_arrive(pgql: Any, push_service: PushService, deliver: Any) -> None:
    """Sending is outside the request: a burst of replies only queues jobs, and the worker
    delivers every push once."""
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    people = [await make_person(f"citizen{i}", territory) for i in range(5)]
    browsers = [push_service.browser(f"c{i}") for i in range(5)]
    for person, browser in zip(people, browsers):
        await register(pgql, person.token, browser.subscription())
    questions = [await asked(pgql, person.token, territory) for person in people]
    await asyncio.gather(*(reply(pgql, odile.token, q["id"]) for q in questions))
    await deliver()
    assert sorted(len(push_service.pushes_to(b)) for b in browsers) == [1] * 5


REGISTER_NATIVE = """
mutation Native($input: RegisterNativePushTokenInput!) {
  registerNativePushToken(input: $input) { registered userErrors { field code } }
}
"""


class FakeFcm:
    """An operator's native sender (NativeSender): records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, subscription: PushSubscription, payload: bytes) -> PushOutcome:
        self.sent.append((subscription.endpoint, json.loads(payload)))
        return PushOutcome.SENT


async def test_a_phone_registers_its_token_and_gets_pushes_through_the_native_sender(
    pgql: Any, push_settings: Settings, deliver: Any
) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    fcm_token = "fGx3:APA91b" + "x" * 140
    apns_token = "a1" * 32

    # Tokens that are not one are refused
    for platform, token in (("FCM", "short"), ("FCM", "has spaces in it " * 3), ("APNS", "zz" * 32), ("APNS", "ab")):
        result = await pgql(REGISTER_NATIVE, {"input": {"platform": platform, "token": token}}, alice.token)
        assert result["data"]["registerNativePushToken"] == {
            "registered": False, "userErrors": [{"field": ["input", "token"], "code": "INVALID"}]
        }
    # Real ones are stored, once each
    for platform, token in (("FCM", fcm_token), ("APNS", apns_token), ("FCM", fcm_token)):
        result = await pgql(REGISTER_NATIVE, {"input": {"platform": platform, "token": token}}, alice.token)
        assert result["data"]["registerNativePushToken"]["registered"] is True
    assert await PushSubscription.filter(account_id=alice.account.id).count() == 2

    # With the operator's native sender in place, a reply reaches both phones through it
    fake = FakeFcm()
    register_sender(CHANNEL, PushSender(VAPID, native=fake, allow_loopback=True))
    try:
        question = await asked(pgql, alice.token, territory)
        assert not (await reply(pgql, odile.token, question["id"])).get("errors")
        await deliver()
    finally:
        register_push_channel(push_settings)
    notification = await Notification.get(account_id=alice.account.id, kind="QUESTION_ANSWERED")
    expected = {"kind": "QUESTION_ANSWERED", "cursor": encode_cursor([notification.id])}
    assert sorted(fake.sent, key=lambda sent: sent[0]) == [(apns_token, expected), (fcm_token, expected)]

    # And unregistering takes the token as its endpoint
    result = await pgql(UNREGISTER, {"input": {"endpoint": apns_token}}, alice.token)
    assert result["data"]["unregisterPushSubscription"] is True


def test_generate_vapid_keys_prints_what_the_server_reads() -> None:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "server.py", "generate-vapid-keys", "--subject", "mailto:ops@town.example"],
                         cwd=root, capture_output=True, text=True, check=True, timeout=60).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if line and not line.startswith("#"))
    settings = Settings.from_env(env)
    assert settings.vapid_subject == "mailto:ops@town.example"
    assert settings.vapid_private_key is not None
    keys = VapidKeys(private_key=settings.vapid_private_key, subject=settings.vapid_subject)
    assert keys.public_key in out


async def test_concurrent_registrations_of_one_endpoint_make_one_row(pgql: Any, push_service: PushService) -> None:
    """A page that registers on every load, opened in several tabs at once."""
    alice = await make_person("alice", await make_territory())
    subscription = push_service.browser("alice").subscription()
    payloads = await asyncio.gather(*(register(pgql, alice.token, subscription) for _ in range(5)))
    assert payloads == [{"registered": True, "userErrors": []}] * 5
    assert await PushSubscription.filter(account_id=alice.account.id).count() == 1
