"""Ballots racing each other: the database, not a check, keeps one ballot per member and
counters equal to the ballots. Proven on PostgreSQL (TEST_DATABASE_URL); SQLite serializes."""

from __future__ import annotations

import asyncio
from collections import Counter

from models.notifications import Notification
from models.polls import PollParticipation
from tests.factories import make_person
from tests.polls.stories import COLOURS, close, counters, created, option_ids, pk_of, town, vote


def outcome(result: dict) -> str:
    assert not result.get("errors"), result
    errors = result["data"]["castVote"]["userErrors"]
    return errors[0]["code"] if errors else "COUNTED"


async def test_fifty_ballots_of_alice_at_once_count_once(gql):
    # Given an open poll
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]

    # When alice's ballot arrives 50 times at once
    results = await asyncio.gather(*(vote(gql, t.alice.token, poll["id"], green) for _ in range(50)))

    # Then exactly one is counted, and the others are told she already voted
    assert Counter(outcome(r) for r in results) == {"COUNTED": 1, "ALREADY_VOTED": 49}
    assert await counters(poll["id"]) == (1, {"Blue": 0, "Green": 1, "Red": 0}, 1)


async def test_forty_members_voting_at_once_are_all_counted(gql):
    # Given forty members of the town and a multiple-choice poll
    t = await town()
    voters = [await make_person(f"voter{i}", t.territory) for i in range(40)]
    single = await created(gql, t.odile.token, t.gid)
    multiple = await created(gql, t.odile.token, t.gid, multipleChoice=True, question="Which days?")
    ids, multi_ids = option_ids(single), option_ids(multiple)

    # When they all vote in both polls at the same moment
    ballots = [vote(gql, p.token, single["id"], ids[i % 3]) for i, p in enumerate(voters)] + [
        vote(gql, p.token, multiple["id"], *multi_ids[: 1 + i % 3]) for i, p in enumerate(voters)
    ]
    results = await asyncio.gather(*ballots)

    # Then every ballot is counted, and each counter equals the ballots for its option
    assert Counter(outcome(r) for r in results) == {"COUNTED": 80}
    expected = Counter(COLOURS[i % 3] for i in range(40))
    assert await counters(single["id"]) == (40, {c: expected[c] for c in COLOURS}, 40)
    expected_multi = Counter(c for i in range(40) for c in COLOURS[: 1 + i % 3])
    assert await counters(multiple["id"]) == (40, {c: expected_multi[c] for c in COLOURS}, 40)


async def test_closing_while_members_vote_counts_exactly_the_ballots_before_the_close(gql):
    # Given thirty members voting while odile closes the poll
    t = await town()
    voters = [await make_person(f"voter{i}", t.territory) for i in range(30)]
    poll = await created(gql, t.odile.token, t.gid)
    ids = option_ids(poll)
    ballots = [vote(gql, p.token, poll["id"], ids[i % 3]) for i, p in enumerate(voters)]
    closing = close(gql, t.odile.token, poll["id"])

    results = await asyncio.gather(*ballots[:15], closing, *ballots[15:])

    # Then each ballot either counted or met a closed poll, and the books agree:
    # counted ballots = participations = total = the counters' sum = the voters notified
    outcomes = Counter(outcome(r) for i, r in enumerate(results) if i != 15)
    assert set(outcomes) <= {"COUNTED", "POLL_CLOSED"}
    total, votes, participants = await counters(poll["id"])
    assert total == participants == sum(votes.values()) == outcomes["COUNTED"]
    voted_accounts = set(
        await PollParticipation.filter(poll_id=pk_of(poll["id"], "Poll")).values_list(
            "member__account_id", flat=True
        )
    )
    notified = set(
        await Notification.filter(subject_type="Poll", subject_id=pk_of(poll["id"], "Poll")).values_list(
            "account_id", flat=True
        )
    )
    assert notified == voted_accounts
