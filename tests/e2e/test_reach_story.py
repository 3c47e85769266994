"""Issue 13's "done when", end to end: `python server.py serve` with a real SMTP server
(aiosmtpd) and a real push service (tests/reach/push_service.py) in this process. Claire
signs up, confirms her address, asks a question and closes the app; the official's reply
reaches her browser by push (so not again by email), a comment reaches her by email as she
chose; she forgets her password and resets it (her old session ends); she unsubscribes from
comments by the mail's one-click link, and the next comment sends no mail."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from typing import Any

import asyncpg
import httpx

from tests.e2e.server import ServerProcess, new_database_url, run_cli
from tests.mailbox import SmtpServer, text_of
from tests.reach.harness import VAPID
from tests.reach.push_service import PushService, push_service_app, serve

PASSPHRASE = "a long passphrase"
SECRET = "the e2e deployment's secret, at least 32 characters"


def token_in(mail_text: str, path: str) -> str:
    found = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", mail_text)
    assert found, mail_text
    return found.group(1)


async def grace_passes(database_url: str) -> None:
    """Notification mails wait 60 s for the app to show them first: let that time pass in the
    server's database (its worker polls every half second)."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")

        def update() -> None:
            with sqlite3.connect(path, timeout=10) as connection:
                connection.execute("UPDATE delivery_job SET run_after = '2000-01-01 00:00:00+00:00' "
                                   "WHERE status = 'PENDING'")

        await asyncio.to_thread(update)
        return
    connection = await asyncpg.connect(database_url.partition("?")[0])  # (no pool options)
    try:
        await connection.execute("UPDATE delivery_job SET run_after = now() - interval '1 second' "
                                 "WHERE status = 'PENDING'")
    finally:
        await connection.close()


async def mails(smtp: SmtpServer, address: str, count: int) -> list[Any]:
    received = await asyncio.to_thread(smtp.mailbox.wait_for, address, count, 20)
    assert len(received) == count, [m["Subject"] for m in received]
    return received


async def test_claire_is_reached_by_push_and_email_recovers_her_account_and_unsubscribes(smtp: SmtpServer) -> None:
    db = await asyncio.to_thread(new_database_url)  # (it runs its own event loop)
    for command in (("migrate",),
                    ("create-territory", "--slug", "lezignan", "--name", "Lézignan", "--population", "11000"),
                    ("create-admin", "--territory", "lezignan", "--email", "admin@lezignan.example",
                     "--password", PASSPHRASE, "--display-name", "Régis")):
        done = await asyncio.to_thread(run_cli, db, *command)
        assert done.returncode == 0, done.stderr
    service = PushService(server_key=VAPID.public_key)
    address = f"claire-{int(time.time() * 1000)}@example.org"
    server = ServerProcess(db, SMTP_URL=smtp.url, PARVIS_DELIVERY_POLL_SECONDS="0.5", PARVIS_SECRET=SECRET,
                           PARVIS_VAPID_PRIVATE_KEY=VAPID.private_key, PARVIS_VAPID_SUBJECT=VAPID.subject,
                           PARVIS_PUSH_ALLOW_LOOPBACK="on")
    server.env["PARVIS_PUBLIC_URL"] = server.url
    async with serve(push_service_app(service), service.port):
        await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

                async def call(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
                    response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                                               headers={"Authorization": f"Bearer {token}"} if token else {})
                    body = response.json()
                    assert "errors" not in body, body
                    return body["data"]

                await story(call, http, smtp, service, address, db)
        finally:
            await asyncio.to_thread(server.stop)


async def story(call: Any, http: httpx.AsyncClient, smtp: SmtpServer, service: PushService, address: str,
                db: str) -> None:
    # Claire signs up and confirms her address from the mail
    signed = (await call("mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { code } } }",
                         {"i": {"email": address, "password": PASSPHRASE, "displayName": "Claire"}}))["signUp"]
    assert signed["userErrors"] == []
    claire = signed["token"]
    [confirmation] = await mails(smtp, address, 1)
    assert "List-Unsubscribe" not in confirmation
    verified = await call("mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { userErrors { code } } }",
                          {"i": {"token": token_in(text_of(confirmation), "/verify-email")}})
    assert verified["verifyEmail"]["userErrors"] == []

    # The territory: odile is appointed its official; both join
    admin = (await call("mutation($i: LogInInput!) { logIn(input: $i) { token } }",
                        {"i": {"email": "admin@lezignan.example", "password": PASSPHRASE}}))["logIn"]["token"]
    odile = (await call("mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
                        {"i": {"email": f"odile-{address}", "password": PASSPHRASE, "displayName": "Odile"}}))[
        "signUp"]["token"]
    territory = (await call('{ territory(slug: "lezignan") { id } }'))["territory"]["id"]
    join = "mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { id } } }"
    await call(join, {"t": territory}, claire)
    odile_member = (await call(join, {"t": territory}, odile))["joinTerritory"]["member"]["id"]
    await call('mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: "Mayor"}) { member { id } } }',
               {"m": odile_member}, admin)

    # Her browser subscribes to push; she wants comments by email (replies keep their defaults)
    key = (await call("{ pushPublicKey }"))["pushPublicKey"]
    assert key == service.server_key
    browser = service.browser("claire")
    registered = await call("mutation($i: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $i) "
                            "{ registered } }", {"i": browser.subscription()}, claire)
    assert registered["registerPushSubscription"]["registered"] is True
    preference = ("mutation($i: SetNotificationPreferenceInput!) { setNotificationPreference(input: $i) "
                  "{ userErrors { code } } }")
    await call(preference, {"i": {"kind": "NEW_COMMENT", "channel": "EMAIL", "frequency": "IMMEDIATELY"}}, claire)

    # She asks a question, then closes the app (no socket open)
    question = (await call(
        "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } userErrors { code } } }",
        {"i": {"territoryId": territory, "officialId": odile_member, "title": "Opening hours of the library?",
               "body": "Could the library open on Saturday afternoons?"}}, claire))["askQuestion"]["question"]["id"]

    # When odile replies, the push reaches Claire's browser, with the cursor the app catches up from
    await call("mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { userErrors { code } } }",
               {"i": {"questionId": question, "body": "From March, yes."}}, odile)
    [push] = await service.until(1, timeout=20)
    assert service.refused == []
    assert push.payload["kind"] == "QUESTION_ANSWERED"
    inbox = await call("{ viewer { notifications(first: 5) { edges { cursor node { kind } } } } }", token=claire)
    assert [(e["cursor"], e["node"]["kind"]) for e in inbox["viewer"]["notifications"]["edges"]] == [
        (push.payload["cursor"], "QUESTION_ANSWERED")
    ]

    # And when odile comments on the question, the comment comes by email (its push is off by
    # default), once the grace period passed, with a one-click unsubscribe link
    comment = "mutation($i: AddCommentInput!) { addComment(input: $i) { userErrors { code } } }"
    await call(comment, {"i": {"subjectId": question, "body": "The council votes on it in February."}}, odile)
    await grace_passes(db)
    notified = (await mails(smtp, address, 2))[1]
    assert "a commenté" in text_of(notified)  # claire signed up in French, the default
    unsubscribe = str(notified["List-Unsubscribe"]).strip("<>")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/unsubscribe\?token=v1\.\d+\.NEW_COMMENT\.[A-Za-z0-9_-]{43}",
                        unsubscribe), unsubscribe
    assert notified["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The reply was pushed: it is not repeated by email
    assert all("replied" not in text_of(m) for m in smtp.mailbox.to(address))

    # She forgets her password: the reset link comes by mail, and her old session ends
    await call("mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) }", {"i": {"email": address}})
    reset_mail = (await mails(smtp, address, 3))[2]
    assert "List-Unsubscribe" not in reset_mail
    reset = (await call(
        "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { token userErrors { code } } }",
        {"i": {"token": token_in(text_of(reset_mail), "/reset-password"), "newPassword": "a brand new passphrase"}},
    ))["resetPassword"]
    assert reset["userErrors"] == []
    old = (await http.post("/graphql", json={"query": "{ viewer { email } }"},
                           headers={"Authorization": f"Bearer {claire}"})).json()
    assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    claire = reset["token"]
    await mails(smtp, address, 4)  # "your password changed"

    # She unsubscribes from comments by the mail's link, as her mail client does, logged out
    clicked = await http.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert clicked.status_code == 200
    chosen = await call("{ viewer { notificationPreferences { kind channel frequency } } }", token=claire)
    prefs = {(p["kind"], p["channel"]): p["frequency"] for p in chosen["viewer"]["notificationPreferences"]}
    assert prefs[("NEW_COMMENT", "EMAIL")] == "NEVER"
    assert prefs[("QUESTION_ANSWERED", "EMAIL")] == prefs[("QUESTION_ANSWERED", "PUSH")] == "IMMEDIATELY"
    assert prefs[("NEW_COMMENT", "IN_APP")] == "IMMEDIATELY"

    # The next comment stays in the app: no mail; the next reply is still pushed
    await call(comment, {"i": {"subjectId": question, "body": "And the budget is voted."}}, odile)
    second = (await call(
        "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } } }",
        {"i": {"territoryId": territory, "officialId": odile_member, "title": "And on Sundays?",
               "body": "Could it open on Sunday mornings too?"}}, claire))["askQuestion"]["question"]["id"]
    await call("mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { userErrors { code } } }",
               {"i": {"questionId": second, "body": "Not yet."}}, odile)
    await service.until(2, timeout=20)
    await grace_passes(db)
    await asyncio.sleep(2)  # more than the worker's poll: a mail would have left
    assert len(smtp.mailbox.to(address)) == 4
    kinds = await call("{ viewer { notifications(first: 10) { edges { node { kind } } } } }", token=claire)
    assert sorted(e["node"]["kind"] for e in kinds["viewer"]["notifications"]["edges"]) == [
        "NEW_COMMENT", "NEW_COMMENT", "QUESTION_ANSWERED", "QUESTION_ANSWERED"
    ]
