"""Reports of content that breaks the charter, and moderators' decisions."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from models import moderation as mm
from reads.nodes import load_row
from schema.accounts import Member, member_from_model
from schema.errors import UserError
from schema.relay import Node, as_node, encode_id, register_node


@strawberry.enum(description="Where a report stands.")
class ReportStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for a moderator.")
    HIDDEN = strawberry.enum_value("HIDDEN", description="A moderator hid the content.")
    DISMISSED = strawberry.enum_value(
        "DISMISSED", description="A moderator kept (or restored) the content."
    )


@strawberry.enum(description="What a moderator decides about reported content.")
class ModerationAction(Enum):
    HIDE = strawberry.enum_value(
        "HIDE", description="Hide the content from everyone but moderators and admins."
    )
    RESTORE = strawberry.enum_value("RESTORE", description="Show hidden content again.")
    DISMISS = strawberry.enum_value("DISMISS", description="Keep the content as it is.")


@strawberry.type(description="A member's report of content that breaks the charter. Staff only.")
class Report(Node):
    id: strawberry.ID = strawberry.field(description="The report's global id.")
    reason: str = strawberry.field(description="Why the member reported the content.")
    status: ReportStatus = strawberry.field(description="Where the report stands.")
    created_at: dt.datetime = strawberry.field(description="When the content was reported.")
    decision_reason: str | None = strawberry.field(
        description="The moderator's reason for their decision, if they gave one."
    )
    decided_at: dt.datetime | None = strawberry.field(
        description="When a moderator last decided; null while pending."
    )
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    reporter_pk: strawberry.Private[int]
    decided_by_pk: strawberry.Private[int | None]
    subject_type: strawberry.Private[str]
    subject_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mm.Report) -> Report:
        return cls(
            id=strawberry.ID(encode_id("Report", row.id)),
            reason=row.reason,
            status=ReportStatus(row.status.value if isinstance(row.status, Enum) else row.status),
            created_at=row.created_at,
            decision_reason=row.decision_reason,
            decided_at=row.decided_at,
            pk=row.id,
            territory_pk=row.territory_id,
            reporter_pk=row.reporter_id,
            decided_by_pk=row.decided_by_id,  # type: ignore[attr-defined]
            subject_type=row.subject_type,
            subject_pk=row.subject_id,
        )

    @strawberry.field(description="The reported content (moderators see it even while hidden).")
    async def subject(self, info: Info[Context, None]) -> Node:
        row = await load_row(info.context, self.subject_type, self.subject_pk)
        if row is None:
            raise not_found("The reported content no longer exists.")
        return as_node(self.subject_type, row)

    @strawberry.field(description="The member who reported the content.")
    async def reporter(self, info: Info[Context, None]) -> Member:
        return member_from_model(await info.context.loaders.member_of(self.reporter_pk))

    @strawberry.field(description="The moderator or admin who last decided; null while pending.")
    async def decided_by(self, info: Info[Context, None]) -> Member | None:
        if self.decided_by_pk is None:
            return None
        return member_from_model(await info.context.loaders.member_of(self.decided_by_pk))


@strawberry.input(description="Content to report to the territory's moderators.")
class ReportContentInput:
    subject_id: strawberry.ID = strawberry.field(
        description="Global id of the Question, Reply, Idea, Project, NewsPost, Poll or Comment."
    )
    reason: str = strawberry.field(description="Why it breaks the charter, 1 to 2,000 characters.")


@strawberry.input(description="A moderator's decision on a report.")
class ModerateContentInput:
    report_id: strawberry.ID = strawberry.field(description="The report decided on.")
    action: ModerationAction = strawberry.field(description="Hide, restore or keep the content.")
    reason: str | None = strawberry.field(
        default=None,
        description="The decision's reason; told to the author when their content is hidden.",
    )


@strawberry.type(description="The result of reportContent and moderateContent.")
class ReportPayload:
    report: Report | None = strawberry.field(description="The report; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the action was refused.")


register_node("Report", Report.from_model)
