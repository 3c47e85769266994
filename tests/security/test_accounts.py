"""Attacks on accounts: telling which addresses have an account, replaying, outliving or
forging emailed tokens, ending someone else's session, and reading tokens in the logs."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from access.ratelimit import Limiter
from app.mail import email_sender
from delivery import register_sender
from delivery.email import CHANNEL
from delivery.worker import Policy, Worker
from models.accounts import Account, EmailToken
from models.clock import now
from models.delivery import DeliveryJob
from server import build_app
from tests.accounts.stories import (
    CHANGE_EMAIL,
    REQUEST_RESET,
    RESET,
    REVOKE,
    SIGN_UP,
    VERIFY,
    VIEWER,
    an_address,
    link_token,
    sign_up,
)
from tests.factories import PASSWORD, make_person
from tests.mailbox import free_port, text_of

NEW_PASSWORD = "a fresh passphrase"


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


# Enumeration


async def test_a_reset_asked_for_an_unknown_address_answers_exactly_as_for_a_known_one(http, mail, smtp):
    alice = await make_person("alice")
    unknown = an_address("nobody")

    answers = []
    for email in (alice.account.email, unknown):
        response = await http.post("/graphql", json={"query": REQUEST_RESET, "variables": {"input": {"email": email}}})
        answers.append((response.status_code, response.headers.get("content-type"), response.content))
    await mail()

    assert answers[0] == answers[1]
    assert len(smtp.mailbox.wait_for(alice.account.email)) == 1
    assert smtp.mailbox.to(unknown) == []
    # The request did the same work for both (one job each); the worker found no account.
    jobs = [await DeliveryJob.get(recipient=email) for email in (alice.account.email, unknown)]
    assert [(job.payload, job.status) for job in jobs] == [({"kind": "reset_request"}, "SENT")] * 2


async def test_signing_up_with_a_taken_address_says_taken_and_tells_the_owner_once_an_hour(gql, mail, smtp):
    bob = await make_person("bob")
    for attempt in range(3):
        result = await gql(SIGN_UP, {"input": {"email": bob.account.email, "password": "an intruder's words",
                                               "displayName": f"Not Bob {attempt}"}})
        assert result["data"]["signUp"]["token"] is None
        assert codes(result["data"]["signUp"]) == ["TAKEN"]
    await mail()

    [told] = smtp.mailbox.wait_for(bob.account.email)
    assert told["Subject"] == "Someone tried to sign up with your address"
    assert "Bob" in text_of(told)
    await mail()
    assert len(smtp.mailbox.to(bob.account.email)) == 1


async def test_reset_requests_are_limited_per_address_whether_or_not_it_has_an_account(settings):
    limiter = Limiter(overrides={"reset_email": (2, 3600), "reset_ip": (100, 3600)})
    app = build_app(dataclasses.replace(settings, redis_url=None), manage_database=False, limiter=limiter)
    carol = await make_person("carol")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        async def ask(email: str) -> dict[str, Any]:
            body = {"query": REQUEST_RESET, "variables": {"input": {"email": email}}}
            return (await client.post("/graphql", json=body)).json()  # type: ignore[no-any-return]

        for email in (carol.account.email, an_address("ghost")):
            assert [(await ask(email))["data"] for _ in range(2)] == [{"requestPasswordReset": True}] * 2
            third = await ask(email.upper())
            assert third["data"] is None
            assert third["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert await DeliveryJob.filter(recipient=carol.account.email).count() == 2


# Emailed tokens


async def test_an_emailed_token_works_once(gql, mail, smtp):
    address = an_address()
    await sign_up(gql, address)
    await mail()
    token = link_token(smtp, address, "/verify-email")

    first = (await gql(VERIFY, {"input": {"token": token}}))["data"]["verifyEmail"]
    second = (await gql(VERIFY, {"input": {"token": token}}))["data"]["verifyEmail"]

    assert codes(first) == [] and codes(second) == ["INVALID_TOKEN"]
    assert second["viewer"] is None


async def test_two_concurrent_resets_with_one_token_let_one_through(gql, mail, smtp):
    dave = await make_person("dave")
    await gql(REQUEST_RESET, {"input": {"email": dave.account.email}})
    await mail()
    token = link_token(smtp, dave.account.email, "/reset-password")

    results = await asyncio.gather(*(
        gql(RESET, {"input": {"token": token, "newPassword": f"{NEW_PASSWORD} {i}"}}) for i in range(2)
    ))

    outcomes = sorted(str(codes(r["data"]["resetPassword"])) for r in results)
    assert outcomes == ["['INVALID_TOKEN']", "[]"]


async def test_an_expired_token_is_refused(gql, mail, smtp):
    erin = await make_person("erin")
    await gql(REQUEST_RESET, {"input": {"email": erin.account.email}})
    await mail()
    token = link_token(smtp, erin.account.email, "/reset-password")
    await EmailToken.filter(account_id=erin.account.id).update(expires_at=now())

    result = await gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})

    assert result["data"]["resetPassword"]["userErrors"] == [
        {"field": ["input", "token"], "message": "This link is invalid, used or expired.", "code": "INVALID_TOKEN"}
    ]
    # The password did not change.
    assert (await gql(VIEWER, token=erin.token))["data"]["viewer"] is not None


@pytest.mark.parametrize("forged", ["", "x", "3XHK-7LzMmARtJSpMdTilJvxBgmx1qBa3cx8ld3cj-w", "a" * 10_000, "\u0000nul", "' OR 1=1 --"])
async def test_a_forged_token_is_refused(gql, forged):
    for operation, name in ((VERIFY, "verifyEmail"), (RESET, "resetPassword")):
        variables = {"input": {"token": forged, "newPassword": NEW_PASSWORD}} if name == "resetPassword" else {
            "input": {"token": forged}}
        result = await gql(operation, variables)
        assert codes(result["data"][name]) == ["INVALID_TOKEN"], result


async def test_a_token_is_good_only_for_its_purpose_and_its_address(gql, mail, smtp):
    fred = await make_person("fred")
    await gql(REQUEST_RESET, {"input": {"email": fred.account.email}})
    await mail()
    reset_token = link_token(smtp, fred.account.email, "/reset-password")
    assert codes((await gql(VERIFY, {"input": {"token": reset_token}}))["data"]["verifyEmail"]) == ["INVALID_TOKEN"]

    # A verification link mailed to an address confirms nothing once the account moved on.
    first, second, third = an_address("fred"), an_address("fred"), an_address("fred")
    await gql(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": first}}, token=fred.token)
    await mail()
    stale = link_token(smtp, first, "/verify-email")
    await gql(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": second}}, token=fred.token)
    assert codes((await gql(VERIFY, {"input": {"token": stale}}))["data"]["verifyEmail"]) == ["INVALID_TOKEN"]
    assert (await gql(VIEWER, token=fred.token))["data"]["viewer"]["emailVerified"] is False
    # And a link not yet sent when the account moved on is not sent at all.
    await gql(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": third}}, token=fred.token)
    await mail()
    assert len(smtp.mailbox.wait_for(third)) == 1
    # (The second address is only told the account left it.)
    assert [m["Subject"] for m in smtp.mailbox.to(second)] == ["The address of your account changed"]


# Sessions


async def test_revoking_another_accounts_session_is_not_found_like_an_unknown_one(gql):
    gina = await make_person("gina")
    mallory = await make_person("mallory")
    sessions = await gql(VIEWER, token=gina.token)
    [gina_session] = [edge["node"]["id"] for edge in sessions["data"]["viewer"]["sessions"]["edges"]]

    theirs = await gql(REVOKE, {"input": {"sessionId": gina_session}}, token=mallory.token)
    unknown = await gql(REVOKE, {"input": {"sessionId": "U2Vzc2lvbjo5OTk5OTk5"}}, token=mallory.token)
    garbage = await gql(REVOKE, {"input": {"sessionId": "not an id"}}, token=mallory.token)

    for result in (theirs, unknown, garbage):
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert result["errors"][0]["message"] == "No such session."
    assert (await gql(VIEWER, token=gina.token))["data"]["viewer"] is not None


# Logs


@pytest.fixture
def every_log_line() -> Iterator[list[logging.LogRecord]]:
    """Every record any logger emits at the levels the app configures (parvis at DEBUG)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("parvis"), logging.getLogger("aiosmtplib")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger("parvis").setLevel(logging.DEBUG)
    yield records
    for logger, level in zip(loggers, levels):
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_reset_tokens_reach_no_log_line_and_no_row_once_sent(gql, http, smtp, settings, every_log_line):
    hana = await make_person("hana")
    await gql(REQUEST_RESET, {"input": {"email": hana.account.email}})
    # The SMTP server is down first: the retry is logged.
    register_sender(CHANNEL, email_sender(dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")))
    await Worker(Policy(backoff_seconds=0.01, send_timeout=5, max_attempts=50)).run_once()
    register_sender(CHANNEL, email_sender(dataclasses.replace(settings, smtp_url=smtp.url)))
    await asyncio.sleep(0.05)
    await Worker(Policy(send_timeout=5)).drain()
    token = link_token(smtp, hana.account.email, "/reset-password")
    await gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})

    assert any("retrying" in record.getMessage() for record in every_log_line)
    for record in every_log_line:
        assert token not in record.getMessage() and token not in str(getattr(record, "fields", ""))
    job = await DeliveryJob.filter(recipient=hana.account.email).order_by("-id").first()
    assert job is not None and token not in str(job.payload)
    assert not await EmailToken.filter(token_hash=token).exists()


async def test_a_stolen_session_cannot_guess_the_password_it_lacks(settings):
    limiter = Limiter(overrides={"password_check": (3, 900)})
    app = build_app(dataclasses.replace(settings, redis_url=None), manage_database=False, limiter=limiter)
    ivan = await make_person("ivan")
    change = {"query": CHANGE_EMAIL, "variables": {"input": {"password": "", "newEmail": an_address("ivan")}}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 headers={"Authorization": f"Bearer {ivan.token}"}) as client:
        async def guess(password: str) -> list[str]:
            change["variables"]["input"]["password"] = password  # type: ignore[index]
            return codes((await client.post("/graphql", json=change)).json()["data"]["changeEmail"])

        assert [await guess(f"guess number {i}") for i in range(3)] == [["BAD_CREDENTIALS"]] * 3
        # Over the limit, even the right password is refused, and nothing changes.
        assert await guess(PASSWORD) == ["RATE_LIMITED"]
    assert (await Account.get(id=ivan.account.id)).email == ivan.account.email
