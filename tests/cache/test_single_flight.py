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


# --- the anonymous response cache (app/responses.py) ----------------------------------------

STATS = "query($s: String!) { territory(slug: $s) { name stats { participants } } }"
FAIL_FIRST_STATS: list[bool] = []


@pytest.fixture
def slow_stats(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Territory.stats waits for GATE["stats"]; returns the list of computations."""
    import schema.territories as territories

    computed: list[int] = []
    original = territories.territory_figures

    async def held(territory_id: int) -> Any:
        computed.append(territory_id)
        await GATE["stats"].wait()
        if len(computed) == 1 and FAIL_FIRST_STATS:
            raise RuntimeError("the database went away")
        return await original(territory_id)

    GATE["stats"] = asyncio.Event()
    FAIL_FIRST_STATS.clear()
    monkeypatch.setattr(territories, "territory_figures", held)
    return computed


async def anonymous(http: Any, query: str, slug: str) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": {"s": slug}})
    assert response.status_code == 200
    return response.json()


async def test_anonymous_readers_of_an_answer_being_computed_wait_for_it(http: Any, slow_stats: list[int]) -> None:
    from tests.factories import make_territory

    territory = await make_territory()
    readers = [asyncio.ensure_future(anonymous(http, STATS, territory.slug)) for _ in range(8)]
    for _ in range(50):
        await asyncio.sleep(0.01)
    GATE["stats"].set()
    answers = await asyncio.gather(*readers)
    assert len(slow_stats) == 1  # one computation for the eight
    assert all(answer == answers[0] for answer in answers) and "errors" not in answers[0]


async def test_an_anonymous_reader_arriving_after_a_write_computes_its_own(http: Any, slow_stats: list[int]) -> None:
    from models.territories import Territory as TerritoryRow
    from tests.factories import make_territory

    territory = await make_territory()
    first = asyncio.ensure_future(anonymous(http, STATS, territory.slug))
    for _ in range(20):
        await asyncio.sleep(0.01)
    # A write committed while the first answer is being computed (it may not hold it)
    await TerritoryRow.filter(id=territory.id).update(name="Renamed while reading")
    second = asyncio.ensure_future(anonymous(http, STATS, territory.slug))
    for _ in range(20):
        await asyncio.sleep(0.01)
    GATE["stats"].set()
    await first
    assert (await second)["data"]["territory"]["name"] == "Renamed while reading"
    assert len(slow_stats) == 2


async def test_an_answer_with_errors_is_not_handed_to_the_readers_waiting_for_it(
    http: Any, slow_stats: list[int]
) -> None:
    from tests.factories import make_territory

    territory = await make_territory()
    FAIL_FIRST_STATS.append(True)  # the computation in flight fails, the next ones do not
    readers = [asyncio.ensure_future(anonymous(http, STATS, territory.slug)) for _ in range(3)]
    for _ in range(20):
        await asyncio.sleep(0.01)
    GATE["stats"].set()
    answers = await asyncio.gather(*readers)
    assert answers[0]["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert all("errors" not in a and a["data"]["territory"]["stats"] for a in answers[1:]), answers
    assert len(slow_stats) == 2  # one of the others computed it, the last waited for that one
