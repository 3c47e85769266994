"""castVote: one secret ballot per member, in an open poll, with options of that poll."""

from __future__ import annotations

import asyncio

from models.polls import Poll as PollRow
from models.polls import PollParticipation
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.polls.stories import (
    DAY,
    HOUR,
    close,
    counters,
    created,
    iso,
    move_in_time,
    now,
    on_poll,
    option_ids,
    pk_of,
    published,
    read,
    tally,
    top_code,
    town,
    user_errors,
    vote,
    voted,
)


async def test_alice_votes_green(gql, app_broker):
    # Given odile's poll on the tram's colour
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]

    # When alice votes green
    async with published(app_broker, on_poll(poll["id"])) as events:
        after = await voted(gql, t.alice.token, poll["id"], green)

    # Then her ballot is counted, and she (only she) sees that she voted
    assert after["viewerHasVoted"] is True
    assert after["results"]["totalVotes"] == 1
    assert tally(after) == {"Blue": 0, "Green": 1, "Red": 0}
    assert [r["share"] for r in after["results"]["options"]] == [0.0, 1.0, 0.0]
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 1, "Red": 0}, 1)
    assert (await read(gql, t.bob.token, poll["id"]))["viewerHasVoted"] is False
    # And the poll's channel heard of a vote, then of its count (a batch of one here: K = 1),
    # with no word of who or what
    assert [(e.type, e.data) for e in events] == [
        ("vote", {"poll": pk_of(poll["id"], "Poll")}), ("tally", {"poll": pk_of(poll["id"], "Poll")})
    ]


async def test_a_voter_is_answered_after_her_vote_was_announced(gql, app_broker, monkeypatch):
    # Given a broker slow to publish a poll's vote (a busy Redis)
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    publish = app_broker.publish
    done: list[str] = []

    async def slow_publish(event):
        if event.type == "vote":
            await asyncio.sleep(0.1)
        await publish(event)
        done.append(event.type)

    monkeypatch.setattr(app_broker, "publish", slow_publish)
    # When alice votes (K = 1: her request also publishes the count)
    async with published(app_broker, on_poll(poll["id"])) as events:
        await voted(gql, t.alice.token, poll["id"], green)
        published_when_answered = [kind for kind in done if kind != "changed"]
    # Then the vote was published before she was answered, and heard before its count
    assert published_when_answered == ["vote", "tally"]
    assert [e.type for e in events] == ["vote", "tally"]


async def test_voting_needs_an_account_and_a_membership(gql, app_broker):
    t = await town()
    elsewhere = await make_territory()
    olga = await make_person("olga", elsewhere)
    sam = await make_person("sam")
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]

    async with published(app_broker, on_poll(poll["id"])) as events:
        assert top_code(await vote(gql, None, poll["id"], green)) == "UNAUTHENTICATED"
        for outsider in (olga, sam):
            result = await vote(gql, outsider.token, poll["id"], green)
            assert user_errors(result, "castVote") == [(["input", "pollId"], "NOT_A_MEMBER")]
            assert result["data"]["castVote"]["poll"] is None
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)
    assert events == []


async def test_a_verified_only_poll_refuses_alice_and_counts_vera(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, verifiedOnly=True)
    green = option_ids(poll)[1]

    refused = await vote(gql, t.alice.token, poll["id"], green)
    assert user_errors(refused, "castVote") == [(["input", "pollId"], "NOT_VERIFIED")]
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)

    after = await voted(gql, t.vera.token, poll["id"], green)
    assert tally(after) == {"Blue": 0, "Green": 1, "Red": 0}


async def test_a_single_choice_ballot_takes_exactly_one_option(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(poll)

    for ballot in ([blue, green], [], [green, green]):
        result = await vote(gql, t.alice.token, poll["id"], *ballot)
        assert user_errors(result, "castVote") == [(["input", "optionIds"], "INVALID")], ballot
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)
    # And a refused ballot did not use up alice's vote
    assert tally(await voted(gql, t.alice.token, poll["id"], blue)) == {"Blue": 1, "Green": 0, "Red": 0}


async def test_an_option_of_another_poll_or_no_option_at_all_is_invalid(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    other = await created(gql, t.odile.token, t.gid, question="Tram or bus?", options=["Tram", "Bus"])
    tram = option_ids(other)[0]

    for option in (
        tram,
        "garbage",
        encode_id("Poll", pk_of(poll["id"], "Poll")),
        encode_id("PollOption", 2**31 - 1),
    ):
        result = await vote(gql, t.alice.token, poll["id"], option)
        assert user_errors(result, "castVote") == [(["input", "optionIds", "0"], "INVALID")], option
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)
    assert await counters(other["id"]) == (0, {"Tram": 0, "Bus": 0}, 0)


async def test_a_multiple_choice_ballot_takes_distinct_options_of_that_poll(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, multipleChoice=True)
    other = await created(gql, t.odile.token, t.gid, question="Tram or bus?", options=["Tram", "Bus"])
    blue, green, red = option_ids(poll)
    tram = option_ids(other)[0]

    duplicate = await vote(gql, t.alice.token, poll["id"], blue, green, blue)
    assert user_errors(duplicate, "castVote") == [(["input", "optionIds", "2"], "INVALID")]
    foreign = await vote(gql, t.alice.token, poll["id"], blue, tram)
    assert user_errors(foreign, "castVote") == [(["input", "optionIds", "1"], "INVALID")]
    too_many = await vote(gql, t.alice.token, poll["id"], blue, green, red, blue)
    assert user_errors(too_many, "castVote") == [(["input", "optionIds"], "INVALID")]
    empty = await vote(gql, t.alice.token, poll["id"])
    assert user_errors(empty, "castVote") == [(["input", "optionIds"], "INVALID")]
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)

    # alice picks two, bob picks all three, vera one: three ballots
    await voted(gql, t.alice.token, poll["id"], blue, green)
    await voted(gql, t.bob.token, poll["id"], red, green, blue)
    after = await voted(gql, t.vera.token, poll["id"], green)
    assert after["results"]["totalVotes"] == 3
    assert tally(after) == {"Blue": 2, "Green": 3, "Red": 1}
    assert [r["share"] for r in after["results"]["options"]] == [2 / 3, 1.0, 1 / 3]
    assert await counters(poll["id"]) == (3, {"Blue": 2, "Green": 3, "Red": 1}, 3)


async def test_a_scheduled_poll_is_not_open_yet(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, opensAt=iso(now() + DAY), closesAt=iso(now() + 2 * DAY))
    result = await vote(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    assert user_errors(result, "castVote") == [(["input", "pollId"], "POLL_NOT_OPEN")]
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)


async def test_a_closed_poll_takes_no_more_ballots(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    await voted(gql, t.bob.token, poll["id"], green)
    assert not (await close(gql, t.odile.token, poll["id"])).get("errors")

    result = await vote(gql, t.alice.token, poll["id"], green)
    assert user_errors(result, "castVote") == [(["input", "pollId"], "POLL_CLOSED")]
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 1, "Red": 0}, 1)


async def test_a_poll_past_its_closing_time_refuses_ballots_without_anyone_closing_it(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await move_in_time(poll["id"], opens_at=now() - 2 * DAY, closes_at=now() - HOUR)

    result = await vote(gql, t.alice.token, poll["id"], option_ids(poll)[1])
    assert user_errors(result, "castVote") == [(["input", "pollId"], "POLL_CLOSED")]
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)
    assert (await PollRow.get(id=pk_of(poll["id"], "Poll"))).closed_at is None


async def test_alice_votes_once(gql, app_broker):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(poll)
    await voted(gql, t.alice.token, poll["id"], green)

    # When alice tries again, for blue this time
    async with published(app_broker, on_poll(poll["id"])) as events:
        again = await vote(gql, t.alice.token, poll["id"], blue)

    # Then she is told she voted, and nothing moved
    assert user_errors(again, "castVote") == [(["input", "pollId"], "ALREADY_VOTED")]
    assert again["data"]["castVote"]["poll"] is None
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 1, "Red": 0}, 1)
    assert events == []


async def test_an_unknown_or_hidden_poll_is_not_found(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    for poll_id in ("garbage", encode_id("Poll", 2**31 - 1), encode_id("Territory", t.territory.id)):
        result = await vote(gql, t.alice.token, poll_id, green)
        assert user_errors(result, "castVote") == [(["input", "pollId"], "NOT_FOUND")]

    await PollRow.filter(id=pk_of(poll["id"], "Poll")).update(hidden=True)
    hidden = await vote(gql, t.alice.token, poll["id"], green)
    assert user_errors(hidden, "castVote") == [(["input", "pollId"], "NOT_FOUND")]
    assert await PollParticipation.filter(poll_id=pk_of(poll["id"], "Poll")).count() == 0
