"""The ballot gate: a process lets only a few castVote transactions of one poll run at once
(the others wait their turn in the process rather than on the poll's row locks)."""

from __future__ import annotations

import asyncio

import pytest

from resolvers import ballot
from resolvers.ballot import BALLOTS_AT_ONCE, ballot_gate


async def test_a_poll_lets_a_few_ballots_through_at_once_and_the_others_in_turn() -> None:
    # Given more ballots of one poll than the gate lets through, and one ballot of another poll
    inside: list[int] = []
    most = 0
    release = asyncio.Event()
    order: list[int] = []

    async def ballot_of(poll: int, n: int) -> None:
        nonlocal most
        async with ballot_gate(poll):
            inside.append(n)
            most = max(most, sum(1 for i in inside if i < 100))
            order.append(n)
            await release.wait()
            inside.remove(n)

    crowd = [asyncio.create_task(ballot_of(1, n)) for n in range(BALLOTS_AT_ONCE + 3)]
    other = asyncio.create_task(ballot_of(2, 100))
    await asyncio.sleep(0.01)

    # Then only BALLOTS_AT_ONCE of the crowd are inside, and the other poll's ballot is not held back
    assert sorted(inside) == [*range(BALLOTS_AT_ONCE), 100]
    # When they finish, the others follow in the order they came, never more at once
    release.set()
    await asyncio.gather(*crowd, other)
    assert most == BALLOTS_AT_ONCE
    assert [n for n in order if n < 100] == list(range(BALLOTS_AT_ONCE + 3))
    # And nothing is left behind for either poll
    assert 1 not in ballot._gates and 2 not in ballot._gates


async def test_a_ballot_that_fails_or_is_cancelled_gives_its_place_back() -> None:
    hold = asyncio.Event()

    async def holding() -> None:
        async with ballot_gate(7):
            await hold.wait()

    holders = [asyncio.create_task(holding()) for _ in range(BALLOTS_AT_ONCE)]
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(holding())  # no place left: it waits
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    hold.set()
    await asyncio.gather(*holders)
    assert 7 not in ballot._gates

    with pytest.raises(ValueError):
        async with ballot_gate(7):
            raise ValueError("a ballot that failed")
    assert 7 not in ballot._gates

    # A poll id that is not one lets its ballot through at once (it is refused later)
    async with ballot_gate(None):
        pass
