"""The secret ballot, beyond the API: no table and no single log line links a member to an
option, and no counter is ever read, modified in Python and written back."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tortoise import connections

from access.tokens import hash_token
from models.accounts import AccessToken, Account, Member, Role
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from schema.relay import encode_id
from tests.factories import _PASSWORD_HASH, Persona, make_territory
from tests.ideas.stories import PROPOSE, SUPPORT, WITHDRAW
from tests.polls.stories import CLOSE, DAY, VOTE, now


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        """Each record as it would be written: the message, its arguments, any exception."""
        out = []
        for record in self.records:
            text = f"{record.name} {record.getMessage()}"
            if record.exc_info:
                text += " " + logging.Formatter().formatException(record.exc_info)
            out.append(text)
        return out


@contextmanager
def every_log_line() -> Iterator[Capture]:
    """Everything logged anywhere, at DEBUG (SQL statements of tortoise.db_client included)."""
    capture = Capture()
    root = logging.getLogger()
    touched = [root, logging.getLogger("tortoise"), logging.getLogger("tortoise.db_client")]
    levels = [logger.level for logger in touched]
    for logger in touched:
        logger.setLevel(logging.DEBUG)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for logger, level in zip(touched, levels, strict=True):
            logger.setLevel(level)


def mentions(line: str, number: int) -> bool:
    return re.search(rf"(?<![\w.]){number}(?![\w.])", line) is not None


# Ids far above anything the sequences hand out in a test session, so that a number in a log
# line can only be the one we planted.
def distinctive_id() -> int:
    return random.randint(1_500_000_000, 2_100_000_000)


async def voter_with_distinctive_ids(territory_id: int) -> tuple[Persona, str]:
    account = await Account.create(
        id=distinctive_id(),
        email=f"secret.{uuid.uuid4().hex[:8]}@example.org",
        display_name="Sasha",
        password_hash=_PASSWORD_HASH,
    )
    token = secrets.token_urlsafe(24)
    await AccessToken.create(
        id=distinctive_id(),
        account=account,
        token_hash=hash_token(token),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    member = await Member.create(id=distinctive_id(), account=account, territory_id=territory_id)
    return Persona(account=account, member=member, token=token), hash_token(token)


async def test_no_log_line_links_a_voter_to_their_choice(gql):
    # Given a poll whose options have distinctive ids and labels, and sasha, whose account,
    # membership and token have distinctive ids too
    territory = await make_territory(name="Nîmes Métropole")
    sasha, token_hash = await voter_with_distinctive_ids(territory.id)
    creator = await Member.create(
        account=await Account.create(email=f"o.{uuid.uuid4().hex[:8]}@example.org", display_name="Odile"),
        territory=territory,
        role=Role.OFFICIAL,
        title="Mayor",
    )
    poll = await PollRow.create(
        territory_id=territory.id,
        created_by_id=creator.id,
        question="Which colour for the new tram?",
        opens_at=now() - DAY,
        closes_at=now() + DAY,
    )
    labels = [f"Colour-{uuid.uuid4().hex[:10]}" for _ in range(3)]
    options = [
        await PollOptionRow.create(id=distinctive_id(), poll_id=poll.id, position=i, label=label)
        for i, label in enumerate(labels)
    ]
    chosen = options[1]

    # When sasha votes, with every logger at DEBUG
    with every_log_line() as capture:
        result = await gql(
            VOTE,
            {"input": {"pollId": encode_id("Poll", poll.id), "optionIds": [encode_id("PollOption", chosen.id)]}},
            token=sasha.token,
        )
    assert result["data"]["castVote"]["userErrors"] == [], result
    lines = capture.lines()

    # Then the SQL log did record who took part, and nowhere what she chose: the ballot is
    # sealed, and with the territory's default batch (K = 5) no count ran in her request
    assert any(mentions(line, sasha.member.id) for line in lines), lines
    assert not any(mentions(line, chosen.id) or chosen.label in line for line in lines), lines

    # ...but no single line names both sasha (member, account, token, email) and the option
    # she chose (its id, global id or label)
    def names_sasha(line: str) -> bool:
        return (
            mentions(line, sasha.member.id)
            or mentions(line, sasha.account.id)
            or sasha.token in line
            or token_hash in line
            or sasha.email in line
        )

    def names_an_option(line: str) -> bool:
        return any(
            mentions(line, o.id) or encode_id("PollOption", o.id) in line or o.label in line for o in options
        )

    linking = [line for line in lines if names_sasha(line) and names_an_option(line)]
    assert linking == []

    # What the log does reveal, as a sequence of lines of one request, is documented in
    # test_the_sql_debug_log_is_off_unless_asked: it must not be switched on in production.


def test_the_sql_debug_log_is_off_unless_asked(settings):
    """What we found before sealed ballots: at DEBUG tortoise.db_client wrote one ballot as
    neighbouring lines of one request (the participation INSERT, then the option UPDATE naming
    the chosen option), which re-linked the voter to the choice. A voter's request now logs a
    sealed ballot, and the count that may follow it a batch's sums (docs/adr/0009); the debug
    log still shows who voted, statement by statement, and lines near in time. So it must
    never be on where ballots are cast: the app configures no logging of its own, and what it
    inherits leaves tortoise.db_client above DEBUG."""
    from server import build_app

    build_app(settings, manage_database=False)
    assert logging.getLogger("tortoise.db_client").getEffectiveLevel() > logging.DEBUG
    assert logging.getLogger("tortoise").getEffectiveLevel() > logging.DEBUG


# --- the schema ----------------------------------------------------------------------------


async def tables() -> dict[str, set[str]]:
    db = connections.get("default")
    if db.capabilities.dialect == "sqlite":
        names = [
            row["name"]
            for row in await db.execute_query_dict(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: {row["name"] for row in await db.execute_query_dict(f'PRAGMA table_info("{name}")')}
            for name in names
        }
    rows = await db.execute_query_dict(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["table_name"], set()).add(row["column_name"])
    return found


async def foreign_keys() -> set[tuple[str, str, str]]:
    """(table, column, referenced table) for every foreign key in the database."""
    db = connections.get("default")
    if db.capabilities.dialect == "sqlite":
        found = set()
        for table in await tables():
            for row in await db.execute_query_dict(f'PRAGMA foreign_key_list("{table}")'):
                found.add((table, row["from"], row["table"]))
        return found
    rows = await db.execute_query_dict(
        """
        SELECT kcu.table_name AS t, kcu.column_name AS c, ccu.table_name AS r
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema
        JOIN information_schema.constraint_column_usage ccu
          ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()
        """
    )
    return {(row["t"], row["c"], row["r"]) for row in rows}


PEOPLE = {"account", "member", "access_token"}


async def test_no_table_holds_both_a_person_and_a_poll_option():
    # Read from the database itself, not from the models
    columns = await tables()
    fks = await foreign_keys()
    assert "poll_option" in columns and "poll_participation" in columns

    def person_columns(table: str) -> set[str]:
        named = {c for c in columns[table] if re.search(r"(^|_)(member|account|voter|person|user)(_|$)", c)}
        referencing = {c for t, c, r in fks if t == table and r in PEOPLE}
        return named | referencing

    def option_columns(table: str) -> set[str]:
        named = {c for c in columns[table] if re.search(r"(option|choice)_ids?$|ballot", c)}
        referencing = {c for t, c, r in fks if t == table and r == "poll_option"}
        return named | referencing

    linking = {
        table: (person_columns(table), option_columns(table))
        for table in columns
        if table not in PEOPLE
        and person_columns(table)
        and (option_columns(table) or table == "poll_option")
    }
    assert linking == {}
    # Nothing points at an option at all, and the option table points at no person
    assert {(t, c) for t, c, r in fks if r == "poll_option"} == set()
    assert {r for t, c, r in fks if t == "poll_option"} == {"poll"}
    # Nor is there a ballot table of any kind, but the sealed ballots not yet counted: a
    # random id, the poll, and the choice as ciphertext (docs/adr/0009)
    assert [t for t in columns if "ballot" in t or "vote" in t] == ["poll_sealed_ballot"]
    assert columns["poll_sealed_ballot"] == {"id", "poll_id", "sealed"}


# --- counters ------------------------------------------------------------------------------

COUNTERS = ("total_votes", "votes", "support_count")


def counter_writes(lines: list[str]) -> list[str]:
    """The SQL statements of the log that write a counter column."""
    return [
        line
        for line in lines
        if re.search(r"\b(UPDATE|INSERT)\b", line) and any(re.search(rf'"{c}"\s*=', line) for c in COUNTERS)
    ]


async def test_counters_move_only_by_increments_computed_by_the_database(gql):
    # Given a poll and an idea
    territory = await make_territory(name="Sète Agglopôle")
    from tests.factories import make_person

    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    territory_gid = encode_id("Territory", territory.id)
    from tests.polls.stories import created, option_ids

    poll = await created(gql, odile.token, territory_gid)
    idea = (
        await gql(
            PROPOSE, {"input": {"territoryId": territory_gid, "title": "More benches", "body": "Please."}},
            token=alice.token,
        )
    )["data"]["proposeIdea"]["idea"]["id"]

    # When alice votes, supports and withdraws, and the poll closes, every SQL statement logged
    with every_log_line() as capture:
        voted = await gql(VOTE, {"input": {"pollId": poll["id"], "optionIds": [option_ids(poll)[0]]}}, token=alice.token)
        supported = await gql(SUPPORT, {"input": {"ideaId": idea}}, token=alice.token)
        withdrawn = await gql(WITHDRAW, {"input": {"ideaId": idea}}, token=alice.token)
        closed = await gql(CLOSE, {"input": {"pollId": poll["id"]}}, token=odile.token)
    for result, name in ((voted, "castVote"), (supported, "supportIdea"), (withdrawn, "withdrawSupport"), (closed, "closePoll")):
        assert result["data"][name]["userErrors"] == [], result
    writes = counter_writes(capture.lines())

    # Then each counter was written, and always as itself plus or minus something: the
    # database computes the new value under its row lock, never Python from a read
    written = {c for c in COUNTERS for line in writes if re.search(rf'"{c}"\s*=', line)}
    assert written == set(COUNTERS), writes
    for line in writes:
        for counter in COUNTERS:
            for assigned in re.findall(rf'"{counter}"\s*=\s*([^,]+?)(?:,|\s+WHERE|\s+ELSE|$)', line):
                if "CASE" in assigned:
                    continue
                assert re.search(rf'"{counter}"\s*[+-]', assigned), line
        assert not re.search(r'"(total_votes|votes|support_count)"\s*=\s*\$?\d', line) or "+" in line, line
