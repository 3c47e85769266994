"""The proof an unsubscribe link carries (RFC 8058 one-click): which account stops getting
which kinds of notification by email, signed with the deployment's secret.

A token reads `v1.<account id>.<KIND>[~<KIND>...].<signature>`: the signature is an
HMAC-SHA256, base64url, over the version, the account, the kinds and the channel (EMAIL),
keyed by a key derived from the secret for that version. It never expires (a mail read a
year later still unsubscribes) and names only what it names: changing the account, a kind
or a letter of the signature makes it worthless. The version lets a later key replace this
one (add a version, keep reading the old one while its mails live).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from models.notifications import NotificationKind

VERSION = "v1"
# The channel the token stops: only email carries a link (push and the app have settings).
CHANNEL = "EMAIL"
# Longer than any token made here (every kind named): refused before any work.
MAX_TOKEN_LENGTH = 400
_ACCOUNT = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)
# Account ids are 32-bit (PostgreSQL refuses a larger one as a query argument).
MAX_ACCOUNT_ID = 2**31 - 1


@dataclass(frozen=True)
class Unsubscribe:
    """What a valid token names."""

    account_id: int
    kinds: tuple[NotificationKind, ...]


def _key(secret: str, version: str) -> bytes:
    # A key of its own: a signature made here is worth nothing to the secret's other uses.
    return hmac.new(secret.encode(), f"parvis unsubscribe {version}".encode(), hashlib.sha256).digest()


def _signature(secret: str, version: str, account_id: int, kinds: str) -> str:
    message = f"{version}\n{account_id}\n{kinds}\n{CHANNEL}".encode()
    digest = hmac.new(_key(secret, version), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _kinds_part(kinds: Iterable[NotificationKind]) -> str:
    return "~".join(sorted({NotificationKind(kind).value for kind in kinds}))


def unsubscribe_token(secret: str, account_id: int, kinds: Iterable[NotificationKind]) -> str:
    """The token of a link that turns these kinds off by email for this account (URL-safe)."""
    part = _kinds_part(kinds)
    if not part or account_id < 1:
        raise ValueError("an unsubscribe token names an account and at least one kind")
    return f"{VERSION}.{account_id}.{part}.{_signature(secret, VERSION, account_id, part)}"


def read_unsubscribe_token(secret: str, token: str) -> Unsubscribe | None:
    """What a token names, or None for anything this server did not sign as it stands
    (malformed, another version, a changed account or kind, a wrong signature)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not _ACCOUNT.fullmatch(parts[1]):
        return None
    _, account, kinds, _ = parts
    try:
        named = tuple(NotificationKind(kind) for kind in kinds.split("~"))
    except ValueError:
        return None
    account_id = int(account)
    if account_id > MAX_ACCOUNT_ID:
        return None
    # The canonical token of what it names, compared whole and in constant time: one spelling
    # only (no reordered or repeated kinds).
    canonical = _kinds_part(named)
    expected = f"{VERSION}.{account_id}.{canonical}.{_signature(secret, VERSION, account_id, canonical)}"
    if not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    return Unsubscribe(account_id=account_id, kinds=named)
