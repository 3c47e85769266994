"""Unsubscribing from a notification mail in one click (RFC 8058): the mail carries a signed
link in List-Unsubscribe; a mail client POSTs `List-Unsubscribe=One-Click` to it, with no
login, and that kind stops by email, and nothing else changes. Account mails carry none."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import httpx

from app.mail import email_sender
from app.settings import Settings
from delivery import Job, register_sender
from delivery.email import CHANNEL as EMAIL_CHANNEL
from delivery.mails import TEMPLATES
from delivery.notification_mail import CHANNEL as NOTIFICATION_MAIL
from delivery.notification_mail import NotificationMailSender, enqueue_daily_digests
from delivery.reminders import enqueue_due_reminders, enqueue_report_digests
from delivery.worker import Policy, Worker
from models.accounts import Account, Role
from models.clock import now
from models.delivery import DeliveryJob
from models.moderation import Report
from models.notifications import Notification, NotificationKind
from models.questions import Question as QuestionRow
from models.reach import NotificationPreference
from server import build_app
from tests.e2e.server import free_port
from tests.factories import Persona, make_person, make_territory
from tests.mailbox import SmtpServer, html_of, text_of
from tests.questions.stories import asked, reply
from tests.reach.push_service import PushService, serve
from tests.reach.stories import pk, preferences, register, set_preference

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def link_of(message: EmailMessage) -> str:
    """The https/http link of List-Unsubscribe, checked to offer one-click (RFC 8058)."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = re.fullmatch(r"<(https?://[^>]+)>", str(message["List-Unsubscribe"]))
    assert found, message["List-Unsubscribe"]
    return found.group(1)


async def verified(name: str, territory: Any) -> Persona:
    person = await make_person(name, territory)
    await Account.filter(id=person.account.id).update(email_verified_at=now())
    return person


async def drain_mails() -> int:
    await DeliveryJob.filter(channel__in=(NOTIFICATION_MAIL, EMAIL_CHANNEL)).update(run_after=now())
    return await Worker(Policy(backoff_seconds=0.01, send_timeout=5.0)).drain()


async def test_alice_unsubscribes_from_replies_by_email_in_one_click_and_still_gets_them_pushed(
    push_settings: Settings, push_service: PushService, deliver: Any, smtp: SmtpServer
) -> None:
    # Given a server over HTTP whose mails link to it, and alice, verified, who also wants
    # comments by email
    port = free_port()
    served = replace(push_settings, public_url=f"http://127.0.0.1:{port}")
    app = build_app(served, manage_database=False)
    # (after the app: its own registration writes .eml files)
    register_sender(NOTIFICATION_MAIL, NotificationMailSender(email_sender(replace(served, smtp_url=smtp.url))))
    async with serve(app, port), httpx.AsyncClient(base_url=served.public_url) as http:

        async def call(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
            response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                                       headers={"Authorization": f"Bearer {token}"} if token else {})
            return response.json()

        territory = await make_territory()
        odile = await make_person("odile", territory, Role.OFFICIAL)
        alice = await verified("alice", territory)
        await set_preference(call, alice.token, "NEW_COMMENT", "EMAIL", "IMMEDIATELY")
        before = await preferences(call, alice.token)

        # When odile replies to her question, she gets the mail, with a one-click link
        first = await asked(call, alice.token, territory)
        assert not (await reply(call, odile.token, first["id"])).get("errors")
        await drain_mails()
        [message] = smtp.mailbox.wait_for(alice.email)
        link = link_of(message)
        assert link.startswith(f"{served.public_url}/unsubscribe?token=v1.{alice.account.id}.QUESTION_ANSWERED.")
        assert link in text_of(message)
        assert "Unsubscribe" in html_of(message)

        # Opening the link (as a mail scanner would) changes nothing
        opened = await http.get(link, headers={"Accept-Language": "en-GB,en;q=0.8"})
        assert opened.status_code == 200
        assert "Stop emails about: replies to your questions?" in opened.text
        assert '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">' in opened.text
        assert opened.headers["cache-control"] == "no-store"
        assert await preferences(call, alice.token) == before

        # Her mail client POSTs the one-click body, with no login
        clicked = await http.post(link, data=ONE_CLICK)
        assert clicked.status_code == 200, clicked.text
        assert "Vous ne recevrez plus d&#x27;emails pour : les réponses à vos questions." in clicked.text

        # Then replies by email are NEVER, and nothing else moved (other kinds, other channels)
        after = await preferences(call, alice.token)
        assert after[("QUESTION_ANSWERED", "EMAIL")] == "NEVER"
        assert {k: v for k, v in after.items() if k != ("QUESTION_ANSWERED", "EMAIL")} == {
            k: v for k, v in before.items() if k != ("QUESTION_ANSWERED", "EMAIL")
        }
        assert after[("NEW_COMMENT", "EMAIL")] == "IMMEDIATELY"
        assert after[("QUESTION_ANSWERED", "PUSH")] == "IMMEDIATELY"

        # And the next reply sends no email, while her browser still gets the push
        await register(call, alice.token, push_service.browser("alice").subscription())
        second = await asked(call, alice.token, territory, title="And the night buses?")
        assert not (await reply(call, odile.token, second["id"])).get("errors")
        notification = await Notification.filter(account_id=alice.account.id, subject_id=pk(second["id"])).get()
        assert not await DeliveryJob.filter(channel=NOTIFICATION_MAIL, key=f"email:notification:{notification.id}").exists()
        await drain_mails()
        await deliver()
        [push] = await push_service.until(1)
        assert push.payload["kind"] == "QUESTION_ANSWERED"
        assert len(smtp.mailbox.to(alice.email)) == 1


async def test_a_digests_link_stops_the_kinds_it_gathers(
    gql: Any, http: httpx.AsyncClient, smtp: SmtpServer, mail: Callable[[], Awaitable[int]]
) -> None:
    # Given alice, who wants comments and idea news once a day by email, and got some today
    territory = await make_territory()
    alice = await verified("alice", territory)
    for kind in ("NEW_COMMENT", "IDEA_STATUS_CHANGED"):
        await set_preference(gql, alice.token, kind, "EMAIL", "DAILY_DIGEST")
    await set_preference(gql, alice.token, "POLL_CLOSED", "EMAIL", "IMMEDIATELY")
    question = await asked(gql, alice.token, territory)
    await Notification.create(account_id=alice.account.id, kind=NotificationKind.NEW_COMMENT,
                              subject_type="Question", subject_id=pk(question["id"]), message="Bob commented.")
    await enqueue_daily_digests(now().date())
    await mail()

    # When she unsubscribes with the digest's link
    [message] = smtp.mailbox.wait_for(alice.email)
    link = link_of(message)
    assert f"token=v1.{alice.account.id}.IDEA_STATUS_CHANGED~NEW_COMMENT." in link
    clicked = await http.post(link.partition("/unsubscribe")[1] + link.partition("/unsubscribe")[2], data=ONE_CLICK)
    assert clicked.status_code == 200

    # Then both kinds it gathers stop by email (no more digest); the rest stays
    after = await preferences(gql, alice.token)
    assert after[("NEW_COMMENT", "EMAIL")] == after[("IDEA_STATUS_CHANGED", "EMAIL")] == "NEVER"
    assert after[("POLL_CLOSED", "EMAIL")] == "IMMEDIATELY"
    assert after[("NEW_COMMENT", "IN_APP")] == "IMMEDIATELY"


async def test_odile_and_mona_turn_their_reminders_off_from_the_reminders_themselves(
    gql: Any, http: httpx.AsyncClient, smtp: SmtpServer, mail: Callable[[], Awaitable[int]]
) -> None:
    # Given odile, reminded of a question falling due, and mona, of an open report
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    mona = await make_person("mona", territory, Role.MODERATOR)
    alice = await make_person("alice", territory)
    await Account.filter(id__in=[odile.account.id, mona.account.id]).update(email_verified_at=now())
    question = await asked(gql, alice.token, territory, title="Due tomorrow", official_id=odile.member_gid)
    await QuestionRow.filter(id=pk(question["id"])).update(due_at=now() + dt.timedelta(hours=20))
    assert alice.member is not None
    await Report.create(territory_id=territory.id, reporter_id=alice.member.id, subject_type="Question",
                        subject_id=pk(question["id"]), reason="Spam")
    await enqueue_due_reminders(now())
    await enqueue_report_digests(now().date())
    await mail()
    [due] = smtp.mailbox.wait_for(odile.email)
    [reports] = smtp.mailbox.wait_for(mona.email)
    assert f"token=v1.{odile.account.id}.QUESTION_DUE." in link_of(due)
    assert f"token=v1.{mona.account.id}.REPORTS_OPEN." in link_of(reports)

    # When each clicks their reminder's one-click link
    for message in (due, reports):
        link = link_of(message)
        assert (await http.post(link[link.index("/unsubscribe"):], data=ONE_CLICK)).status_code == 200

    # Then that reminder is off by email for them, and the next day brings no reminder
    assert (await preferences(gql, odile.token))[("QUESTION_DUE", "EMAIL")] == "NEVER"
    assert (await preferences(gql, mona.token))[("REPORTS_OPEN", "EMAIL")] == "NEVER"
    assert (await preferences(gql, mona.token))[("QUESTION_DUE", "EMAIL")] == "IMMEDIATELY"
    second = await asked(gql, alice.token, territory, title="Also due", official_id=odile.member_gid)
    await QuestionRow.filter(id=pk(second["id"])).update(due_at=now() + dt.timedelta(hours=20))
    tomorrow = now().date() + dt.timedelta(days=1)
    await enqueue_due_reminders(now())
    await enqueue_report_digests(tomorrow)
    assert mona.member is not None
    assert not await DeliveryJob.filter(key__in=[f"email:due:{pk(second['id'])}",
                                                 f"email:reports:{mona.member.id}:{tomorrow.isoformat()}"]).exists()
    await mail()
    assert len(smtp.mailbox.to(odile.email)) == len(smtp.mailbox.to(mona.email)) == 1


async def test_reminders_are_set_by_email_only_and_never_as_a_digest(gql: Any) -> None:
    alice = await make_person("alice", await make_territory())
    refused = [("QUESTION_DUE", "PUSH", "IMMEDIATELY", "channel"), ("REPORTS_OPEN", "IN_APP", "NEVER", "channel"),
               ("QUESTION_DUE", "EMAIL", "DAILY_DIGEST", "frequency")]
    for kind, channel, frequency, field in refused:
        payload = (await set_preference(gql, alice.token, kind, channel, frequency))["data"]["setNotificationPreference"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", field])]
    assert not await NotificationPreference.filter(account_id=alice.account.id).exists()
    payload = (await set_preference(gql, alice.token, "REPORTS_OPEN", "EMAIL", "NEVER"))["data"]
    assert payload["setNotificationPreference"]["userErrors"] == []


async def test_account_mails_carry_no_unsubscribe_link(
    gql: Any, smtp: SmtpServer, mail: Callable[[], Awaitable[int]], settings: Settings
) -> None:
    # A password reset is asked for and arrives: it is not a mail one unsubscribes from
    territory = await make_territory()
    alice = await verified("alice", territory)
    result = await gql("mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) }",
                       {"i": {"email": alice.email}})
    assert "errors" not in result, result
    await mail()
    [message] = smtp.mailbox.wait_for(alice.email)
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert "unsubscribe" not in text_of(message).lower()

    # And no account mail, whatever its kind, gets one from the sender
    sender = email_sender(settings)
    for kind in TEMPLATES.keys() - {"notification", "digest", "question_due", "reports_open"}:
        params = {key: "x" for key in ("name", "email", "hours", "minutes", "title", "count", "new_email")}
        built = sender.build(Job(id=1, channel=EMAIL_CHANNEL, recipient=alice.email, key=f"k:{kind}", attempt=1,
                                 payload={"kind": kind, "locale": "en", "params": params, "secret": {"token": "t"}}))
        assert "List-Unsubscribe" not in built, kind
    assert not await NotificationPreference.filter(account_id=alice.account.id).exists()
