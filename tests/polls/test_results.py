"""Results and status: live or after close, exact shares, and time moving a poll along."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from tests.polls.stories import (
    DAY,
    HOUR,
    TERRITORY_POLLS,
    close,
    created,
    iso,
    move_in_time,
    now,
    option_ids,
    read,
    tally,
    town,
    voted,
)


async def test_live_results_show_each_option_with_exact_shares(gql):
    # Given odile's live poll, and alice voting blue, bob and vera green
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(poll)
    await voted(gql, t.alice.token, poll["id"], blue)
    await voted(gql, t.bob.token, poll["id"], green)
    await voted(gql, t.vera.token, poll["id"], green)

    # When anyone, even without an account, reads the poll
    seen = await read(gql, None, poll["id"])

    # Then the tally and its exact shares show while the poll is open
    results = seen["results"]
    assert seen["status"] == "OPEN" and results["final"] is False
    assert results["totalVotes"] == 3
    assert [
        (r["option"]["id"], r["option"]["label"], r["votes"], r["share"]) for r in results["options"]
    ] == [
        (blue, "Blue", 1, 1 / 3),
        (green, "Green", 2, 2 / 3),
        (option_ids(poll)[2], "Red", 0, 0.0),
    ]
    assert seen["viewerHasVoted"] is False


async def test_after_close_results_show_only_the_turnout_until_the_poll_closes(gql):
    # Given an AFTER_CLOSE poll with three ballots
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, resultsVisibility="AFTER_CLOSE")
    blue, green, _ = option_ids(poll)
    after_vote = await voted(gql, t.alice.token, poll["id"], blue)
    await voted(gql, t.bob.token, poll["id"], green)
    await voted(gql, t.vera.token, poll["id"], green)

    # Then nobody, voter, official or admin, sees the options' counts while it is open
    assert after_vote["results"]["options"] is None
    for persona in (None, t.alice, t.odile, t.adam, t.mona):
        seen = await read(gql, persona.token if persona else None, poll["id"])
        assert seen["results"] == {
            "totalVotes": 3,
            "countedVotes": 3,
            "final": False,
            "poll": {"id": poll["id"]},
            "options": None,
        }

    # When odile closes it
    closed = (await close(gql, t.odile.token, poll["id"]))["data"]["closePoll"]["poll"]

    # Then the final results show to everyone
    assert closed["status"] == "CLOSED"
    assert closed["results"]["final"] is True
    assert tally(closed) == {"Blue": 1, "Green": 2, "Red": 0}
    seen = await read(gql, None, poll["id"])
    assert [r["share"] for r in seen["results"]["options"]] == [1 / 3, 2 / 3, 0.0]


async def test_after_close_results_show_once_the_closing_time_passed(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, resultsVisibility="AFTER_CLOSE")
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    await move_in_time(poll["id"], opens_at=now() - 2 * DAY, closes_at=now() - HOUR)

    seen = await read(gql, None, poll["id"])
    assert seen["status"] == "CLOSED"
    assert seen["results"]["final"] is True
    assert tally(seen) == {"Blue": 1, "Green": 0, "Red": 0}


async def test_time_moves_a_poll_from_scheduled_to_open_to_closed(gql):
    # Given a poll scheduled for tomorrow
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, opensAt=iso(now() + DAY), closesAt=iso(now() + 2 * DAY))

    async def listed(status: str | None) -> list[str]:
        result = await gql(TERRITORY_POLLS, {"slug": t.territory.slug, "status": status})
        assert not result.get("errors"), result
        return [edge["node"]["id"] for edge in result["data"]["territory"]["polls"]["edges"]]

    assert (await read(gql, None, poll["id"]))["status"] == "SCHEDULED"
    assert await listed("SCHEDULED") == [poll["id"]]
    assert await listed("OPEN") == [] and await listed("CLOSED") == []

    # When its opening time comes
    await move_in_time(poll["id"], opens_at=now() - HOUR, closes_at=now() + DAY)
    assert (await read(gql, None, poll["id"]))["status"] == "OPEN"
    assert await listed("OPEN") == [poll["id"]]
    assert await listed("SCHEDULED") == [] and await listed("CLOSED") == []

    # And its closing time passes, with nobody acting
    await move_in_time(poll["id"], opens_at=now() - DAY, closes_at=now() - HOUR)
    seen = await read(gql, None, poll["id"])
    assert seen["status"] == "CLOSED" and seen["results"]["final"] is True
    assert await listed("CLOSED") == [poll["id"]]
    assert await listed("OPEN") == [] and await listed("SCHEDULED") == []
    assert await listed(None) == [poll["id"]]


async def test_a_poll_closed_by_hand_before_its_time_lists_as_closed(gql):
    t = await town()
    open_poll = await created(gql, t.odile.token, t.gid)
    closed_poll = await created(gql, t.odile.token, t.gid, question="Tram or bus?", options=["Tram", "Bus"])
    await close(gql, t.odile.token, closed_poll["id"])

    result = await gql(TERRITORY_POLLS, {"slug": t.territory.slug, "status": "CLOSED"})
    assert [e["node"]["id"] for e in result["data"]["territory"]["polls"]["edges"]] == [closed_poll["id"]]
    result = await gql(TERRITORY_POLLS, {"slug": t.territory.slug, "status": "OPEN"})
    assert [e["node"]["id"] for e in result["data"]["territory"]["polls"]["edges"]] == [open_poll["id"]]


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """The SQL statements run during the block (Tortoise logs each one at DEBUG)."""
    statements: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Handler(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_a_page_of_polls_costs_the_same_queries_whatever_its_size(gql):
    # Given two territories, one with 2 polls and one with 8, each with a ballot
    small, large = await town(), await town()
    for t, count in ((small, 2), (large, 8)):
        for i in range(count):
            poll = await created(gql, t.odile.token, t.gid, question=f"Poll {i}?")
            await voted(gql, t.alice.token, poll["id"], option_ids(poll)[i % 3])

    # When alice reads each territory's polls with their options and results
    async def page(t) -> int:
        with counting_queries() as statements:
            result = await gql(
                TERRITORY_POLLS, {"slug": t.territory.slug, "status": None}, token=t.alice.token
            )
        assert not result.get("errors"), result
        edges = result["data"]["territory"]["polls"]["edges"]
        assert all(edge["node"]["viewerHasVoted"] for edge in edges)
        assert all(edge["node"]["results"]["totalVotes"] == 1 for edge in edges)
        return len(statements)

    # Then both pages cost the same number of statements
    small_cost, large_cost = await page(small), await page(large)
    assert small_cost == large_cost, (small_cost, large_cost)
