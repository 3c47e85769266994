"""The graphql-transport-ws connection handler: Strawberry's, made strict and laggard-proof.

Strawberry's handler enforces the protocol's close codes (4401, 4408, 4409, 4429), but a
frame that is valid JSON and not an object (`[]`, `"x"`) or a subscribe whose payload is
not an object raised a TypeError out of the handler: uvicorn then dropped the socket with
1011 and logged a traceback. Here every malformed message closes with 4400, as the
protocol says, and a `connection_init` with a null payload is accepted (the protocol
allows it).

A client that stops reading (a phone in a tunnel, a stalled proxy) fills the socket's
buffers; from then on every send to it waits. Each operation runs in its own task and
the hubs never await a subscriber (they hand values to bounded mailboxes), so the other
clients are not delayed; but the laggard's tasks would wait forever, and its server-side
keepalive ping is stuck behind the same buffer. So a send that the socket has not taken
within `send_timeout` seconds closes the connection with 1013 (try again later): the
laggard's subscriptions end at once (releasing their hub and broker listeners), and the
client reconnects and resumes with `after`. One timer per connection watches the sends in
progress (not one per send: a fan-out writes to 10,000 sockets at once).

Operations that many subscribers share (the same pollResults or officialReplies document
and variables, fields that do not depend on the viewer, a viewer who is not staff there)
are executed and serialized once per process and event (subscriptions/shared.py); this
handler then writes the shared payload, spliced with the operation's own id, to its
socket, under the same send timeout.

Frames are sent as text (RFC 6455 opcode 1), as graphql-transport-ws requires: the app
encodes JSON with orjson (bytes), which Strawberry would send as binary frames that
browser clients (graphql-ws) cannot parse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from subscriptions.shared import share_plan, streams_for, viewer_gets_anonymous_answer

log = logging.getLogger("parvis.ws")

# RFC 6455 "Try Again Later": graphql-ws clients retry on it (they give up on 44xx codes).
LAGGARD_CLOSE_CODE = 1013
LAGGARD_CLOSE_REASON = "Client too slow: reconnect and resume with after"
DEFAULT_SEND_TIMEOUT = 10.0


class LaggardClosed(Exception):
    """Raised in an operation's task when its connection was closed as a laggard."""


class ParvisTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    send_timeout: float = DEFAULT_SEND_TIMEOUT
    # Whether shareable operations go through subscriptions/shared.py.
    share_streams: bool = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.laggard = False
        # Sends in progress (task -> loop time it started) and the one timer watching them.
        self._sending: dict[asyncio.Task[Any], float] = {}
        self._stuck: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.TimerHandle | None = None

    async def handle_message(self, message: Any) -> None:
        problem = _malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            message = {**message, "payload": {}}
        await super().handle_message(message)

    async def send_message(self, message: Any) -> None:
        await self.send_text(orjson.dumps(message).decode())

    async def send_text(self, text: str) -> None:
        """One text frame, within the send timeout (else the connection closes with 1013).

        A fan-out writes to 10,000 sockets at once: rather than a timer per send (an
        asyncio.timeout each: about a tenth of a fan-out's CPU), one timer per connection
        watches the sends in progress and is armed only when none is armed."""
        if self.laggard:
            raise LaggardClosed
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        self._sending[task] = loop.time()
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.send_timeout, self._watch)
        try:
            await self.websocket.ws.send_text(text)  # type: ignore[attr-defined]
        except asyncio.CancelledError:
            if task in self._stuck:
                self._stuck.discard(task)
                task.uncancel()
                raise LaggardClosed from None
            raise
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
        finally:
            self._sending.pop(task, None)

    def _watch(self) -> None:
        """The watchdog: a send older than send_timeout makes this connection a laggard."""
        self._watchdog = None
        if not self._sending or self.laggard:
            return  # nothing in flight (or already closing)
        loop = asyncio.get_running_loop()
        now = loop.time()
        stuck = [task for task, began in self._sending.items() if now - began >= self.send_timeout]
        if not stuck:
            oldest = min(self._sending.values())
            self._watchdog = loop.call_at(oldest + self.send_timeout, self._watch)
            return
        # Marked now: whatever these tasks try to send next fails at once with LaggardClosed.
        self.laggard = True
        self._stuck.update(stuck)
        for task in stuck:
            task.cancel()
        closing = loop.create_task(self._close_laggard())
        closing.add_done_callback(self._task_done)

    async def _close_laggard(self) -> None:
        """Called by the watchdog's task, once this connection is marked a laggard."""
        log.warning("closing a websocket that took no message in %.1f s (%d operations)",
                    self.send_timeout, len(self.operations))
        # The operations end now, whatever the socket does: their hub memberships and
        # broker listeners are released at once (the stuck ones by LaggardClosed).
        for operation_id, operation in list(self.operations.items()):
            if operation.task in self._stuck or operation.task is asyncio.current_task():
                self.operations.pop(operation_id, None)
            else:
                await self.cleanup_operation(operation_id)
        # The close frame waits behind the unread data; the server aborts the TCP
        # connection if the client never reads it.
        try:
            await self.websocket.close(code=LAGGARD_CLOSE_CODE, reason=LAGGARD_CLOSE_REASON)
        except Exception as exc:  # noqa: BLE001 - already closing or gone: nothing to do
            log.debug("closing a laggard failed: %s", exc)

    async def handle(self) -> None:
        try:
            await super().handle()
        except LaggardClosed:
            pass  # a pong or an error message could not be sent: closed above

    async def run_operation(self, operation: Any) -> None:
        try:
            plan = None
            if self.share_streams:
                try:
                    graphql_schema = self.schema._schema  # type: ignore[attr-defined]
                    plan = share_plan(graphql_schema, operation.query, operation.variables, operation.operation_name)
                    if plan is not None and not await viewer_gets_anonymous_answer(self.context, plan):
                        plan = None
                except Exception:  # noqa: BLE001 - never worse than the per-subscriber path
                    log.exception("could not tell whether an operation can be shared")
                    plan = None
            if plan is None:
                await super().run_operation(operation)
            else:
                await self._run_shared(operation, plan)
        except LaggardClosed:
            pass

    async def _run_shared(self, operation: Any, plan: Any) -> None:
        """A member of a shared stream: the group's payloads with this operation's id, then
        the group's end (complete, or error before any result)."""
        streams = streams_for(self.context.broker)
        try:
            async with streams.join(self.schema, plan, operation.id, operation.query, operation.variables,
                                    operation.operation_name, self.context) as member:
                async for frame in member.frames():
                    await self.send_text(frame)
                error = member.error
            if error is not None:
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": error})
            else:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except (LaggardClosed, asyncio.CancelledError, WebSocketDisconnected):
            raise
        except Exception as error:  # noqa: BLE001 - as Strawberry's run_operation: log, complete
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)


def _malformed(message: Any) -> str | None:
    """Why a client message breaks the protocol's shape (None: well formed)."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string type"
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"A {kind} message needs a string id"
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return "A subscribe payload needs a query string"
        if not isinstance(payload.get("variables") or {}, dict):
            return "Subscribe variables must be an object"
        if not isinstance(payload.get("operationName") or "", str):
            return "Subscribe operationName must be a string"
    return None


def transport_ws_handler(send_timeout: float) -> type[ParvisTransportWSHandler]:
    """The handler class for a GraphQL view, with this deployment's send timeout."""
    return type("TransportWSHandler", (ParvisTransportWSHandler,), {"send_timeout": send_timeout})
