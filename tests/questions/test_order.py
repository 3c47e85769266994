"""Territory.questions(orderBy): newest, oldest, most overdue, each paged by its own cursors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.accounts import Role
from models.questions import Question as QuestionRow
from tests.factories import make_person, make_territory
from tests.questions.stories import age_question, asked, pk_of, reply

PAGE = """
query($slug: String!, $orderBy: QuestionOrder, $first: Int, $after: String, $last: Int, $before: String,
      $status: QuestionStatus) {
  territory(slug: $slug) {
    questions(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before, status: $status) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { title } }
    }
  }
}
"""

DAY = dt.timedelta(days=1)


async def page(gql: Any, slug: str, **variables: Any) -> dict[str, Any]:
    result = await gql(PAGE, {"slug": slug, **variables})
    assert not result.get("errors"), result
    return result["data"]["territory"]["questions"]  # type: ignore[no-any-return]


def titles(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


async def walk(gql: Any, slug: str, order: str | None, size: int) -> list[str]:
    """Every title, `size` at a time forward, checked against the same walk backward."""
    forward: list[str] = []
    after = None
    while True:
        connection = await page(gql, slug, orderBy=order, first=size, after=after)
        forward += titles(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    backward: list[str] = []
    before = None
    while True:
        connection = await page(gql, slug, orderBy=order, last=size, before=before)
        backward = titles(connection) + backward
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert backward == forward
    return forward


async def overdue_town(gql: Any) -> Any:
    """Five questions asked in this order: 'later' (due in 10 days), 'late' (2 days
    overdue), 'very late' (5 days overdue), 'answered' (was due 9 days ago, now answered) and
    'also late' (2 days overdue, asked after 'late': the tie goes to the first asked)."""
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    dues = {"later": 10 * DAY, "late": -2 * DAY, "very late": -5 * DAY, "answered": -9 * DAY, "also late": -2 * DAY}
    ids = {title: (await asked(gql, alice.token, territory, title=title))["id"] for title in dues}
    for title, due_in in dues.items():
        await age_question(ids[title], asked_ago=20 * DAY, due_in=due_in)
    # 'late' and 'also late' share their due date to the second
    due_late = dt.datetime.now(dt.UTC).replace(microsecond=0) - 2 * DAY
    for title in ("late", "also late"):
        await QuestionRow.filter(id=pk_of(ids[title], "Question")).update(due_at=due_late)
    assert not (await reply(gql, odile.token, ids["answered"])).get("errors")
    return territory


async def test_each_order_pages_forward_and_backward_without_gaps_or_repeats(gql):
    territory = await overdue_town(gql)
    asked_order = ["later", "late", "very late", "answered", "also late"]

    for size in (1, 2, 5):
        assert await walk(gql, territory.slug, None, size) == asked_order[::-1]
        assert await walk(gql, territory.slug, "NEWEST", size) == asked_order[::-1]
        assert await walk(gql, territory.slug, "OLDEST", size) == asked_order
        assert await walk(gql, territory.slug, "MOST_OVERDUE", size) == [
            "very late", "late", "also late", "later", "answered"
        ]


async def test_most_overdue_with_the_open_filter_is_the_officials_to_do_list(gql):
    territory = await overdue_town(gql)
    open_ones = await page(gql, territory.slug, orderBy="MOST_OVERDUE", status="OPEN", first=10)
    assert titles(open_ones) == ["very late", "late", "also late", "later"]


async def test_a_cursor_of_one_order_is_refused_by_another(gql):
    territory = await overdue_town(gql)
    cursors = {
        order: (await page(gql, territory.slug, orderBy=order, first=1))["pageInfo"]["endCursor"]
        for order in ("NEWEST", "OLDEST", "MOST_OVERDUE")
    }
    for made_by, cursor in cursors.items():
        for used_by in ("NEWEST", "OLDEST", "MOST_OVERDUE"):
            result = await gql(PAGE, {"slug": territory.slug, "orderBy": used_by, "first": 1, "after": cursor})
            if used_by == made_by:
                assert not result.get("errors"), result
            else:
                assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (made_by, used_by)
                assert result["data"] is None or result["data"]["territory"] is None
