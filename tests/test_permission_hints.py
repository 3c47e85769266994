"""Permission hints (viewerCanVote, viewerCanReply, viewerCanSupport): what an app shows
before the click is what the mutation answers after it, for every persona, and each
viewer gets their own answer even where the list around it is shared."""

from __future__ import annotations

from typing import Any

import schema.ideas
import schema.polls
import schema.questions
from models.accounts import Member, Role
from schema.errors import Refusal, UserErrorCode
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed, support
from tests.news.stories import comment
from tests.polls.stories import (
    DAY,
    HOUR,
    close,
    created,
    iso,
    move_in_time,
    now,
    option_ids,
    town,
    vote,
)
from tests.questions.stories import asked, reply
from tests.test_query_count import count_queries, fill

CAN_VOTE = "query($id: ID!) { node(id: $id) { ... on Poll { viewerCanVote { allowed reason } } } }"
CAN_REPLY = "query($id: ID!) { node(id: $id) { ... on Question { viewerCanReply { allowed reason } } } }"
CAN_SUPPORT = "query($id: ID!) { node(id: $id) { ... on Idea { viewerCanSupport { allowed reason } } } }"

POLLS_WITH_HINTS = """
query($slug: String!) {
  territory(slug: $slug) {
    polls(first: 10) { edges { node { id viewerHasVoted viewerCanVote { allowed reason } } } }
  }
}
"""
QUESTIONS_WITH_HINTS = """
query($slug: String!) {
  territory(slug: $slug) {
    questions(first: 10) { edges { node { id viewerCanReply { allowed reason } } } }
  }
}
"""

ALLOWED = {"allowed": True, "reason": None}


def refused(reason: str) -> dict[str, Any]:
    return {"allowed": False, "reason": reason}


async def hint(gql: Any, document: str, field: str, node_id: str, token: str | None) -> dict[str, Any]:
    result = await gql(document, {"id": node_id}, token=token)
    assert not result.get("errors"), result
    return result["data"]["node"][field]  # type: ignore[no-any-return]


def outcome(result: dict[str, Any], mutation: str) -> dict[str, Any]:
    """A mutation's answer in a Permission's terms: allowed, or its first code."""
    if result.get("errors"):
        return refused(result["errors"][0]["extensions"]["code"])
    errors = result["data"][mutation]["userErrors"]
    return refused(errors[0]["code"]) if errors else ALLOWED


async def test_vote_hint_says_what_cast_vote_answers_for_every_persona(gql):
    # Given a poll for verified residents, and people of every standing
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, verifiedOnly=True)
    green = option_ids(poll)[1]
    outsider = await make_person("otto")
    expected = {
        None: refused("UNAUTHENTICATED"),
        outsider.token: refused("NOT_A_MEMBER"),
        t.alice.token: refused("NOT_VERIFIED"),
        t.vera.token: ALLOWED,
    }
    for token, answer in expected.items():
        # When each reads the hint, then tries
        before = await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], token)
        tried = outcome(await vote(gql, token, poll["id"], green), "castVote")
        # Then the hint said what the mutation answered
        assert before == tried == answer, token

    # And once vera voted, the hint and a second ballot both say ALREADY_VOTED
    after = await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], t.vera.token)
    again = outcome(await vote(gql, t.vera.token, poll["id"], green), "castVote")
    assert after == again == refused("ALREADY_VOTED")


async def test_vote_hint_follows_the_polls_window(gql):
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, opensAt=iso(now() + DAY), closesAt=iso(now() + 2 * DAY))
    blue = option_ids(poll)[0]

    scheduled = await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], t.alice.token)
    assert scheduled == outcome(await vote(gql, t.alice.token, poll["id"], blue), "castVote")
    assert scheduled == refused("POLL_NOT_OPEN")

    await move_in_time(poll["id"], opens_at=now() - DAY, closes_at=now() + DAY)
    assert await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], t.alice.token) == ALLOWED

    assert not (await close(gql, t.odile.token, poll["id"])).get("errors")
    closed = await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], t.alice.token)
    assert closed == outcome(await vote(gql, t.alice.token, poll["id"], blue), "castVote")
    assert closed == refused("POLL_CLOSED")

    # A poll past its closing time is closed for the hint too, whoever closed it
    other = await created(gql, t.odile.token, t.gid)
    await move_in_time(other["id"], opens_at=now() - 2 * DAY, closes_at=now() - HOUR)
    assert await hint(gql, CAN_VOTE, "viewerCanVote", other["id"], t.bob.token) == refused("POLL_CLOSED")


async def test_reply_hint_says_what_reply_to_question_answers(gql):
    # Given a question alice addressed to odile, and another official, pierre
    t = await town()
    pierre = await make_person("pierre", t.territory, role=Role.OFFICIAL, title="Deputy mayor")
    question = await asked(gql, t.alice.token, t.territory, official_id=t.odile.member_gid)
    expected = {
        None: refused("UNAUTHENTICATED"),
        t.alice.token: refused("FORBIDDEN"),
        t.mona.token: refused("FORBIDDEN"),
        pierre.token: refused("FORBIDDEN"),
    }
    for token, answer in expected.items():
        before = await hint(gql, CAN_REPLY, "viewerCanReply", question["id"], token)
        tried = outcome(await reply(gql, token, question["id"]), "replyToQuestion")
        assert before == tried == answer, token

    # odile may, does, and then may not reply again
    assert await hint(gql, CAN_REPLY, "viewerCanReply", question["id"], t.odile.token) == ALLOWED
    assert outcome(await reply(gql, t.odile.token, question["id"]), "replyToQuestion") == ALLOWED
    after = await hint(gql, CAN_REPLY, "viewerCanReply", question["id"], t.odile.token)
    again = outcome(await reply(gql, t.odile.token, question["id"]), "replyToQuestion")
    assert after == again == refused("ALREADY_ANSWERED")


async def test_support_hint_says_what_support_idea_answers(gql):
    t = await town()
    idea = await proposed(gql, t.alice.token, t.territory)
    outsider = await make_person("otto")
    expected = {
        None: refused("UNAUTHENTICATED"),
        outsider.token: refused("NOT_A_MEMBER"),
        t.alice.token: ALLOWED,  # authors may support their own idea
        t.bob.token: ALLOWED,
    }
    for token, answer in expected.items():
        before = await hint(gql, CAN_SUPPORT, "viewerCanSupport", idea["id"], token)
        tried = outcome(await support(gql, token, idea["id"]), "supportIdea")
        assert before == tried == answer, token


async def test_viewers_reading_the_same_shared_list_in_turn_get_their_own_hints(gql):
    """The polls and questions of a territory are shared pages (built once per audience):
    a hint stored on a shared item would hand the first reader's answer to the next."""
    # Given alice who voted, bob who did not, an outsider, and odile to whom a question is addressed
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await vote(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    await asked(gql, t.alice.token, t.territory, official_id=t.odile.member_gid)
    outsider = await make_person("otto")
    slug = t.territory.slug

    async def poll_hint(token: str | None) -> dict[str, Any]:
        result = await gql(POLLS_WITH_HINTS, {"slug": slug}, token=token)
        assert not result.get("errors"), result
        [edge] = result["data"]["territory"]["polls"]["edges"]
        return edge["node"]["viewerCanVote"]  # type: ignore[no-any-return]

    async def reply_hint(token: str | None) -> dict[str, Any]:
        result = await gql(QUESTIONS_WITH_HINTS, {"slug": slug}, token=token)
        assert not result.get("errors"), result
        [edge] = result["data"]["territory"]["questions"]["edges"]
        return edge["node"]["viewerCanReply"]  # type: ignore[no-any-return]

    # When they read the same lists in turn, twice over (the second round from the shared pages)
    for _ in range(2):
        assert await poll_hint(t.alice.token) == refused("ALREADY_VOTED")
        assert await poll_hint(t.bob.token) == ALLOWED
        assert await poll_hint(None) == refused("UNAUTHENTICATED")
        assert await poll_hint(outsider.token) == refused("NOT_A_MEMBER")
        assert await poll_hint(t.bob.token) == ALLOWED
        assert await reply_hint(t.odile.token) == ALLOWED
        assert await reply_hint(t.alice.token) == refused("FORBIDDEN")
        assert await reply_hint(None) == refused("UNAUTHENTICATED")
        assert await reply_hint(t.odile.token) == ALLOWED


async def test_a_check_added_to_check_member_shows_in_every_hint_and_every_mutation(gql, monkeypatch):
    """api-accounts adds a verified-email check to check_member: it must reach the hints
    without touching them. Simulated by a check_member that refuses everyone once they passed
    the real one, in the modules whose check_may_* both the fields and the mutations call."""
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    question = await asked(gql, t.alice.token, t.territory, official_id=t.odile.member_gid)
    idea = await proposed(gql, t.alice.token, t.territory)

    def stricter(original: Any) -> Any:
        async def check_member(ctx: Any, territory_id: int, action: str, *field: str) -> Any:
            await original(ctx, territory_id, action, *field)
            raise Refusal.of(UserErrorCode.NOT_VERIFIED, "Verify first.", *field)

        return check_member

    for module in (schema.polls, schema.questions, schema.ideas):
        monkeypatch.setattr(module, "check_member", stricter(module.check_member))

    expected = refused("NOT_VERIFIED")
    assert await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], t.bob.token) == expected
    assert outcome(await vote(gql, t.bob.token, poll["id"], option_ids(poll)[0]), "castVote") == expected
    assert await hint(gql, CAN_REPLY, "viewerCanReply", question["id"], t.odile.token) == expected
    assert outcome(await reply(gql, t.odile.token, question["id"]), "replyToQuestion") == expected
    assert await hint(gql, CAN_SUPPORT, "viewerCanSupport", idea["id"], t.bob.token) == expected
    assert outcome(await support(gql, t.bob.token, idea["id"]), "supportIdea") == expected


HINTS_PAGE = """query($s: String!, $n: Int!) { territory(slug: $s) {
  viewerCanModerate { allowed reason }
  questions(first: $n) { edges { node { id viewerCanReply { allowed reason }
    viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } url } } }
  ideas(first: $n) { edges { node { id viewerCanSupport { allowed reason }
    viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } url } } }
  polls(first: $n) { edges { node { id viewerCanVote { allowed reason } } } }
} }"""


async def test_hints_on_a_page_cost_a_constant_number_of_queries(gql):
    """A hint per listed item loads through the request's loaders (the rows, the viewer's
    membership, their ballots): 30 items cost what 3 do."""
    small, large = await make_territory(), await make_territory()
    await fill(small, 3)
    await fill(large, 30)
    viewer = await make_person("viewer", small, Role.OFFICIAL)
    await Member.create(account_id=viewer.account.id, territory_id=large.id, role=Role.OFFICIAL, title="Mayor")

    with count_queries() as few:
        small_page = await gql(HINTS_PAGE, {"s": small.slug, "n": 30}, token=viewer.token)
    with count_queries() as many:
        large_page = await gql(HINTS_PAGE, {"s": large.slug, "n": 30}, token=viewer.token)

    assert not small_page.get("errors") and not large_page.get("errors"), large_page
    polls = large_page["data"]["territory"]["polls"]["edges"]
    assert len(polls) == 30 and all(edge["node"]["viewerCanVote"] == ALLOWED for edge in polls)
    assert abs(len(many.queries) - len(few.queries)) <= 2, "\n".join(["FEW", *few.queries, "MANY", *many.queries])
    assert len(many.queries) <= 15, "\n".join(many.queries)


EDIT_HINTS = """query($s: String!) { territory(slug: $s) {
  viewerCanModerate { allowed reason }
  questions(first: 10) { edges { node { id viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } } } }
  ideas(first: 10) { edges { node { id viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } } } }
} }"""


async def test_edit_and_moderate_hints_are_each_viewers_own_on_shared_lists(gql):
    """The questions and ideas lists are shared pages: alice, their author, may edit and
    delete them; everyone else reads why not, in turn, twice over (the second round from the
    shared pages); only mona and adam moderate."""
    t = await town()
    await asked(gql, t.alice.token, t.territory)
    await proposed(gql, t.alice.token, t.territory)
    outsider = await make_person("otto")
    expected = {
        t.alice.token: (ALLOWED, refused("NOT_A_MODERATOR")),
        t.bob.token: (refused("NOT_THE_AUTHOR"), refused("NOT_A_MODERATOR")),
        None: (refused("UNAUTHENTICATED"), refused("UNAUTHENTICATED")),
        outsider.token: (refused("NOT_THE_AUTHOR"), refused("NOT_A_MODERATOR")),
        t.odile.token: (refused("NOT_THE_AUTHOR"), refused("NOT_A_MODERATOR")),
        t.mona.token: (refused("NOT_THE_AUTHOR"), ALLOWED),
        t.adam.token: (refused("NOT_THE_AUTHOR"), ALLOWED),
    }
    for _ in range(2):
        for token, (authoring, moderating) in expected.items():
            result = await gql(EDIT_HINTS, {"s": t.territory.slug}, token=token)
            assert not result.get("errors"), result
            territory = result["data"]["territory"]
            assert territory["viewerCanModerate"] == moderating, token
            for kind in ("questions", "ideas"):
                [edge] = territory[kind]["edges"]
                assert edge["node"]["viewerCanEdit"] == edge["node"]["viewerCanDelete"] == authoring, (token, kind)


COMMENT_HINTS = """query($id: ID!) { node(id: $id) { ... on Question {
  comments(first: 50) { edges { node { id viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } } } }
} } }"""


async def test_comment_hints_on_a_thread_cost_a_constant_number_of_queries(gql):
    t = await town()
    short = await asked(gql, t.bob.token, t.territory)
    long = await asked(gql, t.bob.token, t.territory)
    await comment(gql, t.alice.token, short["id"], "One.")
    for i in range(30):
        await comment(gql, t.alice.token if i % 2 else t.bob.token, long["id"], f"Comment {i}.")

    with count_queries() as few:
        small = await gql(COMMENT_HINTS, {"id": short["id"]}, token=t.alice.token)
    with count_queries() as many:
        large = await gql(COMMENT_HINTS, {"id": long["id"]}, token=t.alice.token)

    assert not small.get("errors") and not large.get("errors"), large
    hints = [edge["node"]["viewerCanEdit"] for edge in large["data"]["node"]["comments"]["edges"]]
    assert hints.count(ALLOWED) == 15 and hints.count(refused("NOT_THE_AUTHOR")) == 15
    assert len(many.queries) - len(few.queries) <= 1, "\n".join(["FEW", *few.queries, "MANY", *many.queries])
