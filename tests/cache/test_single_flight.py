"""Readers who miss a shared part while it is being built wait for that build instead of
building it again (sharing/parts.py `_Flight`), but only when nothing was written since the
build began; a failed or abandoned build leaves them to build it themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from events.brokers import InProcessBroker
from sharing.parts import Audience, Part, SharedParts
from sharing.stamp import LOCAL, DataStamp

BUILDS: list[int] = []
GATE: dict[str, asyncio.Event] = {}
FAIL: set[int] = set()


async def build_slowly(reader: None, args: int) -> dict[str, int]:
    """Counts its builds, waits for the gate, fails when asked to."""
    BUILDS.append(args)
    number = len(BUILDS)
    await GATE["open"].wait()
    if number in FAIL:
        raise RuntimeError("the database went away")
    return {"build": number}


SLOW: Part[None, int, dict[str, int]] = Part("slow", build_slowly)


@pytest.fixture
async def parts() -> AsyncIterator[SharedParts]:
    BUILDS.clear()
    FAIL.clear()
    GATE["open"] = asyncio.Event()
    stamp = DataStamp(InProcessBroker())
    stamp.start()
    for _ in range(100):
        if stamp.hearing:
            break
        await asyncio.sleep(0.01)
    assert stamp.hearing
    yield SharedParts(stamp)
    await stamp.close()


def read(parts: SharedParts, args: int = 1) -> asyncio.Task[Any]:
    return asyncio.ensure_future(parts.get(SLOW, Audience.PUBLIC, "t", args, lambda: None))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_readers_arriving_during_a_build_share_it(parts: SharedParts) -> None:
    readers = [read(parts) for _ in range(10)]
    other = read(parts, args=2)  # another key builds on its own
    await settle()
    GATE["open"].set()
    answers = await asyncio.gather(*readers)
    assert all(answer is answers[0] for answer in answers) and answers[0] == {"build": 1}
    assert (await other)["build"] == 2
    assert BUILDS == [1, 2] and parts.misses == 2 and parts.joined == 9


async def test_a_reader_arriving_after_a_write_builds_again(parts: SharedParts) -> None:
    first = read(parts)
    await settle()
    LOCAL.bump(["poll_participation"])  # a vote committed while the first build runs
    second = read(parts)
    await settle()
    GATE["open"].set()
    one, two = await first, await second
    assert one == {"build": 1} and two == {"build": 2} and parts.joined == 0


async def test_a_failed_build_leaves_its_readers_to_build_themselves(parts: SharedParts) -> None:
    FAIL.add(1)
    leader = read(parts)
    await settle()
    followers = [read(parts) for _ in range(3)]
    await settle()
    GATE["open"].set()
    with pytest.raises(RuntimeError):
        await leader
    answers = await asyncio.gather(*followers)
    # The first follower to wake builds again; the others wait for it
    assert answers == [{"build": 2}] * 3 and BUILDS == [1, 1]


async def test_a_cancelled_leader_or_follower_cancels_nobody_else(parts: SharedParts) -> None:
    leader = read(parts)
    await settle()
    follower, quitter = read(parts), read(parts)
    await settle()
    leader.cancel()  # its client went away mid-build
    quitter.cancel()
    await settle()
    GATE["open"].set()
    assert await follower == {"build": 2}
    assert leader.cancelled() and quitter.cancelled()


async def build_until(reader: None, args: float) -> dict[str, int]:
    """A part that holds until `args` (a time boundary it notes, like a poll's closing)."""
    import datetime as dt

    from sharing.horizon import note_boundary

    BUILDS.append(1)
    note_boundary(dt.datetime.fromtimestamp(args, dt.UTC))
    await GATE["open"].wait()
    return {"build": len(BUILDS)}


UNTIL: Part[None, float, dict[str, int]] = Part("until", build_until)


async def test_a_reader_does_not_take_a_build_whose_time_boundary_passed_while_it_waited(parts: SharedParts) -> None:
    import time

    boundary = time.time() + 0.2
    leader = asyncio.ensure_future(parts.get(UNTIL, Audience.PUBLIC, "t", boundary, lambda: None))
    await settle()
    follower = asyncio.ensure_future(parts.get(UNTIL, Audience.PUBLIC, "t", boundary, lambda: None))
    await settle()
    await asyncio.sleep(0.25)  # the boundary passes during the build
    GATE["open"].set()
    assert await leader == {"build": 1}
    assert await follower == {"build": 2} and parts.joined == 0
