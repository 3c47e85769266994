"""replyToQuestion: the addressed official (or any official when none is) replies once, publicly."""

from __future__ import annotations

import asyncio

from models.accounts import Role
from models.feed import FeedEntry
from models.notifications import Notification, NotificationKind
from models.questions import Question as QuestionRow
from models.questions import QuestionStatus
from models.questions import Reply as ReplyRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.questions.stories import NODE, asked, close, pk_of, reply, top_code

NOTIFICATIONS = """
query {
  viewer {
    notifications(first: 10) {
      edges { node { kind message read subject { __typename id } } }
    }
  }
}
"""


async def town():
    """A territory with alice the citizen, odile and olga its officials, mona its moderator."""
    territory = await make_territory(reply_deadline_days=15)
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Vice-president for mobility")
    olga = await make_person("olga", territory, role=Role.OFFICIAL, title="Vice-president for housing")
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    return territory, alice, odile, olga, mona


async def state_of(question_id: str) -> tuple[str, int, int, int]:
    """(status, replies, notifications, feed entries) of a question: to show nothing moved."""
    pk = pk_of(question_id, "Question")
    row = await QuestionRow.get(id=pk)
    replies = await ReplyRow.filter(question_id=pk).values_list("id", flat=True)
    notifications = await Notification.filter(subject_type="Question", subject_id=pk).count()
    feed = await FeedEntry.filter(subject_type="Reply", subject_id__in=list(replies) or [0]).count()
    return row.status.value, len(replies), notifications, feed


async def test_odile_replies_to_the_question_addressed_to_her(gql, events):
    # Given alice's question to odile
    territory, alice, odile, _, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)

    # When odile replies
    async with events(territory) as seen:
        result = await reply(gql, odile.token, question["id"], "From 7 March, every Sunday.")

    # Then the reply is public, hers, and the question is answered
    payload = result["data"]["replyToQuestion"]
    assert payload["userErrors"] == []
    answer = payload["reply"]
    assert answer["body"] == "From 7 March, every Sunday."
    assert answer["official"] == {
        "id": odile.member_gid,
        "displayName": odile.account.display_name,
        "title": "Vice-president for mobility",
        "role": "OFFICIAL",
    }
    assert answer["question"] == {
        "id": question["id"],
        "status": "ANSWERED",
        "overdue": False,
        "reply": {"id": answer["id"]},
    }
    node = (await gql(NODE, {"id": question["id"]}))["data"]["node"]
    assert node["status"] == "ANSWERED"
    assert node["reply"] == {
        "id": answer["id"],
        "body": "From 7 March, every Sunday.",
        "official": {"id": odile.member_gid},
    }

    # And the database knows it was on time and how long it took
    row = await ReplyRow.get(id=pk_of(answer["id"], "Reply"))
    assert row.on_time is True
    assert 0 <= row.reply_seconds < 60
    assert row.official_id == odile.member.id
    assert row.territory_id == territory.id
    asked_row = await QuestionRow.get(id=row.question_id)
    assert asked_row.status == QuestionStatus.ANSWERED
    assert asked_row.answered_at is not None

    # And alice is notified, the feed shows the reply, and subscribers hear of it
    notes = await Notification.filter(account_id=alice.account.id, subject_id=row.question_id)
    assert [(n.kind, n.subject_type) for n in notes] == [
        (NotificationKind.QUESTION_ANSWERED, "Question")
    ]
    assert await Notification.filter(account_id=odile.account.id).count() == 0
    feed = await FeedEntry.filter(territory_id=territory.id, subject_type="Reply")
    assert [entry.subject_id for entry in feed] == [row.id]
    assert {"type": "reply", "data": {"reply": row.id, "official": odile.member.id}} in seen()
    assert any(
        e["type"] == "feed" and e["data"]["kind"] == "Reply" and e["data"]["id"] == row.id
        for e in seen()
    )


async def test_alice_reads_her_notification(gql):
    territory, alice, odile, _, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    await reply(gql, odile.token, question["id"])

    result = await gql(NOTIFICATIONS, token=alice.token)

    edges = result["data"]["viewer"]["notifications"]["edges"]
    assert [(e["node"]["kind"], e["node"]["read"], e["node"]["subject"]) for e in edges] == [
        ("QUESTION_ANSWERED", False, {"__typename": "Question", "id": question["id"]})
    ]
    assert question["title"] in edges[0]["node"]["message"]


async def test_any_official_may_reply_to_a_question_addressed_to_the_territory(gql):
    territory, alice, _, olga, _ = await town()
    question = await asked(gql, alice.token, territory)

    result = await reply(gql, olga.token, question["id"])

    payload = result["data"]["replyToQuestion"]
    assert payload["userErrors"] == []
    assert payload["reply"]["official"]["id"] == olga.member_gid


async def test_another_official_may_not_reply_in_odiles_place(gql, events):
    territory, alice, odile, olga, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)

    async with events(territory) as seen:
        result = await reply(gql, olga.token, question["id"])

    assert top_code(result) == "FORBIDDEN"
    assert result["data"] is None
    assert await state_of(question["id"]) == ("OPEN", 0, 0, 0)
    assert seen() == []


async def test_citizens_moderators_and_outsiders_may_not_reply(gql):
    territory, alice, odile, _, mona = await town()
    adam = await make_person("adam", territory, role=Role.ADMIN)
    elsewhere = await make_territory()
    otto = await make_person("otto", elsewhere, role=Role.OFFICIAL, title="Mayor of elsewhere")
    to_odile = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    to_all = await asked(gql, alice.token, territory)

    for persona in (alice, mona, adam, otto):
        for question in (to_odile, to_all):
            result = await reply(gql, persona.token, question["id"])
            assert top_code(result) == "FORBIDDEN", persona.account.display_name
    for question in (to_odile, to_all):
        assert await state_of(question["id"]) == ("OPEN", 0, 0, 0)


async def test_an_anonymous_visitor_must_log_in(gql):
    territory, alice, odile, _, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)

    result = await reply(gql, None, question["id"])

    assert top_code(result) == "UNAUTHENTICATED"
    assert await state_of(question["id"]) == ("OPEN", 0, 0, 0)


async def test_a_question_gets_one_reply_only(gql, events):
    # Given odile's reply to alice's question to the territory
    territory, alice, odile, olga, _ = await town()
    question = await asked(gql, alice.token, territory)
    first = (await reply(gql, odile.token, question["id"], "The first word."))["data"]["replyToQuestion"]
    assert first["userErrors"] == []

    # When odile, then olga, try to reply again
    async with events(territory) as seen:
        for persona in (odile, olga):
            result = await reply(gql, persona.token, question["id"], "A second word.")

            # Then each is told it is already answered
            payload = result["data"]["replyToQuestion"]
            assert payload["reply"] is None
            assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
                ("ALREADY_ANSWERED", ["input", "questionId"])
            ]

    # And the question still shows the first reply, with one notification and one feed entry
    assert await state_of(question["id"]) == ("ANSWERED", 1, 1, 1)
    node = (await gql(NODE, {"id": question["id"]}))["data"]["node"]
    assert node["reply"]["body"] == "The first word."
    assert node["reply"]["id"] == first["reply"]["id"]
    assert seen() == []


async def test_the_database_refuses_a_second_reply_even_if_the_status_lags(gql):
    # Given a question whose reply exists although its status still says OPEN
    territory, alice, odile, _, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    pk = pk_of(question["id"], "Question")
    await ReplyRow.create(
        question_id=pk, official_id=odile.member.id, territory_id=territory.id,
        body="Stored directly.", on_time=True, reply_seconds=1,
    )

    # When odile replies through the API
    result = await reply(gql, odile.token, question["id"])

    # Then the one-to-one constraint answers ALREADY_ANSWERED and nothing else moved
    payload = result["data"]["replyToQuestion"]
    assert [e["code"] for e in payload["userErrors"]] == ["ALREADY_ANSWERED"]
    assert await state_of(question["id"]) == ("OPEN", 1, 0, 0)


async def test_two_officials_replying_at_once_give_one_reply(gql):
    territory, alice, odile, olga, _ = await town()
    question = await asked(gql, alice.token, territory)

    results = await asyncio.gather(
        reply(gql, odile.token, question["id"], "Odile's word."),
        reply(gql, olga.token, question["id"], "Olga's word."),
    )

    payloads = [r["data"]["replyToQuestion"] for r in results]
    assert sorted(bool(p["reply"]) for p in payloads) == [False, True]
    assert [e["code"] for p in payloads for e in p["userErrors"]] == ["ALREADY_ANSWERED"]
    assert await state_of(question["id"]) == ("ANSWERED", 1, 1, 1)


async def test_a_closed_question_cannot_be_answered(gql):
    territory, alice, odile, _, mona = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    closed = await close(gql, mona.token, question["id"], "Out of the territory's remit.")
    assert closed["data"]["closeQuestion"]["userErrors"] == []

    result = await reply(gql, odile.token, question["id"])

    payload = result["data"]["replyToQuestion"]
    assert payload["reply"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "questionId"])
    ]
    assert await state_of(question["id"]) == ("CLOSED", 0, 0, 0)


async def test_an_empty_or_overlong_reply_is_invalid(gql):
    territory, alice, odile, _, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)

    for body in ("  ", "x" * 20_001):
        payload = (await reply(gql, odile.token, question["id"], body))["data"]["replyToQuestion"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID", ["input", "body"])
        ]
    assert await state_of(question["id"]) == ("OPEN", 0, 0, 0)


async def test_an_unknown_question_is_not_found(gql):
    territory, _, odile, _, _ = await town()

    for question_id in (encode_id("Question", 2**31 - 1), odile.member_gid, "nope"):
        payload = (await reply(gql, odile.token, question_id))["data"]["replyToQuestion"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "questionId"])
        ]


async def test_the_asker_is_not_notified_of_a_reply_to_herself(gql):
    # An official who asked the territory and answered herself gets no notification.
    territory, _, odile, _, _ = await town()
    question = await asked(gql, odile.token, territory)

    payload = (await reply(gql, odile.token, question["id"]))["data"]["replyToQuestion"]

    assert payload["userErrors"] == []
    assert await state_of(question["id"]) == ("ANSWERED", 1, 0, 1)
