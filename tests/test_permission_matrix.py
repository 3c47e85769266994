"""Each role against each mutation: who may act, who is refused, and how.

U = top-level UNAUTHENTICATED, F = top-level FORBIDDEN, ok = done without userErrors,
any other value = the userError code expected. Each attempt acts on fresh targets, so
one persona's success never changes what the next one meets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from models.accounts import Role
from models.territories import Territory
from tests.factories import Persona, gid, make_person, make_territory

PERSONAS = ("anonymous", "outsider", "citizen", "official", "moderator", "admin")
U, F, OK = "UNAUTHENTICATED", "FORBIDDEN", "ok"


@dataclass
class World:
    territory: Territory
    people: dict[str, Persona]
    gql: Any

    @property
    def t(self) -> str:
        return gid("Territory", self.territory.id)

    async def data(self, who: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        result = await self.gql(query, variables, token=self.people[who].token)
        assert not result.get("errors"), result
        return result["data"]  # type: ignore[no-any-return]


async def question(w: World) -> str:
    d = await w.data("citizen", "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } } }",
                     {"i": {"territoryId": w.t, "title": "Q", "body": "B"}})
    return d["askQuestion"]["question"]["id"]  # type: ignore[no-any-return]


async def idea(w: World) -> str:
    d = await w.data("citizen", "mutation($i: ProposeIdeaInput!) { proposeIdea(input: $i) { idea { id } } }",
                     {"i": {"territoryId": w.t, "title": "I", "body": "B"}})
    return d["proposeIdea"]["idea"]["id"]  # type: ignore[no-any-return]


async def project(w: World) -> str:
    d = await w.data("official", "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
                     {"i": {"territoryId": w.t, "title": "P", "description": "D"}})
    return d["createProject"]["project"]["id"]  # type: ignore[no-any-return]


async def poll(w: World) -> dict[str, Any]:
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    d = await w.data("official", "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
                     {"i": {"territoryId": w.t, "question": "Q?", "options": ["A", "B"], "closesAt": closes}})
    return d["createPoll"]["poll"]  # type: ignore[no-any-return]


async def report(w: World) -> str:
    subject = await idea(w)
    d = await w.data("citizen", "mutation($i: ReportContentInput!) { reportContent(input: $i) { report { id } } }",
                     {"i": {"subjectId": subject, "reason": "R"}})
    return d["reportContent"]["report"]["id"]  # type: ignore[no-any-return]


async def member(w: World) -> str:
    return (await make_person("newcomer", w.territory)).member_gid


Prepare = Callable[[World], Awaitable[dict[str, Any]]]


async def _no_vars(w: World) -> dict[str, Any]:
    return {}


async def _poll_vote(w: World) -> dict[str, Any]:
    p = await poll(w)
    return {"i": {"pollId": p["id"], "optionIds": [p["options"][0]["id"]]}}


async def _poll_close(w: World) -> dict[str, Any]:
    return {"i": {"pollId": (await poll(w))["id"]}}


CASES: dict[str, tuple[str, Prepare, dict[str, str]]] = {
    # name: (operation, prepare variables, expected outcome per persona)
    "askQuestion": (
        "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t, "title": "Q", "body": "B"}}),
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "replyToQuestion": (
        "mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { userErrors { code } } }",
        lambda w: _wrap(question(w), lambda q: {"i": {"questionId": q, "body": "R"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": F, "admin": F},
    ),
    "closeQuestion": (
        "mutation($i: CloseQuestionInput!) { closeQuestion(input: $i) { userErrors { code } } }",
        lambda w: _wrap(question(w), lambda q: {"i": {"questionId": q, "reason": "Duplicate"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": F, "moderator": OK, "admin": OK},
    ),
    "proposeIdea": (
        "mutation($i: ProposeIdeaInput!) { proposeIdea(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t, "title": "I", "body": "B"}}),
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "supportIdea": (
        "mutation($i: IdeaInput!) { supportIdea(input: $i) { userErrors { code } } }",
        lambda w: _wrap(idea(w), lambda i: {"i": {"ideaId": i}}),
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "withdrawSupport": (
        "mutation($i: IdeaInput!) { withdrawSupport(input: $i) { userErrors { code } } }",
        lambda w: _wrap(idea(w), lambda i: {"i": {"ideaId": i}}),
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "setIdeaStatus": (
        "mutation($i: SetIdeaStatusInput!) { setIdeaStatus(input: $i) { userErrors { code } } }",
        lambda w: _wrap(idea(w), lambda i: {"i": {"ideaId": i, "status": "UNDER_REVIEW"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": OK, "admin": OK},
    ),
    "createProject": (
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t, "title": "P", "description": "D"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": F, "admin": OK},
    ),
    "addDocument": (
        "mutation($i: AddDocumentInput!) { addDocument(input: $i) { userErrors { code } } }",
        lambda w: _wrap(project(w), lambda p: {"i": {"projectId": p, "document": {
            "title": "Map", "url": "https://agglo.example/map.pdf", "kind": "MAP"}}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": F, "admin": OK},
    ),
    "createPoll": (
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t, "question": "Q?", "options": ["A", "B"],
                                "closesAt": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": F, "admin": OK},
    ),
    "castVote": (
        "mutation($i: CastVoteInput!) { castVote(input: $i) { userErrors { code } } }",
        _poll_vote,
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "closePoll": (
        "mutation($i: PollInput!) { closePoll(input: $i) { userErrors { code } } }",
        _poll_close,
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": F, "admin": OK},
    ),
    "publishNews": (
        "mutation($i: PublishNewsInput!) { publishNews(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t, "title": "N", "body": "B"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": OK, "moderator": F, "admin": OK},
    ),
    "addComment": (
        "mutation($i: AddCommentInput!) { addComment(input: $i) { userErrors { code } } }",
        lambda w: _wrap(idea(w), lambda i: {"i": {"subjectId": i, "body": "C"}}),
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "reportContent": (
        "mutation($i: ReportContentInput!) { reportContent(input: $i) { userErrors { code } } }",
        lambda w: _wrap(idea(w), lambda i: {"i": {"subjectId": i, "reason": "R"}}),
        {"anonymous": U, "outsider": "NOT_A_MEMBER", "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "moderateContent": (
        "mutation($i: ModerateContentInput!) { moderateContent(input: $i) { userErrors { code } } }",
        lambda w: _wrap(report(w), lambda r: {"i": {"reportId": r, "action": "DISMISS"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": F, "moderator": OK, "admin": OK},
    ),
    "updateTerritory": (
        "mutation($i: UpdateTerritoryInput!) { updateTerritory(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t, "charter": "Be kind."}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": F, "moderator": F, "admin": OK},
    ),
    "joinTerritory": (
        "mutation($i: JoinTerritoryInput!) { joinTerritory(input: $i) { userErrors { code } } }",
        lambda w: _const({"i": {"territoryId": w.t}}),
        {"anonymous": U, "outsider": OK, "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
    "verifyMember": (
        "mutation($i: MemberInput!) { verifyMember(input: $i) { userErrors { code } } }",
        lambda w: _wrap(member(w), lambda m: {"i": {"memberId": m}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": F, "moderator": OK, "admin": OK},
    ),
    "appointOfficial": (
        "mutation($i: AppointOfficialInput!) { appointOfficial(input: $i) { userErrors { code } } }",
        lambda w: _wrap(member(w), lambda m: {"i": {"memberId": m, "title": "Mayor"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": F, "moderator": F, "admin": OK},
    ),
    "setMemberRole": (
        "mutation($i: SetMemberRoleInput!) { setMemberRole(input: $i) { userErrors { code } } }",
        lambda w: _wrap(member(w), lambda m: {"i": {"memberId": m, "role": "MODERATOR"}}),
        {"anonymous": U, "outsider": F, "citizen": F, "official": F, "moderator": F, "admin": OK},
    ),
    "markNotificationsRead": (
        "mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) }",
        lambda w: _const({"i": {"ids": None}}),
        {"anonymous": U, "outsider": OK, "citizen": OK, "official": OK, "moderator": OK, "admin": OK},
    ),
}


async def _const(value: dict[str, Any]) -> dict[str, Any]:
    return value


async def _wrap(target: Awaitable[Any], build: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return build(await target)


def outcome(result: dict[str, Any]) -> str:
    if result.get("errors"):
        return str(result["errors"][0]["extensions"]["code"])
    payload = next(iter(result["data"].values()))
    if isinstance(payload, dict) and payload.get("userErrors"):
        return str(payload["userErrors"][0]["code"])
    return OK


@pytest.mark.parametrize("mutation", sorted(CASES))
async def test_role_matrix(gql, mutation: str) -> None:
    territory = await make_territory()
    people = {
        "outsider": await make_person("olivier"),
        "citizen": await make_person("alice", territory, verified=True),
        "official": await make_person("odile", territory, Role.OFFICIAL, verified=True),
        "moderator": await make_person("mona", territory, Role.MODERATOR, verified=True),
        "admin": await make_person("adam", territory, Role.ADMIN, verified=True),
    }
    world = World(territory=territory, people={**people, "anonymous": Persona(people["outsider"].account, None, "")}, gql=gql)
    operation, prepare, expected = CASES[mutation]
    seen = {}
    for persona in PERSONAS:
        variables = await prepare(world)
        token = None if persona == "anonymous" else people[persona].token
        seen[persona] = outcome(await gql(operation, variables, token=token))
    assert seen == expected
