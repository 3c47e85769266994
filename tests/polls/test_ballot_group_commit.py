"""Group commit (docs/adr/0022): the ballots a process receives at once are written by one
transaction, each voter still gets their own answer, and no ballot is lost or doubled when
the batch fails or a voter's request stops while it waits."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

import resolvers.ballot_writer as writer
from access.sealing import keys_for, seal_ballot
from events.brokers import InProcessBroker
from models.accounts import Member
from models.polls import SealedBallot
from models.stats import Participant
from schema.errors import Refusal, UserErrorCode
from tests.factories import make_person
from tests.polls.stories import COLOURS, counters, created, option_ids, pk_of, town, vote
from tests.territories.test_maintained_stats import counted_again, stats


def outcome(result: dict[str, Any]) -> str:
    assert not result.get("errors"), result
    errors = result["data"]["castVote"]["userErrors"]
    return errors[0]["code"] if errors else "COUNTED"


def batches(monkeypatch: Any, *, fail: list[int] | None = None) -> list[int]:
    """The size of every batch the writer commits (or tries to); with `fail`, the first batch
    of several ballots fails after its statements ran (its size is put in `fail`)."""
    sizes: list[int] = []
    write = writer.do_write_ballots

    async def recorded(poll_id: int, ballots: Any) -> Any:
        sizes.append(len(ballots))
        done = await write(poll_id, ballots)
        if fail is not None and not fail and len(ballots) > 1:
            fail.append(len(ballots))
            raise ConnectionError("connection lost before COMMIT")  # the batch rolls back
        return done

    monkeypatch.setattr(writer, "do_write_ballots", recorded)
    return sizes


async def test_thirty_voters_at_once_share_transactions_and_each_gets_their_answer(gql: Any, monkeypatch: Any) -> None:
    # Given thirty members of the town, and alice, who sends her ballot three times at once
    t = await town()
    voters = [await make_person(f"voter{i}", t.territory) for i in range(30)]
    poll = await created(gql, t.odile.token, t.gid)
    ids = option_ids(poll)
    sizes = batches(monkeypatch)

    # When they all vote at the same moment
    results = await asyncio.gather(
        *(vote(gql, p.token, poll["id"], ids[i % 3]) for i, p in enumerate(voters)),
        *(vote(gql, t.alice.token, poll["id"], ids[0]) for _ in range(3)),
    )

    # Then fewer transactions than ballots wrote them, and each voter got their own answer:
    # every ballot counted once, alice's once, her two others ALREADY_VOTED
    assert len(sizes) < 33 and sum(sizes) == 33 and max(sizes) > 1
    assert [outcome(r) for r in results[:30]] == ["COUNTED"] * 30
    assert Counter(outcome(r) for r in results[30:]) == {"COUNTED": 1, "ALREADY_VOTED": 2}
    expected = Counter(COLOURS[i % 3] for i in range(30)) + Counter({"Blue": 1})
    assert await counters(poll["id"]) == (31, {c: expected[c] for c in COLOURS}, 31)
    # And each answer is the tally right after its own batch: never below one's own ballot
    totals = [r["data"]["castVote"]["poll"]["results"]["totalVotes"] for r in results if outcome(r) == "COUNTED"]
    assert all(1 <= total <= 31 for total in totals) and max(totals) == 31


async def test_a_failed_batch_is_written_again_ballot_by_ballot(gql: Any, monkeypatch: Any) -> None:
    # Given twelve members, and a first batch of several ballots whose transaction fails
    # after its statements ran
    t = await town()
    voters = [await make_person(f"voter{i}", t.territory) for i in range(12)]
    poll = await created(gql, t.odile.token, t.gid)
    ids = option_ids(poll)
    failed: list[int] = []
    sizes = batches(monkeypatch, fail=failed)

    # When they vote at once
    results = await asyncio.gather(*(vote(gql, p.token, poll["id"], ids[i % 2]) for i, p in enumerate(voters)))

    # Then a batch did fail, its ballots were written again one by one, and every ballot is
    # counted exactly once all the same
    assert failed and failed[0] > 1
    assert sizes.count(1) >= failed[0] and sum(sizes) == 12 + failed[0]
    assert [outcome(r) for r in results] == ["COUNTED"] * 12
    assert await counters(poll["id"]) == (12, {"Blue": 6, "Green": 6, "Red": 0}, 12)


async def test_a_voter_whose_request_stops_while_queued_still_has_their_ballot_cast(gql: Any, settings: Any) -> None:
    # Given a ballot of alice queued with bob's, in a poll counting by batches of 5
    t = await town(ballot_batch=5)
    poll = await created(gql, t.odile.token, t.gid)
    pk = pk_of(poll["id"], "Poll")
    keys = keys_for(settings.secret)
    broker = InProcessBroker()
    alice = await Member.get(account_id=t.alice.account.id, territory_id=t.territory.id)
    bob = await Member.get(account_id=t.bob.account.id, territory_id=t.territory.id)
    hers = asyncio.create_task(writer.cast_ballot(pk, 5, broker, alice.id, seal_ballot(keys, pk, [0])))
    his = asyncio.create_task(writer.cast_ballot(pk, 5, broker, bob.id, seal_ballot(keys, pk, [1])))
    await asyncio.sleep(0)

    # When her request is cancelled (its timeout, her client gone) while the writer holds it
    hers.cancel()
    done = await his
    with pytest.raises(asyncio.CancelledError):
        await hers

    # Then her ballot is written all the same: two ballots cast, two participations, two sealed
    assert done.tally is not None and done.tally.total_votes == 2
    assert await counters(poll["id"]) == (2, {"Blue": 0, "Green": 0, "Red": 0}, 2)
    assert await SealedBallot.filter(poll_id=pk).count() == 2
    # And her second try is ALREADY_VOTED, not a second ballot
    again = await vote(gql, t.alice.token, poll["id"], option_ids(poll)[2])
    assert outcome(again) == "ALREADY_VOTED"
    assert await counters(poll["id"]) == (2, {"Blue": 0, "Green": 0, "Red": 0}, 2)


async def test_a_batch_mixing_new_voters_and_a_second_ballot_keeps_the_participation_figures(
    gql: Any, settings: Any
) -> None:
    # Given bob, who already voted, and three members who never took part in anything
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await vote(gql, t.bob.token, poll["id"], option_ids(poll)[0])
    newcomers = [await make_person(f"newcomer{i}", t.territory) for i in range(3)]
    pk = pk_of(poll["id"], "Poll")
    keys = keys_for(settings.secret)
    broker = InProcessBroker()
    members = [t.bob.member, *(p.member for p in newcomers)]

    # When their ballots are queued at once (one batch: bob's second ballot among them)
    results = await asyncio.gather(
        *(writer.cast_ballot(pk, 1, broker, m.id, seal_ballot(keys, pk, [1])) for m in members if m is not None),
        return_exceptions=True,
    )

    # Then bob is told he already voted and the three others are cast
    assert isinstance(results[0], Refusal) and results[0].errors[0].code == UserErrorCode.ALREADY_VOTED
    assert all(isinstance(r, writer.Outcome) and r.tally is not None for r in results[1:])
    assert await counters(poll["id"]) == (4, {"Blue": 1, "Green": 0, "Red": 0}, 4)
    # And the territory's participation figures are those counted from the rows: one
    # contribution each, no row left for a refused ballot
    rows = dict(await Participant.filter(territory_id=t.territory.id).values_list("member_id", "contributions"))
    assert all(rows[m.id] == 1 for m in members if m is not None)
    assert 0 not in rows.values()
    figures = await stats(gql, t.territory)
    assert figures["participants"] == (await counted_again(t.territory.id))["participants"]
