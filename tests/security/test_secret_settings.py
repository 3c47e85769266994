"""The deployment's secret (docs/adr/0009): where it comes from, what it keys."""

from __future__ import annotations

import argparse
import hashlib
import stat
from pathlib import Path
from typing import Any

import pytest

from access.sealing import BallotUnreadable, keys_for, open_ballot, seal_ballot
from app.cli import cmd_serve
from app.observability import account_hash
from app.settings import ConfigError, Settings


def test_a_short_secret_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="PARVIS_SECRET must be at least 32 characters"):
        Settings.from_env({"PARVIS_SECRET": "too short"})


def test_without_parvis_secret_one_is_generated_once_in_a_private_file(tmp_path: Path):
    path = tmp_path / "secret"
    first = Settings.from_env({"PARVIS_SECRET_FILE": str(path)})
    assert len(first.secret) >= 32 and not first.secret_from_env
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first.secret
    # Every process reading the same file shares it (a ballot sealed by one is counted by another)
    assert Settings.from_env({"PARVIS_SECRET_FILE": str(path)}).secret == first.secret
    assert Settings.from_env({"PARVIS_SECRET": "s" * 40}).secret == "s" * 40


def test_production_serves_only_with_parvis_secret(tmp_path: Path):
    settings = Settings.from_env({"PARVIS_ENV": "production", "PARVIS_SECRET_FILE": str(tmp_path / "s")})
    root: Any = None
    with pytest.raises(ConfigError, match="PARVIS_SECRET must be set in production"):
        cmd_serve(argparse.Namespace(host=None, port=None, workers=None), settings, root)


def test_log_pseudonyms_are_keyed_and_not_a_hash_of_the_id():
    """The old pseudonym, sha256("parvis-account:" + id)[:12], was reversed by hashing every id."""
    secret, other = "a" * 40, "b" * 40
    pseudonym = account_hash(4242, secret)
    assert pseudonym == account_hash(4242, secret)  # stable: one account is followed across lines
    assert pseudonym != account_hash(4242, other)
    # Trying every id without the secret finds nothing
    tried = {hashlib.sha256(f"parvis-account:{n}".encode()).hexdigest()[:12]: n for n in range(10_000)}
    assert pseudonym not in tried and pseudonym[:12] not in tried


def test_a_sealed_ballot_says_nothing_without_its_secret_and_its_poll():
    keys = keys_for("k" * 40)
    one, many = seal_ballot(keys, 7, [1]), seal_ballot(keys, 7, [0, 2, 19])
    assert len(one) == len(many)  # how many options were chosen does not show
    assert seal_ballot(keys, 7, [1]) != one  # nor do two equal choices look equal
    assert open_ballot(keys, 7, one) == [1] and open_ballot(keys, 7, many) == [0, 2, 19]
    with pytest.raises(BallotUnreadable):
        open_ballot(keys, 8, one)  # moved to another poll
    with pytest.raises(BallotUnreadable):
        open_ballot(keys_for("o" * 40), 7, one)
