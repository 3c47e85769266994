"""Accounts over real HTTP against `python server.py serve`, its mails received by a real SMTP
server: sign up, confirm the address, forget the password, reset it, and the old session
is gone."""

from __future__ import annotations

import re
import time

import httpx

from tests.e2e.server import Client, ServerProcess, new_database_url, run_cli
from tests.mailbox import SmtpServer, html_of, text_of

PASSPHRASE = "a long passphrase"
VIEWER = "{ viewer { email emailVerified locale sessions { totalCount edges { node { current device } } } } }"


def token_in(mail_text: str, path: str) -> str:
    found = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", mail_text)
    assert found, mail_text
    return found.group(1)


def one_more_mail(smtp: SmtpServer, address: str, seen: int) -> str:
    mails = smtp.mailbox.wait_for(address, seen + 1, timeout=20)
    assert len(mails) == seen + 1, f"{len(mails)} mails to {address}"
    return text_of(mails[-1])


def raw(url: str, query: str, variables: dict[str, object] | None = None, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=30)
    return response.json()  # type: ignore[no-any-return]


def test_a_citizen_confirms_the_address_forgets_the_password_and_resets_it(smtp: SmtpServer) -> None:
    db = new_database_url()
    assert run_cli(db, "migrate").returncode == 0
    address = f"claire-{int(time.time() * 1000)}@example.org"
    with ServerProcess(db, SMTP_URL=smtp.url, PARVIS_DELIVERY_POLL_SECONDS="0.5",
                       PARVIS_PUBLIC_URL="https://parvis.example.org") as server:
        # Claire signs up (in English) and gets her token at once...
        signed = httpx.post(f"{server.url}/graphql", headers={"Accept-Language": "en-GB,en;q=0.8"}, json={
            "query": "mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { code } } }",
            "variables": {"i": {"email": address, "password": PASSPHRASE, "displayName": "Claire"}},
        }, timeout=30).json()["data"]["signUp"]
        assert signed["userErrors"] == []
        old_session = Client(server.url, signed["token"])
        assert old_session(VIEWER)["viewer"]["emailVerified"] is False
        assert old_session(VIEWER)["viewer"]["locale"] == "en"

        # ...and the confirmation link by mail, in English, as text and HTML.
        text = one_more_mail(smtp, address, 0)
        message = smtp.mailbox.to(address)[0]
        assert message["Subject"] == "Confirm your email address"
        assert "https://parvis.example.org/verify-email?token=" in html_of(message)
        verified = Client(server.url)(
            "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { viewer { emailVerified } userErrors { code } } }",
            {"i": {"token": token_in(text, "/verify-email")}},
        )["verifyEmail"]
        assert verified == {"viewer": {"emailVerified": True}, "userErrors": []}
        assert old_session(VIEWER)["viewer"]["emailVerified"] is True

        # She forgets her password and asks for a reset: the link comes by mail.
        asked = Client(server.url)(
            "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) }", {"i": {"email": address}}
        )
        assert asked == {"requestPasswordReset": True}
        reset_token = token_in(one_more_mail(smtp, address, 1), "/reset-password")

        reset = Client(server.url)(
            "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { token userErrors { code } } }",
            {"i": {"token": reset_token, "newPassword": "a brand new passphrase"}},
        )["resetPassword"]
        assert reset["userErrors"] == [] and reset["token"]

        # The session she had before no longer works; the new one does, and so does the password.
        refused = raw(server.url, VIEWER, token=old_session.token)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        sessions = Client(server.url, reset["token"])(VIEWER)["viewer"]["sessions"]
        assert sessions["totalCount"] == 1 and sessions["edges"][0]["node"]["current"] is True
        logged = Client(server.url)(
            "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code } } }",
            {"i": {"email": address, "password": "a brand new passphrase"}},
        )["logIn"]
        assert logged["userErrors"] == [] and logged["token"]
        # The link is single-use.
        again = Client(server.url)(
            "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { token userErrors { code } } }",
            {"i": {"token": reset_token, "newPassword": "yet another passphrase"}},
        )["resetPassword"]
        assert again["userErrors"] == [{"code": "INVALID_TOKEN"}]
        # She is told her password changed.
        assert "password of your account just changed" in one_more_mail(smtp, address, 2)
