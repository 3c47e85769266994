"""createPoll: the territory's officials and admins open polls; every rule has its field."""

from __future__ import annotations

import datetime as dt

from events.envelopes import territory_channel
from models.accounts import Role
from models.feed import FeedEntry
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from models.projects import Project as ProjectRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.polls.stories import (
    COLOURS,
    DAY,
    HOUR,
    create,
    created,
    iso,
    now,
    pk_of,
    published,
    top_code,
    town,
    user_errors,
)


async def polls_in(territory_id: int) -> int:
    return await PollRow.filter(territory_id=territory_id).count()


async def test_odile_the_official_opens_a_poll_now(gql, app_broker):
    # Given the town and odile its official
    t = await town()
    closes = now() + 7 * DAY

    # When odile asks which colour the new tram should be
    async with published(app_broker, territory_channel(t.territory.id)) as events:
        poll = await created(
            gql,
            t.odile.token,
            t.gid,
            question="  Which colour for the new tram?  ",
            options=["  Blue ", "Green", "Red"],
            closesAt=iso(closes),
        )

    # Then the poll is open at once, live, single-choice, open to every member
    assert poll["question"] == "Which colour for the new tram?"
    assert [o["label"] for o in poll["options"]] == COLOURS
    assert poll["status"] == "OPEN"
    assert poll["multipleChoice"] is False and poll["verifiedOnly"] is False
    assert poll["resultsVisibility"] == "LIVE"
    assert poll["territory"] == {"id": t.gid, "slug": t.territory.slug}
    assert poll["project"] is None
    assert poll["viewerHasVoted"] is False
    assert dt.datetime.fromisoformat(poll["closesAt"]) == closes
    assert abs(dt.datetime.fromisoformat(poll["opensAt"]) - now()) < dt.timedelta(minutes=1)
    # And its results start from nothing
    assert poll["results"]["totalVotes"] == 0 and poll["results"]["final"] is False
    assert poll["results"]["poll"] == {"id": poll["id"]}
    assert [(r["option"]["label"], r["votes"], r["share"]) for r in poll["results"]["options"]] == [
        ("Blue", 0, 0.0),
        ("Green", 0, 0.0),
        ("Red", 0, 0.0),
    ]
    # And the options are stored in order, and the poll is in the feed
    pk = pk_of(poll["id"], "Poll")
    assert (
        await PollOptionRow.filter(poll_id=pk).order_by("position").values_list("label", flat=True) == COLOURS
    )
    assert [pk_of(o["id"], "PollOption") for o in poll["options"]] == list(
        await PollOptionRow.filter(poll_id=pk).order_by("position").values_list("id", flat=True)
    )
    entry = await FeedEntry.get(subject_type="Poll", subject_id=pk)
    assert entry.territory_id == t.territory.id
    assert [(e.type, e.data["kind"], e.data["id"]) for e in events] == [("feed", "Poll", pk)]


async def test_adam_the_admin_schedules_a_verified_multiple_choice_poll(gql):
    t = await town()
    opens = now() + DAY
    poll = await created(
        gql,
        t.adam.token,
        t.gid,
        opensAt=iso(opens),
        closesAt=iso(opens + 3 * DAY),
        multipleChoice=True,
        verifiedOnly=True,
        resultsVisibility="AFTER_CLOSE",
    )
    assert poll["status"] == "SCHEDULED"
    assert poll["multipleChoice"] is True and poll["verifiedOnly"] is True
    assert poll["resultsVisibility"] == "AFTER_CLOSE"
    assert dt.datetime.fromisoformat(poll["opensAt"]) == opens
    assert poll["results"] == {"totalVotes": 0, "countedVotes": 0, "final": False, "poll": {"id": poll["id"]}, "options": None}


async def test_only_officials_and_admins_of_the_territory_create_polls(gql):
    t = await town()
    elsewhere = await make_territory()
    olga = await make_person("olga", elsewhere, role=Role.OFFICIAL, title="Mayor of elsewhere")
    stranger = await make_person("sam")

    assert top_code(await create(gql, None, t.gid)) == "UNAUTHENTICATED"
    for persona in (t.alice, t.vera, t.mona, olga, stranger):
        result = await create(gql, persona.token, t.gid)
        assert top_code(result) == "FORBIDDEN", persona.account.display_name
        assert result["data"] is None
    assert await polls_in(t.territory.id) == 0
    assert await FeedEntry.filter(territory_id=t.territory.id).count() == 0


async def test_an_unknown_territory_is_not_found(gql):
    t = await town()
    for territory_id in ("nonsense", encode_id("Territory", 2**31 - 1), encode_id("Project", t.territory.id)):
        result = await create(gql, t.odile.token, territory_id)
        assert user_errors(result, "createPoll") == [(["input", "territoryId"], "NOT_FOUND")]


async def test_every_validation_rule_names_its_field(gql):
    t = await town()
    tomorrow = now() + DAY
    cases = [
        ({"question": "   "}, [(["input", "question"], "INVALID")]),
        ({"question": "Q" * 201}, [(["input", "question"], "INVALID")]),
        ({"question": "Q" * 200}, []),
        ({"options": ["Only one"]}, [(["input", "options"], "INVALID")]),
        ({"options": []}, [(["input", "options"], "INVALID")]),
        ({"options": [f"Option {i}" for i in range(21)]}, [(["input", "options"], "INVALID")]),
        ({"options": [f"Option {i}" for i in range(20)]}, []),
        ({"options": ["Blue", "  "]}, [(["input", "options", "1"], "INVALID")]),
        ({"options": ["Blue", "G" * 201]}, [(["input", "options", "1"], "INVALID")]),
        ({"options": ["Blue", "Green", " BLUE "]}, [(["input", "options", "2"], "INVALID")]),
        ({"options": ["Blue", "Gr\x00een"]}, [(["input", "options", "1"], "INVALID")]),
        ({"closesAt": iso(now() - HOUR)}, [(["input", "closesAt"], "INVALID")]),
        ({"closesAt": iso(now())}, [(["input", "closesAt"], "INVALID")]),
        (
            {"opensAt": iso(now() + 2 * DAY), "closesAt": iso(now() + DAY)},
            [(["input", "closesAt"], "INVALID")],
        ),
        (
            {"opensAt": iso(tomorrow), "closesAt": iso(tomorrow)},
            [(["input", "closesAt"], "INVALID")],
        ),
        (
            {"question": "", "options": ["Same", "same"], "closesAt": iso(now() - DAY)},
            [
                (["input", "question"], "INVALID"),
                (["input", "options", "1"], "INVALID"),
                (["input", "closesAt"], "INVALID"),
            ],
        ),
    ]
    for overrides, expected in cases:
        before = await polls_in(t.territory.id)
        result = await create(gql, t.odile.token, t.gid, **overrides)
        assert user_errors(result, "createPoll") == expected, overrides
        if expected:
            assert result["data"]["createPoll"]["poll"] is None
            assert await polls_in(t.territory.id) == before, overrides
        else:
            assert await polls_in(t.territory.id) == before + 1, overrides


async def test_an_opening_moment_without_offset_is_refused_by_the_scalar(gql):
    t = await town()
    result = await create(gql, t.odile.token, t.gid, closesAt="2030-01-01T10:00:00")
    assert result.get("errors") and result.get("data") is None
    assert await polls_in(t.territory.id) == 0


async def test_a_poll_about_a_project_of_the_same_territory(gql):
    t = await town()
    elsewhere = await make_territory()
    olga = await make_person("olga", elsewhere, role=Role.OFFICIAL, title="Mayor")
    tramway = await ProjectRow.create(
        territory=t.territory, created_by=t.odile.member, title="Tramway line 2", description="East-west."
    )
    hidden = await ProjectRow.create(
        territory=t.territory, created_by=t.odile.member, title="Hidden", description="x", hidden=True
    )
    foreign = await ProjectRow.create(
        territory=elsewhere, created_by=olga.member, title="Their bridge", description="Not ours."
    )

    poll = await created(gql, t.odile.token, t.gid, projectId=encode_id("Project", tramway.id))
    assert poll["project"] == {"id": encode_id("Project", tramway.id)}

    for project_id in (
        encode_id("Project", foreign.id),
        encode_id("Project", hidden.id),
        encode_id("Territory", t.territory.id),
        "garbage",
    ):
        result = await create(gql, t.odile.token, t.gid, projectId=project_id)
        assert user_errors(result, "createPoll") == [(["input", "projectId"], "NOT_FOUND")], project_id
    assert await polls_in(t.territory.id) == 1
