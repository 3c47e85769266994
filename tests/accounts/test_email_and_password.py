"""Email verification, password reset, changing password, email and profile."""

from __future__ import annotations

import datetime as dt

import pytest

from access.tokens import hash_token
from models.accounts import AccessToken, Account, EmailToken, Member, Role
from models.clock import now
from models.questions import Question
from models.territories import Territory
from schema.relay import encode_id
from tests.accounts.stories import (
    CHANGE_EMAIL,
    CHANGE_PASSWORD,
    REQUEST_RESET,
    RESEND,
    RESET,
    UPDATE_PROFILE,
    VERIFY,
    VIEWER,
    an_address,
    link_token,
    sign_up,
)
from tests.factories import PASSWORD, make_person, make_territory
from tests.mailbox import html_of, text_of
from tests.polls.stories import created, option_ids, vote
from tests.questions.stories import ask

JOIN = """mutation($input: JoinTerritoryInput!) { joinTerritory(input: $input) { member { id } userErrors { code } } }"""
SETTINGS = """mutation($input: UpdateTerritoryInput!) {
  updateTerritory(input: $input) { territory { emailVerificationRequired } userErrors { code } } }"""


async def test_alice_signs_up_gets_her_token_at_once_and_a_link_that_confirms_her_address(gql, mail, smtp):
    address = an_address()
    signed = await sign_up(gql, address)
    assert signed["userErrors"] == [] and signed["token"]
    assert signed["viewer"]["emailVerified"] is False
    assert signed["viewer"]["locale"] == "fr"

    await mail()
    [message] = smtp.mailbox.wait_for(address)
    assert message["Subject"] == "Confirmez votre adresse email"
    assert "Bonjour Alice," in text_of(message) and "<p>Bonjour Alice,</p>" in html_of(message)
    token = link_token(smtp, address, "/verify-email")
    # Stored hashed only.
    row = await EmailToken.get(token_hash=hash_token(token))
    assert not await EmailToken.filter(token_hash=token).exists()

    verified = (await gql(VERIFY, {"input": {"token": token}}))["data"]["verifyEmail"]
    assert verified["userErrors"] == [] and verified["viewer"] == {"email": address, "emailVerified": True}
    assert (await gql(VIEWER, token=signed["token"]))["data"]["viewer"]["emailVerified"] is True
    assert (await EmailToken.get(id=row.id)).used_at is not None


async def test_resend_mails_a_new_link_and_answers_false_once_confirmed(gql, mail, smtp):
    address = an_address()
    signed = await sign_up(gql, address)
    assert (await gql(RESEND, token=signed["token"]))["data"] == {"resendEmailVerification": True}
    await mail()
    # Either link works (both unused); take the newest token issued.
    second = link_token(smtp, address, "/verify-email", count=2)

    assert (await gql(VERIFY, {"input": {"token": second}}))["data"]["verifyEmail"]["userErrors"] == []
    assert (await gql(RESEND, token=signed["token"]))["data"] == {"resendEmailVerification": False}


async def test_a_territory_requiring_verified_emails_lets_unverified_members_join_and_read_but_not_write(gql, mail, smtp):
    adam = await make_person("adam")
    territory = await make_territory()
    assert (await Territory.get(id=territory.id)).email_verification_required is False
    await Member.create(account=adam.account, territory=territory, role=Role.ADMIN)
    gid = encode_id("Territory", territory.id)
    turned = await gql(SETTINGS, {"input": {"territoryId": gid, "emailVerificationRequired": True}}, token=adam.token)
    assert turned["data"]["updateTerritory"] == {"territory": {"emailVerificationRequired": True}, "userErrors": []}
    poll = await created(gql, adam.token, gid)

    address = an_address("bob")
    bob = await sign_up(gql, address, "Bob")
    joined = await gql(JOIN, {"input": {"territoryId": gid}}, token=bob["token"])
    assert joined["data"]["joinTerritory"]["userErrors"] == []

    refused = await ask(gql, bob["token"], territory)
    assert refused["question"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["EMAIL_NOT_VERIFIED"]
    assert await Question.filter(territory_id=territory.id).count() == 0
    ballot = (await vote(gql, bob["token"], poll["id"], option_ids(poll)[0]))["data"]["castVote"]
    assert [e["code"] for e in ballot["userErrors"]] == ["EMAIL_NOT_VERIFIED"]

    await mail()
    await gql(VERIFY, {"input": {"token": link_token(smtp, address, "/verify-email")}})
    asked = await ask(gql, bob["token"], territory)
    assert asked["userErrors"] == [] and asked["question"]
    ballot = (await vote(gql, bob["token"], poll["id"], option_ids(poll)[0]))["data"]["castVote"]
    assert ballot["userErrors"] == []


async def test_a_forgotten_password_is_reset_by_mail_and_every_session_ends(gql, mail, smtp):
    address = an_address()
    signed = await sign_up(gql, address)
    assert (await gql(REQUEST_RESET, {"input": {"email": f" {address.upper()} "}}))["data"] == {
        "requestPasswordReset": True
    }
    await mail()
    token = link_token(smtp, address, "/reset-password")

    short = (await gql(RESET, {"input": {"token": token, "newPassword": "short"}}))["data"]["resetPassword"]
    assert short["userErrors"] == [
        {"field": ["input", "newPassword"], "message": "Must be 10 to 1000 characters long.", "code": "INVALID"}
    ]
    reset = (await gql(RESET, {"input": {"token": token, "newPassword": "a new passphrase"}}))["data"]["resetPassword"]
    assert reset["userErrors"] == [] and reset["token"]
    # Following the link proved the address.
    assert reset["viewer"]["emailVerified"] is True
    old = await gql(VIEWER, token=signed["token"])
    assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql(VIEWER, token=reset["token"]))["data"]["viewer"]["email"] == address


async def test_change_password_needs_the_current_one_and_ends_the_other_sessions(gql, mail, smtp):
    carol = await make_person("carol")
    # A second device of carol's.
    await AccessToken.create(account=carol.account, token_hash=hash_token("carol-phone-token"),
                             expires_at=now() + dt.timedelta(days=1))

    wrong = await gql(CHANGE_PASSWORD, {"input": {"currentPassword": "not it at all", "newPassword": "a new passphrase"}},
                      token=carol.token)
    assert wrong["data"]["changePassword"]["userErrors"] == [
        {"field": ["input", "currentPassword"], "message": "The password is wrong.", "code": "BAD_CREDENTIALS"}
    ]
    assert (await gql(VIEWER, token="carol-phone-token"))["data"]["viewer"] is not None

    done = await gql(CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "a new passphrase"}},
                     token=carol.token)
    assert done["data"]["changePassword"]["userErrors"] == []
    assert (await gql(VIEWER, token=carol.token))["data"]["viewer"]["email"] == carol.account.email
    assert (await gql(VIEWER, token="carol-phone-token"))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await mail()
    assert "Your password changed" in [m["Subject"] for m in smtp.mailbox.wait_for(carol.account.email)]


async def test_change_email_is_confirmed_again_at_the_new_address_and_the_old_one_is_told(gql, mail, smtp):
    dave = await make_person("dave")
    old = dave.account.email
    await Account.filter(id=dave.account.id).update(email_verified_at=dave.account.created_at)
    taken = await make_person("taken")
    new = an_address("dave")

    wrong = await gql(CHANGE_EMAIL, {"input": {"password": "not the password", "newEmail": new}}, token=dave.token)
    assert [e["code"] for e in wrong["data"]["changeEmail"]["userErrors"]] == ["BAD_CREDENTIALS"]
    clash = await gql(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": taken.account.email}}, token=dave.token)
    assert clash["data"]["changeEmail"]["userErrors"] == [
        {"field": ["input", "newEmail"], "message": "This email is already used.", "code": "TAKEN"}
    ]
    bad = await gql(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": "nope"}}, token=dave.token)
    assert [e["field"] for e in bad["data"]["changeEmail"]["userErrors"]] == [["input", "newEmail"]]
    assert (await Account.get(id=dave.account.id)).email == old

    moved = await gql(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": new.upper()}}, token=dave.token)
    assert moved["data"]["changeEmail"] == {"token": None, "viewer": {"email": new, "emailVerified": False},
                                            "userErrors": []}
    await mail()
    [told] = smtp.mailbox.wait_for(old)
    assert new in text_of(told)
    token = link_token(smtp, new, "/verify-email")
    assert (await gql(VERIFY, {"input": {"token": token}}))["data"]["verifyEmail"]["viewer"]["emailVerified"] is True


@pytest.mark.parametrize(("change", "field"), [({"locale": "de"}, "locale"), ({"displayName": "  "}, "displayName")])
async def test_update_profile_refuses_what_is_not_a_locale_or_a_name(gql, change, field):
    erin = await make_person("erin")
    result = await gql(UPDATE_PROFILE, {"input": change}, token=erin.token)
    assert [(e["field"], e["code"]) for e in result["data"]["updateProfile"]["userErrors"]] == [
        (["input", field], "INVALID")
    ]
    assert (await Account.get(id=erin.account.id)).display_name == "Erin"


async def test_update_profile_changes_name_and_language_of_the_mails(gql, mail, smtp):
    address = an_address("fred")
    fred = await sign_up(gql, address, "Fred")
    result = await gql(UPDATE_PROFILE, {"input": {"displayName": " Frédéric ", "locale": "en"}}, token=fred["token"])
    assert result["data"]["updateProfile"] == {"viewer": {"displayName": "Frédéric", "locale": "en"}, "userErrors": []}

    await gql(RESEND, token=fred["token"])
    await mail()
    # Mails are written when sent: the sign-up's too is in English, with the new name.
    mails = smtp.mailbox.wait_for(address, 2)
    assert [m["Subject"] for m in mails] == ["Confirm your email address"] * 2
    assert all("Hello Frédéric," in text_of(m) for m in mails)
