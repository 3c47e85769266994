"""Plain async factories for the people and places of the stories."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher

from access.tokens import hash_token
from models.accounts import AccessToken, Account, Member, Role
from models.territories import Territory
from schema.relay import encode_id

PASSWORD = "correct horse battery"
_PASSWORD_HASH = PasswordHasher().hash(PASSWORD)


@dataclass
class Persona:
    account: Account
    member: Member | None
    token: str

    @property
    def member_gid(self) -> str:
        assert self.member is not None
        return encode_id("Member", self.member.id)

    @property
    def email(self) -> str:
        assert self.account.email is not None
        return self.account.email


async def make_territory(**overrides: object) -> Territory:
    slug = f"t-{uuid.uuid4().hex[:10]}"
    fields: dict[str, object] = {"slug": slug, "name": f"Territory {slug}", "population": 110_000}
    fields.update(overrides)
    return await Territory.create(**fields)


async def make_person(
    name: str,
    territory: Territory | None = None,
    role: Role = Role.CITIZEN,
    verified: bool = False,
    title: str | None = None,
) -> Persona:
    """An account with a live token, and its membership of `territory` when given."""
    account = await Account.create(
        email=f"{name}.{uuid.uuid4().hex[:8]}@example.org",
        display_name=name.capitalize(),
        password_hash=_PASSWORD_HASH,
        # The personas read English: the stories assert English messages (tests/i18n: French).
        locale="en",
    )
    token = secrets.token_urlsafe(24)
    await AccessToken.create(
        account=account,
        token_hash=hash_token(token),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
        # As logIn sets it: a fresh session's first requests write nothing (access/tokens.touch).
        last_used_at=dt.datetime.now(dt.UTC),
    )
    member = None
    if territory is not None:
        if role == Role.OFFICIAL and title is None:
            title = f"Official {name}"
        member = await Member.create(
            account=account, territory=territory, role=role, verified=verified, title=title
        )
    return Persona(account=account, member=member, token=token)


def gid(kind: str, pk: int) -> str:
    return encode_id(kind, pk)
