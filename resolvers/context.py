"""The request context: who is asking, what they may see, loaders and the outbox."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket

from models.accounts import AccessToken, Account, Member, Role
from resolvers import sql
from resolvers.loaders import Loaders
from resolvers.ratelimit import Limiter
from schema.errors import Refusal, UserErrorCode, forbidden, unauthenticated
from subscriptions.broker import Broker
from subscriptions.events import Event

STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def account_for_token(token: str) -> tuple[Account, AccessToken] | None:
    """The live account behind a bearer token, or None (unknown, expired, revoked).
    Every authenticated request asks: one fixed statement (resolvers/sql.py)."""
    row = await sql.fetchrow(_token_sql(), hash_token(token))
    if row is None:
        return None
    access = sql.model_from_row(AccessToken, row, "t_")
    account = sql.model_from_row(Account, row, "a_")
    if access.revoked_at is not None or access.expires_at <= dt.datetime.now(dt.UTC):
        return None
    if account.deleted_at is not None:
        return None
    access._account = account  # what select_related("account") would have set
    return account, access


@functools.cache
def _token_sql() -> str:
    return (
        f"SELECT {sql.columns(AccessToken, 't', 't_')}, {sql.columns(Account, 'a', 'a_')} "
        "FROM access_token t JOIN account a ON a.id = t.account_id WHERE t.token_hash = $1"
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; '' when malformed."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


@dataclass
class Context:
    request: Request | WebSocket | None
    response: Any
    broker: Broker
    settings: Any
    account: Account | None = None
    token: AccessToken | None = None
    # A token was sent but is unknown, expired or revoked: the operation fails as a whole.
    auth_failed: bool = False
    # The app's limiter (server.py builds one per app); a hand-built Context gets its own.
    limiter: Limiter = field(default_factory=Limiter)
    outbox: list[Event] = field(default_factory=list)
    # Observability: the process's metrics registry, and the cost QueryCost computed.
    metrics: Any = None
    query_cost: int | None = None
    # Made on first use: an idle websocket (thousands per process) never pays for them.
    _loaders: Loaders | None = field(default=None, init=False, repr=False)
    # The app's shared pages (resolvers/page_cache.py), set on HTTP requests by the server;
    # a class attribute, so a websocket's context carries nothing for it.
    pages = None

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders (or this subscription event's: see fresh_loaders)."""
        if self._loaders is None:
            self._loaders = Loaders(self.account.id if self.account else None)
        return self._loaders

    def fresh_loaders(self) -> None:
        """New loaders, for a long-lived (websocket) context before each event."""
        self._loaders = None

    def require_account(self) -> Account:
        if self.account is None:
            raise unauthenticated()
        return self.account

    async def membership(self, territory_id: int) -> Member | None:
        if self.account is None:
            return None
        return await self.loaders.membership.load(territory_id)

    async def check_member(self, territory_id: int, action: str, *field: str) -> Member:
        """The viewer's membership of the territory, or a NOT_A_MEMBER refusal saying
        what joining would let them do ("Join the territory to vote.")."""
        member = await self.membership(territory_id)
        if member is None:
            raise Refusal.of(UserErrorCode.NOT_A_MEMBER, f"Join the territory to {action}.", *field)
        return member

    async def is_staff(self, territory_id: int) -> bool:
        member = await self.membership(territory_id)
        return member is not None and member.role in STAFF_ROLES

    async def check_staff(self, territory_id: int) -> Member:
        """The viewer's membership if they moderate or administer the territory."""
        self.require_account()
        member = await self.membership(territory_id)
        if member is None or member.role not in STAFF_ROLES:
            raise forbidden("Only the territory's moderators and admins may do this.")
        return member

    async def check_role(self, territory_id: int, *roles: Role) -> Member:
        self.require_account()
        member = await self.membership(territory_id)
        if member is None or member.role not in roles:
            names = ", ".join(r.value.lower() for r in roles)
            raise forbidden(f"Only a member with one of these roles may do this: {names}.")
        return member

    async def visible(self, query: Any, territory_id: int) -> Any:
        """`query` narrowed to what the viewer may see: hidden rows only for the territory's
        moderators and admins (the list form of can_see)."""
        if await self.is_staff(territory_id):
            return query
        return query.filter(hidden=False)

    async def can_see(self, row: Any) -> bool:
        """Hidden content is visible to the territory's moderators and admins only."""
        if row is None:
            return False
        if not getattr(row, "hidden", False):
            return True
        return await self.is_staff(row.territory_id)

    async def load_node(self, kind: str, pk: int) -> Any | None:
        """The API object behind (kind, pk) if the viewer may see it (see resolvers.nodes)."""
        from resolvers.nodes import load_node

        return await load_node(self, kind, pk)

    def queue(self, event: Event) -> None:
        """Queue an event; it is published only once the mutation's transaction commits."""
        self.outbox.append(event)
