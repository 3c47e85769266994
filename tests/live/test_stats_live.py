"""territoryStats over a real websocket: the figures at once, then after the writes that move them."""

from __future__ import annotations

from tests.live import test_live
from tests.live.harness import Live
from tests.live.test_live import World, answered_question, new_poll, vote

# The same kind of server and territory as tests/live/test_live.py (a server of this module's own).
server = test_live.server
world = test_live.world

STATS = """subscription($t: ID!) { territoryStats(territoryId: $t) {
  questionsAsked questionsAnswered votesCast participants } }"""


async def test_a_dashboard_sees_the_figures_move_with_questions_and_votes(world: World) -> None:
    async with await Live.open(world.url) as live:  # anonymous: the figures are public
        op = await live.subscribe(STATS, {"t": world.territory_id})
        first = (await live.next(op))["territoryStats"]

        # When a newcomer's question is answered
        asker = await world.newcomer()
        await answered_question(world, asker, "Where is the new library?")
        figures = (await live.next(op))["territoryStats"]
        while figures["questionsAnswered"] < first["questionsAnswered"] + 1:
            figures = (await live.next(op))["territoryStats"]
        assert figures["questionsAsked"] == first["questionsAsked"] + 1
        assert figures["participants"] == first["participants"] + 1

        # And when someone votes
        poll = await new_poll(world)
        await vote(world.alice, poll, 0)
        while figures["votesCast"] < first["votesCast"] + 1:
            figures = (await live.next(op))["territoryStats"]
        assert figures["votesCast"] == first["votesCast"] + 1


async def test_an_unknown_territory_is_not_found(world: World) -> None:
    async with await Live.open(world.url) as live:
        op = await live.subscribe(STATS, {"t": "VGVycml0b3J5Ojk5OTk="})
        message = await live.message(op)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
