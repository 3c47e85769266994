"""Supports and withdrawals racing: support_count always equals the Support rows."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from models.ideas import Idea as IdeaRow
from models.ideas import Support
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.ideas.stories import PROPOSE, SUPPORT, WITHDRAW
from tests.integrity.crowd import CROWD, SAME_MEMBER_RACE, all_at_once, make_crowd, outcome
from tests.polls.stories import pk_of


async def proposed(gql: Any, token: str, territory_gid: str) -> str:
    result = await gql(
        PROPOSE,
        {"input": {"territoryId": territory_gid, "title": "Shade trees on the market square", "body": "Please."}},
        token=token,
    )
    assert result["data"]["proposeIdea"]["userErrors"] == [], result
    return result["data"]["proposeIdea"]["idea"]["id"]  # type: ignore[no-any-return]


async def support(gql: Any, token: str, idea_id: str) -> dict[str, Any]:
    return await gql(SUPPORT, {"input": {"ideaId": idea_id}}, token=token)  # type: ignore[no-any-return]


async def withdraw(gql: Any, token: str, idea_id: str) -> dict[str, Any]:
    return await gql(WITHDRAW, {"input": {"ideaId": idea_id}}, token=token)  # type: ignore[no-any-return]


async def books(idea_id: str) -> tuple[int, int]:
    """(support_count, Support rows) as stored."""
    pk = pk_of(idea_id, "Idea")
    return (await IdeaRow.get(id=pk)).support_count, await Support.filter(idea_id=pk).count()


async def idea_of_a_town() -> tuple[Any, str, Any]:
    territory = await make_territory(name="Montpellier Métropole")
    alice = await make_person("alice", territory)
    return territory, encode_id("Territory", territory.id), alice


async def test_alice_supporting_two_hundred_times_at_once_counts_once(gql):
    _territory, territory_gid, alice = await idea_of_a_town()
    idea = await proposed(gql, alice.token, territory_gid)

    results = await all_at_once((support(gql, alice.token, idea) for _ in range(SAME_MEMBER_RACE)), SAME_MEMBER_RACE)

    # Supporting is idempotent: every call succeeds, one row, a count of one
    assert Counter(outcome(r, "supportIdea") for r in results) == {"COUNTED": SAME_MEMBER_RACE}
    assert await books(idea) == (1, 1)


async def test_alice_withdrawing_two_hundred_times_at_once_removes_one_support(gql):
    _territory, territory_gid, alice = await idea_of_a_town()
    idea = await proposed(gql, alice.token, territory_gid)
    await support(gql, alice.token, idea)

    results = await all_at_once((withdraw(gql, alice.token, idea) for _ in range(SAME_MEMBER_RACE)), SAME_MEMBER_RACE)

    assert Counter(outcome(r, "withdrawSupport") for r in results) == {"COUNTED": SAME_MEMBER_RACE}
    assert await books(idea) == (0, 0)


async def test_alice_supporting_and_withdrawing_in_a_storm_keeps_the_books(gql):
    # 200 supports and withdrawals of one member interleaved: whatever wins, the count is
    # the rows (0 or 1), never 2 nor -1
    _territory, territory_gid, alice = await idea_of_a_town()
    idea = await proposed(gql, alice.token, territory_gid)
    rng = random.Random(3)
    calls = [
        (support if rng.random() < 0.5 else withdraw)(gql, alice.token, idea) for _ in range(SAME_MEMBER_RACE)
    ]
    results = await all_at_once(calls, SAME_MEMBER_RACE)
    assert all(not r.get("errors") for r in results), [r for r in results if r.get("errors")][:1]
    count, rows = await books(idea)
    assert count == rows and rows in (0, 1)


async def test_a_thousand_members_supporting_at_once_are_all_counted(gql):
    territory, territory_gid, alice = await idea_of_a_town()
    crowd = await make_crowd(territory, CROWD)
    idea = await proposed(gql, alice.token, territory_gid)

    results = await all_at_once(support(gql, p.token, idea) for p in crowd)

    assert Counter(outcome(r, "supportIdea") for r in results) == {"COUNTED": CROWD}
    assert await books(idea) == (CROWD, CROWD)


async def test_a_crowd_supporting_and_withdrawing_at_once_keeps_count_equal_to_rows(gql):
    # Given an idea the first half of the crowd already supports
    territory, territory_gid, alice = await idea_of_a_town()
    crowd = await make_crowd(territory, CROWD)
    idea = await proposed(gql, alice.token, territory_gid)
    half = CROWD // 2
    await all_at_once(support(gql, p.token, idea) for p in crowd[:half])
    assert await books(idea) == (half, half)

    # When, all at once, the first half withdraws (a quarter of them twice), the second half
    # supports (a quarter of them twice), and a tenth of the second half supports and
    # withdraws at the same moment
    rng = random.Random(11)
    calls = []
    for p in crowd[:half]:
        calls.append(withdraw(gql, p.token, idea))
        if rng.random() < 0.25:
            calls.append(withdraw(gql, p.token, idea))
    undecided = set()
    for i, p in enumerate(crowd[half:]):
        calls.append(support(gql, p.token, idea))
        if rng.random() < 0.25:
            calls.append(support(gql, p.token, idea))
        if i % 10 == 0:
            undecided.add(p.member.id)
            calls.append(withdraw(gql, p.token, idea))
    rng.shuffle(calls)
    results = await all_at_once(calls)

    # Then nothing failed, and the count equals the rows: the first half is gone, the second
    # half is in but for those of the undecided whose withdrawal came last
    assert all(not r.get("errors") and not r["data"][next(iter(r["data"]))]["userErrors"] for r in results)
    count, rows = await books(idea)
    assert count == rows
    supporters = set(await Support.filter(idea_id=pk_of(idea, "Idea")).values_list("member_id", flat=True))
    second_half = {p.member.id for p in crowd[half:]}
    assert supporters <= second_half
    assert second_half - undecided <= supporters
