"""Rate limits: a brute force is slowed and the real user gets back in; content, votes and
requests are capped per account or per address, and nobody else pays for it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from access.ratelimit import (
    DEFAULT_LIMITS,
    Limit,
    Limiter,
    MemoryBackend,
    RedisBackend,
    client_key,
    database_name,
    parse_limits,
)
from app.settings import Settings
from models.accounts import Account, Role
from models.comments import Comment
from models.ideas import Idea
from models.moderation import Report
from models.polls import PollParticipation
from models.questions import Question, QuestionStatus
from schema.relay import encode_id
from server import build_app
from tests.factories import PASSWORD, make_person, make_territory
from tests.polls.stories import created, option_ids

LOG_IN = """mutation($i: LogInInput!) {
  logIn(input: $i) { token userErrors { field message code retryAfterSeconds } } }"""
SIGN_UP = """mutation($i: SignUpInput!) {
  signUp(input: $i) { token userErrors { field message code retryAfterSeconds } } }"""
ASK = """mutation($i: AskQuestionInput!) {
  askQuestion(input: $i) { question { id } userErrors { field message code retryAfterSeconds } } }"""
PROPOSE = """mutation($i: ProposeIdeaInput!) {
  proposeIdea(input: $i) { idea { id } userErrors { field message code retryAfterSeconds } } }"""
COMMENT = """mutation($i: AddCommentInput!) {
  addComment(input: $i) { comment { id } userErrors { field message code retryAfterSeconds } } }"""
VOTE = """mutation($input: CastVoteInput!) {
  castVote(input: $input) { poll { id } userErrors { field message code retryAfterSeconds } } }"""
REPORT = """mutation($i: ReportContentInput!) {
  reportContent(input: $i) { report { id } userErrors { field message code retryAfterSeconds } } }"""


class Clock:
    """A clock the test moves by hand, so windows pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Post = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited_app(settings: Settings, clock: Clock) -> Callable[..., Any]:
    """An app of its own with the given limits (the suite's app has none), counting in memory
    on the test's clock."""

    def build(**limits: tuple[int, float]) -> Any:
        limiter = Limiter(MemoryBackend(clock), overrides=limits)
        # The in-process broker: this app's lifespan (which would start a Redis one) never runs.
        return build_app(dataclasses.replace(settings, redis_url=None), manage_database=False, limiter=limiter)

    return build


@pytest.fixture
async def client_from() -> AsyncIterator[Callable[[Any, str], httpx.AsyncClient]]:
    """An httpx client of `app` whose requests come from the address `ip`."""
    opened: list[httpx.AsyncClient] = []

    def make(app: Any, ip: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver"
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def call(client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def only_error(payload: dict[str, Any]) -> dict[str, Any]:
    assert len(payload["userErrors"]) == 1, payload
    return payload["userErrors"][0]  # type: ignore[no-any-return]


def assert_rate_limited(payload: dict[str, Any], *, at_most: int) -> int:
    error = only_error(payload)
    assert error["code"] == "RATE_LIMITED"
    assert error["field"] is None
    seconds = error["retryAfterSeconds"]
    assert 1 <= seconds <= at_most
    assert f"retry in {seconds} second" in error["message"]
    return int(seconds)


# --- logging in ---------------------------------------------------------------------------


async def test_a_brute_force_on_one_email_is_slowed_and_the_real_user_gets_back_in(
    limited_app: Any, client_from: Any, clock: Clock
) -> None:
    # Given alice, and mallory guessing her password from one address
    alice = await make_person("alice")
    mallory = client_from(limited_app(login_email_ip=(5, 60)), "203.0.113.66")
    guess = {"i": {"email": alice.email, "password": "not her password"}}

    # When mallory fails five times, each failure is only a wrong password
    for _ in range(5):
        assert only_error((await call(mallory, LOG_IN, guess))["logIn"])["code"] == "BAD_CREDENTIALS"

    # Then the sixth attempt is refused before the password is even looked at: the right one too
    right = {"i": {"email": alice.email.upper(), "password": PASSWORD}}
    payload = (await call(mallory, LOG_IN, right))["logIn"]
    assert payload["token"] is None
    assert assert_rate_limited(payload, at_most=60) == 60

    # And once the window has passed, alice logs in
    clock.advance(60)
    payload = (await call(mallory, LOG_IN, right))["logIn"]
    assert payload["userErrors"] == [] and payload["token"]


async def test_a_successful_login_forgets_the_failures_of_that_email(
    limited_app: Any, client_from: Any
) -> None:
    # Given alice mistyped her password four times out of five allowed
    alice = await make_person("alice")
    client = client_from(limited_app(login_email_ip=(5, 60)), "198.51.100.7")
    for _ in range(4):
        await call(client, LOG_IN, {"i": {"email": alice.email, "password": "typo typo typo"}})

    # When she gets it right, then mistypes again
    assert (await call(client, LOG_IN, {"i": {"email": alice.email, "password": PASSWORD}}))["logIn"]["token"]
    for _ in range(5):
        payload = (await call(client, LOG_IN, {"i": {"email": alice.email, "password": "typo typo typo"}}))["logIn"]
        # Then she has five fresh attempts, not one
        assert only_error(payload)["code"] == "BAD_CREDENTIALS"


async def test_failed_logins_from_one_address_are_capped_across_emails(
    limited_app: Any, client_from: Any
) -> None:
    # Given a credential-stuffing address and a bystander's
    app = limited_app(login_ip=(3, 300))
    stuffer = client_from(app, "203.0.113.9")
    bystander = client_from(app, "198.51.100.20")
    people = [await make_person(name) for name in ("ann", "ben", "cat", "dan")]

    # When the stuffer fails on three different emails
    for person in people[:3]:
        payload = (await call(stuffer, LOG_IN, {"i": {"email": person.email, "password": "password123"}}))["logIn"]
        assert only_error(payload)["code"] == "BAD_CREDENTIALS"

    # Then a fourth email is refused from that address, even with its right password
    right = {"i": {"email": people[3].email, "password": PASSWORD}}
    assert_rate_limited((await call(stuffer, LOG_IN, right))["logIn"], at_most=300)
    # And dan logs in from his own address
    assert (await call(bystander, LOG_IN, right))["logIn"]["token"]


async def test_successful_logins_do_not_count_against_a_shared_address(
    limited_app: Any, client_from: Any
) -> None:
    # Given a town hall's wifi, where the limit of failures is 2
    hall = client_from(limited_app(login_ip=(2, 300)), "192.0.2.1")
    people = [await make_person(f"resident{i}") for i in range(5)]

    # When five residents log in rightly, one after the other
    for person in people:
        payload = (await call(hall, LOG_IN, {"i": {"email": person.email, "password": PASSWORD}}))["logIn"]
        # Then every one of them gets in
        assert payload["userErrors"] == [] and payload["token"]


# --- signing up -------------------------------------------------------------------------------


async def test_sign_ups_are_capped_per_address(limited_app: Any, client_from: Any) -> None:
    # Given an address that may create two accounts an hour, and another one
    app = limited_app(signup_ip=(2, 3600))
    farm = client_from(app, "203.0.113.50")
    neighbour = client_from(app, "198.51.100.50")
    emails = [f"bot{i}.{uuid.uuid4().hex[:8]}@example.org" for i in range(3)]

    def sign_up(email: str) -> dict[str, Any]:
        return {"i": {"email": email, "password": "a long passphrase", "displayName": "Bot"}}

    # When it signs up three times
    for email in emails[:2]:
        assert (await call(farm, SIGN_UP, sign_up(email)))["signUp"]["token"]
    payload = (await call(farm, SIGN_UP, sign_up(emails[2])))["signUp"]

    # Then the third is refused and no account was made
    assert payload["token"] is None
    assert_rate_limited(payload, at_most=3600)
    assert not await Account.filter(email=emails[2]).exists()
    # And the neighbouring address signs up
    assert (await call(neighbour, SIGN_UP, sign_up(emails[2])))["signUp"]["token"]


# --- content and votes ------------------------------------------------------------------------


async def test_questions_are_capped_per_account_and_others_may_still_ask(
    limited_app: Any, client_from: Any
) -> None:
    # Given alice and bob of one territory, who may each ask two questions an hour
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    client = client_from(limited_app(question=(2, 3600)), "198.51.100.1")

    def ask(n: int) -> dict[str, Any]:
        return {"i": {"territoryId": encode_id("Territory", territory.id),
                      "title": f"When will bus line {n} run on Sundays?", "body": "We need it for the market."}}

    # When alice asks three questions
    for n in range(2):
        assert (await call(client, ASK, ask(n), alice.token))["askQuestion"]["userErrors"] == []
    payload = (await call(client, ASK, ask(3), alice.token))["askQuestion"]

    # Then the third is refused, and nothing was written
    assert payload["question"] is None
    assert_rate_limited(payload, at_most=3600)
    assert await Question.filter(territory_id=territory.id).count() == 2
    # And bob, from the same address, still asks
    assert (await call(client, ASK, ask(4), bob.token))["askQuestion"]["userErrors"] == []


async def test_ideas_comments_and_reports_each_have_their_own_cap(
    limited_app: Any, client_from: Any
) -> None:
    # Given alice may propose one idea, write one comment and file one report an hour
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory)
    client = client_from(limited_app(idea=(1, 3600), comment=(1, 3600), report=(1, 3600)), "198.51.100.2")
    question = await Question.create(
        territory_id=territory.id, author_id=odile.member.id if odile.member else None,
        title="Where should the new library go?", body="Tell us.", status=QuestionStatus.OPEN,
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=15),
    )
    subject = encode_id("Question", question.id)
    idea = {"i": {"territoryId": encode_id("Territory", territory.id), "title": "A shaded playground",
                  "body": "Trees around the swings."}}
    comment = {"i": {"subjectId": subject, "body": "Near the school, please."}}
    report = {"i": {"subjectId": subject, "reason": "Off topic."}}

    # When she does each twice
    cases = [(PROPOSE, idea, "proposeIdea"), (COMMENT, comment, "addComment"), (REPORT, report, "reportContent")]
    for query, variables, name in cases:
        first = (await call(client, query, variables, alice.token))[name]
        assert first["userErrors"] == [], (name, first)
        second = (await call(client, query, variables, alice.token))[name]
        # Then each second one is refused on its own bucket (the first of the next kind passed)
        assert_rate_limited(second, at_most=3600)

    # And only the first of each was written
    assert await Idea.filter(territory_id=territory.id).count() == 1
    assert await Comment.filter(territory_id=territory.id).count() == 1
    assert await Report.filter(territory_id=territory.id).count() == 1


async def test_votes_are_capped_per_account(limited_app: Any, client_from: Any, clock: Clock) -> None:
    # Given three open polls, and alice who may vote once a minute
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    app = limited_app(vote=(1, 60))
    client = client_from(app, "198.51.100.3")

    async def gql(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
        return response.json()  # type: ignore[no-any-return]

    gid = encode_id("Territory", territory.id)
    polls = [await created(gql, odile.token, gid) for _ in range(3)]

    async def vote(person: Any, poll: dict[str, Any]) -> dict[str, Any]:
        return (await gql(VOTE, {"input": {"pollId": poll["id"], "optionIds": option_ids(poll)[:1]}},
                          token=person.token))["data"]["castVote"]

    # When alice votes in two polls within the minute
    assert (await vote(alice, polls[0]))["userErrors"] == []
    payload = await vote(alice, polls[1])

    # Then the second ballot is refused, and nothing of it was counted
    assert payload["poll"] is None
    assert_rate_limited(payload, at_most=60)
    assert await PollParticipation.filter(member_id=alice.member.id if alice.member else 0).count() == 1
    # And bob votes; and alice votes again a minute later
    assert (await vote(bob, polls[1]))["userErrors"] == []
    clock.advance(60)
    assert (await vote(alice, polls[2]))["userErrors"] == []


# --- floods of requests -----------------------------------------------------------------------


async def test_a_flood_of_requests_gets_429_with_retry_after(
    limited_app: Any, client_from: Any, clock: Clock
) -> None:
    # Given an address may send three requests a minute
    app = limited_app(requests_ip=(3, 60))
    flood = client_from(app, "203.0.113.77")
    calm = client_from(app, "2001:db8:1:2::10")

    # When it sends four
    for _ in range(3):
        assert (await flood.post("/graphql", json={"query": "{ viewer { id } }"})).status_code == 200
    clock.advance(20)
    response = await flood.post("/graphql", json={"query": "{ viewer { id } }"})

    # Then the fourth is 429, says when to come back, and reads as a GraphQL error
    assert response.status_code == 429
    assert response.headers["retry-after"] == "40"
    assert response.json() == {
        "errors": [{"message": "Too many requests; retry in 40 seconds.",
                    "extensions": {"code": "RATE_LIMITED", "retryAfter": 40}}]
    }
    # And the health check and other addresses are served
    assert (await flood.get("/healthz")).status_code == 200
    assert (await calm.post("/graphql", json={"query": "{ viewer { id } }"})).status_code == 200
    # And the address is served again once the minute has passed
    clock.advance(40)
    assert (await flood.post("/graphql", json={"query": "{ viewer { id } }"})).status_code == 200


# --- the limiter itself -----------------------------------------------------------------------


async def test_the_memory_backend_drops_windows_that_ended(clock: Clock) -> None:
    # Given ten thousand addresses each seen once
    backend = MemoryBackend(clock)
    limiter = Limiter(backend, overrides={"requests_ip": (5, 60)})
    for n in range(10_000):
        await limiter.hit("requests_ip", f"10.0.{n // 256}.{n % 256}")
    assert len(backend.counters) == 10_000

    # When their windows have ended and one more address comes
    clock.advance(61)
    await limiter.hit("requests_ip", "192.0.2.99")

    # Then only that one is held
    assert list(backend.counters) == ["requests_ip:192.0.2.99"]
    assert len(backend._expiries) == 1


async def test_undo_and_reset(clock: Clock) -> None:
    limiter = Limiter(MemoryBackend(clock), overrides={"login_ip": (2, 60)})
    assert (await limiter.hit("login_ip", "a")).allowed
    assert (await limiter.hit("login_ip", "a")).allowed
    await limiter.undo("login_ip", "a")
    assert (await limiter.hit("login_ip", "a")).allowed
    refused = await limiter.hit("login_ip", "a")
    assert not refused.allowed and refused.retry_after == 60
    await limiter.reset("login_ip", "a")
    assert (await limiter.hit("login_ip", "a")).allowed


def test_limits_are_read_from_a_spec_and_unknown_buckets_are_refused() -> None:
    assert parse_limits(" vote=60/60, signup_ip=100/3600 ,") == {
        "vote": Limit(60, 60.0), "signup_ip": Limit(100, 3600.0)
    }
    for bad in ("votes=1/60", "vote=1", "vote=0/60", "vote=x/60", "vote=1/0"):
        with pytest.raises(ValueError):
            parse_limits(bad)
    with pytest.raises(ValueError):
        Limiter(overrides={"votes": (1, 60)})
    assert Limiter().limits == DEFAULT_LIMITS


def test_client_keys() -> None:
    assert client_key({"client": ("203.0.113.5", 1234)}) == "203.0.113.5"
    # One IPv6 host usually holds a whole /64: it is one client.
    assert client_key({"client": ("2001:db8:1:2::10", 1)}) == client_key({"client": ("2001:db8:1:2:ffff::1", 1)})
    assert client_key({"client": ("::ffff:203.0.113.5", 1)}) == "203.0.113.5"
    assert client_key({"client": None}) == client_key(None) == "unknown"


def test_redis_counters_are_namespaced_by_database_name() -> None:
    assert database_name("postgres://u:p@db1:5432/parvis") == database_name("postgres://other@db2/parvis")
    assert database_name("postgres://u@db1/parvis_staging") != database_name("postgres://u@db1/parvis")
    assert database_name("sqlite:///tmp/a.sqlite3") == "/tmp/a.sqlite3"


# --- Redis ------------------------------------------------------------------------------------

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs TEST_REDIS_URL")


@needs_redis
async def test_two_processes_share_their_counts_through_redis() -> None:
    # Given two limiters on one Redis, as two processes of one deployment would have
    assert REDIS_URL
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    one = Limiter(RedisBackend(REDIS_URL, namespace), overrides={"login_email": (3, 60)})
    two = Limiter(RedisBackend(REDIS_URL, namespace), overrides={"login_email": (3, 60)})
    other_deployment = Limiter(RedisBackend(REDIS_URL, f"{namespace}-b"), overrides={"login_email": (3, 60)})
    try:
        # When hits alternate between them
        assert (await one.hit("login_email", "k")).allowed
        assert (await two.hit("login_email", "k")).allowed
        assert (await one.hit("login_email", "k")).allowed
        refused = await two.hit("login_email", "k")

        # Then the fourth is refused wherever it lands, with the window's remaining time
        assert not refused.allowed and 59 <= refused.retry_after <= 60
        # And an undo or a reset in one process counts in the other
        await one.undo("login_email", "k")
        await two.undo("login_email", "k")
        assert (await two.hit("login_email", "k")).allowed
        await two.reset("login_email", "k")
        assert all([(await one.hit("login_email", "k")).allowed for _ in range(3)])
        # And another deployment on the same Redis counts apart
        assert (await other_deployment.hit("login_email", "k")).allowed
        # And the key expires with its window
        ttl = await one.backend.client.pttl(f"parvis:rl:{namespace}:login_email:k")  # type: ignore[attr-defined]
        assert 0 < ttl <= 60_000
    finally:
        client = one.backend.client  # type: ignore[attr-defined]
        keys = [key async for key in client.scan_iter(f"parvis:rl:{namespace}*")]
        if keys:
            await client.delete(*keys)
        for limiter in (one, two, other_deployment):
            await limiter.close()


@needs_redis
async def test_concurrent_hits_through_redis_never_exceed_the_limit() -> None:
    assert REDIS_URL
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    limiters = [Limiter(RedisBackend(REDIS_URL, namespace), overrides={"vote": (10, 60)}) for _ in range(4)]
    try:
        decisions = await asyncio.gather(*[limiters[n % 4].hit("vote", "42") for n in range(40)])
        assert sum(d.allowed for d in decisions) == 10
    finally:
        await limiters[0].reset("vote", "42")
        for limiter in limiters:
            await limiter.close()


async def test_without_redis_a_process_still_limits_on_its_own() -> None:
    # Given a Redis that cannot be reached (nothing listens on port 1)
    limiter = Limiter(RedisBackend("redis://127.0.0.1:1/0"), overrides={"login_email": (2, 60)})
    try:
        # Then the limits hold in this process instead of failing the request or letting all through
        decisions = [await limiter.hit("login_email", "k") for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
    finally:
        await limiter.close()
