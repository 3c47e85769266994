"""The whole story of the service issue, over real HTTP against `python server.py serve`,
and still there after a restart."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.e2e.server import Client, ServerProcess, new_database_url, run_cli


def sign_up(url: str, email: str, name: str) -> Client:
    data = Client(url)(
        "mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { code } } }",
        {"i": {"email": email, "password": "a long passphrase", "displayName": name}},
    )
    assert data["signUp"]["userErrors"] == []
    return Client(url, data["signUp"]["token"])


def log_in(url: str, email: str) -> Client:
    data = Client(url)(
        "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code } } }",
        {"i": {"email": email, "password": "a long passphrase"}},
    )
    return Client(url, data["logIn"]["token"])


@pytest.fixture(scope="module")
def database_url_e2e() -> str:
    return new_database_url()


def test_a_territory_lives_its_participation_story_and_survives_a_restart(database_url_e2e: str) -> None:
    db = database_url_e2e
    migrated = run_cli(db, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    created = run_cli(db, "create-territory", "--slug", "carcassonne-agglo", "--name", "Carcassonne Agglo",
                      "--population", "110000", "--reply-deadline-days", "15")
    assert created.returncode == 0, created.stderr
    admin = run_cli(db, "create-admin", "--territory", "carcassonne-agglo", "--email", "admin@agglo.example",
                    "--password", "a long passphrase", "--display-name", "Régis")
    assert admin.returncode == 0, admin.stderr

    with ServerProcess(db) as server:
        url = server.url
        adam = log_in(url, "admin@agglo.example")
        alice = sign_up(url, "alice@example.org", "Alice")
        odile = sign_up(url, "odile@example.org", "Odile")
        mona = sign_up(url, "mona@example.org", "Mona")
        anonymous = Client(url)

        territory = anonymous('{ territory(slug: "carcassonne-agglo") { id replyDeadlineDays } }')["territory"]
        join = "mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { id } } }"
        alice_id = alice(join, {"t": territory["id"]})["joinTerritory"]["member"]["id"]
        odile_id = odile(join, {"t": territory["id"]})["joinTerritory"]["member"]["id"]
        mona_id = mona(join, {"t": territory["id"]})["joinTerritory"]["member"]["id"]

        adam("mutation($m: ID!) { setMemberRole(input: {memberId: $m, role: MODERATOR}) { userErrors { code } } }", {"m": mona_id})
        verified = mona("mutation($m: ID!) { verifyMember(input: {memberId: $m}) { member { verified } } }", {"m": alice_id})
        assert verified["verifyMember"]["member"]["verified"] is True
        appointed = adam(
            "mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: \"Vice-president for mobility\"}) { member { __typename id } } }",
            {"m": odile_id},
        )
        assert appointed["appointOfficial"]["member"] == {"__typename": "Official", "id": odile_id}

        # A citizen asks the vice-president about a cycle lane; she replies publicly.
        asked = alice(
            "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id dueAt status } userErrors { code } } }",
            {"i": {"territoryId": territory["id"], "officialId": odile_id, "title": "A cycle lane on the Pont Vieux?",
                   "body": "When will the cycle lane between the Bastide and the Cité be built?"}},
        )["askQuestion"]
        assert asked["userErrors"] == [] and asked["question"]["status"] == "OPEN"
        due = dt.datetime.fromisoformat(asked["question"]["dueAt"])
        assert dt.timedelta(days=14, hours=23) < due - dt.datetime.now(dt.UTC) <= dt.timedelta(days=15)
        replied = odile(
            "mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { reply { id official { title } } userErrors { code } } }",
            {"i": {"questionId": asked["question"]["id"], "body": "Work starts in March; see the mobility plan."}},
        )["replyToQuestion"]
        assert replied["userErrors"] == []
        notes = alice("{ viewer { notifications { edges { node { kind read } } } } }")
        assert [e["node"] for e in notes["viewer"]["notifications"]["edges"]] == [{"kind": "QUESTION_ANSWERED", "read": False}]

        # Ideas: proposed, supported, realized.
        idea = alice(
            "mutation($i: ProposeIdeaInput!) { proposeIdea(input: $i) { idea { id } } }",
            {"i": {"territoryId": territory["id"], "title": "Shaded benches", "body": "Benches under the plane trees."}},
        )["proposeIdea"]["idea"]
        supported = mona("mutation($i: ID!) { supportIdea(input: {ideaId: $i}) { idea { supportCount viewerSupports } } }", {"i": idea["id"]})
        assert supported["supportIdea"]["idea"] == {"supportCount": 1, "viewerSupports": True}
        realized = odile(
            "mutation($i: ID!) { setIdeaStatus(input: {ideaId: $i, status: REALIZED, note: \"Installed in June.\"}) { idea { status statusNote } } }",
            {"i": idea["id"]},
        )
        assert realized["setIdeaStatus"]["idea"] == {"status": "REALIZED", "statusNote": "Installed in June."}

        # A project with its budget and documents, news, and a verified-residents-only poll.
        project = odile(
            """mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id budget { amount currency } documents { kind url } } userErrors { code field } } }""",
            {"i": {"territoryId": territory["id"], "title": "Révision du SCoT", "description": "The territorial coherence scheme.",
                   "budget": {"amount": "1250000.00", "currency": "EUR"},
                   "documents": [{"title": "Budget", "url": "https://agglo.example/scot-budget.pdf", "kind": "BUDGET"}]}},
        )["createProject"]
        assert project["userErrors"] == []
        assert project["project"]["budget"] == {"amount": "1250000.00", "currency": "EUR"}
        odile(
            "mutation($i: PublishNewsInput!) { publishNews(input: $i) { newsPost { id } } }",
            {"i": {"territoryId": territory["id"], "projectId": project["project"]["id"], "title": "Public meeting", "body": "Tuesday at 18:00."}},
        )
        closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
        poll = odile(
            "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id status options { id label } } userErrors { code field } } }",
            {"i": {"territoryId": territory["id"], "question": "Which route?", "options": ["North", "South"],
                   "verifiedOnly": True, "closesAt": closes}},
        )["createPoll"]
        assert poll["userErrors"] == [] and poll["poll"]["status"] == "OPEN"
        vote = "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { poll { viewerHasVoted results { totalVotes } } userErrors { code } } }"
        north = poll["poll"]["options"][0]["id"]
        assert mona(vote, {"p": poll["poll"]["id"], "o": [north]})["castVote"]["userErrors"] == [{"code": "NOT_VERIFIED"}]
        voted = alice(vote, {"p": poll["poll"]["id"], "o": [north]})["castVote"]
        assert voted == {"poll": {"viewerHasVoted": True, "results": {"totalVotes": 1}}, "userErrors": []}
        assert alice(vote, {"p": poll["poll"]["id"], "o": [north]})["castVote"]["userErrors"] == [{"code": "ALREADY_VOTED"}]

        # A comment that breaks the charter is reported and hidden.
        comment = mona(
            "mutation($i: AddCommentInput!) { addComment(input: $i) { comment { id } userErrors { code } } }",
            {"i": {"subjectId": idea["id"], "body": "An insult that breaks the charter."}},
        )["addComment"]["comment"]
        report = alice(
            "mutation($i: ReportContentInput!) { reportContent(input: $i) { report { id status } } }",
            {"i": {"subjectId": comment["id"], "reason": "Insulting."}},
        )["reportContent"]["report"]
        assert report["status"] == "PENDING"
        hidden = mona(
            "mutation($i: ModerateContentInput!) { moderateContent(input: $i) { report { status } } }",
            {"i": {"reportId": report["id"], "action": "HIDE", "reason": "Breaks rule 2 of the charter."}},
        )
        assert hidden["moderateContent"]["report"]["status"] == "HIDDEN"
        comments = anonymous("query($i: ID!) { node(id: $i) { ... on Idea { comments { totalCount } } } }", {"i": idea["id"]})
        assert comments["node"]["comments"]["totalCount"] == 0

        before_restart = public_view(anonymous)
        assert [e["node"]["__typename"] for e in before_restart["feed"]["edges"]] == [
            "Poll", "NewsPost", "Project", "Idea", "Reply"
        ]
        assert before_restart["stats"]["questionsAnswered"] == 1
        assert before_restart["stats"]["onTimeReplyRate"] == 1.0
        assert before_restart["stats"]["votesCast"] == 1

    # Everything is still there after a restart.
    with ServerProcess(db) as server:
        assert public_view(Client(server.url)) == before_restart
        again = log_in(server.url, "alice@example.org")
        assert again("{ viewer { email memberships { verified } } }")["viewer"] == {
            "email": "alice@example.org", "memberships": [{"verified": True}]
        }


def public_view(client: Client) -> dict:  # type: ignore[type-arg]
    return client(
        """{ territory(slug: "carcassonne-agglo") {
            feed(first: 10) { edges { cursor node { __typename } } }
            questions { edges { node { title status overdue reply { body official { displayName title } } } } }
            ideas(orderBy: MOST_SUPPORTED) { edges { node { title status supportCount } } }
            polls { edges { node { question results { totalVotes options { votes share option { label } } } } } }
            stats { participants questionsAsked questionsAnswered questionsOverdue onTimeReplyRate
                    ideasProposed ideasRealized pollsHeld votesCast reach }
        } }"""
    )["territory"]


def test_cli_reports_bad_configuration_in_one_line() -> None:
    bad = run_cli("mysql://nowhere/db", "migrate")
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("parvis: DATABASE_URL must start with")
    assert "Traceback" not in bad.stderr
    unreachable = run_cli("postgres://postgres@127.0.0.1:1/nothing", "migrate")
    assert unreachable.returncode == 2
    assert "cannot reach the database" in unreachable.stderr and "Traceback" not in unreachable.stderr


def test_a_body_over_one_megabyte_is_refused_before_parsing(database_url_e2e: str) -> None:
    assert run_cli(database_url_e2e, "migrate").returncode == 0
    with ServerProcess(database_url_e2e) as server:
        big = "{" + " " * 1_100_000 + "__typename }"
        response = httpx.post(f"{server.url}/graphql", json={"query": big}, timeout=30)
        assert response.status_code == 413
        small = httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"}, timeout=30)
        assert small.json()["data"] == {"__typename": "Query"}
