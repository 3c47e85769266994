"""castVote's statements: a ballot is a fixed handful of SQL statements whatever the poll
(resolvers/ballot.py), and the count, the last of them, re-checks the window on its own."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tortoise import connections

import schema.polls
from models.polls import Poll as PollRow
from schema.polls import PollStatus
from tests.polls.stories import (
    close,
    counters,
    created,
    on_poll,
    option_ids,
    pk_of,
    published,
    tally,
    town,
    user_errors,
    vote,
    voted,
)

BALLOT = """
mutation Vote($input: CastVoteInput!) {
  castVote(input: $input) {
    poll { id viewerHasVoted options { id label } results { totalVotes final options { votes share option { id } } } }
    userErrors { field code }
  }
}
"""

LINES = [f"Line {n}" for n in range(1, 13)]


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.heads: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        words = record.getMessage().split(None, 3)
        if words and words[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            # INSERT INTO "poll_participation" -> "INSERT poll_participation"
            table = words[2].strip('"') if words[0].upper() == "INSERT" else ""
            self.heads.append(f"{words[0].upper()} {table}".strip())


@contextmanager
def statements() -> Iterator[list[str]]:
    """The first word of every SQL statement run during the block (INSERTs with their table)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Statements()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.heads
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def TAKE_PART() -> str:  # noqa: N802 - reads as the statement it names
    """The batch's participation INSERT (in a WITH on PostgreSQL, to fetch its RETURNING)."""
    return "WITH" if postgres() else "INSERT poll_participation"


async def test_a_ballot_is_one_read_one_participation_and_one_sealed_count(gql: Any) -> None:
    # Given a multiple-choice poll with twelve options, in a town counting by batches of 5
    t = await town(ballot_batch=5)
    poll = await created(
        gql, t.odile.token, t.gid, multipleChoice=True, question="Which lines at night?", options=LINES
    )
    ids = option_ids(poll)

    # When alice chooses five of them, every statement logged
    with statements() as ran:
        result = await gql(BALLOT, {"input": {"pollId": poll["id"], "optionIds": ids[2:7]}}, token=t.alice.token)

    # Then her ballot is cast, sealed, not yet counted: the answer is the tally right after it
    payload = result["data"]["castVote"]
    assert payload["userErrors"] == []
    assert payload["poll"]["viewerHasVoted"] is True
    assert [o["id"] for o in payload["poll"]["options"]] == ids
    assert payload["poll"]["results"]["totalVotes"] == 1
    assert [o["votes"] for o in payload["poll"]["results"]["options"]] == [0] * 12
    assert await counters(poll["id"]) == (1, dict.fromkeys(LINES, 0), 1)
    # And it took the token lookup, one read (poll, options, territory, membership), then the
    # writer's batch (docs/adr/0022): the participation INSERT (a WITH on PostgreSQL, for its
    # RETURNING) and the sealed count: one statement on PostgreSQL, three on SQLite (the cast,
    # the sealed ballot, the options for the payload); no option row written
    count = ["WITH"] if postgres() else ["UPDATE", "INSERT poll_sealed_ballot", "SELECT"]
    assert ran == ["SELECT", "SELECT", TAKE_PART(), *count]


async def test_a_refused_ballot_writes_nothing_and_reads_once(gql: Any) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    other = await created(gql, t.odile.token, t.gid, question="Tram or bus?", options=["Tram", "Bus"])

    # An option of another poll: refused after the one read, before any write
    with statements() as ran:
        result = await vote(gql, t.alice.token, poll["id"], option_ids(other)[0])
    assert user_errors(result, "castVote") == [(["input", "optionIds", "0"], "INVALID")]
    assert ran == ["SELECT", "SELECT"]

    # A second ballot: the participation INSERT refuses it, and nothing is counted
    green = option_ids(poll)[1]
    await voted(gql, t.alice.token, poll["id"], green)
    with statements() as ran:
        again = await vote(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    assert user_errors(again, "castVote") == [(["input", "pollId"], "ALREADY_VOTED")]
    assert ran == ["SELECT", "SELECT", TAKE_PART()]
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 1, "Red": 0}, 1)


async def test_a_poll_closed_after_the_checks_is_refused_by_the_count(gql: Any, app_broker: Any, monkeypatch: Any) -> None:
    # Given a poll odile closes, and a castVote whose checks still saw it open (the close
    # committing between the read and the count, as it can under load)
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    await voted(gql, t.bob.token, poll["id"], green)
    assert not (await close(gql, t.odile.token, poll["id"])).get("errors")
    monkeypatch.setattr(schema.polls, "poll_status", lambda row, now=None: PollStatus.OPEN)

    # When alice votes
    async with published(app_broker, on_poll(poll["id"])) as events:
        result = await vote(gql, t.alice.token, poll["id"], green)

    # Then the count's own window check refuses the ballot, and the transaction takes the
    # participation back with it: nothing moved, nothing was announced
    assert user_errors(result, "castVote") == [(["input", "pollId"], "POLL_CLOSED")]
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 1, "Red": 0}, 1)
    assert events == []


async def test_moderators_vote_in_a_hidden_poll_that_citizens_cannot_find(gql: Any) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    red = option_ids(poll)[2]
    await PollRow.filter(id=pk_of(poll["id"], "Poll")).update(hidden=True)

    hidden = await vote(gql, t.alice.token, poll["id"], red)
    assert user_errors(hidden, "castVote") == [(["input", "pollId"], "NOT_FOUND")]
    after = await voted(gql, t.mona.token, poll["id"], red)
    assert tally(after) == {"Blue": 0, "Green": 0, "Red": 1}
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 0, "Red": 1}, 1)


@pytest.mark.parametrize("chosen", [[0], [0, 1, 2]])
async def test_the_count_rewrites_every_option_of_the_poll_and_no_other(gql: Any, chosen: list[int]) -> None:
    # Two polls side by side: a ballot in one leaves the other's counters as they were
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, multipleChoice=True)
    other = await created(gql, t.odile.token, t.gid, question="Tram or bus?", options=["Tram", "Bus"])
    await voted(gql, t.bob.token, other["id"], option_ids(other)[1])
    ids = option_ids(poll)

    after = await voted(gql, t.alice.token, poll["id"], *(ids[n] for n in chosen))
    assert tally(after) == {label: int(n in chosen) for n, label in enumerate(["Blue", "Green", "Red"])}
    assert await counters(other["id"]) == (1, {"Tram": 0, "Bus": 1}, 1)
