"""territoryStats: a territory's participation figures, live, for dashboards.

One hub per watched territory per process. It reads the figures (one statement, reads/stats.py)
when a committed write announced on the broker touched the counters (sharing/stamp.py:
every process announces the tables it wrote) or when a figure moves with the clock (the next
due date or poll opening), at most once per STATS_TICK, and sends them only when they changed.
The figures are public, like `Territory.stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from events.brokers import RESYNC
from events.envelopes import Event
from models.territories import Territory as TerritoryRow
from reads.stats import Figures, territory_figures
from schema.relay import decode_id_of
from schema.territories import TerritoryStats
from sharing.horizon import CURRENT, Horizon
from sharing.stamp import CHANGED_CHANNEL, EVERYTHING
from subscriptions.hubs import Hubs, LatestHub, hubs_for

log = logging.getLogger("parvis.live")

STATS_TICK = 1.0
RETRY_AFTER = 1.0
# The tables whose writes can move the figures (the counters, and the near-future counts).
WATCHED = frozenset({"territory_stats", "question", "poll", EVERYTHING})


class StatsHub(LatestHub[Figures]):
    def __init__(self, hubs: Hubs, territory_id: int) -> None:
        super().__init__(hubs, ("stats", territory_id))
        self.territory_id = territory_id

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Listen before the first read: a write committed in between is not missed.
            async with self.hubs.broker.listen(CHANGED_CHANNEL) as queue:
                while True:
                    figures, until = await self._compute()
                    last = loop.time()
                    if figures != self.latest:
                        self._publish(figures)
                    wait = None if until is None else max(0.0, until - time.time())
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            while not _moves_figures(await queue.get()):
                                pass
                    pause = last + STATS_TICK - loop.time()
                    if pause > 0:
                        await asyncio.sleep(pause)
                    while not queue.empty():
                        queue.get_nowait()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("stats hub %s failed", self.territory_id)
        finally:
            if not self.finished:
                self._finish()

    async def _compute(self) -> tuple[Figures, float | None]:
        """The figures, and the instant (POSIX) at which the clock alone would move them."""
        while True:
            horizon = Horizon()
            token = CURRENT.set(horizon)
            try:
                return await territory_figures(self.territory_id), horizon.until
            except Exception as exc:  # noqa: BLE001 - the database hiccuped: try again
                log.warning("territory %s figures not read (%s); retrying", self.territory_id, exc)
                await asyncio.sleep(RETRY_AFTER)
            finally:
                CURRENT.reset(token)


def _moves_figures(event: Event) -> bool:
    if event.type == RESYNC:
        return True  # events may have been lost: read again
    tables = (event.data or {}).get("t") or [EVERYTHING]
    return not WATCHED.isdisjoint(tables)


def stats_hub(hubs: Hubs, territory_id: int) -> StatsHub:
    return hubs.get(("stats", territory_id), lambda hubs: StatsHub(hubs, territory_id))


@strawberry.type
class StatsSubscription:
    @strawberry.subscription(
        description=(
            "A territory's participation figures at once, then whenever they change (at most once "
            "a second): after a question, reply, idea, support, comment or vote, and when a question "
            "falls due or a poll opens."
        )
    )
    async def territory_stats(
        self, info: Info[Context, None], territory_id: strawberry.ID
    ) -> AsyncGenerator[TerritoryStats, None]:
        pk = decode_id_of(territory_id, "Territory")
        if pk is None or not await TerritoryRow.filter(id=pk).exists():
            raise not_found("No such territory.")
        async with stats_hub(hubs_for(info.context.broker), pk).join() as slot:
            while (figures := await slot.get()) is not None:
                yield TerritoryStats.of(figures)
