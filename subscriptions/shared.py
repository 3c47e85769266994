"""Shared streams: one execution and one serialization per event for a crowd of subscribers.

Subscribers that send the same pollResults or officialReplies document with the same
variables, selecting only fields in VIEWER_INDEPENDENT, and who would get the anonymous answer
(not staff there), form one group per process. The group runs `schema.stream` once and hands
each recipient the same serialized payload, which its connection splices into its own `next`
frame. A recipient holds no task while idle: the group wakes it. Reasoning and measurements:
docs/adr/0004-live-subscriptions.md.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import gc
import logging
import weakref
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    parse,
    validate,
    visit,
)
from graphql.type import get_named_type
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from events.outbox import Outbox
from models.polls import Poll as PollRow
from schema.relay import decode_id_of

log = logging.getLogger("parvis.live")

# Fields whose value is the same for every viewer allowed to see the object (no viewer
# state, no per-viewer visibility below them). Keep this list short and obvious.
VIEWER_INDEPENDENT: dict[str, frozenset[str]] = {
    "Subscription": frozenset({"pollResults", "officialReplies"}),
    "PollResults": frozenset({"poll", "totalVotes", "options", "final"}),
    "OptionResult": frozenset({"option", "votes", "share"}),
    "PollOption": frozenset({"id", "label"}),
    "Poll": frozenset({"id", "question", "multipleChoice", "verifiedOnly", "opensAt", "closesAt", "status",
                       "resultsVisibility", "options"}),
    "Reply": frozenset({"id", "body", "createdAt", "official", "question"}),
    "Official": frozenset({"id", "displayName", "title", "role"}),
    "Question": frozenset({"id", "title", "body", "status", "createdAt", "dueAt", "overdue", "closedReason"}),
}
# Root field -> (the argument naming what visibility depends on, whether a recipient joining
# late gets the latest payload at once: pollResults starts with the current state,
# officialReplies with nothing).
SHARED_ROOTS: dict[str, tuple[str, bool]] = {
    "pollResults": ("pollId", True),
    "officialReplies": ("territoryId", False),
}
RECIPIENT_QUEUE = 500
PLAN_CACHE = 256


@dataclass(frozen=True)
class Plan:
    """How a shareable operation is shared: its root field and the value of its scoping argument."""

    root: str
    scope_argument: str | None  # the raw global id (pollId / territoryId); None: not a plain value
    replay_latest: bool


class _Unshareable(Exception):
    pass


class _Checker(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        name = node.name.value
        if name == "__typename":
            return
        parent = self.type_info.get_parent_type()
        parent_name = get_named_type(parent).name if parent is not None else None
        if parent_name is None or name not in VIEWER_INDEPENDENT.get(parent_name, ()):
            raise _Unshareable(f"{parent_name}.{name}")


_plans: collections.OrderedDict[tuple[int, str, str | None], tuple[str, str | None, bool] | None] = (
    collections.OrderedDict()
)


def _analyse(graphql_schema: Any, query: str, operation_name: str | None) -> tuple[str, str | None, bool] | None:
    """(root field, scoping argument's variable name or literal marker, replay) or None."""
    try:
        document = parse(query, max_tokens=5_000)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.SUBSCRIPTION:
        return None
    operation = operations[0]
    if operation_name is not None and (operation.name is None or operation.name.value != operation_name):
        return None
    if validate(graphql_schema, document):
        return None  # the per-subscriber path reports the errors
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives:
        return None
    root = selections[0]
    if root.name.value not in SHARED_ROOTS or root.alias is not None:
        return None
    type_info = TypeInfo(graphql_schema)
    try:
        visit(document, TypeInfoVisitor(type_info, _Checker(type_info)))
    except _Unshareable:
        return None
    argument_name, replay = SHARED_ROOTS[root.name.value]
    scope: str | None = None
    for argument in root.arguments or ():
        if argument.name.value == argument_name:
            if isinstance(argument.value, VariableNode):
                scope = "$" + argument.value.name.value
            elif isinstance(argument.value, StringValueNode):
                scope = "=" + argument.value.value
    if scope is None:
        return None
    return root.name.value, scope, replay


def share_plan(graphql_schema: Any, query: str, variables: dict[str, Any] | None,
               operation_name: str | None) -> Plan | None:
    """How this operation can be shared, or None (per-subscriber execution)."""
    key = (id(graphql_schema), query, operation_name)
    if key in _plans:
        _plans.move_to_end(key)
        analysed = _plans[key]
    else:
        analysed = _analyse(graphql_schema, query, operation_name)
        _plans[key] = analysed
        if len(_plans) > PLAN_CACHE:
            _plans.popitem(last=False)
    if analysed is None:
        return None
    root, scope, replay = analysed
    value: Any = scope[1:] if scope and scope[0] == "=" else (variables or {}).get(scope[1:]) if scope else None
    if not isinstance(value, str):
        return None
    return Plan(root=root, scope_argument=value, replay_latest=replay)


async def viewer_gets_anonymous_answer(context: Any, plan: Plan) -> bool:
    """Whether this viewer's answer is the anonymous one: not staff where the stream is.

    A hidden (or unknown) poll is never shared: a group replays its latest payload to
    newcomers, which may predate the hiding; the per-subscriber path answers NOT_FOUND to
    non-staff and serves staff. (One read per subscribe, as the per-subscriber path does.)"""
    if getattr(context, "auth_failed", False):
        return False
    territory_pk: int | None
    if plan.root == "pollResults":
        pk = decode_id_of(plan.scope_argument, "Poll")
        if pk is None:
            return False
        row = await PollRow.filter(id=pk).first().values_list("territory_id", "hidden")
        if row is None or row[1]:
            return False
        territory_pk = row[0]
    else:
        territory_pk = decode_id_of(plan.scope_argument, "Territory")
    if getattr(context, "account", None) is None:
        return True
    if territory_pk is None:
        return False  # unknown: the per-subscriber path answers NOT_FOUND
    context.fresh_loaders()
    return not await context.is_staff(territory_pk)


class Recipient:
    """One subscriber in a group: the shared payloads it has not taken yet, and whether the
    group ended.

    A recipient holds no task and no event of its own (an idle subscription costs this small
    object): the group hands it payloads (`offer`) and its end (`end`), each of which calls
    `wake()`; the connection overrides `wake` to start writing what `take` returns
    (subscriptions/websocket.py). Coalescing recipients (pollResults) keep only the latest
    unread payload; the others (officialReplies) a queue of at most RECIPIENT_QUEUE, made on
    first use and dropped once drained, whose oldest payloads are dropped on overflow."""

    __slots__ = ("_latest", "_queue", "coalesce", "dropped", "ended", "error", "group", "prefix")

    def __init__(self, operation_id: str, coalesce: bool) -> None:
        self.prefix = '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":'
        self.coalesce = coalesce
        self._latest: str | None = None
        self._queue: collections.deque[str] | None = None
        self.dropped = 0
        self.ended = False
        self.error: list[Any] | None = None
        self.group: Group | None = None

    def offer(self, payload: str) -> None:
        if self.coalesce:
            self._latest = payload
        else:
            if self._queue is None:
                self._queue = collections.deque(maxlen=RECIPIENT_QUEUE)
            elif len(self._queue) == RECIPIENT_QUEUE:
                self.dropped += 1
            self._queue.append(payload)
        self.wake()

    def end(self, error: list[Any] | None = None) -> None:
        self.ended = True
        self.error = error
        self.wake()

    def take(self) -> str | None:
        """The next `next` frame (text) to write, or None when nothing is pending."""
        if self.coalesce:
            payload, self._latest = self._latest, None
        elif self._queue:
            payload = self._queue.popleft()
            if not self._queue:
                self._queue = None
        else:
            payload = None
        return None if payload is None else self.prefix + payload + "}"

    def wake(self) -> None:
        """Called (never awaited) when there is something to take or the group ended."""

    def leave(self) -> None:
        """Out of the group (idempotent): the last recipient out stops the group's stream."""
        group, self.group = self.group, None
        if group is not None:
            group.remove(self)


class Group:
    """One execution of a shareable operation, fanned out to its recipients."""

    def __init__(self, streams: SharedStreams, key: tuple[Any, ...], schema: Any, query: str,
                 variables: dict[str, Any] | None, operation_name: str | None, context: Any,
                 replay_latest: bool) -> None:
        self.streams = streams
        self.key = key
        self.query = query
        self.variables = variables
        self.recipients: set[Recipient] = set()
        self.latest: str | None = None
        self.replay_latest = replay_latest
        self.finished = False
        self.results = 0
        self.metrics = getattr(context, "metrics", None)
        self.task = asyncio.get_running_loop().create_task(
            self._run(schema, query, variables, operation_name, context))

    def add(self, recipient: Recipient) -> None:
        recipient.group = self
        self.recipients.add(recipient)
        if self.metrics is not None:
            self.metrics.gauge("parvis_ws_shared_members", 1)
        if self.replay_latest and self.latest is not None:
            recipient.offer(self.latest)

    def remove(self, recipient: Recipient) -> None:
        if recipient not in self.recipients:
            return
        self.recipients.discard(recipient)
        if self.metrics is not None:
            self.metrics.gauge("parvis_ws_shared_members", -1)
        if not self.recipients and not self.finished:
            self._close()
            self.task.cancel()

    def _close(self) -> None:
        self.finished = True
        if self.streams.groups.get(self.key) is self:
            del self.streams.groups[self.key]

    def _end(self, error: list[Any] | None = None) -> None:
        # Out of the registry first: whoever subscribes from now on starts a new execution.
        self._close()
        for recipient in list(self.recipients):
            recipient.end(error)

    async def _run(self, schema: Any, query: str, variables: dict[str, Any] | None,
                   operation_name: str | None, context: Any) -> None:
        error: list[Any] | None = None
        try:
            source = await schema.stream(query, variable_values=variables, context_value=context,
                                         operation_name=operation_name)
            async with aclosing(source):
                first = True
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        error = [e.formatted for e in result.errors or ()]
                        return
                    if not isinstance(result, ExecutionResult):
                        error = [GraphQLError("Incremental delivery is not supported over "
                                              "graphql-transport-ws").formatted]
                        return
                    first = False
                    self._publish(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shared stream %s failed", self.key[:1])
        finally:
            if not self.finished or self.recipients:
                self._end(error)

    def _publish(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        text = orjson.dumps(payload).decode()  # serialized once for every recipient
        self.latest = text
        self.results += 1
        if self.metrics is not None:
            self.metrics.inc("parvis_ws_shared_results_total")
        # Waking 10,000 recipients allocates 10,000 loop handles and tasks; with the heap of
        # 10,000 connections, the collections these allocations trigger cost more than the
        # wake-ups themselves (profiled: over half of a fan-out's CPU). Nothing else runs
        # during this loop (no await), so the collector is paused for its duration only.
        paused = gc.isenabled()
        gc.disable()
        try:
            for recipient in list(self.recipients):
                recipient.offer(text)
        finally:
            if paused:
                gc.enable()


class SharedStreams:
    """This process's shared groups (one registry per broker, so per app).

    Metrics (GET /metrics): parvis_ws_shared_groups and parvis_ws_shared_members (gauges),
    parvis_ws_shared_results_total (payloads executed and serialized once for a group)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[Any, ...], Group] = {}

    def join(self, schema: Any, plan: Plan, recipient: Recipient, query: str, variables: dict[str, Any] | None,
             operation_name: str | None, context: Any) -> Group:
        """Put `recipient` in the group of this document and variables (started if need be);
        it stays there until `recipient.leave()`. A group that already has a payload hands
        it to the newcomer at once when the plan replays the latest."""
        # (orjson's bytes keep a 4 KiB buffer: the key holds a str, once per group)
        key = (query, operation_name, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode())
        group = self.groups.get(key)
        if group is None or group.finished:
            group = self.groups[key] = Group(self, key, schema, query, variables, operation_name,
                                             anonymous(context), plan.replay_latest)
            metrics = group.metrics
            if metrics is not None:
                metrics.gauge("parvis_ws_shared_groups", 1)
                group.task.add_done_callback(lambda _: metrics.gauge("parvis_ws_shared_groups", -1))
        group.add(recipient)
        return group


def anonymous(context: Any) -> Any:
    """The group's context: the connection's, as an anonymous viewer with no request."""
    changes: dict[str, Any] = {"account": None, "token": None, "auth_failed": False, "request": None,
                               "response": None, "outbox": Outbox()}
    if any(f.name == "connection_params" for f in dataclasses.fields(context)):
        changes["connection_params"] = None
    if any(f.name == "query_cost" for f in dataclasses.fields(context)):
        changes["query_cost"] = None
    return dataclasses.replace(context, **changes)


_STREAMS: weakref.WeakKeyDictionary[Any, SharedStreams] = weakref.WeakKeyDictionary()


def streams_for(broker: Any) -> SharedStreams:
    streams = _STREAMS.get(broker)
    if streams is None:
        streams = _STREAMS[broker] = SharedStreams()
    return streams
