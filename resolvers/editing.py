"""What editing a question or an idea shares: only its author, only while the window is open.

The window (before the reply, before the review) is checked twice: on the row as read, for a
clear answer, and by the UPDATE itself, whose WHERE repeats it, so a reply or a status change
committed in between closes it (PostgreSQL re-checks the WHERE on the locked row).
"""

from __future__ import annotations

from typing import Any

from access.context import Context
from access.errors import forbidden
from access.i18n import N_, Phrase
from events.envelopes import Event, territory_channel
from models.accounts import Member
from resolvers.validation import Checks
from schema.errors import Refusal, UserErrorCode
from schema.permissions import check_member

# What check_member says joining would let the author do, by kind of content.
EDIT_ACTIONS = {"question": N_("edit your question"), "idea": N_("edit your idea"), "comment": N_("edit your comment")}


def window_closed(message: str, field: str, **params: Any) -> Refusal:
    return Refusal.of(UserErrorCode.EDIT_WINDOW_CLOSED, message, field, **params)


async def check_author(ctx: Context, row: Any, kind: str, field: str) -> Member:
    """The viewer's membership if they wrote `row` (a question or an idea read without the
    visibility filter) and may still write in its territory. Someone else gets NOT_FOUND
    when they may not even see it (a hidden row), else FORBIDDEN; hidden content is closed
    to its author's edits too (EDIT_WINDOW_CLOSED)."""
    ctx.require_account()
    member = await ctx.membership(row.territory_id)
    if member is None or member.id != row.author_id:
        if not await ctx.can_see(row):
            raise Refusal.of(UserErrorCode.NOT_FOUND, "No such {kind}.", field, kind=Phrase(kind))
        raise forbidden("Only its author may edit this {kind}.", kind=Phrase(kind))
    await check_member(ctx, row.territory_id, EDIT_ACTIONS[kind], field)
    if row.hidden:
        raise window_closed("A moderator hid this {kind}: it can no longer be edited.", field, kind=Phrase(kind))
    return member


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


def notify_edited(ctx: Context, territory_id: int, kind: str, subject_id: int) -> None:
    """Tell the territory's channel the item changed, as moderation tells it one was hidden
    (resolvers/moderation.py); no stream forwards these to clients yet."""
    ctx.queue(
        Event(channel=territory_channel(territory_id), type="edited", data={"kind": kind, "id": subject_id})
    )
