"""Attacks on the features merged in December (unsubscribe, editing, references, uploads,
surveys, consultations): each test is a defect found by an attacker, failing before its fix."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.polls.stories import town

BY_REFERENCE = """query($s: String!, $r: String!) { territory(slug: $s) {
  questionByReference(reference: $r) { id }
  ideaByReference(reference: $r) { id }
} }"""


@pytest.mark.parametrize("reference", ["Q-2026-0001\u0000", "\ud800", "Q\u0000"])
async def test_an_odd_reference_is_no_internal_error(http: httpx.AsyncClient, reference: str) -> None:
    """A NUL (PostgreSQL refuses it in text) or a lone surrogate (no UTF-8 for it) as a
    reference is just no such reference: it was INTERNAL_SERVER_ERROR."""
    t = await town()
    body = json.dumps({"query": BY_REFERENCE, "variables": {"s": t.territory.slug, "r": reference}})
    response = await http.post("/graphql", content=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {t.alice.token}"})
    answer = response.json()
    assert "errors" not in answer, answer
    assert answer["data"]["territory"] == {"questionByReference": None, "ideaByReference": None}
