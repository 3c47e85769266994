"""People: accounts, their bearer tokens, and their memberships of territories."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.territories import Territory


class Role(StrEnum):
    CITIZEN = "CITIZEN"
    OFFICIAL = "OFFICIAL"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


class Account(Model):
    id = fields.IntField(primary_key=True)
    # Null once the person exercised their right to erasure.
    email = fields.CharField(max_length=254, unique=True, null=True)
    display_name = fields.CharField(max_length=100)
    password_hash = fields.CharField(max_length=200, null=True)
    # When the current email was confirmed through an emailed link; null until then.
    email_verified_at = fields.DatetimeField(null=True)
    # "fr" or "en": the language of the emails the account receives.
    locale = fields.CharField(max_length=8, default="fr")
    created_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"


class AccessToken(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="tokens", on_delete=fields.CASCADE
    )
    # sha256 of the bearer token: a leaked table gives no usable token.
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    # A token is a session of one device: what its User-Agent said, and when it was last
    # used (moved at most once a minute, so a request does not cost a write).
    device = fields.CharField(max_length=200, null=True)
    last_used_at = fields.DatetimeField(null=True)

    account_id: int

    class Meta:
        table = "access_token"


class EmailTokenPurpose(StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"


class EmailToken(Model):
    """A token sent by email (verify an address, reset a password): random, single-use,
    expiring, and stored only as its sha256."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="email_tokens", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(EmailTokenPurpose, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    # The address the token was sent to: verifying confirms that address, not a later one.
    email = fields.CharField(max_length=254)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    account_id: int

    class Meta:
        table = "email_token"


class Member(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="memberships", on_delete=fields.CASCADE
    )
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="members", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, default=Role.CITIZEN, max_length=16)
    verified = fields.BooleanField(default=False)
    # The mandate of an official ("Vice-president for mobility"); kept if the role changes.
    title = fields.CharField(max_length=200, null=True)
    joined_at = fields.DatetimeField(auto_now_add=True)
    # Set when the person left the territory: the row stays, as their questions, ideas and
    # poll participations point at it (one ballot per member must outlive leaving and
    # re-joining); a left membership counts as none. Null while a member.
    left_at = fields.DatetimeField(null=True)

    account_id: int
    territory_id: int

    class Meta:
        table = "member"
        unique_together = (("account", "territory"),)
