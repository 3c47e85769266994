"""The brokers in process: fan-out, and a Redis broker that survives Redis being away."""

from __future__ import annotations

import asyncio
import os

import pytest

from events.brokers import InProcessBroker, RedisBroker
from events.envelopes import Event


async def test_the_in_process_broker_fans_out_and_releases_listeners() -> None:
    broker = InProcessBroker()
    async with broker.listen("poll:1") as first, broker.listen("poll:1") as second:
        await broker.publish(Event("poll:1", "vote", {"poll": 1}))
        assert first.get_nowait() == second.get_nowait() == Event("poll:1", "vote", {"poll": 1})
    assert "poll:1" not in broker._queues


async def test_a_redis_broker_without_redis_still_serves_this_process() -> None:
    # Nothing listens on this port: publishing logs a failure and never raises.
    broker = RedisBroker("redis://127.0.0.1:1/0")
    try:
        async with broker.listen("territory:9") as queue:
            await broker.publish(Event("territory:9", "feed", {"entry": 1}))
            assert (await asyncio.wait_for(queue.get(), 1)).data == {"entry": 1}
        assert broker.publish_failures == 1
    finally:
        await asyncio.wait_for(broker.close(), 5)


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL")
async def test_two_redis_brokers_share_events_once_each() -> None:
    url = os.environ["TEST_REDIS_URL"]
    here, there = RedisBroker(url), RedisBroker(url)
    try:
        async with here.listen("account:77") as mine, there.listen("account:77") as theirs:
            await here.publish(Event("account:77", "notification", {"id": 5}))
            assert (await asyncio.wait_for(theirs.get(), 2)).data == {"id": 5}
            assert (await asyncio.wait_for(mine.get(), 2)).data == {"id": 5}
            await asyncio.sleep(0.2)
            assert mine.empty()  # our own echo from Redis is not delivered twice
    finally:
        await here.close()
        await there.close()


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL")
async def test_the_redis_broker_reconnects_and_tells_listeners_to_resync() -> None:
    url = os.environ["TEST_REDIS_URL"]
    here, there = RedisBroker(url), RedisBroker(url)
    try:
        async with here.listen("poll:88") as queue:
            await asyncio.wait_for(here.connected.wait(), 2)
            # The subscribing connection drops (as when Redis restarts)
            await here._pubsub.connection.disconnect()
            event = await asyncio.wait_for(queue.get(), 5)
            assert event.type == "resync"
            await there.publish(Event("poll:88", "vote", {"poll": 88}))
            assert (await asyncio.wait_for(queue.get(), 2)).type == "vote"
    finally:
        await here.close()
        await there.close()
