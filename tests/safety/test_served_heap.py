"""A serving process leaves its startup heap out of the cyclic garbage collector's watch
(gc.freeze, docs/adr/0025): every full collection walked the schema, the modules and the
pools, up to a third of a vote's CPU and the p99 of castVote. Apps built by tests (which
come and go) are not frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.security.server import production_server


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from production_server()


def frozen(metrics: str) -> float:
    values = [float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("parvis_gc_frozen_objects ")]
    assert len(values) == 1, metrics
    return values[0]


def test_a_serving_process_freezes_what_its_startup_built(server: ServerProcess) -> None:
    metrics = httpx.get(f"{server.url}/metrics", timeout=30).text
    # The schema alone is tens of thousands of objects.
    assert frozen(metrics) > 10_000


async def test_an_app_built_in_process_is_not_frozen(http: httpx.AsyncClient) -> None:
    assert frozen((await http.get("/metrics")).text) == 0
    assert gc.get_freeze_count() == 0
