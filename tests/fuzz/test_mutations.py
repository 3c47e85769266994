"""Property-based fuzzing of every mutation's input: whatever arrives, the answer is a result
or a refusal (userErrors, a known top-level code, or GraphQL's own variable coercion), never
an internal error, and a refusal leaves every row of the territory as it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz.world import (
    BIG_INTS,
    FUZZ,
    World,
    changed,
    check_answer,
    gids,
    maybe,
    outcome,
    plain,
    shaped,
    state,
    texts,
)

USER_ERRORS = "userErrors { field message code }"


def document(mutation: str, input_type: str, selection: str) -> str:
    return f"mutation M($input: {input_type}) {{ {mutation}(input: $input) {selection} }}"


async def attempt(
    gql: Any, world: World, mutation: str, input_type: str, object_field: str | None,
    selection: str, value: Any, token: str | None,
) -> dict[str, Any]:
    before = await state(world)
    result = await gql(document(mutation, input_type, selection), {"input": value}, token=token)
    done = check_answer(result, mutation, object_field)
    event(outcome(result, mutation, object_field))
    after = await state(world)
    if not done:
        assert changed(before, after) == set(), (value, result)
    return result


def token_of(world: World, *names: str) -> st.SearchStrategy[str | None]:
    """Mostly the people who may act, sometimes anyone (or nobody, or a bad token)."""
    return st.one_of(st.sampled_from([world.people[n].token for n in names]), st.sampled_from(world.tokens))


# --- dates and money ---------------------------------------------------------------------------

moments = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(-dt.timedelta(hours=23, minutes=59))]),
)
date_strings = st.one_of(
    moments.map(lambda m: m.isoformat()),
    st.datetimes(timezones=st.none()).map(lambda m: m.isoformat()),  # naive
    st.integers(-3650, 3650).map(lambda d: (dt.datetime.now(dt.UTC) + dt.timedelta(days=d)).isoformat()),
    st.sampled_from([
        "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59+00:00", "2026-02-30T00:00:00Z", "tomorrow", "", "2026-11-27", "2026-11-27T25:00:00Z",
        "1970-01-01T00:00:00Z", "+275760-09-13T00:00:00Z",
    ]),
    texts,
)
amounts = st.one_of(
    st.sampled_from(["1e30", "-0", "NaN", "sNaN", "Infinity", "-Infinity", "1.005", "0.01", "1.00", "99999999999999.99",
                     "100000000000000", "1e-30", "1e999999999", "1e-999999999", " 12.50 ", "0x10", "1_000", "١٢٣",
                     "12,50", "+5", "--5", "5e", "", "9" * 5000, "0." + "0" * 5000 + "1"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(2**70), max_value=2**70),
    texts,
)
kinds = st.sampled_from(["DOCUMENT", "BUDGET", "MAP", "REPORT", "map", "OTHER", ""])
urls = st.one_of(
    st.sampled_from(["https://example.org/a.pdf", "http://x", "ftp://example.org/a", "javascript:alert(1)",
                     "https://" + "a" * 3000, "https://exa mple.org/\x00", "//example.org", "https://[::1"]),
    texts,
)


def documents() -> st.SearchStrategy[dict[str, Any]]:
    return shaped({"title": texts, "url": urls, "kind": kinds})


# --- the mutations --------------------------------------------------------------------------------


def ids(world: World, *names: str) -> st.SearchStrategy[str]:
    return st.sampled_from([world.ids[n] for n in names])


def future() -> st.SearchStrategy[str]:
    return st.integers(1, 400).map(lambda d: (dt.datetime.now(dt.UTC) + dt.timedelta(days=d)).isoformat())


GOOD_DOCUMENT = st.fixed_dictionaries(
    {"title": plain, "url": st.just("https://example.org/plan.pdf"), "kind": st.sampled_from(["MAP", "BUDGET"])}
)


@FUZZ
@given(data=st.data())
async def test_ask_question(gql, world, data):
    value = data.draw(shaped(
        {"territoryId": gids(world, "territory", "other"), "officialId": maybe(gids(world, "odile", "alice")),
         "title": texts, "body": texts},
        optional=("officialId",),
        good={"territoryId": ids(world, "territory"), "officialId": ids(world, "odile"), "title": plain, "body": plain},
    ))
    token = data.draw(token_of(world, "alice", "odile"))
    await attempt(gql, world, "askQuestion", "AskQuestionInput!", "question",
                  f"{{ question {{ id dueAt }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_reply_to_question(gql, world, data):
    value = data.draw(shaped({"questionId": gids(world, "question"), "body": texts},
                             good={"questionId": ids(world, "question"), "body": plain}))
    token = data.draw(token_of(world, "odile"))
    await attempt(gql, world, "replyToQuestion", "ReplyToQuestionInput!", "reply",
                  f"{{ reply {{ id body }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_propose_idea(gql, world, data):
    value = data.draw(shaped(
        {"territoryId": gids(world, "territory", "other"), "projectId": maybe(gids(world, "project")),
         "title": texts, "body": texts},
        optional=("projectId",),
        good={"territoryId": ids(world, "territory"), "projectId": ids(world, "project"), "title": plain, "body": plain},
    ))
    token = data.draw(token_of(world, "alice"))
    await attempt(gql, world, "proposeIdea", "ProposeIdeaInput!", "idea", f"{{ idea {{ id title }} {USER_ERRORS} }}",
                  value, token)


@FUZZ
@given(data=st.data())
async def test_create_project(gql, world, data):
    budget = shaped(
        {"amount": amounts, "currency": st.one_of(st.sampled_from(["EUR", "eur", " usd ", "XYZ", "EURO", ""]), texts)},
        good={"amount": st.sampled_from(["1250000.00", "0", "12.5", "-0"]), "currency": st.just("EUR")},
    )
    value = data.draw(shaped(
        {"territoryId": gids(world, "territory", "other"), "title": texts, "description": texts,
         "budget": maybe(budget), "documents": maybe(st.lists(documents(), max_size=60))},
        optional=("budget", "documents"),
        good={"territoryId": ids(world, "territory"), "title": plain, "description": plain, "budget": budget,
              "documents": st.lists(GOOD_DOCUMENT, max_size=3)},
    ))
    token = data.draw(token_of(world, "odile", "adam"))
    await attempt(gql, world, "createProject", "CreateProjectInput!", "project",
                  f"{{ project {{ id title budget {{ amount currency }} documents {{ id url kind }} }} {USER_ERRORS} }}",
                  value, token)


@FUZZ
@given(data=st.data())
async def test_add_document(gql, world, data):
    value = data.draw(shaped({"projectId": gids(world, "project"), "document": documents()},
                             good={"projectId": ids(world, "project"), "document": GOOD_DOCUMENT}))
    token = data.draw(token_of(world, "odile", "adam"))
    await attempt(gql, world, "addDocument", "AddDocumentInput!", "project",
                  f"{{ project {{ id documents {{ id title url kind }} }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_create_poll(gql, world, data):
    value = data.draw(shaped(
        {"territoryId": gids(world, "territory", "other"), "projectId": maybe(gids(world, "project")),
         "question": texts,
         "options": st.one_of(st.lists(texts, max_size=25),
                              st.lists(st.sampled_from(["Red", "red", " RED ", "Blue", "Green"]), max_size=5)),
         "multipleChoice": maybe(st.booleans()), "verifiedOnly": maybe(st.booleans()),
         "opensAt": maybe(date_strings), "closesAt": date_strings,
         "resultsVisibility": maybe(st.sampled_from(["LIVE", "AFTER_CLOSE", "HIDDEN", "live", ""]))},
        optional=("projectId", "multipleChoice", "verifiedOnly", "opensAt", "resultsVisibility"),
        good={"territoryId": ids(world, "territory"), "projectId": ids(world, "project"), "question": plain,
              "options": st.just(["Red", "Blue", "Green"]), "multipleChoice": st.booleans(),
              "verifiedOnly": st.booleans(), "opensAt": st.none(), "closesAt": future(),
              "resultsVisibility": st.just("LIVE")},
    ))
    token = data.draw(token_of(world, "odile", "adam"))
    await attempt(gql, world, "createPoll", "CreatePollInput!", "poll",
                  f"{{ poll {{ id opensAt closesAt status options {{ id label }} }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_cast_vote(gql, world, data):
    options = [world.ids[f"option{i}"] for i in range(6)]
    option_lists = st.one_of(
        st.lists(st.sampled_from(options), max_size=8),  # this poll's, other polls', duplicates
        st.lists(gids(world, "option0", "option2"), max_size=5),
        st.lists(texts, max_size=3),
    )
    value = data.draw(shaped({"pollId": gids(world, "poll0", "poll1", "poll2"), "optionIds": option_lists},
                             good={"pollId": ids(world, "poll0", "poll1"), "optionIds": st.just([options[0]])}))
    token = data.draw(token_of(world, "alice", "vera", "mona"))
    await attempt(gql, world, "castVote", "CastVoteInput!", "poll",
                  f"{{ poll {{ id viewerHasVoted results {{ totalVotes }} }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_publish_news(gql, world, data):
    value = data.draw(shaped(
        {"territoryId": gids(world, "territory", "other"), "projectId": maybe(gids(world, "project")),
         "title": texts, "body": texts},
        optional=("projectId",),
        good={"territoryId": ids(world, "territory"), "projectId": ids(world, "project"), "title": plain, "body": plain},
    ))
    token = data.draw(token_of(world, "odile", "adam"))
    await attempt(gql, world, "publishNews", "PublishNewsInput!", "newsPost", f"{{ newsPost {{ id }} {USER_ERRORS} }}",
                  value, token)


@FUZZ
@given(data=st.data())
async def test_add_comment(gql, world, data):
    subjects = ("question", "idea", "project", "news")
    value = data.draw(shaped({"subjectId": gids(world, *subjects, "poll0"), "body": texts},
                             good={"subjectId": ids(world, *subjects), "body": plain}))
    token = data.draw(token_of(world, "alice", "olga"))
    await attempt(gql, world, "addComment", "AddCommentInput!", "comment",
                  f"{{ comment {{ id body }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_report_content(gql, world, data):
    subjects = ("comment", "idea", "poll0", "news")
    value = data.draw(shaped({"subjectId": gids(world, *subjects, "document"), "reason": texts},
                             good={"subjectId": ids(world, *subjects), "reason": plain}))
    token = data.draw(token_of(world, "alice", "olga"))
    await attempt(gql, world, "reportContent", "ReportContentInput!", "report",
                  f"{{ report {{ id status subject {{ id }} }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_moderate_content(gql, world, data):
    value = data.draw(shaped(
        {"reportId": gids(world, "report"), "action": st.sampled_from(["HIDE", "RESTORE", "DISMISS", "hide", "BAN"]),
         "reason": maybe(texts)},
        optional=("reason",),
        good={"reportId": ids(world, "report"), "action": st.sampled_from(["HIDE", "RESTORE", "DISMISS"]),
              "reason": plain},
    ))
    token = data.draw(token_of(world, "mona", "adam"))
    await attempt(gql, world, "moderateContent", "ModerateContentInput!", "report",
                  f"{{ report {{ id status }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_update_territory(gql, world, data):
    value = data.draw(shaped(
        {"territoryId": gids(world, "territory", "other"), "name": maybe(texts),
         "population": maybe(st.one_of(BIG_INTS, st.integers(-(2**41), 2**41))), "charter": maybe(texts),
         "replyDeadlineDays": maybe(st.one_of(BIG_INTS, st.integers(-1000, 1000)))},
        optional=("name", "population", "charter", "replyDeadlineDays"),
        good={"territoryId": ids(world, "territory"), "name": st.just("Narbonne"),
              "population": st.integers(0, 10**6), "charter": plain, "replyDeadlineDays": st.integers(1, 365)},
    ))
    token = data.draw(token_of(world, "adam"))
    await attempt(gql, world, "updateTerritory", "UpdateTerritoryInput!", "territory",
                  f"{{ territory {{ id name population charter replyDeadlineDays }} {USER_ERRORS} }}", value, token)


emails = st.one_of(
    st.emails().map(str),
    st.sampled_from(["a@b", "@example.org", "a@@example.org", "a b@example.org", "A@EXAMPLE.ORG ", "x" * 250 + "@e.org",
                     "é@exämple.org", "a\x00@example.org", "a\ud800@example.org", "a@example.org\n", "\u202e@x.org"]),
    st.builds(lambda a, b: f"{a}@{b}.org", texts, texts),
    texts,
)


@FUZZ
@given(data=st.data())
async def test_sign_up(gql, world, data):
    value = data.draw(shaped(
        {"email": emails,
         "password": st.one_of(st.sampled_from(["correct horse battery", "short", "\x00" * 12, "\ud800" * 12,
                                                "p" * 1001]), texts),
         "displayName": texts},
        good={"email": st.uuids().map(lambda u: f"fuzz.{u.hex}@example.org"),
              "password": st.just("correct horse battery"), "displayName": plain},
    ))
    await attempt(gql, world, "signUp", "SignUpInput!", "token", f"{{ token viewer {{ id }} {USER_ERRORS} }}",
                  value, None)


@FUZZ
@given(data=st.data())
async def test_set_idea_status(gql, world, data):
    statuses = ["SUBMITTED", "UNDER_REVIEW", "ACCEPTED", "IN_PROGRESS", "REALIZED", "REJECTED"]
    value = data.draw(shaped(
        {"ideaId": gids(world, "idea"), "status": st.sampled_from([*statuses, "DONE", "realized"]),
         "note": maybe(texts)},
        optional=("note",),
        good={"ideaId": ids(world, "idea"), "status": st.sampled_from(statuses), "note": plain},
    ))
    token = data.draw(token_of(world, "odile", "mona", "adam"))
    await attempt(gql, world, "setIdeaStatus", "SetIdeaStatusInput!", "idea",
                  f"{{ idea {{ id status statusNote }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_mark_notifications_read(gql, world, data):
    ids_lists = st.one_of(
        st.none(),
        st.lists(gids(world, "notification"), max_size=10),
        st.integers(999, 1002).map(lambda n: [world.ids["notification"]] * n),
    )
    value = data.draw(shaped({"ids": ids_lists}, optional=("ids",)))
    token = data.draw(token_of(world, "alice"))
    await attempt(gql, world, "markNotificationsRead", "MarkNotificationsReadInput!", None, "", value, token)


@FUZZ
@given(data=st.data())
async def test_edit_question(gql, world, data):
    value = data.draw(shaped(
        {"questionId": gids(world, "question"), "title": maybe(texts), "body": maybe(texts)},
        optional=("title", "body"),
        good={"questionId": ids(world, "question"), "title": plain, "body": plain},
    ))
    token = data.draw(token_of(world, "alice"))
    await attempt(gql, world, "editQuestion", "EditQuestionInput!", "question",
                  f"{{ question {{ id title updatedAt }} {USER_ERRORS} }}", value, token)


@FUZZ
@given(data=st.data())
async def test_edit_idea(gql, world, data):
    value = data.draw(shaped(
        {"ideaId": gids(world, "idea"), "title": maybe(texts), "body": maybe(texts)},
        optional=("title", "body"),
        good={"ideaId": ids(world, "idea"), "title": plain, "body": plain},
    ))
    token = data.draw(token_of(world, "alice"))
    await attempt(gql, world, "editIdea", "EditIdeaInput!", "idea",
                  f"{{ idea {{ id title updatedAt }} {USER_ERRORS} }}", value, token)
