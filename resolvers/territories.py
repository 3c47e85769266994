"""Territories and memberships: join, verify, appoint, change roles, settings."""

from __future__ import annotations

import functools

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from access.context import Context
from access.errors import forbidden, not_found
from models import clock
from models.accounts import Member, Role
from models.territories import Territory as TerritoryRow
from reads import sql
from reads.paging import OLDEST_FIRST
from reads.shared import AudienceReader, SharedPart
from resolvers.mutations import mutate, run_in_transaction
from resolvers.validation import Checks, is_clean
from schema.accounts import (
    AppointOfficialInput,
    JoinTerritoryInput,
    LeaveTerritoryInput,
    MemberInput,
    MemberPayload,
    SetMemberRoleInput,
    member_from_model,
)
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import Connection, decode_id_of, paginate
from schema.territories import Territory, TerritoryPayload, UpdateTerritoryInput
from sharing.parts import Part


async def check_territory(territory_gid: str, *field: str) -> TerritoryRow:
    pk = decode_id_of(territory_gid, "Territory")
    row = await TerritoryRow.get_or_none(id=pk) if pk else None
    if row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", *field)
    return row


async def check_named_member(ctx: Context, member_gid: str) -> Member:
    """A member of a territory where the viewer also belongs (else NOT_FOUND)."""
    ctx.require_account()
    pk = decode_id_of(member_gid, "Member")
    row = await Member.filter(id=pk, left_at__isnull=True).select_related("account").first() if pk else None
    if row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such member.", "memberId")
    return row


def member_payload(row: Member | None, errors: list[UserError]) -> MemberPayload:
    return MemberPayload(member=member_from_model(row) if row else None, user_errors=errors)


def territory_payload(row: TerritoryRow | None, errors: list[UserError]) -> TerritoryPayload:
    return TerritoryPayload(territory=Territory.from_model(row) if row else None, user_errors=errors)


async def reload_member(pk: int) -> Member:
    return await Member.filter(id=pk).select_related("account").get()


@functools.cache
def _territory_by_slug() -> str:
    return f"SELECT {sql.columns(TerritoryRow, 't')} FROM territory t WHERE t.slug = $1"


async def build_territory(reader: AudienceReader, slug: str) -> Territory | None:
    row = await sql.fetchrow(_territory_by_slug(), slug)
    return Territory.from_model(sql.model_from_row(TerritoryRow, row)) if row else None


# The same for everyone: a territory is public.
TERRITORY_BY_SLUG: SharedPart[str, Territory | None] = Part("territory", build_territory)


@strawberry.type
class TerritoriesQuery:
    @strawberry.field(description="A territory by its slug, or null.")
    async def territory(self, info: Info[Context, None], slug: str) -> Territory | None:
        slug = slug.strip().lower()
        if len(slug) > 64 or not is_clean(slug):
            return None  # no territory has such a slug (and the database could not compare it)

        return await info.context.shared(TERRITORY_BY_SLUG, None, slug)

    @strawberry.field(description="All territories, oldest first.")
    async def territories(
        self, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Territory]:
        return await paginate(
            TerritoryRow.all(), Territory.from_model,
            first=first, after=after, last=last, before=before, order=OLDEST_FIRST,
        )


@strawberry.type
class TerritoriesMutation:
    @strawberry.mutation(description="Change a territory's settings. Admins of the territory only.")
    async def update_territory(self, info: Info[Context, None], input: UpdateTerritoryInput) -> TerritoryPayload:
        ctx = info.context
        ctx.require_account()

        async def work() -> TerritoryRow:
            territory = await check_territory(input.territory_id, "territoryId")
            await ctx.check_role(territory.id, Role.ADMIN)
            checks = Checks()
            changes: dict[str, object] = {}
            if input.name is not None:
                changes["name"] = checks.text(input.name, "name", max_length=200)
            if input.population is not None:
                if input.population < 0:
                    checks.fail("Must be zero or more.", "population")
                changes["population"] = input.population
            if input.charter is not None:
                changes["charter"] = checks.text(input.charter, "charter", max_length=20_000, min_length=0)
            if input.reply_deadline_days is not None:
                if not 1 <= input.reply_deadline_days <= 365:
                    checks.fail("Must be 1 to 365 days.", "replyDeadlineDays")
                changes["reply_deadline_days"] = input.reply_deadline_days
            if input.email_verification_required is not None:
                changes["email_verification_required"] = input.email_verification_required
            if input.upload_max_bytes is not None:
                ceiling: int = ctx.settings.upload_max_bytes
                if not 1024 <= input.upload_max_bytes <= ceiling:
                    checks.fail("Must be {min} to {max} bytes.", "uploadMaxBytes", min=1024, max=ceiling)
                changes["upload_max_bytes"] = input.upload_max_bytes
            checks.done()
            if changes:
                await TerritoryRow.filter(id=territory.id).update(**changes, updated_at=clock.now())
            return await TerritoryRow.get(id=territory.id)

        return await mutate(ctx, work, territory_payload)

    @strawberry.mutation(description="Join a territory as a citizen (returns the existing membership if any).")
    async def join_territory(self, info: Info[Context, None], input: JoinTerritoryInput) -> MemberPayload:
        ctx = info.context
        account = ctx.require_account()

        async def work() -> Member:
            territory = await check_territory(input.territory_id, "territoryId")
            existing = await Member.filter(account_id=account.id, territory_id=territory.id).first()
            if existing is None:
                try:
                    # A savepoint: PostgreSQL aborts the whole transaction at a violation, and
                    # the loser of a concurrent join must still read the winner's row.
                    async with in_transaction():
                        existing = await Member.create(account_id=account.id, territory_id=territory.id)
                except IntegrityError:
                    # Joined concurrently by another request of the same person: same outcome.
                    existing = await Member.get(account_id=account.id, territory_id=territory.id)
            elif existing.left_at is not None:
                # Coming back: the same membership (their ballots still count as theirs), as a citizen.
                await Member.filter(id=existing.id).update(left_at=None)
            return await reload_member(existing.id)

        return await mutate(ctx, work, member_payload)

    @strawberry.mutation(
        description=(
            "Leave a territory: the viewer is no longer a member (their questions, ideas and "
            "ballots stay; joining again makes them a citizen again). Idempotent: true also when "
            "they were not a member. The last admin cannot leave (top-level error LAST_ADMIN)."
        )
    )
    async def leave_territory(self, info: Info[Context, None], input: LeaveTerritoryInput) -> bool:
        ctx = info.context
        account = ctx.require_account()

        async def work() -> bool:
            territory_pk = decode_id_of(input.territory_id, "Territory")
            if territory_pk is None or not await TerritoryRow.filter(id=territory_pk).exists():
                raise not_found("No such territory.")
            member = await Member.filter(
                account_id=account.id, territory_id=territory_pk, left_at__isnull=True
            ).select_for_update().first()
            if member is None:
                return True
            if member.role == Role.ADMIN and await count_admins(territory_pk) <= 1:
                raise last_admin()
            # Rights end with the membership: coming back starts over as a citizen.
            await Member.filter(id=member.id).update(left_at=clock.now(), role=Role.CITIZEN, verified=False)
            return True

        left, _ = await run_in_transaction(ctx, work)
        ctx.fresh_loaders()  # this request's memberships were read before it left
        return bool(left)

    @strawberry.mutation(description="Mark a member as a verified resident. Moderators and admins only.")
    async def verify_member(self, info: Info[Context, None], input: MemberInput) -> MemberPayload:
        ctx = info.context

        async def work() -> Member:
            member = await check_named_member(ctx, input.member_id)
            await ctx.check_staff(member.territory_id)
            await Member.filter(id=member.id).update(verified=True)
            return await reload_member(member.id)

        return await mutate(ctx, work, member_payload)

    @strawberry.mutation(description="Appoint a member as an official with their mandate. Admins only.")
    async def appoint_official(self, info: Info[Context, None], input: AppointOfficialInput) -> MemberPayload:
        ctx = info.context

        async def work() -> Member:
            member = await check_roles_locked(ctx, input.member_id)
            checks = Checks()
            title = checks.title(input.title, "title")
            checks.done()
            await check_not_last_admin(member, Role.OFFICIAL)
            await Member.filter(id=member.id).update(role=Role.OFFICIAL, title=title)
            return await reload_member(member.id)

        return await mutate(ctx, work, member_payload)

    @strawberry.mutation(description="Change a member's role. Admins only.")
    async def set_member_role(self, info: Info[Context, None], input: SetMemberRoleInput) -> MemberPayload:
        ctx = info.context

        async def work() -> Member:
            member = await check_roles_locked(ctx, input.member_id)
            role = Role(input.role.name)
            if role == Role.OFFICIAL and not member.title:
                raise Refusal.of(
                    UserErrorCode.INVALID,
                    "An official needs a mandate: use appointOfficial.",
                    "role",
                )
            await check_not_last_admin(member, role)
            await Member.filter(id=member.id).update(role=role)
            return await reload_member(member.id)

        return await mutate(ctx, work, member_payload)


async def check_roles_locked(ctx: Context, member_gid: str) -> Member:
    """The named member, read again once the viewer holds the territory's role lock, if the
    viewer is (still) one of its admins.

    Role changes of one territory queue behind a lock on its row, and each reads the roles
    only once it holds it: two admins demoting each other at once cannot both see the other
    one left. (SQLite runs one transaction at a time and has no row locks.)"""
    named = await check_named_member(ctx, member_gid)
    await TerritoryRow.filter(id=named.territory_id).select_for_update().first()
    actor = ctx.require_account()
    if not await Member.filter(account_id=actor.id, territory_id=named.territory_id, role=Role.ADMIN).exists():
        raise forbidden("Only a member with one of these roles may do this: admin.")
    return await reload_member(named.id)


async def check_not_last_admin(member: Member, new_role: Role) -> None:
    """A territory keeps at least one admin."""
    if member.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    if await count_admins(member.territory_id) <= 1:
        raise Refusal.of(
            UserErrorCode.INVALID, "The territory's last admin cannot change role.", "memberId"
        )


async def count_admins(territory_id: int) -> int:
    """The territory's admins, their rows locked (PostgreSQL): of two admins stepping down at
    once, the second waits for the first and counts again without it."""
    admins = await Member.filter(territory_id=territory_id, role=Role.ADMIN, left_at__isnull=True).select_for_update()
    return len(admins)


def last_admin() -> GraphQLError:
    return GraphQLError(
        "The territory's last admin cannot leave it: make another member admin first.",
        extensions={"code": "LAST_ADMIN"},
    )


