"""Who may edit or delete a question, an idea or a comment, and until when; who moderates.

The checks editQuestion / editIdea / editComment and deleteQuestion / deleteIdea /
deleteComment run inside their transactions, and the very same ones the hints
`viewerCanEdit`, `viewerCanDelete` and `viewerCanModerate` answer from (ADR 0017). They read
only the item's own values (`Authored`, built from a row or from an API object already
loaded) and the viewer's membership (one batched loader read per request), so a page of
hints costs a constant number of statements.

Moderation still applies: content a moderator hid is frozen for its author (neither edited,
which could launder it, nor deleted, which would erase the evidence of a report), answered
EDIT_WINDOW_CLOSED.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from access.context import Context
from access.errors import forbidden
from access.i18n import N_, Phrase
from models import clock
from models.accounts import Member
from models.clock import as_utc
from reads.visibility import STAFF_ROLES
from schema.errors import Refusal, UserErrorCode
from schema.permissions import check_member

# How long a comment stays editable by its author after it was written.
COMMENT_EDIT_WINDOW = dt.timedelta(minutes=15)
COMMENT_EDIT_MINUTES = int(COMMENT_EDIT_WINDOW.total_seconds() // 60)

# The statuses that still accept their author's edits and deletion.
QUESTION_OPEN = "OPEN"
QUESTION_ANSWERED = "ANSWERED"
IDEA_SUBMITTED = "SUBMITTED"

# The kinds of authored content, as messages name them (put into the message in its language).
KINDS = {"question": Phrase("question"), "idea": Phrase("idea"), "comment": Phrase("comment")}

# What check_member says joining would let the author do, by action and kind of content.
OWN_ACTIONS = {
    ("edit", "question"): N_("edit your question"),
    ("edit", "idea"): N_("edit your idea"),
    ("edit", "comment"): N_("edit your comment"),
    ("delete", "question"): N_("delete your question"),
    ("delete", "idea"): N_("delete your idea"),
    ("delete", "comment"): N_("delete your comment"),
}


@dataclass(frozen=True)
class Authored:
    """What the checks need of a question, an idea or a comment."""

    kind: str  # "question", "idea" or "comment", as messages name it
    territory_id: int
    author_id: int
    hidden: bool
    deleted: bool
    created_at: dt.datetime
    status: str | None = None  # a question's or an idea's status


def refused_role(message: str, reason: UserErrorCode, **params: Any) -> GraphQLError:
    """The contract's top-level FORBIDDEN (a role that may not act), saying which role is
    missing in `extensions.reason`: what the hints answer as their reason (permission())."""
    error = forbidden(message, **params)
    error.extensions = {**(error.extensions or {}), "reason": reason.name}
    return error


def window_closed(message: str, *field: str, **params: Any) -> Refusal:
    return Refusal.of(UserErrorCode.EDIT_WINDOW_CLOSED, message, *field, **params)


async def check_own(ctx: Context, item: Authored, action: str, field: str) -> Member:
    """The viewer's membership if they wrote `item` and may still write in its territory
    (else FORBIDDEN, reason NOT_THE_AUTHOR; NOT_A_MEMBER once they left it); ALREADY_DELETED
    once they deleted it; EDIT_WINDOW_CLOSED while a moderator hides it."""
    ctx.require_account()
    member = await ctx.membership(item.territory_id)
    if member is None or member.id != item.author_id:
        raise refused_role(
            "Only its author may edit this {kind}." if action == "edit" else "Only its author may delete this {kind}.",
            UserErrorCode.NOT_THE_AUTHOR, kind=KINDS[item.kind],
        )
    await check_member(ctx, item.territory_id, OWN_ACTIONS[(action, item.kind)], field)
    if item.deleted:
        raise Refusal.of(UserErrorCode.ALREADY_DELETED, "You already deleted this {kind}.", field, kind=KINDS[item.kind])
    if item.hidden:
        raise window_closed(
            "A moderator hid this {kind}: it can no longer be edited or deleted.", field, kind=KINDS[item.kind]
        )
    return member


async def check_may_edit(ctx: Context, item: Authored, field: str) -> Member:
    """editQuestion (while OPEN), editIdea (while SUBMITTED), editComment (for
    COMMENT_EDIT_WINDOW after it was written): else EDIT_WINDOW_CLOSED."""
    member = await check_own(ctx, item, "edit", field)
    if item.kind == "question" and item.status != QUESTION_OPEN:
        raise window_closed("This question has its reply or was closed: it can no longer be edited.", field)
    if item.kind == "idea" and item.status != IDEA_SUBMITTED:
        raise window_closed("This idea is under review or was reviewed: it can no longer be edited.", field)
    if item.kind == "comment" and clock.now() - as_utc(item.created_at) > COMMENT_EDIT_WINDOW:
        raise window_closed(
            "A comment can be edited for {minutes} minutes after it was written.", field,
            minutes=COMMENT_EDIT_MINUTES,
        )
    return member


async def check_may_delete(ctx: Context, item: Authored, field: str) -> Member:
    """deleteQuestion (until answered: ALREADY_ANSWERED), deleteIdea (until its review
    began: ALREADY_REVIEWED), deleteComment (any time)."""
    member = await check_own(ctx, item, "delete", field)
    if item.kind == "question" and item.status == QUESTION_ANSWERED:
        raise Refusal.of(
            UserErrorCode.ALREADY_ANSWERED, "An answered question can no longer be deleted.", field
        )
    if item.kind == "idea" and item.status != IDEA_SUBMITTED:
        raise Refusal.of(
            UserErrorCode.ALREADY_REVIEWED, "An idea under review or reviewed can no longer be deleted.", field
        )
    return member


async def check_may_moderate(ctx: Context, territory_id: int) -> Member:
    """The viewer's membership if they moderate the territory (MODERATOR or ADMIN), else
    FORBIDDEN with the reason NOT_A_MODERATOR."""
    ctx.require_account()
    member = await ctx.membership(territory_id)
    if member is None or member.role not in STAFF_ROLES:
        raise refused_role("Only the territory's moderators and admins moderate.", UserErrorCode.NOT_A_MODERATOR)
    return member
