"""Polls close by the clock: a running server notices closesAt passing with nobody acting
and tells the voters (POLL_CLOSED), as closePoll would."""

from __future__ import annotations

import datetime as dt
import time

from tests.e2e.server import Client, ServerProcess, new_database_url, run_cli
from tests.e2e.test_story import log_in, sign_up


def test_a_running_server_closes_a_poll_whose_time_is_up() -> None:
    db = new_database_url()
    assert run_cli(db, "migrate").returncode == 0
    assert run_cli(db, "create-territory", "--slug", "limoux", "--name", "Limoux").returncode == 0
    assert run_cli(db, "create-admin", "--territory", "limoux", "--email", "adam@limoux.example",
                   "--password", "a long passphrase", "--display-name", "Adam").returncode == 0

    with ServerProcess(db, PARVIS_POLL_CLOSER_SECONDS="0.2") as server:
        adam = log_in(server.url, "adam@limoux.example")
        alice = sign_up(server.url, "alice@limoux.example", "Alice")
        territory = Client(server.url)('{ territory(slug: "limoux") { id } }')["territory"]["id"]
        alice("mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { id } } }", {"t": territory})
        closes_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        poll = adam(
            "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } userErrors { code } } }",
            {"i": {"territoryId": territory, "question": "Market on Sundays?", "options": ["Yes", "No"],
                   "closesAt": closes_at.isoformat()}},
        )["createPoll"]["poll"]
        alice("mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }",
              {"p": poll["id"], "o": [poll["options"][0]["id"]]})

        kinds: list[str] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "POLL_CLOSED" not in kinds:
            time.sleep(0.3)
            edges = alice("{ viewer { notifications { edges { node { kind } } } } }")["viewer"]["notifications"]["edges"]
            kinds = [e["node"]["kind"] for e in edges]
        assert kinds == ["POLL_CLOSED"]
        status = Client(server.url)("query($p: ID!) { node(id: $p) { ... on Poll { status results { final } } } }", {"p": poll["id"]})
        assert status["node"] == {"status": "CLOSED", "results": {"final": True}}
