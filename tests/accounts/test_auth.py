"""Accounts: sign up, log in, tokens, log out, erasure."""

from __future__ import annotations

import datetime as dt

from access.tokens import hash_token
from models.accounts import AccessToken, Account
from tests.factories import PASSWORD, make_person, make_territory

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { token viewer { id email displayName } userErrors { field message code } }
}"""
LOG_IN = """
mutation($input: LogInInput!) {
  logIn(input: $input) { token viewer { email } userErrors { field code message } }
}"""
VIEWER = "{ viewer { id email displayName memberships { id role } } }"


async def test_alice_signs_up_with_a_normalised_email_and_gets_a_working_token(gql):
    result = await gql(SIGN_UP, {"input": {"email": "  Alice.Martin@Example.ORG ", "password": "a long passphrase", "displayName": "Alice"}})

    payload = result["data"]["signUp"]
    assert payload["userErrors"] == []
    assert payload["viewer"]["email"] == "alice.martin@example.org"
    viewer = await gql(VIEWER, token=payload["token"])
    assert viewer["data"]["viewer"]["displayName"] == "Alice"
    account = await Account.get(email="alice.martin@example.org")
    assert account.password_hash is not None and account.password_hash.startswith("$argon2id$")
    # The token is stored only as its hash.
    assert await AccessToken.filter(account_id=account.id, token_hash=hash_token(payload["token"])).exists()
    assert not await AccessToken.filter(token_hash=payload["token"]).exists()


async def test_a_used_email_is_taken_whatever_its_case(gql):
    bob = await make_person("bob")
    result = await gql(SIGN_UP, {"input": {"email": bob.email.upper(), "password": "another passphrase", "displayName": "Bob 2"}})

    assert result["data"]["signUp"]["token"] is None
    assert result["data"]["signUp"]["userErrors"] == [
        {"field": ["input", "email"], "message": "This email is already used.", "code": "TAKEN"}
    ]
    assert await Account.filter(display_name="Bob 2").count() == 0


async def test_sign_up_refuses_short_passwords_and_bad_emails_with_field_paths(gql):
    result = await gql(SIGN_UP, {"input": {"email": "not-an-email", "password": "short", "displayName": " "}})

    errors = result["data"]["signUp"]["userErrors"]
    assert {tuple(e["field"]) for e in errors} == {
        ("input", "email"), ("input", "password"), ("input", "displayName")
    }
    assert {e["code"] for e in errors} == {"INVALID"}


async def test_log_in_does_not_say_which_half_was_wrong(gql):
    carol = await make_person("carol")
    wrong_password = await gql(LOG_IN, {"input": {"email": carol.email, "password": "not the password"}})
    unknown_email = await gql(LOG_IN, {"input": {"email": "nobody@example.org", "password": PASSWORD}})

    for result in (wrong_password, unknown_email):
        assert result["data"]["logIn"]["token"] is None
        assert result["data"]["logIn"]["userErrors"] == [
            {"field": None, "code": "BAD_CREDENTIALS", "message": "The email or the password is wrong."}
        ]
    good = await gql(LOG_IN, {"input": {"email": f" {carol.email.upper()}", "password": PASSWORD}})
    assert good["data"]["logIn"]["viewer"]["email"] == carol.email


async def test_log_out_revokes_the_token(gql):
    dave = await make_person("dave")
    assert (await gql("mutation { logOut }", token=dave.token))["data"]["logOut"] is True

    after = await gql(VIEWER, token=dave.token)
    assert after["data"] is None
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_bad_or_expired_tokens_are_unauthenticated_even_for_public_reads(gql):
    erin = await make_person("erin")
    await AccessToken.filter(token_hash=hash_token(erin.token)).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    for token in (erin.token, "made-up-token"):
        result = await gql("{ territories(first: 1) { totalCount } }", token=token)
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    anonymous = await gql(VIEWER)
    assert anonymous["data"] == {"viewer": None} and "errors" not in anonymous


async def test_log_out_needs_authentication(gql):
    result = await gql("mutation { logOut }")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_delete_account_erases_the_person_but_keeps_their_membership_anonymous(gql):
    territory = await make_territory()
    frank = await make_person("frank", territory)
    wrong = await gql('mutation { deleteAccount(input: {password: "wrong one!!"}) }', token=frank.token)
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_CREDENTIALS"
    assert (await Account.get(id=frank.account.id)).email == frank.email

    done = await gql(f'mutation {{ deleteAccount(input: {{password: "{PASSWORD}"}}) }}', token=frank.token)

    assert done["data"]["deleteAccount"] is True
    account = await Account.get(id=frank.account.id)
    assert (account.email, account.password_hash, account.display_name) == (None, None, "Former member")
    assert not await AccessToken.filter(account_id=account.id).exists()
    node = await gql("query($id: ID!) { node(id: $id) { ... on Member { displayName } } }", {"id": frank.member_gid})
    assert node["data"]["node"]["displayName"] == "Former member"
    # The address can be used again by someone new.
    again = await gql(SIGN_UP, {"input": {"email": frank.email, "password": "a brand new passphrase", "displayName": "F"}})
    assert again["data"]["signUp"]["userErrors"] == []
