"""reportContent and moderateContent: members report, moderators hide, restore or keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.envelopes import territory_channel
from models.accounts import Role
from models.comments import Comment
from models.feed import FeedEntry
from models.moderation import Report as ReportRow
from models.moderation import ReportStatus
from models.news import NewsPost
from models.notifications import Notification, NotificationKind
from models.territories import Territory
from tests.factories import Persona, make_person, make_territory
from tests.news.stories import (
    MODERATE,
    NODE,
    REPORT,
    REPORTS,
    codes,
    comment,
    comments_of,
    events_on,
    feed_of,
    gid,
    inbox,
    make_idea,
    make_poll,
    make_project,
    make_question,
    make_reply,
    moderate,
    pk_of,
    publish,
    report,
    top_code,
)


@dataclass
class Town:
    territory: Territory
    alice: Persona  # citizen
    bob: Persona  # citizen who writes what gets reported
    odile: Persona  # official
    mona: Persona  # moderator
    adam: Persona  # admin


async def town() -> Town:
    territory = await make_territory()
    return Town(
        territory=territory,
        alice=await make_person("alice", territory),
        bob=await make_person("bob", territory),
        odile=await make_person("odile", territory, Role.OFFICIAL),
        mona=await make_person("mona", territory, Role.MODERATOR),
        adam=await make_person("adam", territory, Role.ADMIN),
    )


def moderate_input(report_id: str, action: str = "HIDE", reason: str | None = None) -> dict[str, Any]:
    return {"input": {"reportId": report_id, "action": action, "reason": reason}}


async def test_a_reported_comment_hidden_by_mona_disappears_for_all_but_staff(
    gql: Any, app_broker: Any
) -> None:
    # Given bob's rude comment on odile's post, and alice's polite one
    t = await town()
    post = await publish(gql, t.odile.token, t.territory)
    rude = await comment(gql, t.bob.token, post["id"], "You are all crooks.")
    polite = await comment(gql, t.alice.token, post["id"], "Thanks for the news.")

    # When alice reports it
    filed = await report(gql, t.alice.token, rude["id"], "Insults the officials.")
    assert filed["status"] == "PENDING"
    assert filed["subject"] == {"__typename": "Comment", "id": rude["id"]}
    assert filed["reporter"] == {"id": t.alice.member_gid}

    # Then mona finds it among the territory's reports
    reports = (await gql(REPORTS, {"slug": t.territory.slug}, t.mona.token))["data"]["territory"]["reports"]
    assert reports["totalCount"] == 1
    assert reports["edges"][0]["node"] == {
        "id": filed["id"], "reason": "Insults the officials.", "status": "PENDING",
        "subject": {"__typename": "Comment", "id": rude["id"]}, "reporter": {"displayName": "Alice"},
    }

    # When mona hides it, with a reason
    async with events_on(app_broker, territory_channel(t.territory.id)) as events:
        decided = await moderate(gql, t.mona.token, filed["id"], "HIDE", "Personal attacks break rule 3.")

    # Then the report records her decision
    assert decided["status"] == "HIDDEN"
    assert decided["decisionReason"] == "Personal attacks break rule 3."
    assert decided["decidedBy"] == {"id": t.mona.member_gid}
    assert decided["decidedAt"] is not None
    # And the comment is gone for alice and for anonymous readers, not for mona
    for token in (t.alice.token, None, t.bob.token):
        page = await comments_of(gql, post["id"], token)
        assert [e["node"]["id"] for e in page["edges"]] == [polite["id"]]
        assert page["totalCount"] == 1
    page = await comments_of(gql, post["id"], t.mona.token)
    assert [e["node"]["id"] for e in page["edges"]] == [rude["id"], polite["id"]]
    assert (await gql(NODE, {"id": rude["id"]}, t.alice.token))["data"]["node"] is None
    assert (await gql(NODE, {"id": rude["id"]}, t.mona.token))["data"]["node"]["id"] == rude["id"]
    # And bob is told why, and still sees what he wrote from his notification
    notes = await inbox(gql, t.bob.token)
    assert [n["node"]["kind"] for n in notes["edges"]] == ["CONTENT_HIDDEN"]
    assert notes["edges"][0]["node"]["subject"] == {"__typename": "Comment", "id": rude["id"]}
    assert "Personal attacks break rule 3." in notes["edges"][0]["node"]["message"]
    # And live clients were told to drop it
    assert [(e.type, e.data) for e in events] == [
        ("hidden", {"kind": "Comment", "id": pk_of(rude["id"])})
    ]


async def test_hidden_news_leaves_the_feed_and_restore_brings_it_back(gql: Any) -> None:
    t = await town()
    older = await publish(gql, t.odile.token, t.territory, title="Older")
    post = await publish(gql, t.odile.token, t.territory, title="Fake figures")
    newer = await publish(gql, t.odile.token, t.territory, title="Newer")
    before = await feed_of(gql, t.territory)
    assert [e["node"]["id"] for e in before["edges"]] == [newer["id"], post["id"], older["id"]]

    filed = await report(gql, t.alice.token, post["id"], "Misleading.")
    await moderate(gql, t.mona.token, filed["id"], "HIDE")

    for token in (None, t.alice.token, t.mona.token):
        feed = await feed_of(gql, t.territory, token)
        assert [e["node"]["id"] for e in feed["edges"]] == [newer["id"], older["id"]]
    entry = await FeedEntry.get(subject_type="NewsPost", subject_id=pk_of(post["id"]))
    assert entry.hidden
    odile_notes = await Notification.filter(account_id=t.odile.account.id)
    assert [(n.kind, n.subject_type) for n in odile_notes] == [(NotificationKind.CONTENT_HIDDEN, "NewsPost")]

    restored = await moderate(gql, t.adam.token, filed["id"], "RESTORE", "Figures checked.")

    assert restored["status"] == "DISMISSED"
    assert restored["decidedBy"] == {"id": t.adam.member_gid}
    after = await feed_of(gql, t.territory, t.alice.token)
    assert after["edges"] == before["edges"]  # same place, same cursor
    assert not (await NewsPost.get(id=pk_of(post["id"]))).hidden


async def test_dismissing_keeps_the_content(gql: Any) -> None:
    t = await town()
    post = await publish(gql, t.odile.token, t.territory)
    filed = await report(gql, t.alice.token, post["id"], "I disagree.")

    decided = await moderate(gql, t.mona.token, filed["id"], "DISMISS", "Disagreement is not abuse.")

    assert decided["status"] == "DISMISSED"
    assert decided["decisionReason"] == "Disagreement is not abuse."
    assert not (await NewsPost.get(id=pk_of(post["id"]))).hidden
    assert [e["node"]["id"] for e in (await feed_of(gql, t.territory))["edges"]] == [post["id"]]
    assert await Notification.filter(account_id=t.odile.account.id).count() == 0


async def test_every_kind_of_content_can_be_reported_and_hidden(gql: Any) -> None:
    t = await town()
    question = await make_question(t.territory, t.bob.member)  # type: ignore[arg-type]
    subjects = {
        "Question": question.id,
        "Reply": (await make_reply(question, t.odile.member)).id,  # type: ignore[arg-type]
        "Idea": (await make_idea(t.territory, t.bob.member)).id,  # type: ignore[arg-type]
        "Project": (await make_project(t.territory, t.odile.member)).id,  # type: ignore[arg-type]
        "Poll": (await make_poll(t.territory, t.odile.member)).id,  # type: ignore[arg-type]
        "NewsPost": pk_of((await publish(gql, t.odile.token, t.territory))["id"]),
    }
    subjects["Comment"] = pk_of((await comment(gql, t.alice.token, gid("Idea", subjects["Idea"])))["id"])

    # What sits under other content first: once its parent is hidden, nobody but staff can
    # report it (it is hidden with it, reads/visibility.py).
    for kind in ("Reply", "Comment", "Question", "Idea", "Project", "Poll", "NewsPost"):
        pk = subjects[kind]
        filed = await report(gql, t.alice.token if kind != "Comment" else t.bob.token, gid(kind, pk))
        assert filed["subject"] == {"__typename": kind, "id": gid(kind, pk)}
        decided = await moderate(gql, t.mona.token, filed["id"], "HIDE")
        assert decided["status"] == "HIDDEN"
        assert decided["subject"] == {"__typename": kind, "id": gid(kind, pk)}  # staff still see it
        assert (await gql(NODE, {"id": gid(kind, pk)}, t.alice.token))["data"]["node"] is None, kind

    hidden_for = {
        (n.account_id, n.subject_type)
        for n in await Notification.filter(
            kind=NotificationKind.CONTENT_HIDDEN, subject_id__in=list(subjects.values())
        )
    }
    assert hidden_for >= {
        (t.bob.account.id, "Question"), (t.odile.account.id, "Reply"), (t.bob.account.id, "Idea"),
        (t.odile.account.id, "Project"), (t.odile.account.id, "Poll"),
        (t.odile.account.id, "NewsPost"), (t.alice.account.id, "Comment"),
    }


async def test_hiding_twice_notifies_once(gql: Any) -> None:
    t = await town()
    post = await publish(gql, t.odile.token, t.territory)
    first = await report(gql, t.alice.token, post["id"])
    second = await report(gql, t.bob.token, post["id"])

    await moderate(gql, t.mona.token, first["id"], "HIDE")
    decided = await moderate(gql, t.adam.token, second["id"], "HIDE")

    assert decided["status"] == "HIDDEN"
    assert await Notification.filter(account_id=t.odile.account.id).count() == 1


async def test_only_the_territorys_moderators_and_admins_decide(gql: Any) -> None:
    t = await town()
    elsewhere = await make_territory()
    max_ = await make_person("max", elsewhere, Role.MODERATOR)
    post = await publish(gql, t.odile.token, t.territory)
    filed = await report(gql, t.alice.token, post["id"])

    assert top_code(await gql(MODERATE, moderate_input(filed["id"]))) == "UNAUTHENTICATED"
    for person in (t.alice, t.odile, max_):
        body = await gql(MODERATE, moderate_input(filed["id"]), person.token)
        assert top_code(body) == "FORBIDDEN", person.account.display_name

    row = await ReportRow.get(id=pk_of(filed["id"]))
    assert row.status == ReportStatus.PENDING and row.decided_at is None
    assert not (await NewsPost.get(id=pk_of(post["id"]))).hidden
    assert await Notification.filter(account_id=t.odile.account.id).count() == 0


async def test_an_unknown_report_or_a_bad_reason_is_refused(gql: Any) -> None:
    t = await town()
    post = await publish(gql, t.odile.token, t.territory)
    filed = await report(gql, t.alice.token, post["id"])

    for report_id in (gid("Report", 2**31 - 1), gid("NewsPost", pk_of(filed["id"])), "garbage"):
        body = await gql(MODERATE, moderate_input(report_id), t.mona.token)
        assert codes(body, "moderateContent") == ["NOT_FOUND"]
    body = await gql(MODERATE, moderate_input(filed["id"], reason="r" * 2001), t.mona.token)
    assert codes(body, "moderateContent") == ["INVALID"]
    assert body["data"]["moderateContent"]["userErrors"][0]["field"] == ["input", "reason"]

    assert (await ReportRow.get(id=pk_of(filed["id"]))).status == ReportStatus.PENDING
    assert not (await NewsPost.get(id=pk_of(post["id"]))).hidden


async def test_reporting_needs_an_account_membership_and_a_reason(gql: Any) -> None:
    t = await town()
    otto = await make_person("otto", await make_territory())
    post = await publish(gql, t.odile.token, t.territory)
    hidden = await make_question(t.territory, t.bob.member)  # type: ignore[arg-type]
    hidden.hidden = True
    await hidden.save()

    def report_input(subject_id: str, reason: str = "Spam.") -> dict[str, Any]:
        return {"input": {"subjectId": subject_id, "reason": reason}}

    assert top_code(await gql(REPORT, report_input(post["id"]))) == "UNAUTHENTICATED"
    assert codes(await gql(REPORT, report_input(post["id"]), otto.token), "reportContent") == ["NOT_A_MEMBER"]
    for reason in ("", "  ", "r" * 2001):
        body = await gql(REPORT, report_input(post["id"], reason), t.alice.token)
        assert codes(body, "reportContent") == ["INVALID"]
        assert body["data"]["reportContent"]["userErrors"][0]["field"] == ["input", "reason"]
    assert t.bob.member is not None
    for subject_id in (gid("Territory", t.territory.id), gid("Member", t.bob.member.id),
                       gid("Question", hidden.id), gid("NewsPost", 2**31 - 1), "garbage"):
        body = await gql(REPORT, report_input(subject_id), t.alice.token)
        assert codes(body, "reportContent") == ["NOT_FOUND"], subject_id
        assert body["data"]["reportContent"]["userErrors"][0]["field"] == ["input", "subjectId"]

    assert await ReportRow.filter(territory_id=t.territory.id).count() == 0
    filed = await report(gql, t.alice.token, post["id"], "r" * 2000)
    assert len(filed["reason"]) == 2000


async def test_reports_are_for_staff_only(gql: Any) -> None:
    t = await town()
    post = await publish(gql, t.odile.token, t.territory)
    filed = await report(gql, t.alice.token, post["id"])

    for person in (t.alice, t.odile):
        body = await gql(REPORTS, {"slug": t.territory.slug}, person.token)
        assert top_code(body) == "FORBIDDEN"
    assert top_code(await gql(REPORTS, {"slug": t.territory.slug})) == "UNAUTHENTICATED"
    assert (await gql(NODE, {"id": filed["id"]}, t.alice.token))["data"]["node"] is None
    for person in (t.mona, t.adam):
        body = await gql(REPORTS, {"slug": t.territory.slug}, person.token)
        assert body["data"]["territory"]["reports"]["totalCount"] == 1
        assert (await gql(NODE, {"id": filed["id"]}, person.token))["data"]["node"]["id"] == filed["id"]


async def test_comments_count_leaves_out_hidden_ones(gql: Any) -> None:
    t = await town()
    post = await publish(gql, t.odile.token, t.territory)
    rude = await comment(gql, t.bob.token, post["id"], "Rude.")
    await Comment.filter(id=pk_of(rude["id"])).update(hidden=True)

    assert (await comments_of(gql, post["id"], t.alice.token))["totalCount"] == 0
    assert (await comments_of(gql, post["id"], t.adam.token))["totalCount"] == 1
