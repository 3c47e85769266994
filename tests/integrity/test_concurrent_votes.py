"""Ballots racing: the database, not a check, keeps one ballot per member, and every
counter equals the ballots cast for it. Full size on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import random
import time
from collections import Counter

from models.polls import PollParticipation
from tests.factories import make_person
from tests.integrity.crowd import CROWD, SAME_MEMBER_RACE, all_at_once, make_crowd, outcome
from tests.polls.stories import COLOURS, counters, created, option_ids, pk_of, town, vote


async def test_two_hundred_ballots_of_alice_at_once_leave_one_ballot(gql):
    # Given an open poll
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, red = option_ids(poll)

    # When alice's ballot arrives 200 times at once, for every colour in turn
    choices = [blue, green, red]
    results = await all_at_once(
        (vote(gql, t.alice.token, poll["id"], choices[i % 3]) for i in range(SAME_MEMBER_RACE)),
        in_flight=SAME_MEMBER_RACE,
    )

    # Then exactly one ballot is counted, for exactly one colour, and the rest are refused
    assert Counter(outcome(r, "castVote") for r in results) == {"COUNTED": 1, "ALREADY_VOTED": SAME_MEMBER_RACE - 1}
    total, votes, participants = await counters(poll["id"])
    assert (total, participants, sum(votes.values())) == (1, 1, 1)
    assert sorted(votes.values()) == [0, 0, 1]
    assert await PollParticipation.filter(poll_id=pk_of(poll["id"], "Poll"), member_id=t.alice.member.id).count() == 1


async def test_a_thousand_members_voting_at_once_leave_an_exact_tally(gql):
    # Given a crowd of members (1,000 on PostgreSQL) and a single-choice poll
    t = await town()
    crowd = await make_crowd(t.territory, CROWD)
    poll = await created(gql, t.odile.token, t.gid)
    ids = option_ids(poll)
    rng = random.Random(20261127)
    picks = [rng.randrange(3) for _ in crowd]

    # When they all vote through the API at the same moment
    started = time.monotonic()
    results = await all_at_once(vote(gql, p.token, poll["id"], ids[k]) for p, k in zip(crowd, picks, strict=True))
    elapsed = time.monotonic() - started

    # Then every ballot is counted, once, and each counter equals the ballots for its option
    assert Counter(outcome(r, "castVote") for r in results) == {"COUNTED": CROWD}, elapsed
    expected = Counter(COLOURS[k] for k in picks)
    assert await counters(poll["id"]) == (CROWD, {c: expected[c] for c in COLOURS}, CROWD)


async def test_a_crowd_voting_twice_at_once_in_a_multiple_choice_poll_counts_each_once(gql):
    # Given a multiple-choice poll and a crowd, each member sending their ballot twice
    # (a double click), with a different choice the second time
    t = await town()
    size = CROWD // 2
    crowd = await make_crowd(t.territory, size)
    poll = await created(gql, t.odile.token, t.gid, multipleChoice=True, question="Which days?")
    ids = option_ids(poll)
    rng = random.Random(7)
    first = [sorted(rng.sample(range(3), rng.randint(1, 3))) for _ in crowd]
    second = [sorted(rng.sample(range(3), rng.randint(1, 3))) for _ in crowd]
    calls = [vote(gql, p.token, poll["id"], *(ids[k] for k in first[i])) for i, p in enumerate(crowd)]
    calls += [vote(gql, p.token, poll["id"], *(ids[k] for k in second[i])) for i, p in enumerate(crowd)]
    order = list(range(len(calls)))
    rng.shuffle(order)

    # When all of them race
    shuffled = await all_at_once(calls[i] for i in order)
    results = [None] * len(calls)
    for position, i in enumerate(order):
        results[i] = shuffled[position]

    # Then each member has exactly one counted ballot, the first or the second
    counted_options: Counter[str] = Counter()
    for i in range(size):
        a, b = outcome(results[i], "castVote"), outcome(results[size + i], "castVote")
        assert sorted([a, b]) == ["ALREADY_VOTED", "COUNTED"], (a, b)
        chosen = first[i] if a == "COUNTED" else second[i]
        counted_options.update(COLOURS[k] for k in chosen)

    # And the counters equal exactly the ballots that were counted
    assert await counters(poll["id"]) == (size, {c: counted_options[c] for c in COLOURS}, size)


async def test_a_late_joiner_racing_the_crowd_is_counted_like_the_others(gql):
    # A member made the slow way votes in the middle of the crowd: nothing special
    t = await town()
    crowd = await make_crowd(t.territory, 20)
    late = await make_person("late", t.territory)
    poll = await created(gql, t.odile.token, t.gid)
    red = option_ids(poll)[2]
    results = await all_at_once(vote(gql, p.token, poll["id"], red) for p in [*crowd[:10], late, *crowd[10:]])
    assert Counter(outcome(r, "castVote") for r in results) == {"COUNTED": 21}
    assert await counters(poll["id"]) == (21, {"Blue": 0, "Green": 0, "Red": 21}, 21)
