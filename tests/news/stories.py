"""GraphQL documents, content factories and small steps shared by the news, comments,
moderation, notifications and feed stories."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from events.envelopes import Event
from models.accounts import Member
from models.feed import FeedEntry
from models.ideas import Idea
from models.polls import Poll, PollOption
from models.projects import Project
from models.questions import Question, Reply
from models.territories import Territory
from schema.relay import decode_id, encode_id

PUBLISH = """
mutation Publish($input: PublishNewsInput!) {
  publishNews(input: $input) {
    newsPost {
      id title body publishedAt
      author { id displayName title role }
      territory { id }
      project { id title }
      comments { totalCount }
    }
    userErrors { field message code }
  }
}
"""

ADD_COMMENT = """
mutation Comment($input: AddCommentInput!) {
  addComment(input: $input) {
    comment { id body createdAt author { __typename id displayName } }
    userErrors { field message code }
  }
}
"""

REPORT = """
mutation Report($input: ReportContentInput!) {
  reportContent(input: $input) {
    report { id reason status createdAt subject { __typename id } reporter { id } }
    userErrors { field message code }
  }
}
"""

MODERATE = """
mutation Moderate($input: ModerateContentInput!) {
  moderateContent(input: $input) {
    report {
      id status decisionReason decidedAt decidedBy { id }
      subject { __typename id }
    }
    userErrors { field message code }
  }
}
"""

MARK_READ = """
mutation Mark($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) }
"""

NOTIFICATIONS = """
query Inbox($first: Int, $after: String, $unreadOnly: Boolean) {
  viewer {
    notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
      totalCount
      edges { cursor node { id kind message read createdAt subject { __typename id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

COMMENTS_OF = """
query Comments($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) {
    ... on Commentable {
      comments(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { id body author { displayName } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}
"""

FEED = """
query Feed($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
  territory(slug: $slug) {
    feed(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges {
        cursor
        node {
          __typename
          ... on NewsPost { id title }
          ... on Poll { id question }
          ... on Reply { id body }
          ... on Idea { id title }
          ... on Project { id title }
        }
      }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""

REPORTS = """
query Reports($slug: String!) {
  territory(slug: $slug) {
    reports(first: 50) {
      totalCount
      edges { node { id reason status subject { __typename id } reporter { displayName } } }
    }
  }
}
"""

NODE = """
query Node($id: ID!) { node(id: $id) { __typename id } }
"""


def gid(kind: str, pk: int) -> str:
    return encode_id(kind, pk)


def pk_of(global_id: str) -> int:
    decoded = decode_id(global_id)
    assert decoded is not None
    return decoded[1]


def codes(body: dict[str, Any], field: str) -> list[str]:
    """userError codes of a mutation's payload."""
    assert body.get("errors") is None, body
    return [e["code"] for e in body["data"][field]["userErrors"]]


def top_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def publish(gql: Any, token: str, territory: Territory, title: str = "Works on the bridge",
                  body: str = "The bridge closes in May.", project: str | None = None) -> dict[str, Any]:
    result = await gql(
        PUBLISH,
        {"input": {"territoryId": gid("Territory", territory.id), "projectId": project,
                   "title": title, "body": body}},
        token,
    )
    assert result.get("errors") is None, result
    payload = result["data"]["publishNews"]
    assert payload["userErrors"] == [], payload
    return payload["newsPost"]  # type: ignore[no-any-return]


async def comment(gql: Any, token: str, subject_id: str, body: str = "Thank you!") -> dict[str, Any]:
    result = await gql(ADD_COMMENT, {"input": {"subjectId": subject_id, "body": body}}, token)
    assert result.get("errors") is None, result
    payload = result["data"]["addComment"]
    assert payload["userErrors"] == [], payload
    return payload["comment"]  # type: ignore[no-any-return]


async def report(gql: Any, token: str, subject_id: str, reason: str = "Insults.") -> dict[str, Any]:
    result = await gql(REPORT, {"input": {"subjectId": subject_id, "reason": reason}}, token)
    assert result.get("errors") is None, result
    payload = result["data"]["reportContent"]
    assert payload["userErrors"] == [], payload
    return payload["report"]  # type: ignore[no-any-return]


async def moderate(gql: Any, token: str, report_id: str, action: str,
                   reason: str | None = None) -> dict[str, Any]:
    result = await gql(
        MODERATE, {"input": {"reportId": report_id, "action": action, "reason": reason}}, token
    )
    assert result.get("errors") is None, result
    payload = result["data"]["moderateContent"]
    assert payload["userErrors"] == [], payload
    return payload["report"]  # type: ignore[no-any-return]


async def comments_of(gql: Any, subject_id: str, token: str | None = None, **page: Any) -> dict[str, Any]:
    result = await gql(COMMENTS_OF, {"id": subject_id, **page}, token)
    assert result.get("errors") is None, result
    return result["data"]["node"]["comments"]  # type: ignore[no-any-return]


async def feed_of(gql: Any, territory: Territory, token: str | None = None, **page: Any) -> dict[str, Any]:
    result = await gql(FEED, {"slug": territory.slug, **page}, token)
    assert result.get("errors") is None, result
    return result["data"]["territory"]["feed"]  # type: ignore[no-any-return]


async def inbox(gql: Any, token: str, **args: Any) -> dict[str, Any]:
    result = await gql(NOTIFICATIONS, args, token)
    assert result.get("errors") is None, result
    return result["data"]["viewer"]["notifications"]  # type: ignore[no-any-return]


# Content written by the other domains, made directly as rows (their mutations have
# their own stories).

def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def make_question(
    territory: Territory, author: Member, title: str = "When does the bus run?"
) -> Question:
    return await Question.create(
        territory=territory, author=author, title=title, body="Line 4, on Sundays.",
        due_at=_now() + dt.timedelta(days=15),
    )


async def make_reply(question: Question, official: Member, body: str = "From June on.") -> Reply:
    return await Reply.create(
        question=question, official=official, territory_id=question.territory_id, body=body,
        on_time=True, reply_seconds=60,
    )


async def make_idea(territory: Territory, author: Member, title: str = "A cycle lane") -> Idea:
    return await Idea.create(territory=territory, author=author, title=title, body="Along the canal.")


async def make_project(territory: Territory, creator: Member, title: str = "New library") -> Project:
    return await Project.create(
        territory=territory, created_by=creator, title=title, description="In the old mill."
    )


async def make_poll(territory: Territory, creator: Member, question: str = "Which name?") -> Poll:
    poll = await Poll.create(
        territory=territory, created_by=creator, question=question,
        opens_at=_now() - dt.timedelta(hours=1), closes_at=_now() + dt.timedelta(days=7),
    )
    for position, label in enumerate(("Yes", "No")):
        await PollOption.create(poll=poll, label=label, position=position)
    return poll


async def add_to_feed(territory: Territory, kind: str, subject_id: int) -> FeedEntry:
    return await FeedEntry.create(territory=territory, subject_type=kind, subject_id=subject_id)


@asynccontextmanager
async def events_on(broker: Any, channel: str) -> AsyncIterator[list[Event]]:
    """Collects the events published on a channel while the block runs."""
    seen: list[Event] = []
    async with broker.listen(channel) as queue:
        yield seen
        while not queue.empty():
            seen.append(queue.get_nowait())
