"""Hidden means hidden: the three paths reported in issue 10 §2, each proven closed.

Each story hides content the way moderators do (reportContent, then moderateContent HIDE),
so the response cache and shared pages are invalidated as in production, and asks first as
anonymous visitors do, so a cached answer from before the hiding would be caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.accounts import Role
from models.notifications import Notification, NotificationKind
from models.polls import Poll
from models.territories import Territory
from tests.factories import Persona, make_person, make_territory
from tests.news.stories import (
    NODE,
    REPORT,
    codes,
    comment,
    gid,
    make_idea,
    make_poll,
    make_question,
    make_reply,
    moderate,
    report,
)


@dataclass
class Town:
    territory: Territory
    alice: Persona  # citizen
    bob: Persona  # citizen whose content gets hidden
    odile: Persona  # official
    mona: Persona  # moderator


async def town() -> Town:
    territory = await make_territory()
    return Town(
        territory=territory,
        alice=await make_person("alice", territory),
        bob=await make_person("bob", territory),
        odile=await make_person("odile", territory, Role.OFFICIAL),
        mona=await make_person("mona", territory, Role.MODERATOR),
    )


async def hide(gql: Any, t: Town, subject_id: str) -> str:
    """alice reports it, mona hides it: the report's id."""
    filed = await report(gql, t.alice.token, subject_id, "Breaks the charter.")
    decided = await moderate(gql, t.mona.token, filed["id"], "HIDE", "Rule 3.")
    assert decided["status"] == "HIDDEN"
    return str(filed["id"])


REPLY_QUESTION = """
query ($id: ID!) { node(id: $id) { __typename id ... on Reply { body question { id title body } } } }
"""

COMMENT = """
query ($id: ID!) { node(id: $id) { __typename id ... on Comment { body } } }
"""

POLL_INBOX = """
query {
  viewer {
    notifications(first: 10) {
      totalCount
      edges { node { id kind subject { __typename id ... on Poll { question results { totalVotes } } } } }
    }
  }
}
"""


async def test_a_reply_does_not_show_the_question_a_moderator_hid(gql: Any) -> None:
    """Before the fix, node(Reply) checked only the reply's own flag and Reply.question read
    the question row with no rule: anyone read a hidden question's title and body."""
    # Given bob's question, answered by odile, read by an anonymous visitor
    t = await town()
    question = await make_question(t.territory, t.bob.member, "SECRET question title")
    reply = await make_reply(question, t.odile.member)
    reply_id = gid("Reply", reply.id)
    before = await gql(REPLY_QUESTION, {"id": reply_id})
    assert before["data"]["node"]["question"]["title"] == "SECRET question title"

    # When mona hides the question
    await hide(gql, t, gid("Question", question.id))

    # Then the reply goes with it, for everyone but the territory's staff
    for token in (None, t.alice.token, t.bob.token, t.odile.token):
        answer = await gql(REPLY_QUESTION, {"id": reply_id}, token)
        assert answer.get("errors") is None and answer["data"] == {"node": None}, answer
    seen = await gql(REPLY_QUESTION, {"id": reply_id}, t.mona.token)
    assert seen["data"]["node"]["question"]["title"] == "SECRET question title"


async def test_comments_on_hidden_questions_and_ideas_are_hidden_with_them(gql: Any) -> None:
    """Before the fix, node(Comment) checked only the comment's own flag: walking the
    sequential ids showed the discussion under hidden questions and ideas."""
    # Given alice's comments on bob's question and on bob's idea
    t = await town()
    question = await make_question(t.territory, t.bob.member)
    idea = await make_idea(t.territory, t.bob.member)
    on_question = await comment(gql, t.alice.token, gid("Question", question.id), "SECRET on the question")
    on_idea = await comment(gql, t.alice.token, gid("Idea", idea.id), "SECRET on the idea")
    assert (await gql(COMMENT, {"id": on_question["id"]}))["data"]["node"]["body"] == "SECRET on the question"

    # When mona hides the question and the idea
    await hide(gql, t, gid("Question", question.id))
    await hide(gql, t, gid("Idea", idea.id))

    # Then their comments are hidden with them, for everyone but the territory's staff
    for comment_id in (on_question["id"], on_idea["id"]):
        for token in (None, t.alice.token, t.bob.token, t.odile.token):
            answer = await gql(COMMENT, {"id": comment_id}, token)
            assert answer.get("errors") is None and answer["data"] == {"node": None}, answer
        assert (await gql(COMMENT, {"id": comment_id}, t.mona.token))["data"]["node"]["id"] == comment_id
    # And mutations read through the same rule: bob cannot even report one
    refused = await gql(REPORT, {"input": {"subjectId": on_idea["id"], "reason": "Spam."}}, t.bob.token)
    assert codes(refused, "reportContent") == ["NOT_FOUND"]


async def test_a_poll_closed_notification_does_not_show_a_hidden_poll(gql: Any) -> None:
    """Before the fix, Notification.subject fell back to the raw row for its recipient: a
    POLL_CLOSED notification showed a hidden poll and its final tally while node() said null."""
    # Given a closed poll bob voted in, and his POLL_CLOSED notification
    t = await town()
    poll = await make_poll(t.territory, t.odile.member, "SECRET poll question")
    await Poll.filter(id=poll.id).update(total_votes=7)
    note = await Notification.create(
        account_id=t.bob.account.id, kind=NotificationKind.POLL_CLOSED, subject_type="Poll",
        subject_id=poll.id, message="A poll you voted in closed.",
    )
    shown = await gql(POLL_INBOX, token=t.bob.token)
    assert shown["data"]["viewer"]["notifications"]["edges"][0]["node"]["subject"]["question"] == (
        "SECRET poll question"
    )

    # When mona hides the poll
    decided = await hide(gql, t, gid("Poll", poll.id))

    # Then bob's inbox no longer points at it, nor does node() give the notification or poll
    answer = await gql(POLL_INBOX, token=t.bob.token)
    assert answer.get("errors") is None, answer
    assert answer["data"]["viewer"]["notifications"] == {"totalCount": 0, "edges": []}
    assert (await gql(NODE, {"id": gid("Notification", note.id)}, t.bob.token))["data"]["node"] is None
    assert (await gql(NODE, {"id": gid("Poll", poll.id)}, t.bob.token))["data"]["node"] is None
    # And once mona restores it, the notification is back as it was
    assert (await moderate(gql, t.mona.token, decided, "RESTORE"))["status"] != "HIDDEN"
    back = await gql(POLL_INBOX, token=t.bob.token)
    assert back["data"]["viewer"]["notifications"]["totalCount"] == 1
    assert back["data"]["viewer"]["notifications"]["edges"][0]["node"]["subject"]["results"] == {"totalVotes": 7}
