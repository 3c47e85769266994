"""Mutations on ideas: propose, support, withdraw support, set the status."""

from __future__ import annotations

import strawberry
from strawberry.types import Info
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from access.context import Context
from access.i18n import N_, Phrase
from models import clock
from models.accounts import Role
from models.consultations import PhaseItem
from models.feed import FeedEntry
from models.ideas import Idea as IdeaRow
from models.ideas import IdeaStatus as IdeaStatusRow
from models.ideas import Support
from models.notifications import NotificationKind
from reads.nodes import load_row
from resolvers.editing import check_and_edit, check_edits, do_delete, load_authored
from resolvers.feed import do_add_to_feed
from resolvers.mutations import check_member, mutate
from resolvers.notifications import do_notify, do_notify_followers
from resolvers.validation import Checks
from schema.consultations.types import check_phase_takes
from schema.errors import Refusal, UserError, UserErrorCode
from schema.ideas import (
    DeleteIdeaInput,
    EditIdeaInput,
    Idea,
    IdeaInput,
    IdeaPayload,
    ProposeIdeaInput,
    SetIdeaStatusInput,
    check_idea_row,
    check_may_support,
)
from schema.relay import decode_id_of

NOTE_MAX = 2000
STATUS_SETTERS = (Role.OFFICIAL, Role.MODERATOR, Role.ADMIN)
# How a notification names a status ("Your idea ... is now accepted.").
STATUS_PHRASES = {
    IdeaStatusRow.SUBMITTED: N_("submitted"),
    IdeaStatusRow.UNDER_REVIEW: N_("under review"),
    IdeaStatusRow.ACCEPTED: N_("accepted"),
    IdeaStatusRow.IN_PROGRESS: N_("in progress"),
    IdeaStatusRow.REALIZED: N_("realized"),
    IdeaStatusRow.REJECTED: N_("rejected"),
}


async def check_idea(ctx: Context, global_id: str) -> IdeaRow:
    """The idea behind `ideaId` if the viewer may see it, else a NOT_FOUND refusal."""
    return await check_idea_row(ctx, decode_id_of(global_id, "Idea"))


def payload(row: IdeaRow | None, errors: list[UserError]) -> IdeaPayload:
    return IdeaPayload(idea=Idea.from_model(row) if row else None, user_errors=errors)


@strawberry.type
class IdeasMutation:
    @strawberry.mutation(
        description=(
            "Propose an idea to a territory the viewer has joined, optionally for one of its projects."
        )
    )
    async def propose_idea(self, info: Info[Context, None], input: ProposeIdeaInput) -> IdeaPayload:
        ctx = info.context
        async def work() -> IdeaRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            if territory_id is None or await load_row(ctx, "Territory", territory_id) is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member = await check_member(ctx, territory_id, "propose an idea", "territoryId")
            project_id = None
            if input.project_id is not None:
                project_id = decode_id_of(input.project_id, "Project")
                project = await load_row(ctx, "Project", project_id) if project_id else None
                # A project of another territory is as good as unknown here.
                if project is None or project.territory_id != territory_id:
                    raise Refusal.of(UserErrorCode.NOT_FOUND, "No such project.", "projectId")
            checks = Checks()
            title = checks.title(input.title, "title")
            body = checks.body(input.body, "body")
            checks.done()
            phase = None
            if input.phase_id is not None:
                phase = await check_phase_takes(ctx, input.phase_id, territory_id, "ideas")
            idea = await IdeaRow.create(
                territory_id=territory_id,
                author_id=member.id,
                project_id=project_id,
                title=title,
                body=body,
            )
            if phase is not None:
                await PhaseItem.create(phase_id=phase.id, subject_type="Idea", subject_id=idea.id)
            return idea

        return await mutate(ctx, work, payload, limit=("idea", "ideas"))

    @strawberry.mutation(
        description=(
            "Support an idea of a territory the viewer has joined. Idempotent: supporting "
            "again changes nothing. Authors may support their own idea."
        )
    )
    async def support_idea(self, info: Info[Context, None], input: IdeaInput) -> IdeaPayload:
        ctx = info.context

        async def work() -> IdeaRow:
            ctx.require_account()
            idea = await check_idea(ctx, input.idea_id)
            member = await check_may_support(ctx, idea)
            # The unique (idea, member) constraint decides, not a prior read: of concurrent
            # supports by one member exactly one inserts. The savepoint keeps the outer
            # transaction usable after the violation (PostgreSQL aborts it otherwise).
            try:
                async with in_transaction():
                    await Support.create(idea_id=idea.id, member_id=member.id)
            except IntegrityError:
                return await IdeaRow.get(id=idea.id)
            await IdeaRow.filter(id=idea.id).update(support_count=F("support_count") + 1)
            return await IdeaRow.get(id=idea.id)

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description=(
            "Withdraw the viewer's support from an idea. Idempotent: without support, changes nothing."
        )
    )
    async def withdraw_support(self, info: Info[Context, None], input: IdeaInput) -> IdeaPayload:
        ctx = info.context

        async def work() -> IdeaRow:
            ctx.require_account()
            idea = await check_idea(ctx, input.idea_id)
            member = await check_member(ctx, idea.territory_id, "withdraw a support", "ideaId")
            # One support per member and idea. The count is only "some or none": on SQLite,
            # Tortoise counts the rows the stats triggers change too (models/stats.py).
            if await Support.filter(idea_id=idea.id, member_id=member.id).delete():
                await IdeaRow.filter(id=idea.id).update(support_count=F("support_count") - 1)
            return await IdeaRow.get(id=idea.id)

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description=(
            "Set an idea's status, with an optional note (officials, moderators and admins of "
            "its territory). The author is notified; an idea reaching REALIZED for the first "
            "time enters the territory's feed."
        )
    )
    async def set_idea_status(self, info: Info[Context, None], input: SetIdeaStatusInput) -> IdeaPayload:
        ctx = info.context

        async def work() -> IdeaRow:
            account = ctx.require_account()
            idea = await check_idea(ctx, input.idea_id)
            await ctx.check_role(idea.territory_id, *STATUS_SETTERS)
            checks = Checks()
            note = None
            if input.note is not None:
                note = checks.text(input.note, "note", max_length=NOTE_MAX, min_length=0) or None
            checks.done()
            # Concurrent status changes queue behind the idea's row lock, and each compares with
            # what the one before it wrote: the same change sent twelve times notifies once.
            idea = await IdeaRow.filter(id=idea.id).select_for_update().get()
            status = IdeaStatusRow(input.status.name)
            changed = idea.status != status or idea.status_note != note
            if changed:
                await IdeaRow.filter(id=idea.id).update(status=status, status_note=note, updated_at=clock.now())
            if status == IdeaStatusRow.REALIZED:
                # Conditional update: of concurrent REALIZED, only one sets realized_at,
                # so the idea enters the feed once even if it goes back and forth.
                now = clock.now()
                first_time = await IdeaRow.filter(id=idea.id, realized_at__isnull=True).update(
                    realized_at=now
                )
                if first_time:
                    entry = await do_add_to_feed(ctx, idea.territory_id, "Idea", idea.id)
                    if idea.hidden:
                        # The feed entry follows the idea's moderation state.
                        await FeedEntry.filter(id=entry.id).update(hidden=True)
            author = await ctx.loaders.member.load(idea.author_id)
            if (
                changed
                and author is not None
                and author.account_id != account.id
                and author.account.deleted_at is None
            ):
                await do_notify(
                    ctx, author.account_id, NotificationKind.IDEA_STATUS_CHANGED, "Idea", idea.id,
                    "Your idea “{title}” is now {status}. {note}" if note else "Your idea “{title}” is now {status}.",
                    title=idea.title, status=Phrase(STATUS_PHRASES[status]), note=note or "",
                )
            if changed:
                told = {account.id} | ({author.account_id} if author is not None else set())
                await do_notify_followers(
                    ctx, NotificationKind.IDEA_STATUS_CHANGED, "Idea", idea.id,
                    "The idea “{title}” you follow is now {status}.",
                    told=told, title=idea.title, status=Phrase(STATUS_PHRASES[status]),
                )
            return await IdeaRow.get(id=idea.id)

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description=(
            "Edit one's own idea (title, body or both, validated as when proposing) before its "
            "review: once its status left SUBMITTED, EDIT_WINDOW_CLOSED; an idea a moderator hid "
            "cannot be edited either."
        )
    )
    async def edit_idea(self, info: Info[Context, None], input: EditIdeaInput) -> IdeaPayload:
        ctx = info.context

        async def work() -> IdeaRow:
            row = await load_authored(ctx, IdeaRow, "Idea", input.idea_id, "ideaId")
            changes = check_edits(input.title, input.body)
            await check_and_edit(ctx, "Idea", row, changes, "ideaId", status=IdeaStatusRow.SUBMITTED)
            return await IdeaRow.get(id=row.id)

        def respond(row: IdeaRow | None, errors: list[UserError]) -> IdeaPayload:
            if row is not None:
                ctx.loaders.by_id(IdeaRow).prime(row.id, row, force=True)
            return payload(row, errors)

        return await mutate(ctx, work, respond, limit=("edit", "edits"))

    @strawberry.mutation(
        description=(
            "Delete one's own idea before its review (ALREADY_REVIEWED once its status left "
            "SUBMITTED). It leaves every list, lookup and feed at once; the territory's "
            "moderators keep it, marked deleted, as evidence for reports. An idea a moderator "
            "hid cannot be deleted (EDIT_WINDOW_CLOSED)."
        )
    )
    async def delete_idea(self, info: Info[Context, None], input: DeleteIdeaInput) -> IdeaPayload:
        ctx = info.context

        async def work() -> IdeaRow:
            row = await load_authored(ctx, IdeaRow, "Idea", input.idea_id, "ideaId")
            await do_delete(ctx, "Idea", row, "ideaId", status=IdeaStatusRow.SUBMITTED)
            return await IdeaRow.get(id=row.id)

        def respond(row: IdeaRow | None, errors: list[UserError]) -> IdeaPayload:
            if row is not None:
                ctx.loaders.by_id(IdeaRow).prime(row.id, row, force=True)
            return payload(row, errors)

        return await mutate(ctx, work, respond, limit=("edit", "edits"))
