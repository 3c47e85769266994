"""The anonymous response cache keeps a consultation page only until its next phase
boundary: a phase ends on a cached page with nobody writing anything."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from models.accounts import Role
from models.consultations import Consultation, ConsultationPhase, ConsultationStatus, PhaseKind
from schema.relay import encode_id
from sharing.stamp import LOCAL
from tests.cache.test_response_cache import anonymous, cache_of, warm
from tests.factories import make_person, make_territory

PAGE = """query($id: ID!) { node(id: $id) { ... on Consultation {
  currentPhase { title } phases { title state isCurrent } } } }"""


async def test_a_cached_page_shows_a_phase_ending_when_the_clock_says(
    http: httpx.AsyncClient, app: Any
) -> None:
    # Given a consultation whose call for ideas ends in a moment, read from the cache
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    now = dt.datetime.now(dt.UTC)
    switch = now + dt.timedelta(seconds=1.5)
    row = await Consultation.create(territory=t, created_by=odile.member, title="SCoT", summary="s",
                                    status=ConsultationStatus.PUBLISHED, published_at=now)
    for kind, title, starts, ends in ((PhaseKind.DEBATE, "Ideas", now - dt.timedelta(days=1), switch),
                                      (PhaseKind.RESTITUTION, "Restitution", now + dt.timedelta(days=1), now + dt.timedelta(days=2))):
        await ConsultationPhase.create(consultation=row, kind=kind, title=title, description="d",
                                       starts_at=starts, ends_at=ends)
    variables = {"id": encode_id("Consultation", row.id)}
    cached = await warm(http, cache_of(app), PAGE, variables)
    assert cached["data"]["node"]["currentPhase"] == {"title": "Ideas"}

    # When the boundary passes and nobody writes anything
    writes = LOCAL.moves
    await asyncio.sleep(max(0.0, (switch - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)

    # Then the page shows the call for ideas over, and no phase running until the restitution
    page = (await anonymous(http, PAGE, variables))["data"]["node"]
    assert page["currentPhase"] is None
    assert [(p["state"], p["isCurrent"]) for p in page["phases"]] == [("PAST", False), ("UPCOMING", False)]
    assert LOCAL.moves == writes
