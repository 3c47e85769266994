"""What editing and deleting questions, ideas and comments share: only their author, only
while the window is open (schema/authorship.py holds the checks the hints share).

The window (before the reply, before the review, the comment's minutes) and the moderation
state are checked twice: on the row as read, for a clear answer, and by the UPDATE itself,
whose WHERE repeats them, so a reply, a status change, a hiding or a concurrent deletion
committed in between wins (PostgreSQL re-checks the WHERE on the locked row); of two
concurrent deletions exactly one updates the row, the other answers ALREADY_DELETED.
"""

from __future__ import annotations

from typing import Any

from access.context import Context
from events.envelopes import Event, territory_channel
from models import clock
from models.feed import FeedEntry
from reads.nodes import load_row, sees
from reads.visibility import parent_of
from resolvers.validation import Checks
from schema.authorship import KINDS, Authored, check_may_delete, check_may_edit, window_closed
from schema.errors import Refusal, UserErrorCode
from schema.relay import decode_id_of


def authored(kind: str, row: Any) -> Authored:
    """A question's, an idea's or a comment's values as the checks read them."""
    status = getattr(row, "status", None)
    return Authored(
        kind=kind.lower(),
        territory_id=row.territory_id,
        author_id=row.author_id,
        hidden=bool(row.hidden),
        deleted=row.deleted_at is not None,
        created_at=row.created_at,
        status=getattr(status, "value", status),
    )


async def load_authored(ctx: Context, model: type[Any], kind: str, global_id: str, field: str) -> Any:
    """The row behind `global_id` if the viewer may see it; else NOT_FOUND, as for an
    unknown id, but for its author when a moderator hid the row itself (not what it sits
    under): they hear why it is closed to them (EDIT_WINDOW_CLOSED, from the checks)."""
    ctx.require_account()
    pk = decode_id_of(global_id, kind)
    row = await model.filter(id=pk).first() if pk is not None else None
    if row is not None:
        if await sees(ctx, kind, row):
            return row
        member = await ctx.membership(row.territory_id)
        parent = parent_of(kind, row)
        if (
            member is not None
            and member.id == row.author_id
            and row.hidden
            and (parent is None or await load_row(ctx, *parent) is not None)
        ):
            return row
    raise Refusal.of(UserErrorCode.NOT_FOUND, "No such {kind}.", field, kind=KINDS[kind.lower()])


def check_edits(title: str | None, body: str | None) -> dict[str, str]:
    """The fields to change, validated as when the content was written (omitted: unchanged)."""
    checks = Checks()
    changes: dict[str, str] = {}
    if title is not None:
        changes["title"] = checks.title(title, "title")
    if body is not None:
        changes["body"] = checks.body(body, "body")
    checks.done()
    return changes


async def check_and_edit(
    ctx: Context, kind: str, row: Any, changes: dict[str, Any], field: str, **still: Any
) -> bool:
    """Apply an author's `changes` to `row` if it is still editable (`still`: the status the
    window needs); False when there was nothing to change."""
    await check_may_edit(ctx, authored(kind, row), field)
    if not changes:
        return False
    now = clock.now()
    stamps = {"edited_at": now} if kind == "Comment" else {"edited_at": now, "updated_at": now}
    edited = await type(row).filter(id=row.id, hidden=False, deleted_at__isnull=True, **still).update(
        **changes, **stamps
    )
    if not edited:
        # Answered, reviewed, hidden or deleted since it was read: say which, as the checks do.
        await check_may_edit(ctx, authored(kind, await type(row).get(id=row.id)), field)
        raise window_closed("This {kind} can no longer be edited.", field, kind=KINDS[kind.lower()])
    notify_edited(ctx, row.territory_id, kind, row.id)
    return True


async def do_delete(ctx: Context, kind: str, row: Any, field: str, **still: Any) -> None:
    """Delete `row` for its author: a comment keeps its place, its body emptied; a question
    or an idea is hidden too (every read leaves it out as it does hidden content, its staff
    keep it as evidence) and leaves the feed."""
    await check_may_delete(ctx, authored(kind, row), field)
    now = clock.now()
    changes: dict[str, Any] = {"deleted_at": now, "updated_at": now}
    if kind == "Comment":
        changes = {"deleted_at": now, "body": ""}
    else:
        changes["hidden"] = True
    done = await type(row).filter(id=row.id, hidden=False, deleted_at__isnull=True, **still).update(**changes)
    if not done:
        await check_may_delete(ctx, authored(kind, await type(row).get(id=row.id)), field)
        raise Refusal.of(UserErrorCode.ALREADY_DELETED, "This {kind} is already deleted.", field, kind=KINDS[kind.lower()])
    if kind != "Comment":
        await FeedEntry.filter(subject_type=kind, subject_id=row.id).delete()
    ctx.queue(
        Event(channel=territory_channel(row.territory_id), type="deleted", data={"kind": kind, "id": row.id})
    )


def notify_edited(ctx: Context, territory_id: int, kind: str, subject_id: int) -> None:
    """Tell the territory's channel the item changed, as moderation tells it one was hidden
    (resolvers/moderation.py); caches follow the written tables (sharing/stamp.py)."""
    ctx.queue(
        Event(channel=territory_channel(territory_id), type="edited", data={"kind": kind, "id": subject_id})
    )
