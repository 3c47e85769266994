"""The `events` fixture: what a mutation published on a territory's channel."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from events.envelopes import territory_channel
from models.territories import Territory

Seen = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def events(app_broker: Any) -> Callable[[Territory], contextlib.AbstractAsyncContextManager[Seen]]:
    """`async with events(territory) as seen:` ... `seen()` lists {type, data} published there."""

    @contextlib.asynccontextmanager
    async def listening(territory: Territory) -> AsyncIterator[Seen]:
        collected: list[dict[str, Any]] = []
        async with app_broker.listen(territory_channel(territory.id)) as queue:

            def seen() -> list[dict[str, Any]]:
                while not queue.empty():
                    event = queue.get_nowait()
                    collected.append({"type": event.type, "data": event.data})
                return collected

            yield seen

    return listening
