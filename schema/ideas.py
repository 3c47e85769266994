"""Ideas citizens propose, the support they gather and the status officials give them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from access.context import Context
from models import accounts as ma
from models import ideas as mi
from models.clock import as_utc
from reads import lists
from reads.nodes import load_row
from reads.paging import PageArgs, SortKey
from reads.shared import AudienceReader, SharedPart
from schema.accounts import member_from_model
from schema.activity import Followable
from schema.authorship import Authored, check_may_delete, check_may_edit
from schema.comments import Commentable
from schema.errors import Refusal, UserError, UserErrorCode
from schema.permissions import Permission, check_member, permission
from schema.placement import (
    OUTCOMES_DESCRIPTION,
    AboutProject,
    InTerritory,
    WrittenByMember,
    content_url,
    outcomes_answering,
)
from schema.relay import Connection, Node, encode_id, paginate_sql, register_node, with_nodes
from sharing.parts import Audience, Part, overlay

if TYPE_CHECKING:
    from schema.consultations.types import Outcome


@strawberry.enum(description="Where an idea stands, from its proposal to its realization.")
class IdeaStatus(Enum):
    SUBMITTED = strawberry.enum_value("SUBMITTED", description="Proposed, not yet looked at.")
    UNDER_REVIEW = strawberry.enum_value(
        "UNDER_REVIEW", description="The territory is studying it."
    )
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="The territory will carry it out.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Being carried out.")
    REALIZED = strawberry.enum_value("REALIZED", description="Done: it appears in the feed.")
    REJECTED = strawberry.enum_value(
        "REJECTED", description="Declined; the status note says why."
    )


@strawberry.enum(description="How a list of ideas is ordered.")
class IdeaOrder(Enum):
    NEWEST = strawberry.enum_value("NEWEST", description="Most recently proposed first.")
    MOST_SUPPORTED = strawberry.enum_value(
        "MOST_SUPPORTED", description="Most supported first; the newest first among equals."
    )


async def check_may_support(ctx: Context, idea: mi.Idea) -> ma.Member:
    """supportIdea's checks of the viewer, for an idea they may see: a member of its
    territory. Authors may support their own idea; supporting twice changes nothing."""
    ctx.require_account()
    return await check_member(ctx, idea.territory_id, "support an idea", "ideaId")


async def check_idea_row(ctx: Context, pk: int | None) -> mi.Idea:
    """The idea `pk` if the viewer may see it, else a NOT_FOUND refusal (a hidden idea its
    author lists among their own is not theirs to act on)."""
    row = await load_row(ctx, "Idea", pk) if pk is not None else None
    if row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such idea.", "ideaId")
    return row  # type: ignore[no-any-return]


async def support_permission(ctx: Context, idea_pk: int) -> None:
    await check_may_support(ctx, await check_idea_row(ctx, idea_pk))


@strawberry.type(
    description=(
        "An idea a member proposed to the territory. Members support it (authors may "
        "support their own idea); officials, moderators and admins set its status."
    )
)
class Idea(Commentable, Followable, InTerritory, AboutProject, WrittenByMember, Node):
    id: strawberry.ID = strawberry.field(description="The idea's global id.")
    title: str = strawberry.field(description="The idea in a few words.")
    body: str = strawberry.field(description="The idea in full.")
    status: IdeaStatus = strawberry.field(description="Where the idea stands.")
    status_note: str | None = strawberry.field(
        description="The official's word on the last status change; null when none was given."
    )
    support_count: int = strawberry.field(description="How many members support the idea.")
    created_at: dt.datetime = strawberry.field(description="When the idea was proposed.")
    updated_at: dt.datetime = strawberry.field(
        description="When its author last edited it or its status last changed; createdAt until then."
    )
    hidden: bool = strawberry.field(
        description="Whether a moderator hid it: then only its author (in Viewer's lists) and the "
        "territory's moderators and admins see it."
    )
    edited_at: dt.datetime | None = strawberry.field(
        description="When its author last edited its title or text; null when never edited."
    )
    deleted_at: dt.datetime | None = strawberry.field(
        description="When its author deleted it (deleteIdea); null otherwise. A deleted idea is shown "
        "to the territory's moderators and admins only, as hidden content is."
    )
    reference: str = strawberry.field(
        description="Its human reference for phone support, unique in its territory and stable: "
        "I-<year proposed>-<rank among the territory's ideas of that year>, e.g. I-2026-0007 "
        "(Territory.ideaByReference finds it back)."
    )
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    project_pk: strawberry.Private[int | None]
    # Set by the connection that listed the idea (see with_viewer_supports): plain values, so
    # these hot fields cost no async resolver per item. None: resolve through the loaders.
    ready_viewer_supports: strawberry.Private[bool | None] = None

    @classmethod
    def from_model(cls, row: mi.Idea) -> Idea:
        return cls(
            id=strawberry.ID(encode_id("Idea", row.id)),
            title=row.title,
            body=row.body,
            status=IdeaStatus(row.status.value if isinstance(row.status, mi.IdeaStatus) else row.status),
            status_note=row.status_note,
            support_count=row.support_count,
            created_at=row.created_at,
            updated_at=as_utc(row.updated_at or row.created_at),
            hidden=bool(row.hidden),
            edited_at=as_utc(row.edited_at) if row.edited_at else None,
            deleted_at=as_utc(row.deleted_at) if row.deleted_at else None,
            reference=row.reference or encode_id("Idea", row.id),
            pk=row.id,
            territory_pk=row.territory_id,
            author_pk=row.author_id,
            project_pk=row.project_id,
        )

    def authored(self) -> Authored:
        return Authored(
            kind="idea", territory_id=self.territory_pk, author_id=self.author_pk, hidden=self.hidden,
            deleted=self.deleted_at is not None, created_at=self.created_at, status=self.status.name,
        )

    @classmethod
    def from_model_with_author(cls, row: mi.Idea) -> Idea:
        """An idea read with select_related("author__account")."""
        idea = cls.from_model(row)
        idea.ready_author = member_from_model(row.author)
        return idea

    # Sync resolvers: a ready value costs no coroutine; otherwise they hand graphql-core an
    # awaitable, which it awaits as it would an async resolver's.
    @strawberry.field(description="Whether the viewer supports the idea; false when anonymous.")
    def viewer_supports(self, info: Info[Context, None]) -> bool:
        if self.ready_viewer_supports is not None:
            return self.ready_viewer_supports
        return self._load_viewer_supports(info)  # type: ignore[return-value]

    async def _load_viewer_supports(self, info: Info[Context, None]) -> bool:
        return bool(await info.context.loaders.viewer_supports.load(self.pk))

    @strawberry.field(
        description="Whether supportIdea would take the viewer's support now, else the code it would "
        "answer (UNAUTHENTICATED, NOT_A_MEMBER). Already supporting is allowed: see viewerSupports."
    )
    async def viewer_can_support(self, info: Info[Context, None]) -> Permission:
        return await permission(support_permission(info.context, self.pk))

    @strawberry.field(
        description="Whether editIdea would take the viewer's changes now, else the code it would answer "
        "(UNAUTHENTICATED, NOT_THE_AUTHOR (its FORBIDDEN's reason), NOT_A_MEMBER, EDIT_WINDOW_CLOSED: under review, reviewed or "
        "hidden by a moderator, ALREADY_DELETED)."
    )
    async def viewer_can_edit(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_edit(info.context, self.authored(), "ideaId"))

    @strawberry.field(
        description="Whether deleteIdea would delete it for the viewer now, else the code it would answer "
        "(UNAUTHENTICATED, NOT_THE_AUTHOR (its FORBIDDEN's reason), NOT_A_MEMBER, ALREADY_REVIEWED, EDIT_WINDOW_CLOSED: hidden by "
        "a moderator, ALREADY_DELETED)."
    )
    async def viewer_can_delete(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_delete(info.context, self.authored(), "ideaId"))

    @strawberry.field(
        description="Its canonical path for deep links from emails and push: "
        "/t/<territory slug>/ideas/<reference>, e.g. /t/lyon/ideas/I-2026-0007."
    )
    async def url(self, info: Info[Context, None]) -> str:
        return await content_url(info, self.territory_pk, "Idea", self.reference)

    @strawberry.field(description=OUTCOMES_DESCRIPTION)
    async def outcomes(self, info: Info[Context, None]) -> list[Annotated[Outcome, strawberry.lazy("schema.consultations.types")]]:
        return await outcomes_answering(info.context, "Idea", self.pk)


@dataclass(frozen=True)
class IdeasPage:
    """A page of a territory's ideas: the arguments of the shared part IDEAS_PAGE."""

    territory: int
    status: str | None
    most_supported: bool
    page: PageArgs
    narrowing: lists.Narrowing = lists.Narrowing()


async def build_ideas_page(reader: AudienceReader, args: IdeasPage) -> Connection[Idea]:
    """The ideas of a page with their authors, for one audience (hidden ideas for STAFF)."""
    order = (SortKey("support_count"), SortKey("id")) if args.most_supported else (SortKey("id"),)
    return await paginate_sql(
        lists.ideas(args.territory, staff=reader.audience is Audience.STAFF, status=args.status,
                    narrowing=args.narrowing),
        lambda row: Idea.from_model_with_author(lists.idea_row(row)),
        args.page, order=order, prefix="i_",
    )


IDEAS_PAGE: SharedPart[IdeasPage, Connection[Idea]] = Part("ideas", build_ideas_page)


async def with_viewer_supports(ctx: Context, page: Connection[Idea]) -> Connection[Idea]:
    """The viewer's copy of a shared page of ideas, with whether they support each (one
    statement for the page)."""
    ideas = [edge.node for edge in page.edges]
    if ctx.account is None or not ideas:
        supports = [False] * len(ideas)
    else:
        supports = list(await ctx.loaders.viewer_supports.load_many([idea.pk for idea in ideas]))
    return with_nodes(
        page, [overlay(idea, ready_viewer_supports=bool(s)) for idea, s in zip(ideas, supports, strict=True)]
    )


@strawberry.input(description="A new idea for a territory, optionally for one of its projects.")
class ProposeIdeaInput:
    territory_id: strawberry.ID = strawberry.field(description="The territory the idea is for.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="A project of the same territory the idea contributes to."
    )
    title: str = strawberry.field(description="The idea in a few words (1 to 200 characters).")
    body: str = strawberry.field(description="The idea in full (1 to 20,000 characters).")
    phase_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A phase of a consultation of the same territory the idea is proposed in (its call for "
        "ideas): it must take ideas (else PHASE_DOES_NOT_ACCEPT) and be current (else PHASE_CLOSED).",
    )


@strawberry.input(description="Designates one idea.")
class IdeaInput:
    idea_id: strawberry.ID = strawberry.field(description="The idea's global id.")


@strawberry.input(description="A new status for an idea, with the official's word on it.")
class SetIdeaStatusInput:
    idea_id: strawberry.ID = strawberry.field(description="The idea's global id.")
    status: IdeaStatus = strawberry.field(description="The idea's new status.")
    note: str | None = strawberry.field(
        default=None,
        description="Why, for the author and everyone (0 to 2,000 characters); replaces the last note.",
    )


@strawberry.input(description="The author's changes to their idea; omitted fields stay as they are.")
class EditIdeaInput:
    idea_id: strawberry.ID = strawberry.field(description="Global id of the idea edited.")
    title: str | None = strawberry.field(default=None, description="The new title, 1 to 200 characters.")
    body: str | None = strawberry.field(default=None, description="The new text, 1 to 20,000 characters.")


@strawberry.input(description="The idea its author deletes.")
class DeleteIdeaInput:
    idea_id: strawberry.ID = strawberry.field(description="Global id of the idea deleted.")


@strawberry.type(description="The result of a mutation on an idea.")
class IdeaPayload:
    idea: Idea | None = strawberry.field(description="The idea as it now stands; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the mutation failed; empty on success.")


register_node("Idea", Idea.from_model)
