"""Nothing secret reaches the logs, and the logs are JSON lines (issue 10 §5).

Against a real server process in production mode; what it logs is read from its stderr.
Before the fix, Strawberry logged every GraphQL error as lines of text holding the document's
source (a logIn with an invalid selection set put its password there) and the variables a
validation message quotes; every FORBIDDEN printed a traceback; uvicorn's lines were text,
and its access lines held query strings (GET /graphql?variables=...).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

import httpx
import pytest

from app.observability import account_hash
from tests.e2e.server import ServerProcess
from tests.factories import make_person
from tests.security.server import SLUG, log_lines, post, production_server

PASSWORD = "Correct-Horse-7f3a-battery"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from production_server()


def sign_up(server: ServerProcess, email: str) -> str:
    body = post(server, {"query": "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
                         "variables": {"i": {"email": email, "password": PASSWORD, "displayName": "Alice"}}}).json()
    token: str = body["data"]["signUp"]["token"]
    return token


def test_a_login_refused_before_execution_leaves_no_password_in_the_logs(server: ServerProcess):
    # Given alice's password, sent in three refused requests
    invalid_selection = post(server, {"query": f'mutation {{ logIn(input: {{email: "alice@example.org", '
                                               f'password: "{PASSWORD}"}}) {{ nope }} }}'})
    extra_field = post(server, {"query": "mutation L($i: LogInInput!) { logIn(input: $i) { token } }",
                                "variables": {"i": {"email": "alice@example.org", "password": PASSWORD, "x": 1}}})
    in_the_url = httpx.get(f"{server.url}/graphql", timeout=30, params={
        "query": "query Q($p: String) { viewer { id } }", "variables": f'{{"p": "{PASSWORD}"}}'})
    # Then each was refused with a code
    assert invalid_selection.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert extra_field.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert in_the_url.status_code == 200
    # And the logs hold neither the password nor the email, in JSON lines only
    logs = server.stderr()
    assert PASSWORD not in logs and "alice@example.org" not in logs, logs
    entries = log_lines(server)
    operations = [e for e in entries if e["logger"] == "parvis.operations"]
    assert {"GRAPHQL_VALIDATION_FAILED"} in [set(e["error_codes"]) for e in operations]
    assert {"BAD_USER_INPUT"} in [set(e["error_codes"]) for e in operations]
    # The access line names the path, not the query string
    access = [e for e in entries if e["logger"] == "uvicorn.access" and "GET /graphql" in e["message"]]
    assert access and all("?" not in e["message"] for e in access), access


def test_expected_errors_log_one_json_line_without_traceback(server: ServerProcess):
    # Given alice, a citizen of the territory
    token = sign_up(server, "citizen-alice@example.org")
    territory = post(server, {"query": "query($s: String!) { territory(slug: $s) { id } }",
                              "variables": {"s": SLUG}}).json()["data"]["territory"]["id"]
    joined = post(server, {"query": "mutation($i: JoinTerritoryInput!) { joinTerritory(input: $i) { member { id } } }",
                           "variables": {"i": {"territoryId": territory}}}, token).json()
    member = joined["data"]["joinTerritory"]["member"]["id"]
    before = len(log_lines(server))
    # When she verifies herself (FORBIDDEN), logs out anonymously (UNAUTHENTICATED) and asks
    # for a page of 500 (BAD_USER_INPUT)
    forbidden = post(server, {"query": "mutation Verify($i: MemberInput!) { verifyMember(input: $i) { userErrors { code } } }",
                              "variables": {"i": {"memberId": member}}}, token).json()
    anonymous = post(server, {"query": "mutation LogOut { logOut }"}).json()
    too_many = post(server, {"query": "query Page($s: String!) { territory(slug: $s) { questions(first: 500) { totalCount } } }",
                             "variables": {"s": SLUG}}).json()
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Then each wrote exactly one line: its operation's, with its code, and no traceback
    new = [e for e in log_lines(server)[before:] if e["logger"] != "uvicorn.access"]
    assert [(e["operation"], e["error_codes"]) for e in new] == [
        ("Verify", ["FORBIDDEN"]), ("LogOut", ["UNAUTHENTICATED"]), ("Page", ["BAD_USER_INPUT"])], new
    assert all("exception" not in e for e in new)
    assert "Traceback" not in server.stderr()
    assert token not in server.stderr()


def test_uvicorn_lines_are_json_in_production(server: ServerProcess):
    entries = log_lines(server)
    started = [e for e in entries if e["logger"].startswith("uvicorn") and "Application startup complete" in e["message"]]
    assert started and started[0]["level"] == "info"
    assert any(e["logger"] == "uvicorn.access" for e in entries)


async def test_the_account_pseudonym_in_logs_is_keyed(gql, caplog: pytest.LogCaptureFixture):
    """Before the fix the pseudonym was sha256("parvis-account:<id>")[:12]: hashing every id
    up to 100,000 named the account behind any log line."""
    alice = await make_person("alice")
    caplog.set_level(logging.INFO, logger="parvis.operations")
    logger = logging.getLogger("parvis")
    logger.addHandler(caplog.handler)
    try:
        await gql("query Me { viewer { id } }", token=alice.token)
    finally:
        logger.removeHandler(caplog.handler)
    logged = [r.fields["account"] for r in caplog.records if r.name == "parvis.operations"]  # type: ignore[attr-defined]
    assert logged and logged[-1] is not None
    # Hashing alice's very id, as an attacker trying every id would, does not give it
    unkeyed = hashlib.sha256(f"parvis-account:{alice.account.id}".encode()).hexdigest()
    assert not unkeyed.startswith(logged[-1])
    # A deployment's key makes the pseudonym stable across its workers and restarts
    assert account_hash(alice.account.id, "k" * 32) == account_hash(alice.account.id, "k" * 32)
    assert account_hash(alice.account.id, "k" * 32) != account_hash(alice.account.id, "j" * 32)


def test_a_long_operation_name_is_not_logged(server: ServerProcess):
    """Before the fix the operation's name went to its log line whatever its length: here
    10,000 characters (a name must be the document's, so it is a GraphQL name)."""
    name = "Q" + "x" * 10_000
    assert post(server, {"query": f"query {name} {{ viewer {{ id }} }}", "operationName": name}).status_code == 200
    lines = server.stderr().splitlines()
    assert all(len(line) < 5_000 for line in lines), max(len(line) for line in lines)
