"""Moderation: members report content, moderators and admins hide, restore or keep it."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.i18n import N_, Phrase
from events.envelopes import Event, territory_channel
from models import clock
from models.accounts import Member, Role
from models.moderation import Report as ReportRow
from models.moderation import ReportStatus
from models.notifications import NotificationKind
from reads.nodes import KINDS, load_row
from resolvers.comments import subject_author_field, subject_title
from resolvers.feed import do_set_feed_hidden
from resolvers.mutations import check_member, mutate
from resolvers.notifications import do_notify
from resolvers.validation import Checks
from schema.errors import Refusal, UserError, UserErrorCode
from schema.moderation import (
    ModerateContentInput,
    ModerationAction,
    Report,
    ReportContentInput,
    ReportPayload,
)
from schema.relay import decode_id, decode_id_of

REPORTABLE_KINDS = ("Question", "Reply", "Idea", "Project", "NewsPost", "Poll", "Comment")
REASON_MAX = 2000
# How the notification names what was hidden.
KIND_LABELS = {
    "Question": N_("question"),
    "Reply": N_("reply"),
    "Idea": N_("idea"),
    "Project": N_("project"),
    "NewsPost": N_("news post"),
    "Poll": N_("poll"),
    "Comment": N_("comment"),
}


async def check_reportable(ctx: Context, global_id: str) -> tuple[str, Any]:
    """(kind, row) of reportable content the viewer can see, else NOT_FOUND."""
    decoded = decode_id(global_id)
    row = None
    if decoded is not None and decoded[0] in REPORTABLE_KINDS:
        row = await load_row(ctx, *decoded)
    if decoded is None or row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such content to report.", "subjectId")
    return decoded[0], row


async def check_report(ctx: Context, global_id: str) -> tuple[ReportRow, Member]:
    """The report to decide on, locked, and the viewer's membership if they moderate or
    administer its territory."""
    ctx.require_account()
    pk = decode_id_of(global_id, "Report")
    report = await ReportRow.filter(id=pk).select_for_update().first() if pk else None
    if report is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such report.", "reportId")
    moderator = await ctx.check_role(report.territory_id, Role.MODERATOR, Role.ADMIN)
    return report, moderator


async def do_set_hidden(kind: str, row: Any, hidden: bool) -> None:
    await type(row).filter(id=row.id).update(hidden=hidden)
    row.hidden = hidden
    await do_set_feed_hidden(kind, row.id, hidden)


async def do_notify_content_hidden(ctx: Context, kind: str, row: Any, reason: str | None) -> None:
    """Tell the author their content was hidden, and why."""
    author = await Member.filter(id=getattr(row, subject_author_field(kind))).select_related(
        "account"
    ).first()
    if author is None or author.account.deleted_at is not None:
        return
    title = subject_title(row)
    why = Phrase(N_("It breaks the territory's charter.")) if reason is None else reason
    await do_notify(
        ctx,
        author.account_id,
        NotificationKind.CONTENT_HIDDEN,
        kind,
        row.id,
        "A moderator hid your {what} “{title}”. {reason}" if title else "A moderator hid your {what}. {reason}",
        what=Phrase(KIND_LABELS[kind]), title=title, reason=why,
    )


def notify_moderation(ctx: Context, territory_id: int, kind: str, subject_id: int, hidden: bool) -> None:
    """Live clients drop (or bring back) the item at once."""
    ctx.queue(
        Event(
            channel=territory_channel(territory_id),
            type="hidden" if hidden else "restored",
            data={"kind": kind, "id": subject_id},
        )
    )


def report_payload(row: ReportRow | None, errors: list[UserError]) -> ReportPayload:
    return ReportPayload(report=Report.from_model(row) if row else None, user_errors=errors)


@strawberry.type
class ModerationMutation:
    @strawberry.mutation(
        description=(
            "Report content that breaks the charter to the territory's moderators "
            "(members of the territory)."
        )
    )
    async def report_content(self, info: Info[Context, None], input: ReportContentInput) -> ReportPayload:
        ctx = info.context
        async def work() -> ReportRow:
            ctx.require_account()
            kind, subject = await check_reportable(ctx, input.subject_id)
            member = await check_member(ctx, subject.territory_id, "report content", "subjectId")
            checks = Checks()
            reason = checks.text(input.reason, "reason", max_length=REASON_MAX)
            checks.done()
            return await ReportRow.create(
                territory_id=subject.territory_id,
                reporter_id=member.id,
                subject_type=kind,
                subject_id=subject.id,
                reason=reason,
            )

        return await mutate(ctx, work, report_payload, limit=("report", "reports"))

    @strawberry.mutation(
        description=(
            "Decide on a report (the territory's moderators and admins): HIDE the content "
            "(its author is told why), RESTORE hidden content (not what its author deleted: "
            "ALREADY_DELETED), or DISMISS the report."
        )
    )
    async def moderate_content(self, info: Info[Context, None], input: ModerateContentInput) -> ReportPayload:
        ctx = info.context

        async def work() -> ReportRow:
            report, moderator = await check_report(ctx, input.report_id)
            checks = Checks()
            reason = (
                checks.text(input.reason, "reason", max_length=REASON_MAX)
                if input.reason is not None
                else None
            )
            checks.done()
            model = KINDS[report.subject_type].model
            subject: Any = await model.filter(id=report.subject_id).select_for_update().first()
            if subject is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "The reported content is gone.", "reportId")

            if input.action == ModerationAction.HIDE:
                if not subject.hidden:
                    await do_set_hidden(report.subject_type, subject, True)
                    await do_notify_content_hidden(ctx, report.subject_type, subject, reason)
                    notify_moderation(ctx, report.territory_id, report.subject_type, subject.id, True)
                report.status = ReportStatus.HIDDEN
            elif input.action == ModerationAction.RESTORE:
                if getattr(subject, "deleted_at", None) is not None:
                    # Its author deleted it: hidden for good, restoring would undo their choice.
                    raise Refusal.of(
                        UserErrorCode.ALREADY_DELETED, "Its author deleted this content.", "reportId"
                    )
                if subject.hidden:
                    await do_set_hidden(report.subject_type, subject, False)
                    notify_moderation(ctx, report.territory_id, report.subject_type, subject.id, False)
                report.status = ReportStatus.DISMISSED
            else:
                report.status = ReportStatus.DISMISSED
            report.decided_by_id = moderator.id
            report.decided_at = clock.now()
            report.decision_reason = reason  # type: ignore[assignment]  # a nullable TextField, typed str
            await report.save(
                update_fields=["status", "decided_by_id", "decided_at", "decision_reason"]
            )
            return report

        return await mutate(ctx, work, report_payload)
