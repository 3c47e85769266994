"""The anonymous response cache: whole serialized answers, reused while the data stamp holds.

Only requests without an Authorization header whose document selects one `query` operation
are looked up or stored, and only 200 answers without `errors` are kept. An entry is keyed by
(query, variables, operationName, media type, negotiated language), holds the exact response bytes, and is served
while the tables it read keep the versions it was computed under, before its time horizon
and within `max_age`. Bounded LRU. Reasoning and the remaining windows: docs/adr/0006, 0012.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType

from access.i18n import DEFAULT_LOCALE
from schema.limits import selected_operation_type
from sharing.flights import Flight, Flights
from sharing.horizon import CURRENT, Horizon
from sharing.stamp import LOCAL, DataStamp, Dependencies, Snapshot

# (query, variables, operationName, media type, negotiated language)
CacheKey = tuple[str, bytes, str | None, str, str]


def cache_key(body: bytes, media_type: str, language: str = DEFAULT_LOCALE) -> CacheKey | None:
    """The key of a POSTed GraphQL request, or None when it is not a cacheable query."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return cache_key_of(data, media_type, language)


def cache_key_of_params(params: Mapping[str, str], media_type: str, language: str = DEFAULT_LOCALE) -> CacheKey | None:
    """The key of a GET request's query parameters (query, variables as JSON, operationName)."""
    data: dict[str, Any] = {name: params[name] for name in ("query", "operationName") if name in params}
    if "variables" in params:
        try:
            data["variables"] = orjson.loads(params["variables"])
        except orjson.JSONDecodeError:
            return None
    if set(params) - {"query", "variables", "operationName"}:
        return None
    return cache_key_of(data, media_type, language)


def cache_key_of(data: Any, media_type: str, language: str = DEFAULT_LOCALE) -> CacheKey | None:
    """The key of a request's GraphQL parameters, or None when it is not a cacheable query."""
    if not isinstance(data, dict) or set(data) - {"query", "variables", "operationName"}:
        return None  # batches, persisted queries, extensions: not handled here
    query = data.get("query")
    variables = data.get("variables") or {}
    operation_name = data.get("operationName")
    if not isinstance(query, str) or not isinstance(variables, dict):
        return None
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    if selected_operation_type(query, operation_name) != OperationType.QUERY:
        return None
    try:
        canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return query, canonical, operation_name, media_type, language


@dataclass(frozen=True)
class Entry:
    body: bytes
    media_type: str
    dependencies: Dependencies
    expires: float


@dataclass
class Fill:
    """An answer being computed: the versions when it started, what it read, its horizon."""

    key: CacheKey
    snapshot: Snapshot
    started: float
    horizon: Horizon
    cacheable: bool = False
    flight: Flight[Shared] | None = None


# An answer computed by one anonymous request for others asking the same while it ran: its
# body, media type, and the time it holds until (None: no boundary).
Shared = tuple[bytes, str, float | None]


class ResponseCache:
    """One per app, under the app's data stamp."""

    def __init__(self, stamp: DataStamp, *, max_entries: int = 1000, max_bytes: int = 32 * 2**20,
                 max_age: float = 60.0) -> None:
        self.stamp = stamp
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = self.stored = self.joined = 0
        self.flights: Flights[Shared] = Flights(lambda: (LOCAL.moves, stamp.remote.moves))
        stamp.on_change(self.clear)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def get(self, key: CacheKey) -> Entry | None:
        if not self.stamp.hearing:
            self.stamp.start()
            return None
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if not self.stamp.holds(entry.dependencies) or time.time() >= entry.expires:
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    async def computed_meanwhile(self, key: CacheKey) -> Shared | None:
        """The answer of another request computing the same since nothing was written, once it
        is done (sharing/flights.py); None when there is none to wait for, or it gave none."""
        while (flight := self.flights.current(key)) is not None:
            shared = await self.flights.join(flight)
            if shared is not None and (shared[2] is None or time.time() < shared[2]):
                self.joined += 1
                return shared
            if shared is not None:
                return None  # it reached a time boundary meanwhile (a poll closing)
        return None

    def begin(self, key: CacheKey) -> Fill:
        fill = Fill(key=key, snapshot=self.stamp.snapshot(), started=time.time(), horizon=Horizon())
        fill.flight = self.flights.begin(key)
        return fill

    def end(self, fill: Fill, body: bytes | None, media_type: str) -> None:
        """The answer is computed: `body` for the requests waiting for it (None when it is not
        for them: an error, a cookie, a failure)."""
        if fill.flight is not None:
            shared = (body, media_type, fill.horizon.until) if body is not None and fill.cacheable else None
            self.flights.finish(fill.key, fill.flight, shared)

    def put(self, fill: Fill, body: bytes, media_type: str) -> bool:
        """Store a computed answer if nothing it read may have changed meanwhile."""
        if not (fill.cacheable and self.stamp.hearing):
            return False
        dependencies = self.stamp.unchanged_since(fill.snapshot, frozenset(fill.horizon.tables))
        if dependencies is None:
            return False
        expires = fill.started + self.max_age
        if fill.horizon.until is not None:
            expires = min(expires, fill.horizon.until)
        if time.time() >= expires or len(body) > self.max_bytes // 4:
            return False
        self._drop(fill.key)
        self._entries[fill.key] = Entry(body, media_type, dependencies, expires)
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self.stored += 1
        return True

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def __len__(self) -> int:
        return len(self._entries)


@contextlib.contextmanager
def recording(fill: Fill) -> Iterator[Fill]:
    """Collect the time boundaries of the answer computed inside."""
    token = CURRENT.set(fill.horizon)
    try:
        yield fill
    finally:
        CURRENT.reset(token)

