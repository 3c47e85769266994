"""The secret ballot: no stored row and no API field links a member to what they chose."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import Tortoise, connections

from models.feed import FeedEntry
from models.notifications import Notification
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from models.polls import PollParticipation
from tests.polls.stories import close, created, option_ids, pk_of, town, voted

INTROSPECT = """
query($name: String!) { __type(name: $name) { fields { name } } }
"""


async def columns(table: str) -> set[str]:
    """The columns the database really has (not what the model says)."""
    db = connections.get("default")
    if db.capabilities.dialect == "sqlite":
        return {row["name"] for row in await db.execute_query_dict(f"PRAGMA table_info({table})")}
    rows = await db.execute_query_dict(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = current_schema() AND table_name = '{table}'"
    )
    return {row["column_name"] for row in rows}


async def test_who_voted_and_what_was_voted_share_no_column():
    # Who voted: the poll and the member, nothing else (no option, no time)
    assert await columns("poll_participation") == {"id", "poll_id", "member_id"}
    # What was voted: counters per option, no member, no time
    assert await columns("poll_option") == {"id", "poll_id", "position", "label", "votes"}
    # What was voted and not yet counted: sealed, under a random id, no member, no time
    assert await columns("poll_sealed_ballot") == {"id", "poll_id", "sealed"}
    # The poll itself: its author and totals; no member beyond its creator, no option
    assert await columns("poll") == {
        "id",
        "territory_id",
        "project_id",
        "created_by_id",
        "question",
        "multiple_choice",
        "verified_only",
        "opens_at",
        "closes_at",
        "closed_at",
        "results_visibility",
        "total_votes",
        "counted_votes",
        "created_at",
        "close_notified",
        "hidden",
    }
    # Notifications name a subject (the poll), never an option
    assert await columns("notification") == {
        "id",
        "account_id",
        "kind",
        "subject_type",
        "subject_id",
        "message",
        "read",
        "created_at",
        "shown_at",  # when a live stream showed it (no ballot in it)
    }
    # And no table at all points at an option, or keeps a ballot but sealed ones
    for app in Tortoise.apps.values():
        for model in app.values():
            for name in model._meta.fk_fields | model._meta.o2o_fields:
                related = model._meta.fields_map[name].related_model
                assert related is not PollOptionRow, f"{model.__name__}.{name} points at an option"
            assert "ballot" not in model._meta.db_table or model._meta.db_table == "poll_sealed_ballot"


async def stored(poll_id: str) -> dict[str, Any]:
    """Everything stored about a poll and its voters, without the poll's own ids."""
    pk = pk_of(poll_id, "Poll")
    row = await PollRow.get(id=pk)
    return {
        "poll": (row.total_votes, row.closed_at is not None, row.close_notified),
        "who": await PollParticipation.filter(poll_id=pk).order_by("id").values_list("member_id", flat=True),
        "what": await PollOptionRow.filter(poll_id=pk)
        .order_by("position")
        .values_list("position", "label", "votes"),
        "notifications": await Notification.filter(subject_type="Poll", subject_id=pk)
        .order_by("id")
        .values_list("account_id", "kind", "subject_type", "message", "read"),
        "feed": await FeedEntry.filter(subject_type="Poll", subject_id=pk).count(),
    }


async def test_swapping_two_ballots_leaves_the_same_rows(gql):
    # Given two polls asked the same way
    t = await town()
    first = await created(gql, t.odile.token, t.gid)
    second = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(first)
    blue2, green2, _ = option_ids(second)

    # When alice and bob vote in both, in the same order, with their choices swapped
    await voted(gql, t.alice.token, first["id"], blue)
    await voted(gql, t.alice.token, second["id"], green2)
    await voted(gql, t.bob.token, first["id"], green)
    await voted(gql, t.bob.token, second["id"], blue2)
    await close(gql, t.odile.token, first["id"])
    await close(gql, t.odile.token, second["id"])

    # Then the database holds exactly the same thing about both polls: nothing in it
    # could tell who chose what
    assert await stored(first["id"]) == await stored(second["id"])
    assert (await stored(first["id"]))["who"] == [t.alice.member.id, t.bob.member.id]


async def test_the_database_versions_do_not_point_at_the_last_choice(gql):
    """PostgreSQL stamps each row version with its transaction (xmin): a fold rewrites every
    option of the poll in a transaction of its own, so no voter's transaction is on any of
    them (even with batches of one, K = 1; tests/security has the batches)."""
    db = connections.get("default")
    if db.capabilities.dialect != "postgres":
        pytest.skip("row versions (xmin) are PostgreSQL's")
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(poll)
    await voted(gql, t.alice.token, poll["id"], blue)
    await voted(gql, t.bob.token, poll["id"], green)
    pk = pk_of(poll["id"], "Poll")

    options = await db.execute_query_dict(f"SELECT xmin::text AS x FROM poll_option WHERE poll_id = {pk}")
    voters = await db.execute_query_dict(
        f"SELECT xmin::text AS x, member_id FROM poll_participation WHERE poll_id = {pk}"
    )
    assert len({row["x"] for row in options}) == 1
    assert not {row["x"] for row in options} & {row["x"] for row in voters}


async def test_the_api_tells_whether_one_voted_never_what(gql):
    async def fields(name: str) -> set[str]:
        result = await gql(INTROSPECT, {"name": name})
        return {field["name"] for field in result["data"]["__type"]["fields"]}

    assert await fields("Poll") == {
        "id",
        "question",
        "territory",
        "project",
        "options",
        "multipleChoice",
        "verifiedOnly",
        "opensAt",
        "closesAt",
        "status",
        "resultsVisibility",
        "results",
        "viewerHasVoted",
        "viewerCanVote",
    }
    # What the viewer may do says nothing of a choice either: allowed, and a code.
    assert await fields("Permission") == {"allowed", "reason"}
    assert await fields("PollOption") == {"id", "label"}
    assert await fields("PollResults") == {"poll", "totalVotes", "countedVotes", "options", "final"}
    assert await fields("OptionResult") == {"option", "votes", "share"}
    assert await fields("PollPayload") == {"poll", "userErrors"}
