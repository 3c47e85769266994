"""A crowd of members made fast (bulk inserts), and the sizes of the races.

The races run at full size (1,000 members) on PostgreSQL, where concurrency is real;
SQLite serializes every transaction behind one connection, so a smaller crowd proves
the same bookkeeping there without slowing the suite.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import uuid
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

from access.tokens import hash_token
from models.accounts import AccessToken, Account, Member, Role
from models.territories import Territory
from tests.factories import _PASSWORD_HASH, Persona

T = TypeVar("T")

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
CROWD = 1000 if ON_POSTGRES else 100
SAME_MEMBER_RACE = 200
IN_FLIGHT = 50


async def make_crowd(territory: Territory, size: int, *, role: Role = Role.CITIZEN) -> list[Persona]:
    """`size` members of `territory`, each with a live token: three bulk inserts, not 3 x size."""
    batch = uuid.uuid4().hex[:8]
    emails = [f"crowd{i}.{batch}@example.org" for i in range(size)]
    await Account.bulk_create(
        [Account(email=e, display_name=f"Voter {i}", password_hash=_PASSWORD_HASH) for i, e in enumerate(emails)],
        batch_size=500,
    )
    accounts = {a.email: a for a in await Account.filter(email__in=emails)}
    ordered = [accounts[e] for e in emails]
    tokens = [secrets.token_urlsafe(24) for _ in ordered]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await AccessToken.bulk_create(
        [
            AccessToken(account_id=a.id, token_hash=hash_token(t), expires_at=expires)
            for a, t in zip(ordered, tokens, strict=True)
        ],
        batch_size=500,
    )
    await Member.bulk_create(
        [Member(account_id=a.id, territory_id=territory.id, role=role) for a in ordered], batch_size=500
    )
    rows = await Member.filter(territory_id=territory.id, account_id__in=[a.id for a in ordered])
    members = {m.account_id: m for m in rows}
    return [Persona(account=a, member=members[a.id], token=t) for a, t in zip(ordered, tokens, strict=True)]


async def all_at_once(calls: Iterable[Awaitable[T]], in_flight: int = IN_FLIGHT) -> list[T]:
    """Run the calls concurrently, at most `in_flight` at a time, results in order."""
    gate = asyncio.Semaphore(in_flight)

    async def gated(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(gated(c) for c in calls)))


def outcome(result: dict[str, Any], mutation: str) -> str:
    """COUNTED for a payload without userErrors, else its first userError code."""
    assert not result.get("errors"), result
    errors = result["data"][mutation]["userErrors"]
    return errors[0]["code"] if errors else "COUNTED"
