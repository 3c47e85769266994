"""Shared parts: a piece of an answer built once for an audience and reused by its readers.

A signed-in reader's home page mixes public lists (polls with their tallies, ideas with
their authors...) with a few fields of their own (whether they voted, whether they support
an idea). The public part is the same for everyone in an *audience*: everyone (PUBLIC), or
the territory's moderators and admins, who also see hidden content (STAFF). A `Part` names
such a piece and the module-level function that builds it from a reader for that audience;
the function is never handed a viewer, so it cannot read one's fields by accident, and the
viewer's own fields are added afterwards, by a separate step, on per-request copies.

An entry is served only while the tables it read keep the versions it was built under, before
the earliest time boundary it noted, for at most `max_age` seconds, and never inside a
transaction (a page read there could hold writes that are rolled back). Reasoning: docs/adr/0007,
docs/adr/0012.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from sharing.flights import Flights
from sharing.horizon import CURRENT, Horizon, note_boundary, note_tables
from sharing.stamp import LOCAL, DataStamp, Dependencies

Reader = TypeVar("Reader")
Args = TypeVar("Args", bound=Hashable)
T = TypeVar("T")


# The attribute a stored part's objects carry: completed answers of their subtrees, by the
# selection that asked for them (schema/execution.py fills it; a stored part never changes, so
# an answer completed once from it holds for every reader of the part).
COMPLETED = "_parvis_completed"


def seal(value: Any) -> None:
    """Give every dataclass object reachable from `value` (through dataclass fields, lists and
    tuples) an empty COMPLETED memo: the value is stored as a shared part from now on."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        fields = getattr(type(item), "__dataclass_fields__", None)
        if fields is None or id(item) in seen or not hasattr(item, "__dict__"):
            continue
        seen.add(id(item))
        item.__dict__.setdefault(COMPLETED, {})
        stack.extend(getattr(item, name, None) for name in fields)


# What a viewer's copy of a stored part's object carries (`overlay`): the original's memo and
# the attributes the copy changed. The original's answer without those fields is completed once
# for everyone; each copy adds its own.
OVERLAID = "_parvis_overlaid"

Obj = TypeVar("Obj")


def overlay(original: Obj, **changes: Any) -> Obj:
    """A viewer's copy of `original` (a dataclass object) with `changes` (dataclass fields:
    its ready values) set; the original is left as it is, shared. A shallow copy, as
    dataclasses.replace makes, without running __init__ again."""
    unknown = changes.keys() - getattr(type(original), "__dataclass_fields__", {}).keys()
    if unknown:
        raise TypeError(f"overlay: not fields of {type(original).__name__}: {sorted(unknown)}")
    state = dict(original.__dict__)
    memo = state.pop(COMPLETED, None)
    state.pop(OVERLAID, None)
    state.update(changes)
    if memo is not None:
        state[OVERLAID] = (memo, frozenset(changes))
    copy = object.__new__(type(original))
    copy.__dict__.update(state)
    return copy


class Audience(Enum):
    """Who a shared part is built for."""

    PUBLIC = "public"  # anyone: hidden content left out
    STAFF = "staff"  # the territory's moderators and admins: hidden content included


@dataclass(frozen=True)
class Part(Generic[Reader, Args, T]):
    """A shareable piece of an answer: `build(reader, args)` for one audience's reader.

    `build` must be a module-level function: a closure could capture a request (its viewer,
    its `info`) and leak that viewer's view to everyone in the audience."""

    name: str
    build: Callable[[Reader, Args], Awaitable[T]]

    def __post_init__(self) -> None:
        if getattr(self.build, "__closure__", None) or "<locals>" in getattr(self.build, "__qualname__", ""):
            raise TypeError(f"shared part {self.name!r}: build must be a module-level function")


@dataclass(frozen=True)
class _Entry:
    value: Any
    dependencies: Dependencies
    tables: frozenset[str]
    expires: float
    boundary: float | None


class SharedParts:
    """One per app, under the app's data stamp."""

    def __init__(self, stamp: DataStamp, *, max_age: float = 60.0, max_entries: int = 512) -> None:
        self.stamp = stamp
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.flights: Flights[tuple[Any, frozenset[str], float | None]] = Flights(
            lambda: (LOCAL.moves, stamp.remote.moves)
        )
        self.hits = self.misses = self.joined = 0
        stamp.on_change(self.clear)

    def clear(self) -> None:
        self._entries.clear()

    async def get(self, part: Part[Reader, Args, T], audience: Audience, scope: Hashable, args: Args,
                  reader: Callable[[], Reader]) -> T:
        """The part for this audience of `scope` (a territory) and these arguments: from the
        cache, or built by `part.build(reader(), args)` (and stored when it may be). The value
        is shared: the caller adds viewer fields to copies, never to it."""
        stamp = self.stamp
        if not stamp.hearing:
            stamp.start()  # listen for other processes' writes; share from then on
            return await part.build(reader(), args)
        if isinstance(connections.get("default"), TransactionalDBClient):
            return await part.build(reader(), args)
        key = (part.name, audience, scope, args)
        while True:
            entry = self._entries.get(key)
            now = time.time()
            if entry is not None:
                if stamp.holds(entry.dependencies) and now < entry.expires:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    # An answer being cached around this part depends on what the part read.
                    note_tables(entry.tables)
                    if entry.boundary is not None:
                        note_boundary(dt.datetime.fromtimestamp(entry.boundary, dt.UTC))
                    return entry.value  # type: ignore[no-any-return]
                del self._entries[key]
            flight = self.flights.current(key)
            if flight is None:
                break
            # Built by another reader since nothing was written (sharing/flights.py); not when
            # it reached a time boundary it noted (a poll closing) while this one waited. If it
            # gave nothing, look again: another reader may have built it or be building it.
            joined = await self.flights.join(flight)
            if joined is not None and (joined[2] is None or time.time() < joined[2]):
                self.joined += 1
                value, tables, until = joined
                note_tables(tables)
                if until is not None:
                    note_boundary(dt.datetime.fromtimestamp(until, dt.UTC))
                return value  # type: ignore[no-any-return]
        self.misses += 1
        flight = self.flights.begin(key)
        snapshot = stamp.snapshot()
        horizon = Horizon()
        token = CURRENT.set(horizon)
        try:
            value = await part.build(reader(), args)
        except BaseException:
            self.flights.finish(key, flight, None)  # its readers build it themselves
            raise
        finally:
            CURRENT.reset(token)
        tables = frozenset(horizon.tables)
        self.flights.finish(key, flight, (value, tables, horizon.until))
        note_tables(tables)
        if horizon.until is not None:
            note_boundary(dt.datetime.fromtimestamp(horizon.until, dt.UTC))
        dependencies = stamp.unchanged_since(snapshot, tables) if stamp.hearing else None
        if dependencies is not None:
            expires = now + self.max_age
            if horizon.until is not None:
                expires = min(expires, horizon.until)
            if time.time() < expires:
                seal(value)
                self._entries[key] = _Entry(value, dependencies, tables, expires, horizon.until)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value
