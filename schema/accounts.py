"""People as the API shows them: the viewer, members (citizens and officials), authors."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.types import Info

from access.context import Context
from models import accounts as m
from models import clock
from models import ideas as mi
from models import questions as mq
from models.notifications import Notification as NotificationRow
from models.reach import preferences_of
from models.territories import Territory as TerritoryRow
from reads.nodes import visible_notifications
from schema.errors import UserError
from schema.notifications import Notification
from schema.reach import NotificationPreference
from schema.relay import Connection, Node, as_node, encode_id, paginate, register_node

if TYPE_CHECKING:
    from schema.ideas import Idea
    from schema.questions import Question, QuestionStatus
    from schema.territories import Territory

FORMER_MEMBER = "Former member"


@strawberry.enum(description="What a member may do in a territory.")
class Role(Enum):
    CITIZEN = strawberry.enum_value("CITIZEN", description="Asks, proposes, supports, votes, comments.")
    OFFICIAL = strawberry.enum_value(
        "OFFICIAL", description="An elected official appointed by an admin, with a mandate."
    )
    MODERATOR = strawberry.enum_value(
        "MODERATOR", description="Verifies residents and holds everyone to the charter."
    )
    ADMIN = strawberry.enum_value(
        "ADMIN", description="Runs the territory: settings, roles, officials."
    )


@strawberry.interface(description="Someone who writes content (comments, questions, ideas).")
class Author:
    id: strawberry.ID = strawberry.field(description="The author's global id.")
    display_name: str = strawberry.field(description="The name shown beside what they wrote.")


@strawberry.interface(
    description=(
        "A person's membership of one territory. An official is a member whom an admin "
        "appointed; every other member (moderators and admins included) is a Citizen. "
        "A member's id stays the same when their role changes."
    )
)
class Member(Node, Author):
    id: strawberry.ID = strawberry.field(description="The member's global id.")
    display_name: str = strawberry.field(description="The member's public name.")
    role: Role = strawberry.field(description="What the member may do in the territory.")
    verified: bool = strawberry.field(description="Residence checked by a moderator.")
    joined_at: dt.datetime = strawberry.field(description="When they joined the territory.")
    territory_pk: strawberry.Private[int]
    pk: strawberry.Private[int]

    @strawberry.field(description="The territory of this membership.")
    async def territory(
        self, info: Info[Context, None]
    ) -> Annotated[Territory, strawberry.lazy("schema.territories")]:
        row = await info.context.loaders.by_id(TerritoryRow).load(self.territory_pk)
        return cast("Territory", as_node("Territory", row))


@strawberry.type(description="A member who is not an official (moderators and admins included).")
class Citizen(Member):
    pass


@strawberry.type(description="An elected official: a member appointed with a mandate.")
class Official(Member):
    title: str = strawberry.field(description='The mandate, e.g. "Vice-president for mobility".')

    @strawberry.field(description="Questions addressed to this official, newest first.")
    async def questions(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        status: Annotated[QuestionStatus, strawberry.lazy("schema.questions")] | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Question, strawberry.lazy("schema.questions")]]:
        query = mq.Question.filter(official_id=self.pk)
        if status is not None:
            query = query.filter(status=status.name)
        query = await info.context.visible(query, self.territory_pk)
        return await paginate(
            query, question_of, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="How many questions this official has replied to.")
    async def replies_count(self, info: Info[Context, None]) -> int:
        return (await info.context.loaders.official_stats.load(self.pk)).replies

    @strawberry.field(description="Questions addressed to this official, unanswered past their due date.")
    async def overdue_count(self, info: Info[Context, None]) -> int:
        return (await info.context.loaders.official_stats.load(self.pk)).overdue

    @strawberry.field(description="Median time this official took to reply, in seconds; null before a reply.")
    async def median_reply_seconds(self, info: Info[Context, None]) -> int | None:
        return (await info.context.loaders.official_stats.load(self.pk)).median_reply_seconds


def question_of(row: mq.Question) -> Question:
    return cast("Question", as_node("Question", row))


def idea_of(row: mi.Idea) -> Idea:
    return cast("Idea", as_node("Idea", row))


def member_from_model(row: m.Member) -> Citizen | Official:
    """The API's view of a membership row (its account must be loaded)."""
    account = row.account
    name = FORMER_MEMBER if account.deleted_at is not None else account.display_name
    common: dict[str, Any] = {
        "id": strawberry.ID(encode_id("Member", row.id)),
        "display_name": name,
        "role": Role(row.role.value if isinstance(row.role, m.Role) else row.role),
        "verified": row.verified,
        "joined_at": row.joined_at,
        "territory_pk": row.territory_id,
        "pk": row.id,
    }
    if row.role == m.Role.OFFICIAL:
        return Official(**common, title=row.title or "")
    return Citizen(**common)


def official_from_model(row: m.Member, fallback_title: str = "") -> Official:
    """A member shown as the official who acted (addressed, replied, published).

    Content keeps pointing at the member who acted under a mandate even if an admin later
    changed their role: they are shown with the mandate they held (the title is kept when the
    role changes), or `fallback_title` when they never had one (an admin publishing).
    """
    shown = member_from_model(row)
    if isinstance(shown, Official):
        return shown
    return Official(
        id=shown.id,
        display_name=shown.display_name,
        role=shown.role,
        verified=shown.verified,
        joined_at=shown.joined_at,
        territory_pk=shown.territory_pk,
        pk=shown.pk,
        title=row.title or fallback_title,
    )


@strawberry.type(description="A signed-in device: one bearer token of the viewer's account.")
class Session(Node):
    id: strawberry.ID = strawberry.field(description="The session's global id.")
    device: str | None = strawberry.field(description="The device, from its User-Agent when it signed in.")
    created_at: dt.datetime = strawberry.field(description="When the session was opened.")
    last_used_at: dt.datetime = strawberry.field(
        description="When the session was last used, to the minute (it moves at most once a minute)."
    )
    pk: strawberry.Private[int]

    @strawberry.field(description="Whether this is the session of this request.")
    def current(self, info: Info[Context, None]) -> bool:
        token = info.context.token
        return token is not None and token.id == self.pk

    @classmethod
    def from_model(cls, row: m.AccessToken) -> Session:
        return cls(
            id=strawberry.ID(encode_id("Session", row.id)),
            device=row.device,
            created_at=row.created_at,
            last_used_at=row.last_used_at or row.created_at,
            pk=row.id,
        )


@strawberry.type(description="The authenticated person: their account, memberships and notifications.")
class Viewer:
    id: strawberry.ID = strawberry.field(description="The account's global id.")
    email: str = strawberry.field(description="The account's email (only the viewer sees it).")
    display_name: str = strawberry.field(description="The account's public name.")
    email_verified: bool = strawberry.field(
        description="Whether the current email was confirmed through the link mailed to it."
    )
    locale: str = strawberry.field(description='"fr" or "en": the language of messages and emails.')
    account_pk: strawberry.Private[int]

    @strawberry.field(description="The viewer's signed-in devices (live sessions), newest first.")
    async def sessions(
        self, first: int | None = None, after: str | None = None
    ) -> Connection[Session]:
        query = m.AccessToken.filter(account_id=self.account_pk, revoked_at__isnull=True, expires_at__gt=clock.now())
        return await paginate(query, Session.from_model, first=first, after=after)

    @strawberry.field(description="The viewer's memberships, one per territory joined.")
    async def memberships(self) -> list[Member]:
        rows = (
            await m.Member.filter(account_id=self.account_pk, left_at__isnull=True)
            .select_related("account")
            .order_by("id")
        )
        return [member_from_model(row) for row in rows]

    # The viewer's own content, wherever they wrote it: hidden items included (their author
    # may still see them), from memberships they have since left too.
    @strawberry.field(
        description="The questions the viewer asked, in every territory, newest first; those a "
        "moderator hid included (only their author and the moderators see them), those they deleted "
        "left out."
    )
    async def questions(
        self, first: int | None = None, after: str | None = None,
    ) -> Connection[Annotated[Question, strawberry.lazy("schema.questions")]]:
        query = mq.Question.filter(author__account_id=self.account_pk, deleted_at__isnull=True)
        return await paginate(query, question_of, first=first, after=after)

    @strawberry.field(
        description="The ideas the viewer proposed, in every territory, newest first; those a "
        "moderator hid included (only their author and the moderators see them), those they deleted "
        "left out."
    )
    async def ideas(
        self, first: int | None = None, after: str | None = None,
    ) -> Connection[Annotated[Idea, strawberry.lazy("schema.ideas")]]:
        query = mi.Idea.filter(author__account_id=self.account_pk, deleted_at__isnull=True)
        return await paginate(query, idea_of, first=first, after=after)

    @strawberry.field(description="The viewer's notifications, newest first.")
    async def notifications(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        unread_only: bool | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Notification]:
        # Those about content hidden from the viewer are left out (reads/nodes.py).
        query = visible_notifications(NotificationRow.filter(account_id=self.account_pk), self.account_pk)
        if unread_only:
            query = query.filter(read=False)
        return await paginate(
            query, Notification.from_model, first=first, after=after, last=last, before=before
        )

    @strawberry.field(
        description="How each kind of notification reaches the viewer on each channel, defaults filled in."
    )
    async def notification_preferences(self) -> list[NotificationPreference]:
        return [
            NotificationPreference.of(kind, channel, frequency)
            for (kind, channel), frequency in (await preferences_of(self.account_pk)).items()
        ]

    @classmethod
    def from_model(cls, row: m.Account) -> Viewer:
        return cls(
            id=strawberry.ID(encode_id("Account", row.id)),
            email=row.email or "",
            display_name=row.display_name,
            email_verified=row.email_verified_at is not None,
            locale=row.locale,
            account_pk=row.id,
        )



@strawberry.input(description="A new account.")
class SignUpInput:
    email: str = strawberry.field(description="Email address; case and surrounding spaces are ignored.")
    password: str = strawberry.field(description="At least 10 characters.")
    display_name: str = strawberry.field(description="The public name, 1 to 100 characters.")


@strawberry.input(description="Credentials of an existing account.")
class LogInInput:
    email: str = strawberry.field(description="The account's email.")
    password: str = strawberry.field(description="The account's password.")


@strawberry.type(description="The result of signUp or logIn.")
class AuthPayload:
    token: str | None = strawberry.field(
        description="Bearer token for `Authorization: Bearer <token>`; expires after 30 days."
    )
    viewer: Viewer | None = strawberry.field(description="The account the token belongs to.")
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")


@strawberry.input(description="Confirmation of an account's erasure.")
class DeleteAccountInput:
    password: str = strawberry.field(description="The account's current password.")


@strawberry.input(description="The territory to join.")
class JoinTerritoryInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory.")


@strawberry.input(description="The territory the viewer leaves.")
class LeaveTerritoryInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory.")


@strawberry.input(description="A member to act on.")
class MemberInput:
    member_id: strawberry.ID = strawberry.field(description="Global id of the member.")


@strawberry.input(description="A member to appoint as official, with their mandate.")
class AppointOfficialInput:
    member_id: strawberry.ID = strawberry.field(description="Global id of the member.")
    title: str = strawberry.field(description='The mandate, e.g. "Vice-president for mobility".')


@strawberry.input(description="A member's new role.")
class SetMemberRoleInput:
    member_id: strawberry.ID = strawberry.field(description="Global id of the member.")
    role: Role = strawberry.field(
        description="The new role; OFFICIAL needs a mandate: use appointOfficial the first time."
    )


@strawberry.type(description="The result of a mutation on a membership.")
class MemberPayload:
    member: Member | None = strawberry.field(description="The membership as it now stands.")
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")


@strawberry.input(description="An emailed token (the `token` parameter of the link).")
class VerifyEmailInput:
    token: str = strawberry.field(description="The token of the verification link.")


@strawberry.input(description="The address of the account whose password is forgotten.")
class RequestPasswordResetInput:
    email: str = strawberry.field(description="The account's email; the answer is the same if there is none.")


@strawberry.input(description="A new password, with the token of the emailed reset link.")
class ResetPasswordInput:
    token: str = strawberry.field(description="The token of the reset link.")
    new_password: str = strawberry.field(description="At least 10 characters.")


@strawberry.input(description="A new password for the viewer's account.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="At least 10 characters.")


@strawberry.input(description="A new email for the viewer's account, confirmed again at the new address.")
class ChangeEmailInput:
    password: str = strawberry.field(description="The account's password.")
    new_email: str = strawberry.field(description="The new address; case and surrounding spaces are ignored.")


@strawberry.input(description="Changes to the viewer's profile; omitted fields stay as they are.")
class UpdateProfileInput:
    display_name: str | None = strawberry.field(default=None, description="The public name, 1 to 100 characters.")
    locale: str | None = strawberry.field(default=None, description='"fr" or "en".')


@strawberry.input(description="A session of the viewer to end.")
class RevokeSessionInput:
    session_id: strawberry.ID = strawberry.field(description="Global id of the session (viewer.sessions).")


register_node("Member", member_from_model)
register_node("Session", Session.from_model)
