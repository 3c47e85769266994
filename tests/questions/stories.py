"""GraphQL documents and small steps shared by the questions stories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.questions import Question as QuestionRow
from models.territories import Territory as TerritoryRow
from schema.relay import decode_id_of, encode_id

QUESTION_FIELDS = """
  id title body status closedReason createdAt dueAt overdue
  author { id displayName }
  official { id displayName title }
  territory { id slug }
  reply { id body official { id } }
"""

ASK = f"""
mutation Ask($input: AskQuestionInput!) {{
  askQuestion(input: $input) {{
    question {{ {QUESTION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

REPLY = """
mutation Reply($input: ReplyToQuestionInput!) {
  replyToQuestion(input: $input) {
    reply {
      id body createdAt
      official { id displayName title role }
      question { id status overdue reply { id } }
    }
    userErrors { field message code }
  }
}
"""

CLOSE = f"""
mutation Close($input: CloseQuestionInput!) {{
  closeQuestion(input: $input) {{
    question {{ {QUESTION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{
    __typename
    ... on Question {{ {QUESTION_FIELDS} }}
    ... on Reply {{ id body by: official {{ id }} question {{ id }} }}
  }}
}}
"""

TERRITORY_QUESTIONS = """
query Questions($slug: String!, $status: QuestionStatus, $officialId: ID) {
  territory(slug: $slug) {
    questions(first: 50, status: $status, officialId: $officialId) {
      totalCount
      edges { node { id title status } }
    }
  }
}
"""

STATS = """
query Stats($slug: String!) {
  territory(slug: $slug) {
    stats {
      questionsAsked questionsAnswered questionsOverdue onTimeReplyRate medianReplySeconds
    }
  }
}
"""

OFFICIAL = """
query Official($id: ID!) {
  node(id: $id) {
    ... on Official {
      id title repliesCount overdueCount medianReplySeconds
      questions(first: 50) { totalCount edges { node { id status overdue } } }
    }
  }
}
"""

DAY = 24 * 3600


def territory_gid(territory: TerritoryRow) -> str:
    return encode_id("Territory", territory.id)


def pk_of(global_id: str, kind: str) -> int:
    pk = decode_id_of(global_id, kind)
    assert pk is not None, global_id
    return pk


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def ask(
    gql: Any,
    token: str | None,
    territory: TerritoryRow,
    *,
    title: str = "When will the bus line 4 run on Sundays?",
    body: str = "The Sunday service stopped last spring; families in Grazailles need it.",
    official_id: str | None = None,
) -> dict[str, Any]:
    """askQuestion's payload (asserting no top-level error)."""
    variables = {
        "input": {
            "territoryId": territory_gid(territory),
            "officialId": official_id,
            "title": title,
            "body": body,
        }
    }
    result = await gql(ASK, variables, token=token)
    assert "errors" not in result or not result["errors"], result
    return result["data"]["askQuestion"]  # type: ignore[no-any-return]


async def asked(gql: Any, token: str | None, territory: TerritoryRow, **kwargs: Any) -> dict[str, Any]:
    """A question that was asked successfully."""
    payload = await ask(gql, token, territory, **kwargs)
    assert payload["userErrors"] == [], payload
    return payload["question"]  # type: ignore[no-any-return]


async def reply(
    gql: Any, token: str | None, question_id: str, body: str = "From 7 March, every Sunday."
) -> dict[str, Any]:
    """The whole replyToQuestion response (data and errors)."""
    variables = {"input": {"questionId": question_id, "body": body}}
    return await gql(REPLY, variables, token=token)  # type: ignore[no-any-return]


async def close(
    gql: Any, token: str | None, question_id: str, reason: str = "Duplicate of an answered question."
) -> dict[str, Any]:
    """The whole closeQuestion response (data and errors)."""
    variables = {"input": {"questionId": question_id, "reason": reason}}
    return await gql(CLOSE, variables, token=token)  # type: ignore[no-any-return]


async def age_question(question_id: str, *, asked_ago: dt.timedelta, due_in: dt.timedelta) -> None:
    """Move a question back in time, as if asked `asked_ago` and due `due_in` from now."""
    now = dt.datetime.now(dt.UTC)
    await QuestionRow.filter(id=pk_of(question_id, "Question")).update(
        created_at=now - asked_ago, due_at=now + due_in
    )


def top_code(result: dict[str, Any]) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]
