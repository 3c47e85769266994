"""The README's "first session with curl" runs as written against a real server on a fresh database."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, ServerProcess, new_database_url, run_cli


def walkthrough() -> str:
    readme = (Path(ROOT) / "README.md").read_text()
    section = readme.split("## A first session with curl", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the walkthrough is one sh block"
    return str(blocks[0])


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the walkthrough needs curl and jq")
def test_the_readme_walkthrough_runs_as_written() -> None:
    database_url = new_database_url()
    assert run_cli(database_url, "migrate").returncode == 0  # PostgreSQL needs it; SQLite migrates on serve anyway
    with ServerProcess(database_url) as server:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "DATABASE_URL": server.database_url, "API": f"{server.url}/graphql",
                 "PY": sys.executable},
        )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    # Every answer printed is free of errors and of userErrors.
    for answer in answers:
        assert "errors" not in answer, answer
        payloads = [v for v in (answer.get("data") or {}).values() if isinstance(v, dict)]
        assert all(p.get("userErrors", []) == [] for p in payloads), answer
    appointed, replied, voted, question = answers[-4:]
    assert appointed["data"]["appointOfficial"]["member"]["role"] == "OFFICIAL"
    assert replied["data"]["replyToQuestion"]["reply"]["id"]
    results = voted["data"]["castVote"]["poll"]
    assert results["viewerHasVoted"] is True
    assert question["data"]["node"]["status"] == "ANSWERED"
    assert question["data"]["node"]["reply"] == {
        "body": "Work starts in March.",
        "official": {"displayName": "Odile", "title": "Vice-présidente mobilités"},
    }
