"""Attacks on reach: following what one may not see, touching another's push subscription,
pointing a push endpoint inside the network (SSRF), reading another's preferences."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.push import register_push_channel
from app.settings import ConfigError, Settings
from delivery.push import PushOutcome, check_endpoint, check_reachable, send_web_push
from models.accounts import Role
from models.ideas import Idea as IdeaRow
from models.questions import Question as QuestionRow
from models.reach import Follow, PushSubscription
from server import build_app
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed
from tests.questions.stories import asked
from tests.reach.harness import VAPID
from tests.reach.push_service import PushService
from tests.reach.stories import PREFERENCES, UNREGISTER, follow, pk, preferences, register, set_preference
from tests.reach.stories import gid as global_id

SSRF_ENDPOINTS = [
    "http://push.example.net/send/1",  # not https
    "https://127.0.0.1/push",  # loopback
    "https://localhost:8443/push",
    "https://[::1]/push",
    "https://10.0.0.7/push",  # private ranges
    "https://192.168.1.1/push",
    "https://172.16.3.4/push",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "https://[::ffff:10.0.0.1]/push",  # a private IPv4 address dressed as IPv6
    "https://[fd00::1]/push",  # IPv6 unique local
    "https://0.0.0.0/push",
    "https://metadata.google.internal/computeMetadata/v1/",  # names that only mean something inside
    "https://printer.local/push",
    "https://intranet/push",
    "https://user:secret@push.example.net/send/1",  # credentials in the URL
    "https://push.example.net:0/x",
    "file:///etc/passwd",
    "gopher://push.example.net/",
    "https://" + "a" * 2100 + ".example.net/",
]


async def test_a_hidden_subject_cannot_be_followed_and_answers_like_an_unknown_one(gql: Any) -> None:
    # Given alice's question and idea, both hidden by moderation
    territory = await make_territory()
    alice = await make_person("alice", territory)
    mallory = await make_person("mallory", territory)
    question = await asked(gql, alice.token, territory)
    idea = await proposed(gql, alice.token, territory)
    await QuestionRow.filter(id=pk(question["id"])).update(hidden=True)
    await IdeaRow.filter(id=pk(idea["id"])).update(hidden=True)

    # When mallory tries to follow them, and a question that never existed
    answers = [await follow(gql, mallory.token, subject)
               for subject in (question["id"], idea["id"], global_id("Question", 10**9))]

    # Then all three answers are the same NOT_FOUND, and nothing is stored
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["following"] is False
    assert [e["code"] for e in answers[0]["userErrors"]] == ["NOT_FOUND"]
    assert await Follow.filter(account_id=mallory.account.id).count() == 0


async def test_one_account_cannot_unregister_or_take_over_anothers_subscription(
    pgql: Any, push_service: PushService
) -> None:
    alice = await make_person("alice", await make_territory())
    mallory = await make_person("mallory", await make_territory())
    browser = push_service.browser("alice")
    await register(pgql, alice.token, browser.subscription())

    # When mallory, who learned alice's endpoint, unregisters it
    result = await pgql(UNREGISTER, {"input": {"endpoint": browser.endpoint}}, mallory.token)

    # Then nothing of alice's is touched
    assert result["data"]["unregisterPushSubscription"] is False
    [row] = await PushSubscription.filter(account_id=alice.account.id)

    # And registering it with her own keys gives mallory her own row; alice's keys stay
    own = push_service.browser("mallory").subscription() | {"endpoint": browser.endpoint}
    await register(pgql, mallory.token, own)
    again = await PushSubscription.get(id=row.id)
    assert (again.account_id, again.p256dh, again.auth) == (alice.account.id, row.p256dh, row.auth)

    # And an anonymous caller can do neither
    anonymous = await pgql(UNREGISTER, {"input": {"endpoint": browser.endpoint}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await PushSubscription.filter(id=row.id).exists()


@pytest.fixture
async def production_push(push_settings: Settings) -> AsyncIterator[Any]:
    """A pushing app as in production: https to public hosts only."""
    strict = dataclasses.replace(push_settings, push_allow_loopback=False)
    app = build_app(strict, manage_database=False,
                    limiter=Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def call(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                         headers={"Authorization": f"Bearer {token}"} if token else {})
            return response.json()

        yield call
    await app.state.broker.close()
    await app.state.limiter.close()
    # Building it registered a strict push sender for the process: give the suite its own back.
    register_push_channel(push_settings)


@pytest.mark.parametrize("endpoint", SSRF_ENDPOINTS)
async def test_a_push_endpoint_inside_the_network_is_refused(
    production_push: Any, push_service: PushService, endpoint: str
) -> None:
    alice = await make_person("alice", await make_territory())
    keys = push_service.browser("alice").subscription()
    payload = await register(production_push, alice.token, keys | {"endpoint": endpoint})
    assert payload["registered"] is False
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "endpoint"])]
    assert await PushSubscription.filter(account_id=alice.account.id).count() == 0


async def test_a_public_https_endpoint_is_accepted_in_production(production_push: Any, push_service: PushService) -> None:
    """The rule refuses what it must and no more: a push service's real address passes."""
    alice = await make_person("alice", await make_territory())
    subscription = push_service.browser("alice").subscription() | {
        "endpoint": "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b"
    }
    assert (await register(production_push, alice.token, subscription))["registered"] is True


async def test_a_name_that_resolves_inside_is_not_sent_to(push_service: PushService) -> None:
    """DNS rebinding: a name that passed at registration but now resolves to a private
    address gets no request at all (the check runs again before each send)."""

    async def inside(host: str, port: int) -> list[str]:
        return ["10.1.2.3"]

    async def outside(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    endpoint = "https://push.example.net/send/1"
    assert check_endpoint(endpoint, allow_loopback=False) is None
    assert await check_reachable(endpoint, allow_loopback=False, resolver=outside) is True
    assert await check_reachable(endpoint, allow_loopback=False, resolver=inside) is False

    keys = push_service.browser("x").subscription()
    row = PushSubscription(endpoint=endpoint, p256dh=keys["p256dh"], auth=keys["auth"])
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(201)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
        assert await send_web_push(client, row, b"{}", VAPID, resolver=inside) is PushOutcome.FAILED
        assert requests == []
        assert await send_web_push(client, row, b"{}", VAPID, resolver=outside) is PushOutcome.SENT
        assert len(requests) == 1


def test_loopback_endpoints_cannot_be_allowed_in_production() -> None:
    env = {"PARVIS_ENV": "production", "PARVIS_PUSH_ALLOW_LOOPBACK": "1"}
    with pytest.raises(ConfigError):
        Settings.from_env(env)
    with pytest.raises(ConfigError):
        Settings.from_env({"PARVIS_VAPID_PRIVATE_KEY": "not a key"})
    assert Settings.from_env({"PARVIS_VAPID_PRIVATE_KEY": VAPID.private_key}).vapid_private_key == VAPID.private_key


async def test_preferences_are_the_viewers_own(gql: Any) -> None:
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory, Role.OFFICIAL)
    await set_preference(gql, alice.token, "NEW_COMMENT", "EMAIL", "DAILY_DIGEST")

    # Bob sees his own (defaults), never alice's choice
    assert (await preferences(gql, bob.token))[("NEW_COMMENT", "EMAIL")] == "NEVER"
    assert (await preferences(gql, alice.token))[("NEW_COMMENT", "EMAIL")] == "DAILY_DIGEST"
    # An anonymous visitor has no viewer to read them from
    assert (await gql(PREFERENCES))["data"] == {"viewer": None}
    # And alice's account, reached as a node, exposes no preferences
    result = await gql("query($id: ID!) { node(id: $id) { ... on Viewer { notificationPreferences { kind } } } }",
                       {"id": global_id("Account", alice.account.id)}, bob.token)
    assert "errors" in result and "Viewer" in result["errors"][0]["message"]
