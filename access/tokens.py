"""Bearer tokens: how a request names its account, and whether that token still holds.

Tokens are random; only their sha256 is stored, so a leaked table gives no usable token.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Any

from models.accounts import AccessToken, Account, Member
from models.clock import now
from reads import sql
from sharing.batches import Batches


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; '' when malformed."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


@functools.cache
def _token_sql(key: str = "token_hash") -> str:
    return (
        f"SELECT {sql.columns(AccessToken, 't', 't_')}, {sql.columns(Account, 'a', 'a_')} "
        f"FROM access_token t JOIN account a ON a.id = t.account_id WHERE t.{key} = $1"
    )


async def account_for_token(token: str) -> tuple[Account, AccessToken] | None:
    """The live account behind a bearer token, or None (unknown, expired, revoked, erased).
    Every authenticated request asks: one fixed statement (reads/sql.py)."""
    return _live_viewer(await sql.fetchrow(_token_sql(), hash_token(token)))


@functools.cache
def _viewers_sql(postgres: bool) -> str:
    """The tokens of a batch ($1: their hashes), their accounts and the accounts' current
    memberships, one row per membership (m_ columns NULL when none)."""
    return (
        f"SELECT {sql.columns(AccessToken, 't', 't_')}, {sql.columns(Account, 'a', 'a_')}, "
        f"{sql.columns(Member, 'm', 'm_')} FROM access_token t JOIN account a ON a.id = t.account_id "
        "LEFT JOIN member m ON m.account_id = a.id AND m.left_at IS NULL "
        f"WHERE t.token_hash {sql.in_list('$1', 'text', postgres)}"
    )


async def _read_viewers(hashes: list[str]) -> dict[str, list[Any]]:
    return await sql.fetch_grouped(_viewers_sql, "t_token_hash", hashes)


# The signed-in requests of a busy process read their tokens together (sharing/batches.py).
_VIEWERS: Batches[str] = Batches("viewers", _read_viewers)


async def viewer_for_token(token: str) -> tuple[Account, AccessToken, dict[int, Member]] | None:
    """account_for_token, with the account's current memberships by territory read by the same
    statement (one row per membership): an HTTP request's membership checks then cost nothing.
    Requests asking at the same time share the statement (sharing/batches.py); each builds its
    own objects from the rows."""
    rows = await _VIEWERS.get(hash_token(token))
    found = _live_viewer(rows[0] if rows else None)
    if found is None:
        return None
    account, access = found
    memberships: dict[int, Member] = {}
    for row in rows:
        if row["m_id"] is not None:
            member = sql.model_from_row(Member, row, "m_")
            member._account = account
            memberships[member.territory_id] = member
    return account, access, memberships


async def account_for_token_again(access: AccessToken) -> tuple[Account, AccessToken] | None:
    """account_for_token for a token read earlier (a websocket's, before each of its
    operations): the account as it is now, or None if the token no longer holds."""
    return _live_viewer(await sql.fetchrow(_token_sql("id"), access.id))


def _live_viewer(row: Any) -> tuple[Account, AccessToken] | None:
    if row is None:
        return None
    access = sql.model_from_row(AccessToken, row, "t_")
    account = sql.model_from_row(Account, row, "a_")
    if not is_live(access, account):
        return None
    access._account = account  # what select_related("account") would have set
    return account, access


# A session's lastUsedAt moves at most this often: no write per request.
LAST_USED_EVERY = dt.timedelta(minutes=1)


async def touch(access: AccessToken) -> None:
    """Move a session's last use to now, unless it moved less than a minute ago. Guarded in
    the statement too, so concurrent requests of one session write it once."""
    at = now()
    if access.last_used_at is not None and at - access.last_used_at < LAST_USED_EVERY:
        return
    # Fixed SQL (reads/sql.py), and the sessions first seen at the same time together.
    await _TOUCHES.get(access.id)
    access.last_used_at = at


async def _touch_all(ids: list[int]) -> dict[int, list[Any]]:
    at = now()
    postgres = sql.postgres()
    await sql.execute(
        f'UPDATE access_token SET "last_used_at" = $1 WHERE "id" {sql.in_list("$2", "int", postgres)} '
        'AND ("last_used_at" IS NULL OR "last_used_at" < $3)',
        at, sql.list_argument(ids, postgres), at - LAST_USED_EVERY,
    )
    return {}


_TOUCHES: Batches[int] = Batches("touches", _touch_all)


def device_of(user_agent: str | None) -> str | None:
    """What a session shows of its device: the User-Agent, printable and at most 200 characters."""
    if not user_agent:
        return None
    shown = "".join(ch for ch in user_agent if ch.isprintable()).strip()[:200]
    return shown or None


def is_live(access: AccessToken, account: Account) -> bool:
    """Neither revoked nor expired, and its account not erased."""
    return access.revoked_at is None and access.expires_at > now() and account.deleted_at is None


async def token_still_live(access: AccessToken | None) -> bool:
    """Whether a token read earlier (a websocket's) still holds now."""
    if access is None:
        return False
    return await AccessToken.filter(
        id=access.id, revoked_at__isnull=True, expires_at__gt=now(), account__deleted_at__isnull=True
    ).exists()
