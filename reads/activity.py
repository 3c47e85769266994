""""My activity": what one account did, in every territory, as queries its own lists page.

Each list belongs to the account that asks (`Viewer`); no argument names another account.
What the viewer wrote shows even once a moderator hid it (their own questions, ideas and
comments: the author's exception of Viewer's lists); what they only took part in follows the
one visibility rule (ADR 0014): a comment on content hidden from them, a support of a hidden
idea, a vote in a hidden poll, a follow of hidden content leave the list (and its count) until
the content is restored.

Votes are participations only (poll, member): the participation row holds no choice and no
time, and nothing here reads a sealed ballot or a counter (docs/adr/0009).
"""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.comments import Comment
from models.ideas import Support
from models.polls import PollParticipation
from models.reach import Follow
from reads.nodes import MODELS
from reads.visibility import COMMENTED, seen_ids, seen_subjects

# What a person can follow (resolvers/reach.py checks a follow against the same kinds).
FOLLOWABLE = ("Question", "Idea", "Project", "Poll", "Consultation")


def comments_of(account_id: int) -> QuerySet[Comment]:
    """The account's comments, in every territory: hidden ones included (theirs), but not
    those they deleted, nor those on content they may not see (hidden with it)."""
    return Comment.filter(author__account_id=account_id, deleted_at__isnull=True).filter(seen_subjects(MODELS, account_id, COMMENTED))


def supports_of(account_id: int) -> QuerySet[Support]:
    """The account's supports of ideas it may see, each with its idea."""
    return Support.filter(
        member__account_id=account_id, idea_id__in=seen_ids(MODELS, "Idea", account_id)
    ).select_related("idea")


def participations_of(account_id: int) -> QuerySet[PollParticipation]:
    """The polls the account voted in (that it may see), each with its poll: who voted, never
    what was chosen."""
    return PollParticipation.filter(
        member__account_id=account_id, poll_id__in=seen_ids(MODELS, "Poll", account_id)
    ).select_related("poll")


def follows_of(account_id: int) -> QuerySet[Follow]:
    """What the account follows, of what it may see."""
    return Follow.filter(account_id=account_id).filter(seen_subjects(MODELS, account_id, FOLLOWABLE))
