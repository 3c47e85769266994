"""Attacking the reads shared across requests (sharing/batches.py): the signed-in requests of a
moment read their tokens in one statement, the ballots of a poll read it in one. Nobody gets
another's account or membership, a token revoked before a request arrives never serves it,
and each voter is checked as themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import access.tokens as tokens
import resolvers.ballot as ballot
from models.accounts import AccessToken
from models.polls import Poll as PollRow
from schema.relay import decode_id_of
from tests.factories import make_person, make_territory
from tests.polls.stories import created, option_ids, town, vote

VIEWER = "{ viewer { id email memberships { territory { slug } } } }"


def code_of(result: dict[str, Any]) -> str:
    assert not result.get("errors"), result
    errors = result["data"]["castVote"]["userErrors"]
    return errors[0]["code"] if errors else "COUNTED"


async def test_a_crowd_signed_in_at_once_each_gets_their_own_account_and_memberships(gql: Any) -> None:
    places = [await make_territory() for _ in range(4)]
    people = [await make_person(f"p{n}", places[n % 4]) for n in range(20)]
    before = (tokens._VIEWERS.statements, tokens._VIEWERS.keys)

    answers = await asyncio.gather(*(gql(VIEWER, token=p.token) for p in people))

    for person, answer in zip(people, answers, strict=True):
        viewer = answer["data"]["viewer"]
        assert viewer["email"] == person.account.email
        assert [m["territory"]["slug"] for m in viewer["memberships"]] == [places[people.index(person) % 4].slug]
    statements = tokens._VIEWERS.statements - before[0]
    keys = tokens._VIEWERS.keys - before[1]
    # They did share statements (else this test attacked nothing).
    assert keys == 20 and statements < keys, (statements, keys)


async def test_a_revoked_token_in_a_crowd_is_refused_and_the_others_served(gql: Any) -> None:
    t = await make_territory()
    people = [await make_person(f"q{n}", t) for n in range(8)]
    revoked = people[3]
    await AccessToken.filter(account_id=revoked.account.id).update(revoked_at=dt.datetime.now(dt.UTC))

    answers = await asyncio.gather(*(gql(VIEWER, token=p.token) for p in people))

    for person, answer in zip(people, answers, strict=True):
        if person is revoked:
            assert answer["data"] is None or answer["data"]["viewer"] is None
            assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        else:
            assert answer["data"]["viewer"]["email"] == person.account.email


async def test_a_request_arriving_after_a_revocation_is_not_served_by_an_earlier_read(
    gql: Any, monkeypatch: Any
) -> None:
    # A read of the token is in flight (done, not yet handed out) when the token is revoked;
    # a request with that token arriving then must be refused, not served the earlier read.
    t = await make_territory()
    eve = await make_person("eve", t)
    read_done, go = asyncio.Event(), asyncio.Event()
    original = tokens._read_viewers
    held = {"first": True}

    async def slow_read(hashes: list[str]) -> Any:
        rows = await original(hashes)
        if held["first"]:
            held["first"] = False
            read_done.set()
            await go.wait()
        return rows

    monkeypatch.setattr(tokens._VIEWERS, "_run", slow_read)
    first = asyncio.ensure_future(gql(VIEWER, token=eve.token))
    await asyncio.wait_for(read_done.wait(), 5)
    await AccessToken.filter(account_id=eve.account.id).update(revoked_at=dt.datetime.now(dt.UTC))
    second = asyncio.ensure_future(gql(VIEWER, token=eve.token))
    await asyncio.sleep(0.05)
    go.set()
    # The first arrived before the revocation: served. The second after: refused.
    assert (await first)["data"]["viewer"]["email"] == eve.account.email
    late = await second
    assert late["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_voters_of_one_moment_are_each_checked_as_themselves(gql: Any) -> None:
    t = await town()
    olga = await make_person("olga", await make_territory())  # another territory's member
    sam = await make_person("sam")  # nobody's
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    voters = [t.alice, olga, t.bob, sam, t.vera]
    before = (ballot._BOXES.statements, ballot._BOXES.callers)

    results = await asyncio.gather(*(vote(gql, p.token, poll["id"], green) for p in voters))

    assert [code_of(r) for r in results] == ["COUNTED", "NOT_A_MEMBER", "COUNTED", "NOT_A_MEMBER", "COUNTED"]
    callers = ballot._BOXES.callers - before[1]
    assert callers == 5 and ballot._BOXES.statements - before[0] < callers


async def test_a_hidden_poll_is_found_by_its_staff_only_when_they_vote_together(gql: Any) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    await PollRow.filter(id=decode_id_of(poll["id"], "Poll")).update(hidden=True)

    citizen, moderator = await asyncio.gather(
        vote(gql, t.alice.token, poll["id"], green), vote(gql, t.mona.token, poll["id"], green)
    )

    assert code_of(citizen) == "NOT_FOUND"
    assert code_of(moderator) != "NOT_FOUND"
