"""Bugs the fuzzers found, each pinned by a plain story. Before the fixes each of these
answered with an internal error (the driver's exception as a GraphQL error, no code)."""

from __future__ import annotations

from typing import Any

import pytest

from schema.relay import decode_id, encode_id
from tests.fuzz.world import World, changed, state

ERRORS = "userErrors { field message code }"


def payload(result: dict[str, Any], mutation: str) -> dict[str, Any]:
    assert not result.get("errors"), result
    return result["data"][mutation]  # type: ignore[no-any-return]


def codes(result: dict[str, Any], mutation: str) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload(result, mutation)["userErrors"]]


# A lone UTF-16 surrogate is legal in JSON ("\ud800") but has no UTF-8 encoding: SQLite and
# PostgreSQL both failed the INSERT (UnicodeEncodeError). Checks.text now refuses it.


@pytest.mark.parametrize("text", ["\ud800", "tram \udfff line"])
async def test_a_comment_with_a_lone_surrogate_is_invalid_not_an_internal_error(gql, world: World, text: str):
    before = await state(world)
    result = await gql(
        f"mutation($input: AddCommentInput!) {{ addComment(input: $input) {{ comment {{ id }} {ERRORS} }} }}",
        {"input": {"subjectId": world.ids["idea"], "body": text}},
        token=world.people["alice"].token,
    )
    assert codes(result, "addComment") == [(["input", "body"], "INVALID")]
    assert changed(before, await state(world)) == set()


async def test_a_moderation_reason_with_a_lone_surrogate_is_invalid(gql, world: World):
    before = await state(world)
    result = await gql(
        f"mutation($input: ModerateContentInput!) {{ moderateContent(input: $input) {{ report {{ id }} {ERRORS} }} }}",
        {"input": {"reportId": world.ids["report"], "action": "DISMISS", "reason": "spam \ud83d"}},
        token=world.people["mona"].token,
    )
    assert codes(result, "moderateContent") == [(["input", "reason"], "INVALID")]
    assert changed(before, await state(world)) == set()


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1",  # urlsplit raised ValueError ("Invalid IPv6 URL")
        "https://example.org/\x00plan.pdf",  # NUL: PostgreSQL text refuses it
        "https://example.org/\ud800",  # lone surrogate
    ],
)
async def test_a_document_url_that_cannot_be_parsed_or_stored_is_invalid(gql, world: World, url: str):
    before = await state(world)
    result = await gql(
        f"mutation($input: AddDocumentInput!) {{ addDocument(input: $input) {{ project {{ id }} {ERRORS} }} }}",
        {"input": {"projectId": world.ids["project"], "document": {"title": "Plan", "url": url, "kind": "MAP"}}},
        token=world.people["odile"].token,
    )
    assert codes(result, "addDocument") == [(["input", "document", "url"], "INVALID")]
    assert changed(before, await state(world)) == set()


SIGN_UP = f"mutation($input: SignUpInput!) {{ signUp(input: $input) {{ token {ERRORS} }} }}"
LOG_IN = f"mutation($input: LogInInput!) {{ logIn(input: $input) {{ token {ERRORS} }} }}"


@pytest.mark.parametrize("email", ["nul\x00@example.org", "lone\ud800@example.org", "bell\x07@example.org"])
async def test_an_email_with_control_characters_or_a_surrogate_is_invalid(gql, world: World, email: str):
    # On SQLite the NUL one was even accepted, an account nobody could log in to; on
    # PostgreSQL the INSERT failed
    before = await state(world)
    result = await gql(SIGN_UP, {"input": {"email": email, "password": "correct horse battery", "displayName": "Zoé"}})
    assert codes(result, "signUp") == [(["input", "email"], "INVALID")]
    assert changed(before, await state(world)) == set()


async def test_a_password_with_a_lone_surrogate_is_invalid_at_sign_up(gql, world: World):
    # argon2 could not hash it (UnicodeEncodeError)
    result = await gql(
        SIGN_UP, {"input": {"email": "zoe.surrogate@example.org", "password": "horse \ud800 battery", "displayName": "Zoé"}}
    )
    assert codes(result, "signUp") == [(["input", "password"], "INVALID")]


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.org", "horse \ud800 battery"), ("nul\x00@example.org", "correct horse battery"),
     ("lone\udc00@example.org", "correct horse battery")],
)
async def test_logging_in_with_text_no_account_can_have_is_bad_credentials(gql, email: str, password: str):
    result = await gql(LOG_IN, {"input": {"email": email, "password": password}})
    assert codes(result, "logIn") == [(None, "BAD_CREDENTIALS")]


# Primary keys are int4 on PostgreSQL: a global id holding a pk of 2**31 or more made asyncpg
# refuse the query ("value out of int32 range"). decode_id now treats it as no id of ours.


def test_a_global_id_beyond_32_bits_decodes_to_nothing():
    assert decode_id(encode_id("Poll", 2**31 - 1)) == ("Poll", 2**31 - 1)
    assert decode_id(encode_id("Poll", 2**31)) is None
    assert decode_id(encode_id("Poll", 2**40)) is None


@pytest.mark.parametrize("pk", [2**31, 2**40, 2**63 - 1])
async def test_ids_beyond_32_bits_are_not_found(gql, world: World, pk: int):
    before = await state(world)
    vote = await gql(
        f"mutation($input: CastVoteInput!) {{ castVote(input: $input) {{ poll {{ id }} {ERRORS} }} }}",
        {"input": {"pollId": encode_id("Poll", pk), "optionIds": [encode_id("PollOption", pk)]}},
        token=world.people["alice"].token,
    )
    assert codes(vote, "castVote") == [(["input", "pollId"], "NOT_FOUND")]
    idea = await gql(
        f"mutation($input: ProposeIdeaInput!) {{ proposeIdea(input: $input) {{ idea {{ id }} {ERRORS} }} }}",
        {"input": {"territoryId": encode_id("Territory", pk), "title": "Benches", "body": "More."}},
        token=world.people["alice"].token,
    )
    assert codes(idea, "proposeIdea") == [(["input", "territoryId"], "NOT_FOUND")]
    report = await gql(
        f"mutation($input: ModerateContentInput!) {{ moderateContent(input: $input) {{ report {{ id }} {ERRORS} }} }}",
        {"input": {"reportId": encode_id("Report", pk), "action": "HIDE"}},
        token=world.people["mona"].token,
    )
    assert codes(report, "moderateContent") == [(["input", "reportId"], "NOT_FOUND")]
    marked = await gql(
        "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) }",
        {"input": {"ids": [encode_id("Notification", pk)]}},
        token=world.people["alice"].token,
    )
    assert marked["data"] == {"markNotificationsRead": 0} and not marked.get("errors")
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": encode_id("Idea", pk)})
    assert node["data"] == {"node": None} and not node.get("errors")
    assert changed(before, await state(world)) == set()
