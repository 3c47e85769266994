"""The mails of accounts and the tokens they carry: queued in the mutation's transaction,
sent after commit by the delivery queue (docs/adr/0010, docs/notifications.md).

An emailed token is random (256 bits), single-use, expiring, and stored only as its sha256.
It is issued by the worker when it sends the mail (a preparer), so the queue never holds it
and a mail for an address the account left meanwhile is not sent.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from access.i18n import N_
from access.tokens import hash_token
from delivery import Job, enqueue, register_preparer
from delivery.email import CHANNEL
from models import clock
from models.accounts import Account, EmailToken, EmailTokenPurpose
from resolvers.validation import is_utf8
from schema.errors import Refusal, UserErrorCode

VERIFY_HOURS = 48
RESET_MINUTES = 60
# The payload kind of a reset asked for an address (prepared into "reset_password").
RESET_REQUEST = "reset_request"
VERIFY_REQUEST = "verify_request"
INVALID_TOKEN_MESSAGE = N_("This link is invalid, used or expired.")


async def do_issue_email_token(account: Account, purpose: EmailTokenPurpose, email: str) -> tuple[EmailToken, str]:
    ttl = dt.timedelta(hours=VERIFY_HOURS) if purpose == EmailTokenPurpose.VERIFY_EMAIL else dt.timedelta(
        minutes=RESET_MINUTES
    )
    token = secrets.token_urlsafe(32)
    row = await EmailToken.create(
        account=account, purpose=purpose, token_hash=hash_token(token), email=email, expires_at=clock.now() + ttl
    )
    return row, token


async def do_use_email_token(token: str, purpose: EmailTokenPurpose, *field: str) -> EmailToken:
    """Spend an emailed token: INVALID_TOKEN when unknown, of another purpose, used or
    expired. One conditional UPDATE: of two concurrent uses, one wins."""
    if not is_utf8(token):  # a lone surrogate cannot even be hashed: no token of ours
        raise Refusal.of(UserErrorCode.INVALID_TOKEN, INVALID_TOKEN_MESSAGE, *field)
    at = clock.now()
    digest = hash_token(token)
    used = await EmailToken.filter(
        token_hash=digest, purpose=purpose, used_at__isnull=True, expires_at__gt=at
    ).update(used_at=at)
    row = await EmailToken.filter(token_hash=digest).select_related("account").first() if used else None
    if row is None or row.account.deleted_at is not None:
        raise Refusal.of(UserErrorCode.INVALID_TOKEN, INVALID_TOKEN_MESSAGE, *field)
    return row


def _mail(account: Account, kind: str, **params: object) -> dict[str, object]:
    return {"kind": kind, "locale": account.locale, "params": {"name": account.display_name, **params}}


async def notify_email_verification(account: Account, email: str) -> None:
    """Mail `email` a link that confirms it for the account (prepare_email_verification)."""
    payload = {"kind": VERIFY_REQUEST, "account": account.id}
    await enqueue(CHANNEL, email, payload, f"email:verify:{account.id}:{uuid.uuid4().hex}")


async def prepare_email_verification(job: Job) -> dict[str, Any] | None:
    """At send time: the confirmation mail with a new token, or nothing when the account
    moved to another address (or was erased) since."""
    account = await Account.filter(id=job.payload.get("account"), deleted_at__isnull=True).first()
    if account is None or account.email != job.recipient:
        return None
    _, token = await do_issue_email_token(account, EmailTokenPurpose.VERIFY_EMAIL, job.recipient)
    payload = _mail(account, "verify_email", email=job.recipient, hours=VERIFY_HOURS)
    return {**payload, "secret": {"token": token}}


async def notify_password_reset(email: str) -> None:
    """Queue a reset mail for `email`, whether or not it has an account: the request does
    the same work either way, and the worker finds out (prepare_password_reset)."""
    await enqueue(CHANNEL, email, {"kind": RESET_REQUEST}, f"email:reset:{uuid.uuid4().hex}")


async def prepare_password_reset(job: Job) -> dict[str, Any] | None:
    """At send time: the reset mail with a new token for the address's account, or nothing
    when it has none (or no password: an erased account). The token is never stored in the
    queue, only its hash in email_token."""
    account = await Account.filter(email=job.recipient, deleted_at__isnull=True).first()
    if account is None or account.password_hash is None:
        return None
    _, token = await do_issue_email_token(account, EmailTokenPurpose.RESET_PASSWORD, job.recipient)
    return {**_mail(account, "reset_password", minutes=RESET_MINUTES), "secret": {"token": token}}


register_preparer(RESET_REQUEST, prepare_password_reset)
register_preparer(VERIFY_REQUEST, prepare_email_verification)


async def notify_address_taken(account: Account) -> None:
    """Tell an address's owner someone tried to sign up with it: at most one mail an hour,
    whoever tries (the key is the hour)."""
    if account.email is None:
        return
    hour = clock.now().strftime("%Y%m%d%H")
    await enqueue(CHANNEL, account.email, _mail(account, "account_exists"), f"email:taken:{account.id}:{hour}")


async def notify_password_changed(account: Account) -> None:
    if account.email is None:
        return
    key = f"email:password-changed:{account.id}:{uuid.uuid4().hex}"
    await enqueue(CHANNEL, account.email, _mail(account, "password_changed"), key)


async def notify_email_changed(account: Account, old_email: str, new_email: str) -> None:
    """Tell the old address where the account went."""
    key = f"email:email-changed:{account.id}:{uuid.uuid4().hex}"
    await enqueue(CHANNEL, old_email, _mail(account, "email_changed", new_email=new_email), key)
