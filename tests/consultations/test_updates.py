"""consultationUpdates: alice watches the SCoT consultation; odile's changes and the clock's
reach her, and her watching costs one hub however many watch."""

from __future__ import annotations

import asyncio
from typing import Any

from access.context import Context
from app.api import schema
from models.accounts import Role
from subscriptions.hubs import hubs_for
from tests.consultations.stories import PUBLISH_OUTCOME, UPDATE, at, pk_of, published
from tests.factories import make_person, make_territory

UPDATES = """subscription($c: ID!) { consultationUpdates(consultationId: $c) {
  change consultation { title status } currentPhase { title } } }"""


async def next_of(stream: Any, timeout: float = 10) -> dict[str, Any]:
    result = await asyncio.wait_for(stream.__anext__(), timeout)
    assert not result.errors, result.errors
    return result.data["consultationUpdates"]  # type: ignore[no-any-return]


async def test_alice_sees_odiles_changes_and_the_clocks_live(gql, app_broker, settings):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    phases = [
        {"kind": "DEBATE", "title": "Call for ideas", "description": "d", "startsAt": at(days=-1),
         "endsAt": at(seconds=4)},
        {"kind": "RESTITUTION", "title": "Restitution", "description": "d", "startsAt": at(seconds=4),
         "endsAt": at(days=3)},
    ]
    consultation = await published(gql, odile.token, t, phases=phases)
    streams = [
        await schema.subscribe(UPDATES, variable_values={"c": consultation["id"]}, context_value=Context(
            request=None, response=None, broker=app_broker, settings=settings, account=person.account))
        for person in (alice, odile)
    ]
    try:
        for stream in streams:
            first = await next_of(stream)
            assert first == {"change": "SNAPSHOT", "consultation": {"title": "Révision du SCoT", "status": "PUBLISHED"},
                             "currentPhase": {"title": "Call for ideas"}}
        # Two watchers, one hub
        hub = hubs_for(app_broker).find(("consultation", pk_of(consultation["id"], "Consultation")))
        assert hub is not None and len(hub.slots) == 2

        await gql(UPDATE, {"input": {"consultationId": consultation["id"], "title": "Révision du SCoT (2)"}},
                  token=odile.token)
        updated = await next_of(streams[0])
        assert updated["consultation"]["title"] == "Révision du SCoT (2)"
        # (on a slow machine the phase may have turned already: the latest state wins)
        assert (updated["change"], updated["currentPhase"]) in (
            ("UPDATED", {"title": "Call for ideas"}), ("PHASE_CHANGED", {"title": "Restitution"}))

        # The clock moves the current phase with nobody acting
        moved = updated
        while moved["currentPhase"] != {"title": "Restitution"}:
            moved = await next_of(streams[0])
        assert moved["change"] == "PHASE_CHANGED"

        await gql(PUBLISH_OUTCOME, {"input": {"phaseId": consultation["phases"][1]["id"], "summary": "Decided."}},
                  token=odile.token)
        outcome = await next_of(streams[0])
        assert outcome["change"] == "OUTCOME_PUBLISHED"
    finally:
        for stream in streams:
            await stream.aclose()  # type: ignore[union-attr]
