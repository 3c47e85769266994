"""app/extension_hooks.py: the schema extensions' hooks are wrapped once per class, and still
run around every operation as Strawberry runs them."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest


async def test_a_request_wraps_no_hook_of_its_own(gql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await gql("query Warm { viewer { id } }")  # the first request of each hook wraps it
    wraps: list[Any] = []
    wrap = contextlib.contextmanager

    def counting(function: Any) -> Any:
        wraps.append(function)
        return wrap(function)

    monkeypatch.setattr(contextlib, "contextmanager", counting)
    answer = await gql("query Again { viewer { id } }")
    assert answer["data"] == {"viewer": None}
    # Strawberry's own runner wraps every generator hook of every extension per request (7 here).
    assert wraps == []


async def test_the_hooks_still_run_around_each_operation(gql: Any) -> None:
    # QueryCost (on_execute + get_results), ErrorCodes (on_operation), QueryLimits (on_operation
    # and its validation rules): each leaves its mark on the answer.
    priced = await gql("query Priced { viewer { id } }")
    assert priced["extensions"]["cost"]["requestedQueryCost"] >= 1
    refused = await gql("query Deep { viewer { " + "memberships { territory { " * 8 + "id" + " } }" * 8 + " } }")
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    unknown = await gql("query Wrong { nothing }")
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
