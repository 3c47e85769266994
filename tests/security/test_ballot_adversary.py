"""The secret ballot against the operator (docs/adr/0009).

The adversary holds the database (live and dead row versions, their xmin, the rows' order),
the logs and the public results, and plays each attack that worked before: matching the
participations, in the order the database keeps them, with the public tally after every
vote; reading the transaction id on every version of the counters with pageinspect. With
batches of K ballots it learns only batch tallies; with K = 1 (the control) the very same
attack names every voter, which shows the attack works. And a process killed mid-vote or
mid-fold loses no ballot and counts none twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise import connections

from access.context import Context
from access.sealing import SEALED_BYTES, BallotUnreadable, keys_for, open_ballot
from models.accounts import Role
from models.polls import Poll as PollRow
from models.polls import PollParticipation, SealedBallot
from models.territories import Territory
from resolvers.polls import do_close_due_polls
from schema.relay import encode_id
from tests.factories import Persona, make_person, make_territory
from tests.polls.stories import close, created, option_ids, pk_of, read, vote, voted

K = 5
ROOT = Path(__file__).resolve().parents[2]

Tally = tuple[int, int, tuple[int, ...]]  # (totalVotes, countedVotes, votes per option)


def postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def electorate(batch: int, voters: int) -> tuple[Territory, Persona, list[Persona]]:
    territory = await make_territory(name="Nîmes Métropole", ballot_batch=batch)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    return territory, odile, [await make_person(f"voter{n}", territory) for n in range(voters)]


async def public_tally(gql: Any, poll_id: str) -> Tally:
    """What anyone reads (and what the live stream sends): the poll's public results."""
    results = (await read(gql, None, poll_id))["results"]
    return results["totalVotes"], results["countedVotes"], tuple(o["votes"] for o in results["options"])


def attribute(order: list[int], snapshots: list[Tally]) -> dict[int, int]:
    """The adversary: the n-th participation row (in the database's order) against the n-th
    step of the public results; a step that moved the counters by exactly one ballot names
    that voter's option."""
    guesses: dict[int, int] = {}
    for member, before, after in zip(order, snapshots, snapshots[1:], strict=False):
        moved = [b - a for a, b in zip(before[2], after[2], strict=True)]
        if sum(moved) == 1:
            guesses[member] = moved.index(1)
    return guesses


async def cast_all(gql: Any, poll: dict[str, Any], voters: list[Persona], seed: int) -> tuple[dict[int, int], list[Tally]]:
    """Every voter votes for a random option; the public tally before and after each ballot."""
    rng = random.Random(seed)
    ids = option_ids(poll)
    choices: dict[int, int] = {}
    snapshots = [await public_tally(gql, poll["id"])]
    for voter in voters:
        choices[voter.member.id] = rng.randrange(len(ids))
        await voted(gql, voter.token, poll["id"], ids[choices[voter.member.id]])
        snapshots.append(await public_tally(gql, poll["id"]))
    return choices, snapshots


@pytest.mark.parametrize("batch", [1, K])
async def test_row_order_and_the_public_results_name_no_voter(gql, batch):
    # Given a poll of a territory counting by batches of `batch`, and 23 voters
    territory, odile, voters = await electorate(batch, 23)
    poll = await created(gql, odile.token, encode_id("Territory", territory.id))

    # When each votes, the public results read after every ballot (as a live watcher sees them)
    choices, snapshots = await cast_all(gql, poll, voters, seed=batch)

    # And the adversary matches the participations, in the database's own order, with them
    pk = pk_of(poll["id"], "Poll")
    order: list[Any] = await PollParticipation.filter(poll_id=pk).order_by("id").values_list("member_id", flat=True)
    guesses = attribute(list(order), snapshots)
    await close(gql, odile.token, poll["id"])
    final = await public_tally(gql, poll["id"])

    if batch == 1:
        # Then (control) with ballots counted one by one, the attack names every voter
        assert guesses == choices
    else:
        # Then with batches it names nobody: the counters moved only by batches of K or more,
        # the last one (at close) included, while totalVotes moved with every ballot
        assert guesses == {}
        seen = [*snapshots, final]
        moves = [b[1] - a[1] for a, b in zip(seen, seen[1:], strict=False)]
        assert [m for m in moves if m] and all(m >= K for m in moves if m), moves
        assert [s[0] for s in snapshots] == list(range(24))
    # And the final results are exactly the ballots cast: none lost, none counted twice
    counted = Counter(choices.values())
    assert final == (23, 23, tuple(counted[i] for i in range(3)))


async def _pageinspect() -> Any:
    db = connections.get("default")
    available = await db.execute_query_dict("SELECT 1 FROM pg_available_extensions WHERE name = 'pageinspect'")
    if not available:
        pytest.skip("pageinspect is not installed on this PostgreSQL server")
    await db.execute_script("CREATE EXTENSION IF NOT EXISTS pageinspect")
    return db


async def every_version(db: Any, table: str, *columns: str) -> list[dict[str, Any]]:
    """Every row version still on the table's pages, live or dead (until VACUUM), with the
    transaction that wrote it (t_xmin) and the named int/bytea columns, decoded from the page."""
    attnums = {
        row["attname"]: row["attnum"]
        for row in await db.execute_query_dict(
            f"SELECT attname, attnum FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0"
        )
    }
    rows = await db.execute_query_dict(
        f"SELECT h.t_xmin::text AS xmin, tuple_data_split('{table}'::regclass, h.t_data, h.t_infomask, "
        "h.t_infomask2, h.t_bits) AS attrs "
        f"FROM generate_series(0, (pg_relation_size('{table}') / current_setting('block_size')::int)::int - 1) blk, "
        f"LATERAL heap_page_items(get_raw_page('{table}', blk)) h WHERE h.lp_flags = 1 AND h.t_data IS NOT NULL"
    )
    versions = []
    for row in rows:
        version: dict[str, Any] = {"xmin": int(row["xmin"])}
        for column in columns:
            raw = row["attrs"][attnums[column] - 1]
            version[column] = _varlena(raw) if column == "sealed" else int.from_bytes(raw, "little", signed=True)
        versions.append(version)
    return versions


def _varlena(raw: bytes) -> bytes:
    """A bytea as stored on the page, without its length header (1 byte when short)."""
    return raw[1:] if raw[0] & 1 else raw[4:]


async def test_no_row_version_of_the_tally_carries_a_voters_transaction(gql, settings, database_url):
    """Before this design every ballot rewrote the option rows in the voter's own transaction:
    each dead version of poll_option carried the voter's xmin (the participation row's) and the
    tally before and after that one ballot. This test reads those versions from the pages."""
    if not postgres():
        pytest.skip("row versions and xmin are PostgreSQL's (SQLite keeps no dead versions to read)")
    db = await _pageinspect()
    # Given a poll counting by batches of 5, 17 ballots cast then the poll closed, no VACUUM,
    # and an old snapshot held open meanwhile (a long transaction, a replica's feedback), so
    # page pruning cannot drop a dead version before the adversary reads it
    territory, odile, voters = await electorate(K, 17)
    poll = await created(gql, odile.token, encode_id("Territory", territory.id))
    holder = await asyncpg.connect(urlunsplit(urlsplit(database_url)._replace(scheme="postgresql", query="")))
    try:
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await holder.fetchval("SELECT count(*) FROM poll")
        choices, _ = await cast_all(gql, poll, voters, seed=17)
        await close(gql, odile.token, poll["id"])
    finally:
        await holder.close()
    pk = pk_of(poll["id"], "Poll")

    # When the adversary reads every version of every row from the pages
    voter_xids = {v["xmin"] for v in await every_version(db, "poll_participation", "poll_id") if v["poll_id"] == pk}
    options = [v for v in await every_version(db, "poll_option", "poll_id", "votes") if v["poll_id"] == pk]
    polls = [v for v in await every_version(db, "poll", "id", "total_votes", "counted_votes") if v["id"] == pk]
    sealed = [v for v in await every_version(db, "poll_sealed_ballot", "poll_id", "sealed") if v["poll_id"] == pk]

    # Then the instrument sees the voters' transactions where they wrote: 17 participations,
    # 17 sealed ballots (dead now: folded), and the poll row's total moving with each ballot
    assert len(voter_xids) == 17
    assert {v["xmin"] for v in sealed} == voter_xids
    assert {v["xmin"] for v in polls} >= voter_xids
    # But no version of any option counter was written by a voter's transaction: only the
    # creation and the folds (at 10 ballots, at 15, and the close), each rewriting all options
    assert not {v["xmin"] for v in options} & voter_xids
    by_fold: dict[int, int] = Counter()
    for version in options:
        by_fold[version["xmin"]] += version["votes"]
    sums = [by_fold[xid] for xid in sorted(by_fold)]
    assert sums == [0, 5, 10, 17], sums
    assert len(options) == 3 * len(sums)
    # And every counted_votes the poll row ever held moved by a batch of K or more
    counted = sorted({v["counted_votes"] for v in polls})
    assert counted == [0, 5, 10, 17]
    for version in polls:
        if version["xmin"] in voter_xids:  # a voter's version moves the total, never counted
            assert version["counted_votes"] in (0, 5, 10)
    # And the sealed ballots, dead or alive, are ciphertexts of one length, all different,
    # which another secret cannot open (the one of this deployment can: see the ADR)
    assert {len(bytes(v["sealed"])) for v in sealed} == {SEALED_BYTES}
    assert len({bytes(v["sealed"]) for v in sealed}) == 17
    with pytest.raises(BallotUnreadable):
        open_ballot(keys_for("x" * 48), pk, bytes(sealed[0]["sealed"]))
    assert Counter(open_ballot(keys_for(settings.secret), pk, bytes(v["sealed"]))[0] for v in sealed) == Counter(
        choices.values()
    )


async def state(pk: int) -> tuple[Any, ...]:
    row = await PollRow.get(id=pk)
    votes = tuple(await connections.get("default").execute_query_dict(
        f"SELECT votes FROM poll_option WHERE poll_id = {pk} ORDER BY position"
    ))
    return (
        row.total_votes,
        row.counted_votes,
        votes,
        await PollParticipation.filter(poll_id=pk).count(),
        await SealedBallot.filter(poll_id=pk).count(),
    )


async def killed(database_url: str, secret: str, *args: str) -> None:
    """Run tests/security/killed_ballot.py and SIGKILL it once its transaction did its work."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.security.killed_ballot", *args[:1], database_url, *args[1:],
        cwd=ROOT, env={**os.environ, "PARVIS_SECRET": secret}, stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        assert line.strip() == b"READY", line
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()


@pytest.mark.parametrize("moment", ["vote", "fold"])
async def test_a_process_killed_mid_vote_or_mid_fold_loses_no_ballot(gql, settings, database_url, moment):
    # Given 7 ballots cast and sealed in a poll counting by batches of 5, and zoe, who has not voted
    territory, odile, voters = await electorate(K, 8)
    zoe, voters = voters[-1], voters[:-1]
    poll = await created(gql, odile.token, encode_id("Territory", territory.id))
    choices, _ = await cast_all(gql, poll, voters, seed=7)
    pk = pk_of(poll["id"], "Poll")
    before = await state(pk)
    assert before[1] == 0 and before[4] == 7

    # When a process is killed (SIGKILL) after zoe's participation and sealed ballot were
    # written, or after a fold deleted and counted the sealed ballots, before its commit
    if moment == "vote":
        await killed(database_url, settings.secret, "vote", str(pk), str(zoe.member.id), "1")
    else:
        await killed(database_url, settings.secret, "fold", str(pk))

    # Then nothing of its work remains: no participation, no ballot, no count
    assert await state(pk) == before
    # And zoe can still vote (her killed ballot is not half there), and the close counts
    # every ballot cast exactly once
    await voted(gql, zoe.token, poll["id"], option_ids(poll)[1])
    choices[zoe.member.id] = 1
    await close(gql, odile.token, poll["id"])
    counted = Counter(choices.values())
    assert await public_tally(gql, poll["id"]) == (8, 8, tuple(counted[i] for i in range(3)))
    assert (await state(pk))[3:] == (8, 0)


async def test_a_poll_closed_by_the_clock_is_final_once_its_tail_is_counted(gql, app_broker, settings):
    """Without the `final` rule, results read between closesAt and the closer's run would
    be final while 3 sealed ballots were still missing from them."""
    # Given 3 ballots sealed in a poll counting by batches of 5, whose closing time just passed
    territory, odile, voters = await electorate(K, 3)
    poll = await created(gql, odile.token, encode_id("Territory", territory.id))
    choices, _ = await cast_all(gql, poll, voters, seed=3)
    pk = pk_of(poll["id"], "Poll")
    await PollRow.filter(id=pk).update(closes_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))

    # Then, before the closer runs, the poll is closed but its results are not final
    seen = await read(gql, None, poll["id"])
    assert seen["status"] == "CLOSED"
    assert (seen["results"]["final"], seen["results"]["countedVotes"], seen["results"]["totalVotes"]) == (False, 0, 3)

    # When the server's closer runs, the tail is counted and the results are final
    await do_close_due_polls(Context(request=None, response=None, broker=app_broker, settings=settings))
    seen = await read(gql, None, poll["id"])
    counted = Counter(choices.values())
    assert seen["results"]["final"] is True
    assert await public_tally(gql, poll["id"]) == (3, 3, tuple(counted[i] for i in range(3)))


async def test_ballots_racing_folds_and_the_close_are_each_counted_once(gql):
    """Concurrency is proven on PostgreSQL (SQLite serializes): forty voters at once in a
    single- and a multiple-choice poll, folds racing each other and the votes, and a close
    racing the last ballots of a third poll."""
    territory, odile, voters = await electorate(K, 40)
    gid = encode_id("Territory", territory.id)
    single = await created(gql, odile.token, gid)
    multiple = await created(gql, odile.token, gid, multipleChoice=True, question="Which days?")
    racing = await created(gql, odile.token, gid, question="Which route?")
    ids, multi_ids, race_ids = option_ids(single), option_ids(multiple), option_ids(racing)

    # When they all vote in the three polls at once, odile closing the third half-way
    ballots = [voted(gql, p.token, single["id"], ids[i % 3]) for i, p in enumerate(voters)]
    ballots += [voted(gql, p.token, multiple["id"], *multi_ids[: 1 + i % 3]) for i, p in enumerate(voters)]
    race = [vote(gql, p.token, racing["id"], race_ids[i % 3]) for i, p in enumerate(voters)]
    results = await asyncio.gather(*ballots, *race[:20], close(gql, odile.token, racing["id"]), *race[20:])
    await close(gql, odile.token, single["id"])
    await close(gql, odile.token, multiple["id"])

    # Then every ballot is counted once, and nothing stays sealed
    expected = Counter(i % 3 for i in range(40))
    assert await public_tally(gql, single["id"]) == (40, 40, tuple(expected[k] for k in range(3)))
    expected_multi = Counter(k for i in range(40) for k in range(1 + i % 3))
    assert await public_tally(gql, multiple["id"]) == (40, 40, tuple(expected_multi[k] for k in range(3)))
    raced = [r for r in results[80:] if "castVote" in r["data"]]
    counted = [i for i, r in enumerate(raced) if not r["data"]["castVote"]["userErrors"]]
    assert {e["code"] for r in raced for e in r["data"]["castVote"]["userErrors"]} <= {"POLL_CLOSED"}
    race_expected = Counter(i % 3 for i in counted)
    final = await public_tally(gql, racing["id"])
    assert final == (len(counted), len(counted), tuple(race_expected[k] for k in range(3)))
    for poll in (single, multiple, racing):
        assert (await state(pk_of(poll["id"], "Poll")))[4] == 0
