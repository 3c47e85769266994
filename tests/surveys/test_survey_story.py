"""The SCoT survey, told end to end: odile builds it with a condition, citizens draft then
submit, the results move, odile reads the text answers and exports the responses."""

from __future__ import annotations

import csv
import io
import json

from models.accounts import Role
from models.surveys import Survey as SurveyRow
from models.surveys import SurveyDraft, SurveyParticipation, SurveyResponse
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.polls.stories import town
from tests.surveys.stories import (
    CLOSE,
    CREATE,
    DAY,
    DRAFT,
    EXPORT,
    LIST,
    OPEN,
    UPDATE,
    answers,
    call,
    codes,
    full_answers,
    now,
    ok,
    opened_survey,
    pk_of,
    read,
    submit,
    survey_input,
)


async def state(survey_id: str) -> tuple[int, int, int, int, int]:
    pk = pk_of(survey_id, "Survey")
    row = await SurveyRow.get(id=pk)
    return (
        row.total_submissions,
        row.counted_submissions,
        await SurveyParticipation.filter(survey_id=pk).count(),
        await SurveyResponse.filter(survey_id=pk).count(),
        await SurveyDraft.filter(survey_id=pk).count(),
    )


async def test_the_scot_survey_from_draft_to_export(gql):
    # Given Carcassonne (submissions counted one by one here: K = 1; batches are told in
    # tests/security/test_survey_secrecy.py)
    t = await town()

    # When odile drafts the survey, question 3 shown only to tram users
    made = await ok(gql, CREATE, "createSurvey", {"input": survey_input(t.gid)}, t.odile.token)
    survey = made["survey"]
    sid = survey["id"]
    assert survey["status"] == "DRAFT"
    assert survey["questions"][2]["showIf"] == {"questionPosition": 0, "optionPosition": 0}
    assert [q["kind"] for q in survey["questions"]] == [
        "SINGLE_CHOICE", "MULTIPLE_CHOICE", "SHORT_TEXT", "RANKING", "SCALE", "LONG_TEXT"
    ]

    # Then the draft is staff's only: alice neither reads nor lists it
    assert await read(gql, t.alice.token, sid) is None
    assert await read(gql, None, sid) is None
    assert (await read(gql, t.mona.token, sid))["status"] == "DRAFT"
    node = "query($id: ID!) { node(id: $id) { __typename ... on Survey { title } } }"
    assert (await gql(node, {"id": sid}, token=t.alice.token))["data"]["node"] is None
    assert (await gql(node, {"id": sid}, token=t.odile.token))["data"]["node"] == {
        "__typename": "Survey", "title": "Révision du SCoT : votre avis"
    }
    listed = (await gql(LIST, {"territoryId": t.gid}, token=t.alice.token))["data"]["surveys"]
    assert listed["totalCount"] == 0
    assert codes(await submit(gql, t.alice.token, sid, full_answers(survey, 1))) == ["NOT_FOUND"]

    # And odile may change it while it is a draft
    renamed = await ok(gql, UPDATE, "updateSurvey", {"input": {"surveyId": sid, "title": "SCoT 2035"}}, t.odile.token)
    assert renamed["survey"]["title"] == "SCoT 2035"

    # When she opens it, it no longer changes
    survey = (await ok(gql, OPEN, "openSurvey", {"input": {"surveyId": sid}}, t.odile.token))["survey"]
    assert survey["status"] == "OPEN"
    refused = await call(gql, UPDATE, "updateSurvey", {"input": {"surveyId": sid, "title": "Other"}}, t.odile.token)
    assert codes(refused) == ["SURVEY_NOT_DRAFT"]
    assert (await read(gql, t.alice.token, sid))["title"] == "SCoT 2035"

    # When alice saves a draft of two answers
    partial = answers(survey, q0={"choices": [0]}, q2={"text": "  Gare  "})
    saved = await ok(gql, DRAFT, "saveSurveyDraft", {"input": {"surveyId": sid, "answers": partial}}, t.alice.token)
    assert saved["draft"]["answers"][1]["text"] == "Gare"

    # Then she alone reads it back
    mine = await read(gql, t.alice.token, sid)
    assert [a["choices"] or a["text"] for a in mine["viewerDraft"]["answers"]] == [[0], "Gare"]
    assert (await read(gql, t.bob.token, sid))["viewerDraft"] is None
    assert (await read(gql, t.odile.token, sid))["viewerDraft"] is None

    # When she submits, her draft goes with it
    done = await submit(gql, t.alice.token, sid, full_answers(survey, 0, stop="Gare", protect=[0, 1], rank=[1, 0, 2],
                                                               scale=5, extra="Plus de pistes cyclables"))
    assert done["userErrors"] == []
    assert done["survey"]["results"]["totalSubmissions"] == 1
    mine = await read(gql, t.alice.token, sid)
    assert mine["viewerHasSubmitted"] is True and mine["viewerDraft"] is None
    assert (await read(gql, t.bob.token, sid))["viewerHasSubmitted"] is False
    assert await state(sid) == (1, 1, 1, 1, 0)

    # And a second submission is refused, nothing changed
    again = await submit(gql, t.alice.token, sid, full_answers(survey, 1))
    assert codes(again) == ["ALREADY_SUBMITTED"]
    assert codes(await call(gql, DRAFT, "saveSurveyDraft", {"input": {"surveyId": sid, "answers": []}},
                            t.alice.token)) == ["ALREADY_SUBMITTED"]
    assert await state(sid) == (1, 1, 1, 1, 0)

    # When bob, who does not take the tram, answers the stop question anyway, he is refused
    q2 = survey["questions"][2]["id"]
    hidden = await submit(gql, t.bob.token, sid, [*full_answers(survey, 1), *answers(survey, q2={"text": "Gare"})])
    assert [(e["code"], e["field"]) for e in hidden["userErrors"]] == [("ANSWER_HIDDEN", ["input", "answers", q2])]
    # And vera, who takes it, must say where
    required = await submit(gql, t.vera.token, sid, [a for a in full_answers(survey, 0) if a["questionId"] != q2])
    assert [(e["code"], e["field"]) for e in required["userErrors"]] == [("ANSWER_REQUIRED", ["input", "answers", q2])]
    assert await state(sid) == (1, 1, 1, 1, 0)

    # When both submit properly
    assert (await submit(gql, t.bob.token, sid, full_answers(survey, 1, protect=[2], rank=[2, 1, 0], scale=2)))["userErrors"] == []
    assert (await submit(gql, t.vera.token, sid, full_answers(survey, 0, stop="Jacobins", protect=[0], scale=3)))["userErrors"] == []

    # Then the results show per question
    results = (await read(gql, None, sid))["results"]
    assert (results["totalSubmissions"], results["countedSubmissions"], results["final"]) == (3, 3, False)
    q = {r["question"]["position"]: r for r in results["questions"]}
    assert [(o["option"]["label"], o["count"]) for o in q[0]["options"]] == [("Yes", 2), ("No", 1)]
    assert [o["count"] for o in q[1]["options"]] == [2, 1, 1, 0]
    assert q[2]["answered"] == 2
    # ranking: alice 1,0,2 / bob 2,1,0 / vera 0,1,2
    ranking = {o["option"]["label"]: (o["averagePosition"], o["bordaPoints"]) for o in q[3]["options"]}
    assert ranking == {"Housing": (2.0, 3), "Transport": (5 / 3, 4), "Nature": (7 / 3, 2)}
    assert [(s["value"], s["count"]) for s in q[4]["scale"]] == [(1, 0), (2, 1), (3, 1), (4, 0), (5, 1)]
    assert q[4]["average"] == 10 / 3
    # And the text answers are for staff only, as a set
    assert q[2]["textAnswers"] is None
    staff = {r["question"]["position"]: r for r in (await read(gql, t.odile.token, sid))["results"]["questions"]}
    assert sorted(staff[2]["textAnswers"]) == ["Gare", "Jacobins"]
    assert staff[5]["textAnswers"] == ["Plus de pistes cyclables"]
    assert staff[0]["textAnswers"] is None

    # When odile exports the responses
    exported = (await ok(gql, EXPORT, "exportSurveyResponses", {"input": {"surveyId": sid, "format": "CSV"}},
                         t.odile.token))["export"]
    rows = list(csv.reader(io.StringIO(exported["content"])))
    assert rows[0] == [q["prompt"] for q in survey["questions"]]
    assert exported["responses"] == 3 and exported["contentType"].startswith("text/csv")
    assert sorted(rows[1:]) == sorted([
        ["Yes", "Farmland | Rivers", "Gare", "Transport | Housing | Nature", "5", "Plus de pistes cyclables"],
        ["No", "Forests", "", "Nature | Transport | Housing", "2", ""],
        ["Yes", "Farmland", "Jacobins", "Housing | Transport | Nature", "3", ""],
    ])
    as_json = json.loads((await ok(gql, EXPORT, "exportSurveyResponses", {"input": {"surveyId": sid, "format": "JSON"}},
                                   t.mona.token))["export"]["content"])
    assert set(as_json) == {"questions", "responses"} and len(as_json["responses"]) == 3
    assert ["No", ["Forests"], None, ["Nature", "Transport", "Housing"], 2, None] in as_json["responses"]

    # When odile closes it, the results are final
    closed = (await ok(gql, CLOSE, "closeSurvey", {"input": {"surveyId": sid}}, t.odile.token))["survey"]
    assert closed["status"] == "CLOSED" and closed["results"]["final"] is True
    assert codes(await submit(gql, t.adam.token, sid, full_answers(survey, 1))) == ["SURVEY_CLOSED"]


async def test_who_may_submit(gql):
    t = await town()
    survey = await opened_survey(gql, t.odile.token, t.gid, verifiedOnly=True)
    sid = survey["id"]
    sam = await make_person("sam")
    olga = await make_person("olga", await make_territory())

    # Anonymous: UNAUTHENTICATED; not a member: NOT_A_MEMBER; not verified: NOT_VERIFIED
    anonymous = await gql(
        "mutation($input: SurveyAnswersInput!) { submitSurvey(input: $input) { userErrors { code } } }",
        {"input": {"surveyId": sid, "answers": full_answers(survey, 1)}},
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert codes(await submit(gql, sam.token, sid, full_answers(survey, 1))) == ["NOT_A_MEMBER"]
    assert codes(await submit(gql, olga.token, sid, full_answers(survey, 1))) == ["NOT_A_MEMBER"]
    assert codes(await submit(gql, t.alice.token, sid, full_answers(survey, 1))) == ["NOT_VERIFIED"]
    assert (await submit(gql, t.vera.token, sid, full_answers(survey, 1)))["userErrors"] == []

    # A territory requiring confirmed emails: EMAIL_NOT_VERIFIED for drafts and submissions
    strict = await make_territory(email_verification_required=True)
    odile = await make_person("odile", strict, role=Role.OFFICIAL)
    zoe = await make_person("zoe", strict)
    other = await opened_survey(gql, odile.token, encode_id("Territory", strict.id))
    assert codes(await submit(gql, zoe.token, other["id"], full_answers(other, 1))) == ["EMAIL_NOT_VERIFIED"]
    assert codes(await call(gql, DRAFT, "saveSurveyDraft", {"input": {"surveyId": other["id"], "answers": []}},
                            zoe.token)) == ["EMAIL_NOT_VERIFIED"]
    assert await state(other["id"]) == (0, 0, 0, 0, 0)


async def test_the_window_and_after_close_results(gql):
    t = await town()
    later = await opened_survey(gql, t.odile.token, t.gid, opensAt=(now() + DAY).isoformat())
    assert later["status"] == "SCHEDULED"
    assert codes(await submit(gql, t.alice.token, later["id"], full_answers(later, 1))) == ["SURVEY_NOT_OPEN"]

    hidden = await opened_survey(gql, t.odile.token, t.gid, resultsVisibility="AFTER_CLOSE")
    assert (await submit(gql, t.alice.token, hidden["id"], full_answers(hidden, 1)))["userErrors"] == []
    results = (await read(gql, None, hidden["id"]))["results"]
    assert (results["totalSubmissions"], results["questions"]) == (1, None)
    await ok(gql, CLOSE, "closeSurvey", {"input": {"surveyId": hidden["id"]}}, t.odile.token)
    results = (await read(gql, None, hidden["id"]))["results"]
    assert results["final"] is True and results["questions"][0]["options"][1]["count"] == 1


async def test_staff_only_and_bad_definitions(gql):
    t = await town()
    # A citizen may not create; a moderator may read drafts but not write surveys
    for persona in (t.alice, t.mona):
        refused = await gql(CREATE, {"input": survey_input(t.gid)}, token=persona.token)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A condition must name an earlier choice question and one of its options; kinds keep to their fields
    questions = [
        {"kind": "SHORT_TEXT", "prompt": "Name?", "showIf": {"questionPosition": 1, "optionPosition": 0}},
        {"kind": "SINGLE_CHOICE", "prompt": "Yes or no?", "options": ["Yes", "yes"]},
        {"kind": "SCALE", "prompt": "How much?", "scaleMin": 3, "scaleMax": 2},
        {"kind": "SHORT_TEXT", "prompt": "Why?", "options": ["a", "b"]},
        {"kind": "SHORT_TEXT", "prompt": "Which?", "showIf": {"questionPosition": 1, "optionPosition": 5}},
    ]
    bad = await call(gql, CREATE, "createSurvey", {"input": survey_input(t.gid, questions=questions)}, t.odile.token)
    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("INVALID", ["input", "questions", "0", "showIf", "questionPosition"]),
        ("INVALID", ["input", "questions", "1", "options", "1"]),
        ("INVALID", ["input", "questions", "2", "scaleMax"]),
        ("INVALID", ["input", "questions", "3", "options"]),
        ("INVALID", ["input", "questions", "4", "showIf", "optionPosition"]),
    ]
    assert bad["survey"] is None
    # Answers must fit their question
    survey = await opened_survey(gql, t.odile.token, t.gid)
    wrong = answers(survey, q0={"choices": [0, 1]}, q1={"choices": [0, 1, 2]}, q3={"choices": [0, 1]},
                    q4={"value": 9}, q5={"choices": [0]})
    refused = await submit(gql, t.alice.token, survey["id"], wrong)
    assert [(e["code"], e["field"][-1]) for e in refused["userErrors"]] == [
        ("INVALID", "choices"), ("INVALID", "choices"), ("INVALID", "choices"), ("INVALID", "value"), ("INVALID", "4"),
    ]
    assert await state(survey["id"]) == (0, 0, 0, 0, 0)
