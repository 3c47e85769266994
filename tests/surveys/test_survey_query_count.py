"""A page of surveys with their questions, results and the viewer's fields reads in a fixed
number of statements, whatever the number of surveys."""

from __future__ import annotations

from tests.polls.stories import town
from tests.surveys.stories import full_answers, opened_survey, submit
from tests.test_query_count import count_queries

PAGE = """query($t: ID!, $n: Int) { surveys(territoryId: $t, first: $n) { edges { node {
  id title status viewerHasSubmitted viewerCanSubmit { allowed }
  questions { id prompt options { label } showIf { questionPosition } }
  results { totalSubmissions questions { answered options { count } scale { value count } } }
} } } }"""


async def test_a_page_of_surveys_costs_the_same_for_2_or_12(gql):
    small, large = await town(), await town()
    for t, n in ((small, 2), (large, 12)):
        for _ in range(n):
            survey = await opened_survey(gql, t.odile.token, t.gid)
            await submit(gql, t.alice.token, survey["id"], full_answers(survey, 1))

    with count_queries() as few:
        assert "errors" not in await gql(PAGE, {"t": small.gid, "n": 20}, token=small.alice.token)
    with count_queries() as many:
        large_page = await gql(PAGE, {"t": large.gid, "n": 20}, token=large.alice.token)
    assert "errors" not in large_page, large_page
    assert len(large_page["data"]["surveys"]["edges"]) == 12
    assert all(e["node"]["viewerHasSubmitted"] for e in large_page["data"]["surveys"]["edges"])
    # Six times the surveys, the same statements (a DataLoader batch may split into one more)
    assert len(many.queries) <= len(few.queries) + 1, (len(few.queries), len(many.queries))
