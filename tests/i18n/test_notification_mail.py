"""Notification emails speak their recipient's language: the template and the notification's
text both, English for an English account and French for a French one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models.accounts import Account, Role
from models.clock import now
from tests.factories import make_person, make_territory
from tests.mailbox import SmtpServer
from tests.questions.stories import asked, reply
from tests.reach.test_email import (
    mail_notifications,  # noqa: F401 - the fixture
    verified,
)


async def test_an_english_account_gets_its_notification_email_in_english_and_a_french_one_in_french(
    gql: Any, smtp: SmtpServer, mail_notifications: Callable[[], Awaitable[int]]  # noqa: F811
) -> None:
    # Given alice, whose account reads English, and bruno, whose account reads French
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await verified("alice", territory)
    bruno = await verified("bruno", territory)
    await Account.filter(id=alice.account.id).update(locale="en")
    await Account.filter(id=bruno.account.id).update(locale="fr", email_verified_at=now())

    # When odile replies to a question of each
    for asker in (alice, bruno):
        question = await asked(gql, asker.token, territory)
        assert not (await reply(gql, odile.token, question["id"])).get("errors")
    await mail_notifications()

    # Then alice's mail is English through and through, bruno's French
    [to_alice] = smtp.mailbox.wait_for(alice.email)
    english = to_alice.get_body(("plain",)).get_content()
    assert to_alice["Subject"] == "News for you on Parvis"
    assert english.startswith("Hello Alice,")
    assert "Odile replied to your question: " in english and "Find it in the app." in english
    assert "répondu" not in english

    [to_bruno] = smtp.mailbox.wait_for(bruno.email)
    french = to_bruno.get_body(("plain",)).get_content()
    assert to_bruno["Subject"] == "Du nouveau pour vous sur Parvis"
    assert "Odile a répondu à votre question : " in french and "replied" not in french
