"""Attacks on the reads shared across requests (sharing/batches.py), beyond
tests/security/test_batched_reads.py: crowds larger than one statement, malformed and unknown
tokens mixed with good ones, sessions of one account told apart, memberships left and polls
hidden or closed while a shared read is in flight, the email and verified-only rules of two
territories voting at once, double ballots in a crowd, a database error and cancelled clients
in the middle of a batch."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

import access.tokens as tokens
import resolvers.ballot as ballot
from models.accounts import AccessToken, Account, Member, Role
from models.polls import Poll as PollRow
from models.polls import PollParticipation
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.polls.stories import DAY, HOUR, VOTE, created, move_in_time, now, option_ids, pk_of, town, vote

VIEWER = "{ viewer { id email memberships { territory { slug } } } }"
WAIT = 60.0  # every crowd is bounded: a hang is a failure, not a stuck run


def code_of(result: dict[str, Any]) -> str:
    assert not result.get("errors"), result
    errors = result["data"]["castVote"]["userErrors"]
    return errors[0]["code"] if errors else "COUNTED"


def refused(answer: dict[str, Any]) -> bool:
    """An UNAUTHENTICATED answer with no viewer in it."""
    data = answer.get("data")
    return (data is None or data.get("viewer") is None) and answer["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


def served_as(answer: dict[str, Any], email: str) -> bool:
    return not answer.get("errors") and answer["data"]["viewer"]["email"] == email


class Held:
    """A batch's `run` whose first call reads, then waits at the door until `go` is set
    (optionally failing instead of answering): the next callers arrive while it is in flight."""

    def __init__(self, original: Any, fail: bool = False) -> None:
        self.original = original
        self.fail = fail
        self.read_done = asyncio.Event()
        self.go = asyncio.Event()
        self.first = True
        self.calls: list[list[Any]] = []

    async def __call__(self, keys: list[Any]) -> Any:
        self.calls.append(list(keys))
        if not self.first:
            return await self.original(keys)
        self.first = False
        rows = await self.original(keys)
        self.read_done.set()
        await self.go.wait()
        if self.fail:
            raise RuntimeError("the database went away mid-batch")
        return rows


async def test_a_crowd_of_unknown_tokens_larger_than_a_statement_hides_the_real_ones_from_nobody(
    http: httpx.AsyncClient,
) -> None:
    # Story: an attacker sprays 450 random tokens at once (more than MAX_KEYS per statement)
    # while five real people sign in. Every forged token is refused, every real one served as
    # its own account, nothing hangs and nothing 500s.
    t = await make_territory()
    people = [await make_person(f"real{n}", t) for n in range(5)]
    forged = [f"forged-{n:04d}-{'x' * (n % 7)}" for n in range(450)]
    tokens_in_crowd = forged[:200] + [p.token for p in people] + forged[200:]
    before = (tokens._VIEWERS.statements, tokens._VIEWERS.keys)

    async def ask(token: str) -> httpx.Response:
        return await http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})

    responses = await asyncio.wait_for(asyncio.gather(*(ask(tok) for tok in tokens_in_crowd)), WAIT)

    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    by_token = dict(zip(tokens_in_crowd, (r.json() for r in responses), strict=True))
    for person in people:
        assert served_as(by_token[person.token], person.email)
    assert all(refused(by_token[tok]) for tok in forged)
    assert tokens._VIEWERS.keys - before[1] == 455
    assert tokens._VIEWERS.statements - before[0] >= 3  # 455 keys need three statements at least


async def test_malformed_authorization_headers_in_a_crowd_are_each_refused_cleanly(http: httpx.AsyncClient) -> None:
    # Story: malformed headers (no token, another scheme, latin-1 bytes, a 64 KiB token, SQL
    # and JSON metacharacters that would break a json_each list if a token reached it raw)
    # arrive together with a good one. Each malformed one is a 200 UNAUTHENTICATED; the good
    # one is served; no 500, no hang.
    t = await make_territory()
    good = await make_person("good", t)
    headers: list[bytes] = [
        b"Bearer",
        b"Bearer    ",
        b"Basic dXNlcjpwYXNz",
        b"bearer \xe9\xff\xfe",
        b"Bearer " + b"A" * 65536,
        b"Bearer ' OR 1=1 --",
        b'Bearer "],["x',
        b"Bearer null",
        b"Bearer " + good.token.encode() + b"x",  # one character off a live token
        b"Bearer " + good.token.encode() + b" extra",
    ]

    async def ask(value: bytes) -> httpx.Response:
        return await http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": value})

    responses = await asyncio.wait_for(
        asyncio.gather(*(ask(h) for h in headers), ask(b"Bearer " + good.token.encode())), WAIT
    )

    assert [r.status_code for r in responses] == [200] * len(responses), [r.text[:200] for r in responses]
    *bad, ok = [r.json() for r in responses]
    assert all(refused(answer) for answer in bad), bad
    assert served_as(ok, good.email)


async def test_sessions_of_one_account_are_told_apart_and_dead_ones_refused_in_a_crowd(gql: Any) -> None:
    # Story: one account has three sessions (one revoked, one expired); another account is
    # erased; they ask at once with a live stranger. Only the live sessions are served, each
    # as their own account (the batch groups by token, not by account).
    t = await make_territory()
    lea = await make_person("lea", t)
    second, third = "lea-second-session-token", "lea-third-session-token"
    for token, revoked, expires in (
        (second, now(), now() + DAY),
        (third, None, now() - HOUR),
    ):
        await AccessToken.create(
            account=lea.account,
            token_hash=tokens.hash_token(token),
            revoked_at=revoked,
            expires_at=expires,
            last_used_at=now(),
        )
    gone = await make_person("gone", t)
    await Account.filter(id=gone.account.id).update(deleted_at=now())
    stranger = await make_person("stranger", t)

    live, revoked_answer, expired_answer, erased, other = await asyncio.wait_for(
        asyncio.gather(*(gql(VIEWER, token=tok) for tok in (lea.token, second, third, gone.token, stranger.token))),
        WAIT,
    )

    assert served_as(live, lea.email)
    assert refused(revoked_answer) and refused(expired_answer) and refused(erased)
    assert served_as(other, stranger.email)


async def test_a_membership_left_while_a_token_read_is_in_flight_never_serves_a_later_ballot(
    gql: Any, monkeypatch: Any
) -> None:
    # Story: a read of the tokens is in flight (its rows already read) when bob leaves the
    # territory. His ballot arriving after that must be refused as a non-member: it may not be
    # served the membership that statement read before he left.
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    held = Held(tokens._read_viewers)
    monkeypatch.setattr(tokens._VIEWERS, "_run", held)

    first = asyncio.ensure_future(gql(VIEWER, token=t.bob.token))  # bob's own token in flight
    await asyncio.wait_for(held.read_done.wait(), 5)
    await Member.filter(id=t.bob.member.id).update(left_at=now())  # type: ignore[union-attr]
    late = asyncio.ensure_future(vote(gql, t.bob.token, poll["id"], green))
    await asyncio.sleep(0.05)
    held.go.set()

    assert served_as(await asyncio.wait_for(first, WAIT), t.bob.email)
    assert code_of(await asyncio.wait_for(late, WAIT)) == "NOT_A_MEMBER"
    assert await PollParticipation.filter(poll_id=pk_of(poll["id"], "Poll")).count() == 0


async def ballots_around(gql: Any, monkeypatch: Any, t: Any, poll: dict[str, Any],
                         change: Callable[[], Awaitable[None]]) -> tuple[str, str, Held]:
    """Alice's ballot reads the poll; while that read is in flight (done, not yet handed out)
    `change` runs; then bob's ballot arrives. Their outcomes, and the held batch function."""
    green = option_ids(poll)[1]
    held = Held(ballot._read_boxes)
    monkeypatch.setattr(ballot._BOXES, "_run", held)
    first = asyncio.ensure_future(vote(gql, t.alice.token, poll["id"], green))
    await asyncio.wait_for(held.read_done.wait(), 5)
    await change()
    late = asyncio.ensure_future(vote(gql, t.bob.token, poll["id"], green))
    await asyncio.sleep(0.05)
    held.go.set()
    return code_of(await asyncio.wait_for(first, WAIT)), code_of(await asyncio.wait_for(late, WAIT)), held


async def test_a_poll_hidden_while_its_ballot_box_read_is_in_flight_is_not_found_by_later_citizens(
    gql: Any, monkeypatch: Any
) -> None:
    # Story: alice's castVote reads the poll (batched by poll id) and that read is in flight
    # when a moderator hides the poll. Bob's ballot arriving after the hiding must not be
    # answered by alice's read: NOT_FOUND for him (a citizen).
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)

    async def hide() -> None:
        await PollRow.filter(id=pk_of(poll["id"], "Poll")).update(hidden=True)

    first, late, held = await ballots_around(gql, monkeypatch, t, poll, hide)
    assert first == "COUNTED"  # arrived while it was visible
    assert late == "NOT_FOUND"
    assert len(held.calls) == 2  # bob's ballot had a statement of its own


async def test_a_poll_closed_while_its_ballot_box_read_is_in_flight_takes_no_later_ballot(
    gql: Any, monkeypatch: Any
) -> None:
    # Story: the poll closes (its window moved into the past) while alice's ballot-box read is
    # in flight. Bob, arriving after, is refused POLL_CLOSED; whatever alice gets, the stored
    # count matches the ballots answered COUNTED (none lost, none extra).
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)

    async def close_it() -> None:
        await move_in_time(poll["id"], opens_at=now() - 2 * DAY, closes_at=now() - HOUR)

    codes = list((await ballots_around(gql, monkeypatch, t, poll, close_it))[:2])
    assert codes[1] == "POLL_CLOSED"
    assert codes[0] in ("COUNTED", "POLL_CLOSED")
    stored = await PollRow.get(id=pk_of(poll["id"], "Poll"))
    assert stored.total_votes == codes.count("COUNTED")


async def test_two_territories_voting_at_once_each_get_their_own_email_and_verified_rules(gql: Any) -> None:
    # Story: territory A requires a confirmed email and its poll is for verified residents
    # only; territory B requires neither. Their voters, a stranger from B on A's poll, a poll
    # id that does not exist and an id of another kind all arrive in one crowd (the ballot
    # boxes of both polls in one statement). Each voter is checked against their own poll's
    # territory and their own account and membership.
    a = await make_territory(email_verification_required=True, ballot_batch=1)
    b = await make_territory(ballot_batch=1)
    official_a = await make_person("offa", a, role=Role.OFFICIAL)
    official_b = await make_person("offb", b, role=Role.OFFICIAL)
    for official in (official_a, official_b):
        await Account.filter(id=official.account.id).update(email_verified_at=now())
    poll_a = await created(gql, official_a.token, encode_id("Territory", a.id), verifiedOnly=True)
    poll_b = await created(gql, official_b.token, encode_id("Territory", b.id))
    a_ok = await make_person("aok", a, verified=True)  # verified resident, confirmed email
    a_no_email = await make_person("anoemail", a, verified=True)  # verified resident, email not confirmed
    a_unverified = await make_person("aunver", a)  # confirmed email, not a verified resident
    b_plain = await make_person("bplain", b)  # no confirmed email: B does not ask for one
    for person in (a_ok, a_unverified):
        await Account.filter(id=person.account.id).update(email_verified_at=now())
    missing = encode_id("Poll", 2**31 - 1)
    other_kind = encode_id("PollOption", pk_of(poll_a["id"], "Poll"))

    crowd = [
        (a_ok, poll_a, "COUNTED"),
        (b_plain, poll_a, "NOT_A_MEMBER"),
        (a_no_email, poll_a, "EMAIL_NOT_VERIFIED"),
        (a_ok, {"id": missing, "options": poll_a["options"]}, "NOT_FOUND"),
        (a_unverified, poll_a, "NOT_VERIFIED"),
        (b_plain, poll_b, "COUNTED"),
        (a_ok, {"id": other_kind, "options": poll_a["options"]}, "NOT_FOUND"),
        (a_no_email, poll_b, "NOT_A_MEMBER"),
    ]
    before = ballot._BOXES.callers
    results = await asyncio.wait_for(
        asyncio.gather(*(vote(gql, p.token, pl["id"], option_ids(pl)[0]) for p, pl, _ in crowd)), WAIT
    )

    assert [code_of(r) for r in results] == [want for _, _, want in crowd]
    assert ballot._BOXES.callers - before >= 6  # the two polls and the missing one went through the batch
    assert (await PollRow.get(id=pk_of(poll_a["id"], "Poll"))).total_votes == 1
    assert (await PollRow.get(id=pk_of(poll_b["id"], "Poll"))).total_votes == 1


async def test_a_hidden_poll_is_not_found_by_another_territorys_moderator_in_the_same_crowd(gql: Any) -> None:
    # Story: a hidden poll of town A; A's moderator and a moderator of territory B (who
    # moderates elsewhere, and is not A's member) vote at once. Only A's staff find it.
    t = await town()
    elsewhere = await make_territory()
    outsider_mod = await make_person("outmod", elsewhere, role=Role.MODERATOR)
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    await PollRow.filter(id=pk_of(poll["id"], "Poll")).update(hidden=True)

    results = await asyncio.wait_for(
        asyncio.gather(*(vote(gql, p.token, poll["id"], green) for p in (outsider_mod, t.mona, t.alice, t.adam))),
        WAIT,
    )

    assert [code_of(r) for r in results] == ["NOT_FOUND", "COUNTED", "NOT_FOUND", "COUNTED"]


async def test_the_same_ballot_sent_many_times_at_once_counts_once_per_voter(gql: Any) -> None:
    # Story: alice and bob each fire their ballot six times at once (a double-clicking client,
    # a replaying attacker) among vera's single ballot. Exactly one ballot counts per voter;
    # the others are ALREADY_VOTED; the stored total and participations are 3.
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    blue, green, _ = option_ids(poll)
    sends = [t.alice] * 6 + [t.bob] * 6 + [t.vera]
    order = [sends[i] for i in (0, 6, 1, 12, 7, 2, 8, 3, 9, 4, 10, 5, 11)]  # interleaved

    results = await asyncio.wait_for(
        asyncio.gather(*(vote(gql, p.token, poll["id"], green if p is t.bob else blue) for p in order)), WAIT
    )

    codes = [code_of(r) for r in results]
    for person in (t.alice, t.bob, t.vera):
        mine = [c for p, c in zip(order, codes, strict=True) if p is person]
        assert mine.count("COUNTED") == 1, (person.account.display_name, mine)
        assert set(mine) <= {"COUNTED", "ALREADY_VOTED"}, mine
    pk = pk_of(poll["id"], "Poll")
    assert (await PollRow.get(id=pk)).total_votes == 3
    assert await PollParticipation.filter(poll_id=pk).count() == 3


async def test_a_database_error_in_one_batch_reaches_only_its_callers(
    http: httpx.AsyncClient, monkeypatch: Any
) -> None:
    # Story: the token statement of a batch fails (the database went away) after the next
    # callers arrived. The failed batch's caller gets a clean JSON error (no hang, no
    # traceback); the callers waiting for the next statement are served normally.
    t = await make_territory()
    first_person, *later = [await make_person(f"e{n}", t) for n in range(4)]
    held = Held(tokens._read_viewers, fail=True)
    monkeypatch.setattr(tokens._VIEWERS, "_run", held)

    async def ask(token: str) -> httpx.Response:
        return await http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})

    first = asyncio.ensure_future(ask(first_person.token))
    await asyncio.wait_for(held.read_done.wait(), 5)
    waiting = [asyncio.ensure_future(ask(p.token)) for p in later]
    await asyncio.sleep(0.05)
    held.go.set()

    failed = await asyncio.wait_for(first, WAIT)
    # The app's answer to an unexpected exception: a JSON 500 with an error id, nothing leaked.
    assert failed.status_code == 500, failed.text
    assert failed.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "the database went away" not in failed.text and "Traceback" not in failed.text
    for person, response in zip(later, await asyncio.wait_for(asyncio.gather(*waiting), WAIT), strict=True):
        assert response.status_code == 200 and served_as(response.json(), person.email)
    assert held.calls[1:] == [[tokens.hash_token(p.token) for p in later]]


async def test_clients_cancelled_mid_batch_leave_the_rest_answered_and_the_batch_usable(
    gql: Any, monkeypatch: Any
) -> None:
    # Story: the client that started a token statement and one queued behind it both hang up
    # (their requests cancelled) while it is in flight. The other queued caller is answered,
    # the batch has no runner left behind, and the people who hung up can sign in again.
    t = await make_territory()
    starter, quitter, stayer = [await make_person(f"c{n}", t) for n in range(3)]
    held = Held(tokens._read_viewers)
    monkeypatch.setattr(tokens._VIEWERS, "_run", held)

    started = asyncio.ensure_future(gql(VIEWER, token=starter.token))
    await asyncio.wait_for(held.read_done.wait(), 5)
    quitting = asyncio.ensure_future(gql(VIEWER, token=quitter.token))
    staying = asyncio.ensure_future(gql(VIEWER, token=stayer.token))
    await asyncio.sleep(0.05)
    started.cancel()
    quitting.cancel()
    await asyncio.sleep(0)
    held.go.set()

    assert served_as(await asyncio.wait_for(staying, WAIT), stayer.email)
    for gone in (started, quitting):
        try:
            await gone
        except asyncio.CancelledError:
            pass
    await asyncio.sleep(0.05)
    queue = tokens._VIEWERS._queue
    assert queue is not None and queue.runner is None and not queue.waiting
    again = await asyncio.wait_for(
        asyncio.gather(gql(VIEWER, token=starter.token), gql(VIEWER, token=quitter.token)), WAIT
    )
    assert served_as(again[0], starter.email) and served_as(again[1], quitter.email)


async def test_a_cancelled_voter_mid_ballot_box_read_loses_no_other_ballot(gql: Any, monkeypatch: Any) -> None:
    # Story: alice's ballot starts the poll's read and she hangs up while it is in flight;
    # bob and vera, queued behind her, are counted; alice may then vote once, and the stored
    # total is exactly the ballots answered COUNTED.
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    held = Held(ballot._read_boxes)
    monkeypatch.setattr(ballot._BOXES, "_run", held)

    alice = asyncio.ensure_future(vote(gql, t.alice.token, poll["id"], green))
    await asyncio.wait_for(held.read_done.wait(), 5)
    others = [asyncio.ensure_future(vote(gql, p.token, poll["id"], green)) for p in (t.bob, t.vera)]
    await asyncio.sleep(0.05)
    alice.cancel()
    await asyncio.sleep(0)
    held.go.set()

    assert [code_of(r) for r in await asyncio.wait_for(asyncio.gather(*others), WAIT)] == ["COUNTED", "COUNTED"]
    try:
        await alice
    except asyncio.CancelledError:
        pass
    assert code_of(await asyncio.wait_for(vote(gql, t.alice.token, poll["id"], green), WAIT)) == "COUNTED"
    pk = pk_of(poll["id"], "Poll")
    assert (await PollRow.get(id=pk)).total_votes == 3
    assert await PollParticipation.filter(poll_id=pk).count() == 3


async def test_a_stale_session_asked_by_a_crowd_is_touched_and_a_revoked_one_is_not(gql: Any) -> None:
    # Story: a session last used an hour ago sends eight requests at once (the touches of the
    # moment share one UPDATE); a revoked session in the same crowd is refused and its last
    # use does not move (a refused token must not look alive).
    t = await make_territory()
    idle, dead = await make_person("idle", t), await make_person("dead", t)
    an_hour_ago = now() - HOUR
    await AccessToken.filter(account_id=idle.account.id).update(last_used_at=an_hour_ago)
    await AccessToken.filter(account_id=dead.account.id).update(last_used_at=an_hour_ago, revoked_at=now())

    answers = await asyncio.wait_for(
        asyncio.gather(*(gql(VIEWER, token=p.token) for p in [idle] * 8 + [dead] * 3)), WAIT
    )

    assert all(served_as(a, idle.email) for a in answers[:8])
    assert all(refused(a) for a in answers[8:])
    moved = await AccessToken.get(account_id=idle.account.id)
    still = await AccessToken.get(account_id=dead.account.id)
    assert moved.last_used_at is not None and moved.last_used_at > now() - dt.timedelta(minutes=1)
    assert still.last_used_at is not None and still.last_used_at < now() - dt.timedelta(minutes=30)


async def test_a_vote_document_with_a_missing_and_a_real_poll_in_two_requests_at_once_counts_the_real_one(
    gql: Any,
) -> None:
    # Story: the same voter sends, at once, a ballot for a poll id that decodes but does not
    # exist (in the same statement as the real poll's read) and a ballot for the real poll.
    # The missing one is NOT_FOUND (no 500); the real one counts.
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    deleted_like = encode_id("Poll", pk_of(poll["id"], "Poll") + 100_000)
    variables = [{"input": {"pollId": pid, "optionIds": [green]}} for pid in (deleted_like, poll["id"])]

    missing, real = await asyncio.wait_for(
        asyncio.gather(*(gql(VOTE, v, token=t.alice.token) for v in variables)), WAIT
    )

    assert code_of(missing) == "NOT_FOUND" and code_of(real) == "COUNTED"


class Socket:
    """A graphql-transport-ws client driving the app in this event loop (plain ASGI messages):
    a websocket's operations mixed with the HTTP requests of the same moment."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.count = 0

    async def open(self, token: str) -> None:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
            "subprotocols": ["graphql-transport-ws"],
        }
        self.task = asyncio.ensure_future(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "websocket.connect"})
        accepted = await asyncio.wait_for(self.outbox.get(), 5)
        assert accepted["type"] == "websocket.accept", accepted
        await self.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        ack = await self.receive()
        assert ack["type"] == "connection_ack", ack

    async def send(self, message: dict[str, Any]) -> None:
        await self.inbox.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.outbox.get(), 10)
        if message["type"] == "websocket.close":
            return {"type": "closed", "code": message.get("code")}
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])  # type: ignore[no-any-return]

    async def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        op = str(self.count)
        await self.send({"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        result = await self.receive()
        if result.get("type") == "closed":
            return result
        assert result["id"] == op and result["type"] == "next", result
        done = await self.receive()
        assert done == {"id": op, "type": "complete"}, done
        return result["payload"]  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.inbox.put({"type": "websocket.disconnect", "code": 1000})
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)


async def test_websocket_and_http_ballots_of_one_moment_count_once_each_and_check_each_voter(
    app: Any, gql: Any
) -> None:
    # Story: alice votes over a websocket (unbatched read of poll + membership) while, at the
    # same moment, she also sends the same ballot over HTTP (batched read) and bob and a
    # stranger vote over HTTP. Alice's ballot counts once across both transports; bob counts;
    # the stranger is NOT_A_MEMBER; then bob leaves the territory and his websocket's next
    # ballot in another poll is refused (its operation reads the membership again).
    t = await town()
    stranger = await make_person("stranger")
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    socket = Socket(app)
    await socket.open(t.alice.token)
    try:
        by_socket, by_http, bob, other = await asyncio.wait_for(
            asyncio.gather(
                socket.execute(VOTE, {"input": {"pollId": poll["id"], "optionIds": [green]}}),
                vote(gql, t.alice.token, poll["id"], green),
                vote(gql, t.bob.token, poll["id"], green),
                vote(gql, stranger.token, poll["id"], green),
            ),
            WAIT,
        )
    finally:
        await socket.close()

    alice_codes = sorted([code_of(by_socket), code_of(by_http)])
    assert alice_codes == ["ALREADY_VOTED", "COUNTED"], alice_codes
    assert code_of(bob) == "COUNTED" and code_of(other) == "NOT_A_MEMBER"
    pk = pk_of(poll["id"], "Poll")
    assert (await PollRow.get(id=pk)).total_votes == 2
    assert await PollParticipation.filter(poll_id=pk).count() == 2

    second = await created(gql, t.odile.token, t.gid)
    bob_socket = Socket(app)
    await bob_socket.open(t.bob.token)
    try:
        await Member.filter(id=t.bob.member.id).update(left_at=now())  # type: ignore[union-attr]
        late_socket, late_http = await asyncio.wait_for(
            asyncio.gather(
                bob_socket.execute(VOTE, {"input": {"pollId": second["id"], "optionIds": [option_ids(second)[0]]}}),
                vote(gql, t.bob.token, second["id"], option_ids(second)[0]),
            ),
            WAIT,
        )
    finally:
        await bob_socket.close()
    assert code_of(late_socket) == "NOT_A_MEMBER" and code_of(late_http) == "NOT_A_MEMBER"


async def test_a_websocket_whose_token_is_revoked_votes_no_more_while_http_voters_are_served(
    app: Any, gql: Any
) -> None:
    # Story: alice's websocket is open; her token is revoked; her next ballot over the socket,
    # sent with bob's HTTP ballot, is refused (the socket closes 4403), bob's counts.
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    green = option_ids(poll)[1]
    socket = Socket(app)
    await socket.open(t.alice.token)
    try:
        await AccessToken.filter(account_id=t.alice.account.id).update(revoked_at=now())
        by_socket, bob = await asyncio.wait_for(
            asyncio.gather(
                socket.execute(VOTE, {"input": {"pollId": poll["id"], "optionIds": [green]}}),
                vote(gql, t.bob.token, poll["id"], green),
            ),
            WAIT,
        )
    finally:
        with contextlib.suppress(Exception):
            await socket.close()
    # Refused either way: the socket closed 4403 (the token no longer holds) or UNAUTHENTICATED.
    assert by_socket == {"type": "closed", "code": 4403} or (
        by_socket.get("errors") and by_socket["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    ), by_socket
    assert code_of(bob) == "COUNTED"
    assert (await PollRow.get(id=pk_of(poll["id"], "Poll"))).total_votes == 1


LEAVE_THEN_VOTE = """
mutation LeaveThenVote($territory: ID!, $input: CastVoteInput!) {
  leaveTerritory(input: {territoryId: $territory})
  castVote(input: $input) { poll { id } userErrors { field message code } }
}
"""


async def test_leaving_then_voting_in_one_request_is_not_served_the_memberships_read_with_the_token(
    gql: Any,
) -> None:
    # Story: the memberships an HTTP request read with its token are used by its ballot box.
    # A citizen who leaves and then votes in the same mutation document must be refused as a
    # non-member; a moderator who leaves and then votes in a hidden poll must not find it.
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    hidden = await created(gql, t.odile.token, t.gid)
    await PollRow.filter(id=pk_of(hidden["id"], "Poll")).update(hidden=True)

    citizen, moderator = await asyncio.wait_for(
        asyncio.gather(
            gql(
                LEAVE_THEN_VOTE,
                {"territory": t.gid, "input": {"pollId": poll["id"], "optionIds": [option_ids(poll)[0]]}},
                token=t.alice.token,
            ),
            gql(
                LEAVE_THEN_VOTE,
                {"territory": t.gid, "input": {"pollId": hidden["id"], "optionIds": [option_ids(hidden)[0]]}},
                token=t.mona.token,
            ),
        ),
        WAIT,
    )

    assert citizen["data"]["leaveTerritory"] is True and moderator["data"]["leaveTerritory"] is True
    assert code_of(citizen) == "NOT_A_MEMBER"
    assert code_of(moderator) == "NOT_FOUND"
    assert (await PollRow.get(id=pk_of(poll["id"], "Poll"))).total_votes == 0
    assert (await PollRow.get(id=pk_of(hidden["id"], "Poll"))).total_votes == 0
