"""The request context: who is asking, what they may see and do, and what the request carries
(loaders, the outbox, the app's broker, limiter, metrics and shared parts).

One per HTTP request; a websocket's lives as long as the connection, so its loaders are made
fresh per operation and per event (`fresh_loaders`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.websockets import WebSocket
from tortoise.queryset import QuerySet

from access.errors import forbidden, unauthenticated
from access.i18n import N_, negotiate
from access.ratelimit import Limiter
from events.brokers import Broker
from events.envelopes import Event
from events.outbox import Outbox
from models.accounts import AccessToken, Account, Member, Role
from reads import visibility
from reads.loaders import Loaders
from reads.shared import SharedPart, read_shared
from sharing.parts import Audience, SharedParts
from storage.links import FileLinks

STAFF_ROLES = visibility.STAFF_ROLES

Q = TypeVar("Q", bound=QuerySet[Any])
Args = TypeVar("Args", bound=Hashable)
T = TypeVar("T")


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
    # The app's limiter (the app builds one); a hand-built Context gets its own.
    limiter: Limiter = field(default_factory=Limiter)
    outbox: Outbox = field(default_factory=Outbox)
    # Observability: the process's metrics registry, and the cost QueryCost computed.
    metrics: Any = None
    query_cost: int | None = None
    # The app's shared parts (sharing/parts.py) on HTTP requests; None elsewhere.
    parts: SharedParts | None = None
    # Where document files are kept and the URLs they are read at (storage/); None elsewhere.
    files: FileLinks | None = None
    # The client's language preference when it is not the request's Accept-Language header:
    # a websocket's connection_init `acceptLanguage` (app/view.py).
    accept_language: str | None = None
    # The viewer's memberships by territory as the request read them with its token (HTTP
    # requests: access/tokens.viewer_for_token): `membership` answers from them until a
    # write to memberships (fresh_loaders).
    memberships: dict[int, Member] | None = None
    # Made on first use: an idle websocket (thousands per process) never pays for them.
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders (or this operation's or event's: see fresh_loaders)."""
        if self._loaders is None:
            self._loaders = Loaders(self.account.id if self.account else None)
        return self._loaders

    def fresh_loaders(self) -> None:
        """New loaders, for a long-lived (websocket) context before each operation or event,
        or after a request changed the viewer's memberships: they read everything again."""
        self._loaders = None
        self.memberships = None

    @property
    def locale(self) -> str:
        """The language of this request's messages (access/i18n.py): Accept-Language, else the
        viewer's account locale, else the territory's (PARVIS_LOCALE), else French. Read from
        the request each time, never from a global: an answer is in its own reader's language."""
        header = self.accept_language
        if header is None and self.request is not None:
            header = self.request.headers.get("accept-language")
        account_locale = self.account.locale if self.account is not None else None
        return negotiate(header, account_locale, getattr(self.settings, "locale", None))

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account is not None else None

    def require_account(self) -> Account:
        if self.account is None:
            raise unauthenticated()
        return self.account

    async def membership(self, territory_id: int) -> Member | None:
        if self.account is None:
            return None
        if self.memberships is not None:  # read with the token (HTTP requests)
            return self.memberships.get(territory_id)
        return await self.loaders.membership.load(territory_id)

    async def is_staff(self, territory_id: int) -> bool:
        member = await self.membership(territory_id)
        return member is not None and member.role in STAFF_ROLES

    async def check_staff(self, territory_id: int) -> Member:
        """The viewer's membership if they moderate or administer the territory."""
        self.require_account()
        member = await self.membership(territory_id)
        if member is None or member.role not in STAFF_ROLES:
            raise forbidden(N_("Only the territory's moderators and admins may do this."))
        return member

    async def check_role(self, territory_id: int, *roles: Role) -> Member:
        self.require_account()
        member = await self.membership(territory_id)
        if member is None or member.role not in roles:
            names = ", ".join(r.value.lower() for r in roles)
            raise forbidden(N_("Only a member with one of these roles may do this: {roles}."), roles=names)
        return member

    # Visibility (reads/visibility.py): the viewer sees hidden content where they are staff.

    async def sees_hidden(self, territory_id: int) -> bool:
        return await self.is_staff(territory_id)

    async def sees_drafts(self, territory_id: int) -> bool:
        member = await self.membership(territory_id)
        return member is not None and member.role in visibility.DRAFT_READERS

    async def can_see(self, row: Any) -> bool:
        return await visibility.can_see(self, row)

    async def visible(self, query: Q, territory_id: int) -> Q:
        return await visibility.visible(self, query, territory_id)

    async def audience(self, territory_id: int) -> Audience:
        """The audience whose shared parts this viewer may be given for the territory."""
        return Audience.STAFF if await self.is_staff(territory_id) else Audience.PUBLIC

    async def shared(self, part: SharedPart[Args, T], territory_id: int | None, args: Args) -> T:
        """A shared part of the territory for the viewer's audience, or of no territory for
        everyone (PUBLIC): never the viewer's own fields."""
        audience = Audience.PUBLIC if territory_id is None else await self.audience(territory_id)
        return await read_shared(self.parts, part, audience, territory_id, args)

    def queue(self, event: Event) -> None:
        """Queue an event; it is published only once the mutation's transaction commits."""
        self.outbox.queue(event)
