"""viewerCanSubmit says what submitSurvey would answer; a survey closed by the clock gets
its last sealed submissions counted by the server's closer."""

from __future__ import annotations

import datetime as dt

from access.context import Context
from models.surveys import SealedSurveyResponse, SurveyDraft
from models.surveys import Survey as SurveyRow
from resolvers.survey_box import do_close_due_surveys
from tests.factories import make_person
from tests.polls.stories import town
from tests.surveys.stories import DAY, DRAFT, full_answers, now, opened_survey, pk_of, read, submit

CAN = "query($id: ID!) { survey(id: $id) { viewerCanSubmit { allowed reason } } }"


async def can(gql, token, survey_id):
    result = await gql(CAN, {"id": survey_id}, token=token)
    assert not result.get("errors"), result
    return result["data"]["survey"]["viewerCanSubmit"]


async def test_viewer_can_submit_says_what_submit_would_answer(gql):
    t = await town()
    survey = await opened_survey(gql, t.odile.token, t.gid, verifiedOnly=True)
    later = await opened_survey(gql, t.odile.token, t.gid, opensAt=(now() + DAY).isoformat())
    sam = await make_person("sam")
    assert await can(gql, None, survey["id"]) == {"allowed": False, "reason": "UNAUTHENTICATED"}
    assert await can(gql, sam.token, survey["id"]) == {"allowed": False, "reason": "NOT_A_MEMBER"}
    assert await can(gql, t.alice.token, survey["id"]) == {"allowed": False, "reason": "NOT_VERIFIED"}
    assert await can(gql, t.vera.token, later["id"]) == {"allowed": False, "reason": "SURVEY_NOT_OPEN"}
    assert await can(gql, t.vera.token, survey["id"]) == {"allowed": True, "reason": None}
    assert (await submit(gql, t.vera.token, survey["id"], full_answers(survey, 1)))["userErrors"] == []
    assert await can(gql, t.vera.token, survey["id"]) == {"allowed": False, "reason": "ALREADY_SUBMITTED"}


async def test_a_survey_closed_by_the_clock_is_final_once_the_closer_counted_its_tail(gql, app_broker, settings):
    # Given 3 submissions sealed in a survey counting by batches of 5, its closing time just passed
    t = await town(ballot_batch=5)
    survey = await opened_survey(gql, t.odile.token, t.gid)
    for person in (t.alice, t.bob, t.vera):
        assert (await submit(gql, person.token, survey["id"], full_answers(survey, 1)))["userErrors"] == []
    # and adam's draft, never submitted
    saved = await gql(DRAFT, {"input": {"surveyId": survey["id"], "answers": full_answers(survey, 1)}}, token=t.adam.token)
    assert saved["data"]["saveSurveyDraft"]["userErrors"] == []
    pk = pk_of(survey["id"], "Survey")
    await SurveyRow.filter(id=pk).update(closes_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))

    # Then before the closer runs it is closed, not final, nothing counted
    seen = await read(gql, None, survey["id"])
    assert seen is not None and seen["status"] == "CLOSED"
    assert (seen["results"]["final"], seen["results"]["countedSubmissions"]) == (False, 0)

    # When the server's closer runs, the tail is counted and the results are final
    await do_close_due_surveys(Context(request=None, response=None, broker=app_broker, settings=settings))
    seen = await read(gql, None, survey["id"])
    assert seen is not None and seen["results"]["final"] is True
    assert seen["results"]["questions"][0]["options"][1]["count"] == 3
    assert await SealedSurveyResponse.filter(survey_id=pk).count() == 0
    # And the draft left is gone with the survey's close
    assert await SurveyDraft.filter(survey_id=pk).count() == 0
