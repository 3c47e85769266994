"""Property-based fuzzing of the account mutations (emailed tokens, passwords, emails,
profile, sessions): whatever arrives, the answer is a result or a refusal with a code, never
an internal error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.factories import PASSWORD, Persona, make_person
from tests.fuzz.world import FUZZ, texts

USER_ERRORS = "userErrors { field message code }"
REFUSALS = {"UNAUTHENTICATED", "NOT_FOUND", "RATE_LIMITED", "BAD_USER_INPUT"}
tokens = st.one_of(texts, st.sampled_from(["", "\ud800", "\x00", "a" * 100_000, "é" * 50, "../../etc/passwd"]))
passwords = st.one_of(texts, st.sampled_from([PASSWORD, "\ud800" * 12, "\x00" * 12, "p" * 1001]))


@pytest.fixture(scope="module")
async def frank() -> Persona:
    """Someone whose password and email the fuzzers may change: not one of the world's people."""
    return await make_person("frank")


def check(result: dict[str, Any], mutation: str) -> None:
    errors = result.get("errors")
    if errors:
        for error in errors:
            code = (error.get("extensions") or {}).get("code")
            coercion = code is None and error["message"].startswith("Variable '$input'")
            assert code in REFUSALS or coercion, result
        event(f"top-level {(errors[0].get('extensions') or {}).get('code')}")
        return
    payload = result["data"][mutation]
    if isinstance(payload, dict):
        for error in payload["userErrors"]:
            assert error["code"] and error["message"], result
        event("userErrors " + ",".join(sorted({e["code"] for e in payload["userErrors"]})))


async def run(gql: Any, mutation: str, input_type: str, selection: str, value: Any, token: str | None) -> None:
    document = f"mutation($input: {input_type}) {{ {mutation}(input: $input) {selection} }}"
    check(await gql(document, {"input": value}, token=token), mutation)


@FUZZ
@given(token=tokens)
async def test_verify_email(gql, token):
    await run(gql, "verifyEmail", "VerifyEmailInput!", f"{{ token {USER_ERRORS} }}", {"token": token}, None)


@FUZZ
@given(token=tokens, password=passwords)
async def test_reset_password(gql, token, password):
    await run(gql, "resetPassword", "ResetPasswordInput!", f"{{ token {USER_ERRORS} }}",
              {"token": token, "newPassword": password}, None)


@FUZZ
@given(email=st.one_of(texts, st.emails().map(str), st.sampled_from(["\ud800@x.org", "a\x00@b.org", "x" * 300])))
async def test_request_password_reset(gql, email):
    await run(gql, "requestPasswordReset", "RequestPasswordResetInput!", "", {"email": email}, None)


@FUZZ
@given(current=passwords, new=passwords)
async def test_change_password(gql, frank, current, new):
    await run(gql, "changePassword", "ChangePasswordInput!", f"{{ token {USER_ERRORS} }}",
              {"currentPassword": current, "newPassword": new}, frank.token)


@FUZZ
@given(password=passwords, email=st.one_of(texts, st.emails().map(str), st.sampled_from(["\ud800@x.org", "A@B.ORG"])))
async def test_change_email(gql, frank, password, email):
    await run(gql, "changeEmail", "ChangeEmailInput!", f"{{ token {USER_ERRORS} }}",
              {"password": password, "newEmail": email}, frank.token)


@FUZZ
@given(name=st.one_of(st.none(), texts), locale=st.one_of(st.none(), texts, st.sampled_from(["fr", "en", "EN", "\ud800"])))
async def test_update_profile(gql, frank, name, locale):
    await run(gql, "updateProfile", "UpdateProfileInput!", f"{{ viewer {{ id }} {USER_ERRORS} }}",
              {"displayName": name, "locale": locale}, frank.token)


@FUZZ
@given(session=st.one_of(texts, st.sampled_from(["U2Vzc2lvbjox", "U2Vzc2lvbjow", "U2Vzc2lvbjotMQ", "\ud800"])))
async def test_revoke_session(gql, frank, session):
    await run(gql, "revokeSession", "RevokeSessionInput!", "", {"sessionId": session}, frank.token)
