"""What an operator meets: a database the code is ahead of, and the demo in production."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.e2e.server import ROOT, ServerProcess, new_database_url, run_cli


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


MIGRATIONS = sorted(p.stem for p in (ROOT / "migrations").glob("0*.py"))


def migrate_back_to(url: str, name: str) -> None:
    """As if the code had gained the migrations after `name`: unapply them."""
    script = ("import asyncio, sys; from tortoise.migrations.api import migrate; "
              "from app.database import tortoise_config; "
              "asyncio.run(migrate(config=tortoise_config(sys.argv[1]), target=sys.argv[2]))")
    done = subprocess.run([sys.executable, "-c", script, url, f"models.{name}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not on_postgres(), reason="on SQLite, serve applies the migrations itself")
def test_serve_refuses_a_database_with_migrations_pending_and_readyz_says_so() -> None:
    # Given a PostgreSQL deployment migrated before the code gained its latest migration
    db = new_database_url()
    assert run_cli(db, "migrate").returncode == 0
    with ServerProcess(db) as server:
        # (a server already running when that happens: its readiness says why)
        migrate_back_to(db, MIGRATIONS[-2])
        name = MIGRATIONS[-1]
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["migrations"] == f"pending: models.{name}"

    # When the operator starts a server on it
    refused = run_cli(db, "serve")
    # Then it refuses in one line that names the command to run
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"parvis: migrations pending (models.{name}): "
                                      "run `python server.py migrate` first")

    # And once migrated, it serves and is ready
    assert run_cli(db, "migrate").returncode == 0
    with ServerProcess(db) as server:
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["migrations"] == "ok"


def test_the_demo_refuses_production_unless_forced() -> None:
    db = new_database_url()
    assert run_cli(db, "migrate").returncode == 0
    # When an operator runs seed-demo on a production deployment
    refused = run_cli(db, "seed-demo", env={"PARVIS_ENV": "production"})
    # Then it refuses in one line, and creates nothing
    assert refused.returncode == 2
    assert refused.stderr.startswith("parvis: seed-demo refuses to run in production")
    assert "Traceback" not in refused.stderr
    # Unless told it really is a demo deployment
    forced = run_cli(db, "seed-demo", "--force", env={"PARVIS_ENV": "production"})
    assert forced.returncode == 0, forced.stderr
    assert "demo territory carcassonne-agglo" in forced.stdout
