"""Follows: a follower is told of replies, status changes, comments and results of what they
follow, once, and never of what they did themselves."""

from __future__ import annotations

import asyncio
from typing import Any

from models.accounts import Role
from models.reach import Follow
from schema.relay import decode_id
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed, set_status
from tests.polls.stories import close, created, option_ids, town, voted
from tests.questions.stories import asked, reply
from tests.reach.stories import UNFOLLOW, follow, notes_of
from tests.reach.stories import gid as global_id


async def test_bob_follows_alices_question_and_hears_of_the_reply(gql: Any) -> None:
    # Given alice's question, followed by bob (twice) and by alice herself
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    question = await asked(gql, alice.token, territory)
    assert await follow(gql, bob.token, question["id"]) == {"following": True, "userErrors": []}
    assert await follow(gql, bob.token, question["id"]) == {"following": True, "userErrors": []}
    await follow(gql, alice.token, question["id"])
    assert await Follow.filter(account_id=bob.account.id).count() == 1

    # When odile, who follows it too, replies
    await follow(gql, odile.token, question["id"])
    assert not (await reply(gql, odile.token, question["id"])).get("errors")

    # Then alice hears once (as the asker), bob once (as a follower), odile not at all
    pk = global_id_pk(question["id"])
    assert await notes_of(alice.account.id) == [("QUESTION_ANSWERED", "Question", pk)]
    assert await notes_of(bob.account.id) == [("QUESTION_ANSWERED", "Question", pk)]
    assert await notes_of(odile.account.id) == []


async def test_followers_hear_of_an_idea_status_until_they_unfollow(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    carol = await make_person("carol", territory)
    idea = await proposed(gql, alice.token, territory)
    await follow(gql, bob.token, idea["id"])
    await follow(gql, carol.token, idea["id"])

    # When odile puts it under review, then carol unfollows and odile accepts it
    assert not (await set_status(gql, odile.token, idea["id"], "UNDER_REVIEW")).get("errors")
    assert await follow(gql, carol.token, idea["id"], document=UNFOLLOW) == {"following": False, "userErrors": []}
    assert not (await set_status(gql, odile.token, idea["id"], "ACCEPTED")).get("errors")

    # Then bob heard twice, carol once, and alice (the author) twice as before
    pk = global_id_pk(idea["id"])
    assert await notes_of(bob.account.id) == [("IDEA_STATUS_CHANGED", "Idea", pk)] * 2
    assert await notes_of(carol.account.id) == [("IDEA_STATUS_CHANGED", "Idea", pk)]
    assert await notes_of(alice.account.id) == [("IDEA_STATUS_CHANGED", "Idea", pk)] * 2


async def test_a_follower_who_did_not_vote_hears_of_the_results_and_a_voter_once(gql: Any) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.vera.token, poll["id"], option_ids(poll)[0])
    await follow(gql, t.vera.token, poll["id"])
    await follow(gql, t.bob.token, poll["id"])

    # When odile closes the poll
    assert not (await close(gql, t.odile.token, poll["id"])).get("errors")

    # Then bob (a follower) and vera (voter and follower) each hear once
    pk = global_id_pk(poll["id"])
    assert await notes_of(t.bob.account.id) == [("POLL_CLOSED", "Poll", pk)]
    assert await notes_of(t.vera.account.id) == [("POLL_CLOSED", "Poll", pk)]
    assert await notes_of(t.alice.account.id) == []


async def test_only_questions_ideas_projects_and_polls_can_be_followed(gql: Any) -> None:
    territory = await make_territory()
    alice = await make_person("alice", territory)
    for subject in (global_id("Territory", territory.id), global_id("Member", alice.member.id if alice.member else 0),
                    "nonsense", global_id("Question", 10**9)):
        payload = await follow(gql, alice.token, subject)
        assert payload["following"] is False
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NOT_FOUND", ["input", "subjectId"])]
    assert await Follow.filter(account_id=alice.account.id).count() == 0

    result = await gql("mutation($i: FollowInput!) { follow(input: $i) { following } }",
                       {"i": {"subjectId": global_id("Question", 1)}})
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def global_id_pk(value: str) -> int:
    decoded = decode_id(value)
    assert decoded is not None
    return decoded[1]


async def test_concurrent_follows_of_one_subject_make_one_row_and_no_error(gql: Any) -> None:
    """Five taps at once (two devices, a retried request): one row, every answer following.
    On PostgreSQL the unique (account, subject) decides; get_or_create catches the loser."""
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    question = await asked(gql, alice.token, territory)
    answers = await asyncio.gather(*(follow(gql, bob.token, question["id"]) for _ in range(5)))
    assert answers == [{"following": True, "userErrors": []}] * 5
    assert await Follow.filter(account_id=bob.account.id).count() == 1
