"""Limits that cannot be walked around (issue 10 §4): the client's address comes from
forwarded headers only through the operator's proxies, failed logins slow a guesser without
locking the owner out, and a request's cost counts what it really asks for."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from access import passwords
from access.passwords import BoundedPool, PasswordsBusy
from access.ratelimit import Limiter
from app.middleware import ClientAddress, forwarded_client, parse_networks
from app.settings import ConfigError, Settings
from server import build_app
from tests.e2e.server import ServerProcess, new_database_url, run_cli
from tests.factories import PASSWORD, make_person

LOG_IN = """mutation($i: LogInInput!) {
  logIn(input: $i) { token userErrors { code retryAfterSeconds } } }"""
SIGN_UP = """mutation($i: SignUpInput!) {
  signUp(input: $i) { token userErrors { code retryAfterSeconds } } }"""
VIEWER = {"query": "{ viewer { id } }"}


@pytest.fixture
def app_with(settings: Settings) -> Callable[..., Any]:
    """An app of its own, counting in memory with the default limits but `limits`, and the
    given settings (the suite's app has no limits)."""

    def build(limits: dict[str, tuple[int, float]] | None = None, **changes: Any) -> Any:
        configured = dataclasses.replace(settings, redis_url=None, **changes)
        return build_app(configured, manage_database=False, limiter=Limiter(overrides=limits or {}))

    return build


@pytest.fixture
async def client_from() -> AsyncIterator[Callable[[Any, str], httpx.AsyncClient]]:
    """An httpx client of `app` whose requests come from the address `ip`."""
    opened: list[httpx.AsyncClient] = []

    def make(app: Any, ip: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                                   base_url="http://testserver")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": LOG_IN, "variables": {"i": {
        "email": email, "password": password}}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["logIn"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


# --- failed logins ------------------------------------------------------------------------------


async def test_a_guesser_on_one_address_does_not_lock_the_owner_out(app_with: Any, client_from: Any) -> None:
    """Before the fix, five wrong passwords for an email from anywhere made the owner's right
    password fail for five minutes (login_email counted per email only)."""
    # Given alice, and mallory guessing her password from one address (default limits)
    alice = await make_person("alice")
    app = app_with()
    mallory = client_from(app, "203.0.113.66")
    for _ in range(5):
        assert codes(await log_in(mallory, alice.email, "not her password")) == ["BAD_CREDENTIALS"]

    # When mallory keeps trying, she is refused, even with the right password
    for _ in range(10):
        assert codes(await log_in(mallory, alice.email, PASSWORD)) == ["RATE_LIMITED"]

    # Then alice, from her own address, gets in at once
    payload = await log_in(client_from(app, "198.51.100.7"), alice.email, PASSWORD)
    assert payload["userErrors"] == [] and payload["token"]


async def test_many_addresses_guessing_one_email_meet_its_slower_global_curve(
    app_with: Any, client_from: Any
) -> None:
    # Given an email may fail three times an hour in all, five times per address
    alice = await make_person("alice")
    app = app_with({"login_email": (3, 3600)})

    # When three addresses of a botnet fail once each
    for n in range(3):
        bot = client_from(app, f"203.0.113.{n + 1}")
        assert codes(await log_in(bot, alice.email, "password123")) == ["BAD_CREDENTIALS"]

    # Then a fourth address is refused before any password is checked, the right one too
    payload = await log_in(client_from(app, "203.0.113.99"), alice.email, PASSWORD)
    assert codes(payload) == ["RATE_LIMITED"] and 3000 < payload["userErrors"][0]["retryAfterSeconds"] <= 3600
    # And another email is not concerned
    bob = await make_person("bob")
    assert (await log_in(client_from(app, "203.0.113.99"), bob.email, PASSWORD))["token"]


# --- forwarded headers ---------------------------------------------------------------------------


def test_forwarded_headers_name_the_client_only_through_trusted_proxies() -> None:
    proxies = parse_networks("10.0.0.0/8, 2001:db8::1")
    xff = [(b"x-forwarded-for", b"198.51.100.7, 10.1.2.3")]
    # Not a trusted peer (loopback included): the headers are anyone's words
    assert forwarded_client("127.0.0.1", xff, ()) == "127.0.0.1"
    assert forwarded_client("203.0.113.5", xff, proxies) == "203.0.113.5"
    # A trusted peer: the chain is walked back past trusted proxies to the first client
    assert forwarded_client("10.0.0.1", xff, proxies) == "198.51.100.7"
    assert forwarded_client("2001:db8::1", [(b"x-forwarded-for", b"198.51.100.7")], proxies) == "198.51.100.7"
    # A client cannot pick its address by prepending one: the proxy appended the real one
    spoofed = [(b"x-forwarded-for", b"1.2.3.4, 198.51.100.7")]
    assert forwarded_client("10.0.0.1", spoofed, proxies) == "198.51.100.7"
    # Only the header the proxy writes is read: the other one is the client's own words
    both = [(b"forwarded", b'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2:80'),
            (b"x-forwarded-for", b"192.0.2.1")]
    assert forwarded_client("10.0.0.1", both, proxies) == "192.0.2.1"
    # RFC 7239 Forwarded when the operator says so; quoted IPv6 and IPv4 with ports are read
    assert forwarded_client("10.0.0.1", both, proxies, "forwarded") == "2001:db8:cafe::17"
    assert forwarded_client("10.0.0.1", [(b"x-forwarded-for", b"192.0.2.1")], proxies, "forwarded") == "10.0.0.1"
    # An unreadable hop (`unknown`) ends the chain at the last trusted proxy
    assert forwarded_client("10.0.0.1", [(b"x-forwarded-for", b"unknown")], proxies) == "10.0.0.1"
    # No header from a trusted proxy: the proxy itself
    assert forwarded_client("10.0.0.1", [], proxies) == "10.0.0.1"


async def test_a_trusted_proxy_also_tells_the_scheme_and_an_untrusted_peer_tells_nothing() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = ClientAddress(app, trusted=parse_networks("10.0.0.0/8"))
    headers = [(b"x-forwarded-for", b"198.51.100.7"), (b"x-forwarded-proto", b"https")]
    for peer, kind in (("10.0.0.1", "http"), ("10.0.0.1", "websocket"), ("203.0.113.5", "http")):
        scope = {"type": kind, "client": (peer, 5000), "scheme": "http" if kind == "http" else "ws",
                 "headers": headers}
        await middleware(scope, None, None)
    assert [(s["client"][0], s["scheme"]) for s in seen] == [
        ("198.51.100.7", "https"), ("198.51.100.7", "wss"), ("203.0.113.5", "http")]


def test_trusted_proxies_are_read_from_the_environment() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    settings = Settings.from_env({"PARVIS_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"})
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32"]
    with pytest.raises(ConfigError, match="PARVIS_TRUSTED_PROXIES: 'nginx' is not an IP address"):
        Settings.from_env({"PARVIS_TRUSTED_PROXIES": "10.0.0.1,nginx"})
    assert Settings.from_env({}).forwarded_header == "x-forwarded-for"
    assert Settings.from_env({"PARVIS_FORWARDED_HEADER": "Forwarded"}).forwarded_header == "forwarded"
    with pytest.raises(ConfigError, match="PARVIS_FORWARDED_HEADER must be one of x-forwarded-for, forwarded"):
        Settings.from_env({"PARVIS_FORWARDED_HEADER": "x-real-ip"})


async def test_behind_a_trusted_proxy_each_client_has_its_own_count(app_with: Any, client_from: Any) -> None:
    # Given a proxy at 10.0.0.1 the operator trusts, and two requests a minute per address
    app = app_with({"requests_ip": (2, 60)}, trusted_proxies=parse_networks("10.0.0.1"))
    proxy = client_from(app, "10.0.0.1")

    def from_(ip: str) -> dict[str, str]:
        return {"X-Forwarded-For": ip}

    # When one client behind it floods, it is refused
    for _ in range(2):
        assert (await proxy.post("/graphql", json=VIEWER, headers=from_("198.51.100.1"))).status_code == 200
    assert (await proxy.post("/graphql", json=VIEWER, headers=from_("198.51.100.1"))).status_code == 429
    # Then another client behind the same proxy is served
    assert (await proxy.post("/graphql", json=VIEWER, headers=from_("198.51.100.2"))).status_code == 200


async def test_without_trusted_proxies_rotating_forwarded_headers_changes_nothing(
    app_with: Any, client_from: Any
) -> None:
    app = app_with({"requests_ip": (2, 60)})
    local = client_from(app, "127.0.0.1")
    statuses = [
        (await local.post("/graphql", json=VIEWER, headers={"X-Forwarded-For": f"198.51.100.{n}",
                                                            "Forwarded": f"for=198.51.100.{n}"})).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


def test_a_served_instance_ignores_forwarded_headers_from_loopback_by_default() -> None:
    """`server.py serve` as an operator starts it. Before the fix uvicorn replaced the client
    by X-Forwarded-For whenever the peer was 127.0.0.1 (its FORWARDED_ALLOW_IPS default), so
    rotating the header from the same host lifted every per-address limit."""
    db = new_database_url()
    assert run_cli(db, "migrate").returncode == 0
    with ServerProcess(db, PARVIS_RATE_LIMITS="requests_ip=3/60") as server:
        statuses = [
            httpx.post(f"{server.url}/graphql", json=VIEWER, timeout=10,
                       headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]


# --- the cost of a request ----------------------------------------------------------------------

TERRITORY_IDEAS = "... on Territory { ideas(first: 100) { edges { node { id } } } }"


def cost_of(result: dict[str, Any]) -> int:
    return int(result["extensions"]["cost"]["requestedQueryCost"])


async def test_nodes_is_priced_per_id(gql: Any) -> None:
    """Before the fix a hundred copies of one id cost what one did (101), and one such request
    ran 13.5 s."""
    one = f'{{ nodes(ids: ["x"]) {{ id {TERRITORY_IDEAS} }} }}'
    many = "{ nodes(ids: [%s]) { id %s } }" % (", ".join(['"x"'] * 100), TERRITORY_IDEAS)
    assert cost_of(await gql(one)) == 1 + 100
    refused = await gql(many)
    assert refused["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert refused["errors"][0]["extensions"]["cost"] == 100 + 100 * 100
    # Passed as a variable, the list is priced by its length
    by_variable = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ id {TERRITORY_IDEAS} }} }}"
    assert cost_of(await gql(by_variable, {"ids": ["x"] * 3})) == 3 + 3 * 100
    assert cost_of(await gql(by_variable, {"ids": ["x"] * 4})) == 4 + 4 * 100  # not the cost remembered for 3


async def test_a_variable_default_is_priced_like_the_same_value_passed(gql: Any) -> None:
    """Before the fix `$n: Int = 100` left out of `variables` was priced as an absent page size
    (20): 821 instead of 20,101 for this query, which then ran at 100 per page."""
    query = ("query($n: Int = 100) { territories(first: $n) { edges { node { "
             "questions(first: $n) { edges { node { author { id } } } } } } } }")
    passed = await gql(query, {"n": 100})
    defaulted = await gql(query)
    assert passed["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert defaulted["errors"][0]["extensions"] == passed["errors"][0]["extensions"]
    assert defaulted["errors"][0]["extensions"]["cost"] == 100 + 100 * 100 + 100 * 100
    # A small default stays small, and a passed value still wins over the default
    assert cost_of(await gql(query.replace("= 100", "= 2"))) == 2 + 4 + 4
    assert cost_of(await gql(query, {"n": 3})) == 3 + 9 + 9


# --- password hashing -------------------------------------------------------------------------


async def test_password_work_runs_off_the_event_loop_and_refuses_what_it_could_not_start_in_time() -> None:
    """A job blocks its worker thread, not the loop; once the queue in front of a new job would
    take longer than max_wait to work off, the job is refused at once (before, sixty sign-ups
    at once queued until their operations timed out, their hashes still run afterwards)."""
    release = threading.Event()
    pool = BoundedPool(workers=1, max_wait=0.5, first_guess=1.0)
    running = asyncio.create_task(pool.run(release.wait, 10))
    ticks = 0
    while pool.pending == 0 or ticks < 5:  # the loop turns while the worker is held
        await asyncio.sleep(0.01)
        ticks += 1
    assert not running.done()

    # One job running, each job taking about a second: the next would wait past 0.5 s
    with pytest.raises(PasswordsBusy) as busy:
        await pool.run(time.sleep, 0)
    assert 0.5 <= busy.value.retry_after <= 2.0

    release.set()
    assert await running is True
    assert pool.pending == 0
    assert await pool.run(lambda: "done") == "done"  # room again


async def test_a_busy_password_pool_answers_rate_limited_and_costs_no_attempt(
    app_with: Any, client_from: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice may fail once per address, and a password pool with no room
    alice = await make_person("alice")
    app = app_with({"login_email_ip": (1, 300), "signup_ip": (1, 3600)})
    client = client_from(app, "198.51.100.30")
    full = BoundedPool(workers=1, max_wait=0.0, first_guess=1.0)
    full.pending = 1
    monkeypatch.setattr(passwords, "_pool", full)

    # When she logs in and someone signs up, they are told at once to retry in a second or so
    for _ in range(3):
        payload = await log_in(client, alice.email, PASSWORD)
        assert codes(payload) == ["RATE_LIMITED"] and payload["userErrors"][0]["retryAfterSeconds"] >= 1
    response = await client.post("/graphql", json={"query": SIGN_UP, "variables": {"i": {
        "email": "newcomer@example.org", "password": PASSWORD, "displayName": "Newcomer"}}})
    assert codes(response.json()["data"]["signUp"]) == ["RATE_LIMITED"]

    # Then, once the pool has room, neither counted as an attempt
    full.pending = 0
    assert (await log_in(client, alice.email, PASSWORD))["token"]
    response = await client.post("/graphql", json={"query": SIGN_UP, "variables": {"i": {
        "email": f"newcomer-{alice.account.id}@example.org", "password": PASSWORD, "displayName": "Newcomer"}}})
    assert response.json()["data"]["signUp"]["token"]
