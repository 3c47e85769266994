"""surveyResults: the results live, moving by batches; a draft is NOT_FOUND but to its staff."""

from __future__ import annotations

import asyncio
from typing import Any

from access.context import Context
from app.api import schema
from models.accounts import AccessToken
from tests.factories import Persona
from tests.polls.stories import town
from tests.surveys.stories import CLOSE, CREATE, full_answers, ok, opened_survey, submit, survey_input

RESULTS = """subscription($s: ID!) { surveyResults(surveyId: $s) {
  surveyId status totalSubmissions countedSubmissions final questions { answered textAnswers options { count } } } }"""


async def context(settings: Any, broker: Any, who: Persona | None = None) -> Context:
    if who is None:
        return Context(request=None, response=None, broker=broker, settings=settings)
    token = await AccessToken.filter(account_id=who.account.id).first()
    return Context(request=None, response=None, broker=broker, settings=settings, account=who.account, token=token)


async def following(stream: Any) -> dict[str, Any]:
    result = await asyncio.wait_for(stream.__anext__(), 10)
    assert not result.errors, result.errors
    return result.data["surveyResults"]  # type: ignore[no-any-return]


async def test_watchers_see_submissions_then_batches_then_the_close(gql, app_broker, settings):
    # Given a survey of a territory counting by batches of 2
    t = await town(ballot_batch=2)
    survey = await opened_survey(gql, t.odile.token, t.gid)
    stream = await schema.subscribe(RESULTS, variable_values={"s": survey["id"]},
                                    context_value=await context(settings, app_broker))
    try:
        first = await following(stream)
        assert (first["totalSubmissions"], first["countedSubmissions"], first["final"]) == (0, 0, False)

        # When alice submits: the count moves, no answer shows
        await submit(gql, t.alice.token, survey["id"], full_answers(survey, 1))
        moved = await following(stream)
        assert (moved["totalSubmissions"], moved["countedSubmissions"]) == (1, 0)
        assert moved["questions"][0]["answered"] == 0

        # When three more submit, a batch of at least 2 is counted (2K sealed: all but K)
        for person in (t.bob, t.vera, t.mona):
            await submit(gql, person.token, survey["id"], full_answers(survey, 0))
        latest = await following(stream)
        while latest["totalSubmissions"] < 4 or latest["countedSubmissions"] < 2:
            latest = await following(stream)
        assert latest["countedSubmissions"] == 2 and latest["questions"][0]["answered"] == 2

        # When odile closes it: a final message with everything counted, then the end
        await ok(gql, CLOSE, "closeSurvey", {"input": {"surveyId": survey["id"]}}, t.odile.token)
        last = await following(stream)
        while not last["final"]:
            last = await following(stream)
        assert (last["status"], last["countedSubmissions"]) == ("CLOSED", 4)
        assert [o["count"] for o in last["questions"][0]["options"]] == [3, 1]
        # And an anonymous watcher never receives a text answer
        assert [q["textAnswers"] for q in last["questions"]] == [None] * 6
    finally:
        await stream.aclose()


async def test_a_draft_survey_streams_to_its_staff_only(gql, app_broker, settings):
    t = await town()
    draft = (await ok(gql, CREATE, "createSurvey", {"input": survey_input(t.gid)}, t.odile.token))["survey"]
    for who in (None, t.alice):
        refused = await schema.subscribe(RESULTS, variable_values={"s": draft["id"]},
                                         context_value=await context(settings, app_broker, who))
        results = [r async for r in refused] if hasattr(refused, "__aiter__") else [refused]
        assert [e.extensions["code"] for r in results for e in r.errors or []] == ["NOT_FOUND"]
    stream = await schema.subscribe(RESULTS, variable_values={"s": draft["id"]},
                                    context_value=await context(settings, app_broker, t.mona))
    try:
        assert (await following(stream))["status"] == "DRAFT"
    finally:
        await stream.aclose()
