"""Attacks on the one-click unsubscribe link (/unsubscribe, access/unsubscribe.py): it needs
no login, so its token is the whole proof. A changed signature, account or kind, another
server's secret, garbage, or an erased account change nothing and answer the same 400
page (no 500, nothing that tells whether an account exists); a valid link does only what
it names, as often as it is used, and GET never writes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from access.unsubscribe import read_unsubscribe_token, unsubscribe_token
from app.settings import Settings
from models.accounts import Account
from models.clock import now
from models.notifications import NotificationKind
from models.reach import Channel, Frequency, NotificationPreference
from tests.factories import make_person, make_territory

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
ANSWERED = NotificationKind.QUESTION_ANSWERED


async def rows() -> list[tuple[int, str, str, str]]:
    return sorted(
        (int(r.account_id), str(r.kind), str(r.channel), str(r.frequency))
        for r in await NotificationPreference.all()
    )


def url(token: str) -> str:
    return f"/unsubscribe?token={token}"


def flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


async def test_forged_foreign_and_garbage_tokens_change_nothing_and_answer_one_page(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    # Given alice and bob, and a valid link of alice's for replies
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    erased = await make_person("erased", territory)
    await Account.filter(id=erased.account.id).update(deleted_at=now())
    valid = unsubscribe_token(settings.secret, alice.account.id, [ANSWERED])
    version, account, kind, signature = valid.split(".")
    other_secret = "another deployment's secret, 48 characters long!!"
    before = await rows()

    forged = [
        flip(valid, len(valid) - 1),  # one letter of the signature
        flip(valid, len(valid) - 20),
        f"{version}.{bob.account.id}.{kind}.{signature}",  # alice's signature on bob's account
        f"{version}.{account}.NEW_COMMENT.{signature}",  # on another kind
        f"{version}.{account}.{kind}~NEW_COMMENT.{signature}",  # on more kinds
        f"{version}.{account}.NEW_COMMENT~QUESTION_ANSWERED.{signature}",
        f"v2.{account}.{kind}.{signature}",  # a version this server does not know
        f"{version}.0{account}.{kind}.{signature}",  # another spelling of the account
        f"{version}.+{account}.{kind}.{signature}",
        unsubscribe_token(other_secret, alice.account.id, [ANSWERED]),  # another server's secret
        f"{version}.{account}.{kind}.",  # no signature
        f"{version}.{account}.{kind}",
        f"{version}.{account}.{kind}.{signature}.extra",
        f"{version}.{account}.NOT_A_KIND.{signature}",
        f"{version}.{account}.{kind}.{signature}=",
        f"{version}.{account}.{kind}.{signature[:-1]}",
        "", "garbage", "v1", "v1...", "v1.1.QUESTION_ANSWERED.x", "../../etc/passwd", "%00", "%ff%fe",
        "v1.١٢.QUESTION_ANSWERED.x",  # unicode digits
        "v1." + "9" * 40 + ".QUESTION_ANSWERED.x",
        "x" * 5000,
        "<script>alert(1)</script>",
    ]
    refusal: str | None = None
    for token in forged:
        for method in ("GET", "POST"):
            response = await http.request(method, "/unsubscribe", params={"token": token}, data=ONE_CLICK
                                          if method == "POST" else None)
            # Then each is a 400 page, the same one every time, that reflects nothing sent
            assert response.status_code == 400, (token, method, response.status_code)
            assert response.headers["content-type"].startswith("text/html")
            assert "<script>" not in response.text
            refusal = refusal or response.text
            assert response.text == refusal, token
    # Without a token at all, too
    assert (await http.post("/unsubscribe", data=ONE_CLICK)).text == refusal

    # A validly signed link of an erased or never-existing account reads the same: nobody
    # learns from the page whether an account exists
    for ghost in (erased.account.id, 2**31 - 1, 10**11):
        token = unsubscribe_token(settings.secret, ghost, [ANSWERED])
        for method in ("GET", "POST"):
            response = await http.request(method, url(token), data=ONE_CLICK if method == "POST" else None)
            assert (response.status_code, response.text) == (400, refusal)
    assert await rows() == before


async def test_a_valid_link_works_without_login_only_for_what_it_names_and_again_the_same(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    # Given alice, who chose NEW_COMMENT by email once a day, and bob with the defaults
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    await NotificationPreference.create(account_id=alice.account.id, kind=NotificationKind.NEW_COMMENT,
                                        channel=Channel.EMAIL, frequency=Frequency.DAILY_DIGEST)
    token = unsubscribe_token(settings.secret, alice.account.id, [ANSWERED])
    assert read_unsubscribe_token(settings.secret, token) is not None
    before = await rows()

    # GET, HEAD, and a POST without the one-click body (a scanner, a prefetch) change nothing
    assert (await http.get(url(token))).status_code == 200
    assert (await http.head(url(token))).status_code == 200
    assert (await http.post(url(token))).status_code == 400
    assert (await http.post(url(token), data={"List-Unsubscribe": "Yes"})).status_code == 400
    assert (await http.put(url(token), data=ONE_CLICK)).status_code == 405
    assert (await http.delete(url(token))).status_code == 405
    assert await rows() == before

    # When the link is POSTed with no login, as a mail client does, three times, two at once
    answers = [await http.post(url(token), data=ONE_CLICK)]
    answers += await asyncio.gather(*(http.post(url(token), data=ONE_CLICK) for _ in range(2)))

    # Then each answers 200, and only alice's replies by email are off, once
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert await rows() == sorted(before + [(alice.account.id, "QUESTION_ANSWERED", "EMAIL", "NEVER")])
    assert not await NotificationPreference.filter(account_id=bob.account.id).exists()


async def test_a_bearer_token_of_someone_else_does_not_widen_a_link(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    # mallory, logged in, replays alice's link: it still does exactly what it names
    territory = await make_territory()
    alice = await make_person("alice", territory)
    mallory = await make_person("mallory", territory)
    token = unsubscribe_token(settings.secret, alice.account.id, [NotificationKind.POLL_CLOSED])
    response = await http.post(url(token), data=ONE_CLICK, headers={"Authorization": f"Bearer {mallory.token}"})
    assert response.status_code == 200
    assert await NotificationPreference.filter(account_id=mallory.account.id).count() == 0
    assert await NotificationPreference.filter(account_id=alice.account.id).values_list("kind", "channel", "frequency") \
        == [("POLL_CLOSED", "EMAIL", "NEVER")]


@pytest.mark.parametrize("body", [
    # multipart/form-data, as RFC 8058 also allows
    ("multipart", True),
    ("multipart-wrong-value", False),
    ("not-utf8", False),
    ("too-big", False),
])
async def test_one_click_bodies(http: httpx.AsyncClient, settings: Settings, body: tuple[str, bool]) -> None:
    territory = await make_territory()
    alice = await make_person("alice", territory)
    token = unsubscribe_token(settings.secret, alice.account.id, [ANSWERED])
    shape, accepted = body
    request: dict[str, Any]
    if shape == "multipart":
        request = {"files": {"List-Unsubscribe": (None, "One-Click")}}
    elif shape == "multipart-wrong-value":
        request = {"files": {"List-Unsubscribe": (None, "No")}}
    elif shape == "not-utf8":
        request = {"content": b"List-Unsubscribe=\xff\xfe",
                   "headers": {"content-type": "application/x-www-form-urlencoded"}}
    else:
        request = {"content": b"List-Unsubscribe=One-Click&" + b"x" * 20_000,
                   "headers": {"content-type": "application/x-www-form-urlencoded"}}
    response = await http.post(url(token), **request)
    assert response.status_code == (200 if accepted else 400), response.text
    assert await NotificationPreference.filter(account_id=alice.account.id).exists() is accepted
