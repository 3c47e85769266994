"""What the account tests share: the operations, and reading the links mailed to people."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.mailbox import SmtpServer, text_of

PASSPHRASE = "a long passphrase"
SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { token viewer { email emailVerified locale } userErrors { field message code } } }"""
VERIFY = """mutation($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { token viewer { email emailVerified } userErrors { field message code } } }"""
RESEND = "mutation { resendEmailVerification }"
REQUEST_RESET = "mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) }"
RESET = """mutation($input: ResetPasswordInput!) {
  resetPassword(input: $input) { token viewer { email emailVerified } userErrors { field message code } } }"""
CHANGE_PASSWORD = """mutation($input: ChangePasswordInput!) {
  changePassword(input: $input) { token viewer { email } userErrors { field message code } } }"""
CHANGE_EMAIL = """mutation($input: ChangeEmailInput!) {
  changeEmail(input: $input) { token viewer { email emailVerified } userErrors { field message code } } }"""
UPDATE_PROFILE = """mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) { viewer { displayName locale } userErrors { field message code } } }"""
REVOKE = "mutation($input: RevokeSessionInput!) { revokeSession(input: $input) }"
VIEWER = """{ viewer { email emailVerified locale displayName
  sessions { totalCount edges { node { id device createdAt lastUsedAt current } } } } }"""


def an_address(name: str = "alice") -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.org"


async def sign_up(gql: Any, email: str, name: str = "Alice") -> dict[str, Any]:
    result = await gql(SIGN_UP, {"input": {"email": email, "password": PASSPHRASE, "displayName": name}})
    payload: dict[str, Any] = result["data"]["signUp"]
    return payload


def link_token(smtp: SmtpServer, address: str, path: str, count: int = 1) -> str:
    """The token of the `count`-th mail to `address` that links to `path`."""
    texts = [text_of(m) for m in smtp.mailbox.wait_for(address, count)]
    tokens = [m.group(1) for t in texts if (m := re.search(re.escape(path) + r"\?token=([\w-]+)", t))]
    assert len(tokens) >= count, texts
    return tokens[count - 1]
