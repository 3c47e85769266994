"""askQuestion: any member asks an official of the territory, or the territory as a whole."""

from __future__ import annotations

import datetime as dt

from models.accounts import Role
from models.questions import Question as QuestionRow
from models.territories import Territory as TerritoryRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.questions.stories import ASK, NODE, ask, asked, parse, pk_of, territory_gid, top_code


async def test_alice_asks_odile_and_the_charter_fixes_the_due_date(gql):
    # Given a territory whose charter promises a reply within 7 days
    territory = await make_territory(reply_deadline_days=7)
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Vice-president for mobility")

    # When alice asks odile
    payload = await ask(gql, alice.token, territory, official_id=odile.member_gid)

    # Then the question is open, hers, addressed to odile, due 7 days after it was asked
    assert payload["userErrors"] == []
    question = payload["question"]
    assert question["title"] == "When will the bus line 4 run on Sundays?"
    assert question["status"] == "OPEN"
    assert question["author"]["id"] == alice.member_gid
    assert question["official"] == {
        "id": odile.member_gid,
        "displayName": odile.account.display_name,
        "title": "Vice-president for mobility",
    }
    assert question["territory"]["id"] == territory_gid(territory)
    assert question["reply"] is None
    assert question["closedReason"] is None
    assert question["overdue"] is False
    assert parse(question["dueAt"]) - parse(question["createdAt"]) == dt.timedelta(days=7)
    row = await QuestionRow.get(id=pk_of(question["id"], "Question"))
    assert row.author_id == alice.member.id
    assert row.official_id == odile.member.id
    assert row.territory_id == territory.id


async def test_alice_asks_the_territory_as_a_whole(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)

    question = await asked(gql, alice.token, territory)

    assert question["official"] is None
    assert question["status"] == "OPEN"
    assert parse(question["dueAt"]) - parse(question["createdAt"]) == dt.timedelta(
        days=territory.reply_deadline_days
    )


async def test_officials_and_moderators_may_ask_too(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    mona = await make_person("mona", territory, role=Role.MODERATOR)

    assert (await asked(gql, odile.token, territory))["author"]["id"] == odile.member_gid
    assert (await asked(gql, mona.token, territory))["author"]["id"] == mona.member_gid


async def test_the_due_date_stays_what_the_charter_promised_when_asked(gql):
    # Given a question asked under a 7-day promise
    territory = await make_territory(reply_deadline_days=7)
    alice = await make_person("alice", territory)
    question = await asked(gql, alice.token, territory)

    # When the admin later changes the charter to 30 days
    await TerritoryRow.filter(id=territory.id).update(reply_deadline_days=30)

    # Then the question is still due 7 days after it was asked, and new questions get 30
    again = await gql(NODE, {"id": question["id"]}, token=alice.token)
    assert again["data"]["node"]["dueAt"] == question["dueAt"]
    later = await asked(gql, alice.token, territory)
    assert parse(later["dueAt"]) - parse(later["createdAt"]) == dt.timedelta(days=30)


async def test_bob_who_has_not_joined_may_not_ask(gql):
    territory = await make_territory()
    elsewhere = await make_territory()
    bob = await make_person("bob", elsewhere)

    payload = await ask(gql, bob.token, territory)

    assert payload["question"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("NOT_A_MEMBER", ["input", "territoryId"])
    ]
    assert await QuestionRow.filter(territory_id=territory.id).count() == 0


async def test_an_anonymous_visitor_must_log_in(gql):
    territory = await make_territory()

    result = await gql(
        ASK,
        {"input": {"territoryId": territory_gid(territory), "title": "Hello?", "body": "Anyone?"}},
    )

    assert top_code(result) == "UNAUTHENTICATED"
    assert await QuestionRow.filter(territory_id=territory.id).count() == 0


async def test_every_invalid_field_is_reported_with_its_path(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)

    payload = await ask(gql, alice.token, territory, title="   ", body="x" * 20_001)

    assert payload["question"] is None
    assert sorted((e["code"], tuple(e["field"])) for e in payload["userErrors"]) == [
        ("INVALID", ("input", "body")),
        ("INVALID", ("input", "title")),
    ]
    payload = await ask(gql, alice.token, territory, title="t" * 201, body="fine")
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "title"])
    ]
    assert await QuestionRow.filter(territory_id=territory.id).count() == 0


async def test_the_longest_title_and_body_allowed_are_accepted_and_trimmed(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)

    question = await asked(
        gql, alice.token, territory, title="  " + "t" * 200 + "  ", body="b" * 20_000
    )

    assert question["title"] == "t" * 200
    assert len(question["body"]) == 20_000


async def test_a_question_addressed_to_someone_who_is_not_an_official_of_the_territory(gql):
    # Given alice, her neighbour carl, mona the moderator, and otto an official elsewhere
    territory = await make_territory()
    elsewhere = await make_territory()
    alice = await make_person("alice", territory)
    carl = await make_person("carl", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    otto = await make_person("otto", elsewhere, role=Role.OFFICIAL, title="Mayor of elsewhere")

    # When alice addresses her question to any of them, or to ids that are not members
    for official_id in (
        carl.member_gid,
        mona.member_gid,
        otto.member_gid,
        territory_gid(territory),
        encode_id("Member", 2**31 - 1),
        "not-an-id",
    ):
        payload = await ask(gql, alice.token, territory, official_id=official_id)

        # Then the official is not found, and nothing is asked
        assert payload["question"] is None, official_id
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "officialId"])
        ], official_id
    assert await QuestionRow.filter(territory_id=territory.id).count() == 0


async def test_an_unknown_territory_is_not_found(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)

    for territory_id in (encode_id("Territory", 2**31 - 1), alice.member_gid, "???"):
        result = await gql(
            ASK,
            {"input": {"territoryId": territory_id, "title": "Hello?", "body": "Anyone?"}},
            token=alice.token,
        )
        payload = result["data"]["askQuestion"]
        assert payload["question"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "territoryId"])
        ]
