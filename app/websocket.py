"""The graphql-transport-ws connection handler: Strawberry's, made strict and laggard-proof.

Every malformed message closes the socket with 4400, as the protocol says (Strawberry's
raised out of the handler on JSON that is not an object). A send the socket has not taken
within `send_timeout` closes the connection with 1013, so a stalled client only delays
itself; one timer per connection watches the sends in flight. Shared operations
(subscriptions/shared.py) are written by a short-lived writer task, so an idle subscription
holds no task. Frames are text, as graphql-ws clients expect. Reasoning and measurements:
docs/adr/0004-live-subscriptions.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from json import JSONDecodeError
from typing import Any

import orjson
from graphql import OperationType
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.types import ExecutionResult

from access.errors import error_in, locale_of
from access.ratelimit import client_key
from access.tokens import account_for_token_again, token_still_live
from events.outbox import Outbox
from schema.limits import selected_operation_type
from subscriptions.shared import Recipient, share_plan, streams_for, viewer_gets_anonymous_answer

log = logging.getLogger("parvis.ws")

# RFC 6455 "Try Again Later": graphql-ws clients retry on it (they give up on 44xx codes).
LAGGARD_CLOSE_CODE = 1013
LAGGARD_CLOSE_REASON = "Client too slow: reconnect and resume with after"
DEFAULT_SEND_TIMEOUT = 10.0
# As Strawberry closes a connection_init it refuses: the token no longer holds.
FORBIDDEN_CLOSE_CODE = 4403
FORBIDDEN_CLOSE_REASON = "Forbidden: the token was revoked or expired; authenticate again"


class LaggardClosed(Exception):
    """Raised in an operation's task when its connection was closed as a laggard."""


class ParvisTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    send_timeout: float = DEFAULT_SEND_TIMEOUT
    # Queries and mutations stop after this long, as over HTTP (None: never).
    operation_timeout: float | None = None
    # Whether shareable operations go through subscriptions/shared.py.
    share_streams: bool = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.laggard = False
        # Sends in progress (task -> loop time it started; None when there are none: an idle
        # connection keeps no table) and the one timer watching them.
        self._sending: dict[asyncio.Task[Any], float] | None = None
        self._stuck: set[asyncio.Task[Any]] | None = None  # made when a laggard is caught
        self._watchdog: asyncio.TimerHandle | None = None
        # This connection's shared operations (id -> recipient), made on the first one.
        self._shared: dict[str, SharedOperation] | None = None

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        # The init timeout's task, once done (cancelled by connection_init, usually), would
        # stay referenced by the handler for the connection's life, with its coroutine and
        # CancelledError traceback (about 1.5 KiB per connection): let it go.
        task = self.connection_init_timeout_task
        if task is not None:
            task.add_done_callback(self._forget_init_timeout)

    def _forget_init_timeout(self, task: asyncio.Task[Any]) -> None:
        if self.connection_init_timeout_task is task:
            self.connection_init_timeout_task = None

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
        sending = self._sending
        if sending is None:
            sending = self._sending = {}
        sending[task] = loop.time()
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.send_timeout, self._watch)
        try:
            await self.websocket.ws.send_text(text)  # type: ignore[attr-defined]
        except asyncio.CancelledError:
            if self._stuck is not None and task in self._stuck:
                self._stuck.discard(task)
                task.uncancel()
                raise LaggardClosed from None
            raise
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
        finally:
            sending.pop(task, None)
            if not sending and self._sending is sending:
                self._sending = None

    def _watch(self) -> None:
        """The watchdog: a send older than send_timeout makes this connection a laggard."""
        self._watchdog = None
        sending = self._sending
        if not sending or self.laggard:
            return  # nothing in flight (or already closing)
        loop = asyncio.get_running_loop()
        now = loop.time()
        stuck = [task for task, began in sending.items() if now - began >= self.send_timeout]
        if not stuck:
            oldest = min(sending.values())
            self._watchdog = loop.call_at(oldest + self.send_timeout, self._watch)
            return
        # Marked now: whatever these tasks try to send next fails at once with LaggardClosed.
        self.laggard = True
        self._stuck = set(stuck)
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
        stuck = self._stuck or set()
        for operation_id, operation in list(self.operations.items()):
            if operation.task in stuck or operation.task is asyncio.current_task():
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
        """Strawberry's message loop (same close codes), without its async generator, and
        letting go of each message once handled: an idle connection waits here for hours,
        holding neither a generator frame nor its last message (about 1.5 KiB)."""
        self.on_request_accepted()
        ws = self.websocket.ws  # type: ignore[attr-defined]
        try:
            try:
                while ws.application_state != WebSocketState.DISCONNECTED:
                    try:
                        text = await ws.receive_text()
                    except KeyError as error:
                        raise NonTextMessageReceived from error
                    except WebSocketDisconnect:
                        break
                    try:
                        message = self.view.decode_json(text)
                    except JSONDecodeError as error:
                        raise NonJsonMessageReceived from error
                    del text
                    await self.handle_message(message)
                    del message
            except NonTextMessageReceived:
                await self.handle_invalid_message("WebSocket message type must be text")
            except NonJsonMessageReceived:
                await self.handle_invalid_message("WebSocket message must be valid JSON")
        except (WebSocketDisconnected, LaggardClosed):
            pass  # gone, or closed as a laggard (a pong or an error could not be sent)
        finally:
            await self.shutdown()

    async def run_operation(self, operation: Any) -> None:
        """Every operation is a request (docs/adr/0013): its token is checked again, it pays
        the address's rate limit, gets its own context, and queries and mutations stop at
        the operation timeout."""
        try:
            context = await self.operation_context()
            if context is None:
                self.operations.pop(operation.id, None)
                await self.close_forbidden()
                return
            if await self.check_rate(operation):
                return
            plan = None
            if self.share_streams:
                try:
                    graphql_schema = self.schema._schema  # type: ignore[attr-defined]
                    plan = share_plan(graphql_schema, operation.query, operation.variables, operation.operation_name)
                    if plan is not None and not await viewer_gets_anonymous_answer(context, plan):
                        plan = None
                except Exception:  # noqa: BLE001 - never worse than the per-subscriber path
                    log.exception("could not tell whether an operation can be shared")
                    plan = None
            if plan is None:
                await self._run_own(operation, context)
            else:
                await self._join_shared(operation, plan, context)
        except LaggardClosed:
            pass

    async def operation_context(self) -> Any | None:
        """This operation's own context, as an HTTP request would get: the viewer read again
        from the connection's token (None: revoked, expired or erased since), fresh loaders
        (roles and visibility as they are now) and its own outbox. The connection's context
        is never executed with: concurrent operations would share loaders and an outbox."""
        connection = self.context
        changes: dict[str, Any] = {"outbox": Outbox()}
        if any(f.name == "query_cost" for f in dataclasses.fields(connection)):
            changes["query_cost"] = None
        if connection.token is not None:
            found = await account_for_token_again(connection.token)
            if found is None:
                return None
            changes["account"], changes["token"] = found
        return dataclasses.replace(connection, **changes)

    async def close_forbidden(self) -> None:
        """Closes the connection as Strawberry refuses a bad connection_init (4403): its
        token no longer holds. Every operation of the connection ends with it."""
        log.info("closing a websocket whose token no longer holds")
        with contextlib.suppress(Exception):
            await self.websocket.close(code=FORBIDDEN_CLOSE_CODE, reason=FORBIDDEN_CLOSE_REASON)

    async def check_rate(self, operation: Any) -> bool:
        """Counts the operation in its address's `requests_ip` bucket, as the HTTP middleware
        counts a request; over the limit, answers it RATE_LIMITED (True) and runs nothing."""
        limiter = getattr(self.context, "limiter", None)
        if limiter is None:
            return False
        decision = await limiter.hit("requests_ip", client_key(self.websocket.ws.scope))  # type: ignore[attr-defined]
        if decision.allowed:
            return False
        seconds = decision.retry_seconds
        await operation.send_initial_errors([error_in(
            locale_of(self.context), "Too many requests; retry in {retryAfterSeconds} seconds.", "RATE_LIMITED",
            {"retryAfter": seconds}, retryAfterSeconds=seconds,
        )])
        return True

    async def _run_own(self, operation: Any, context: Any) -> None:
        """Strawberry's run_operation with this operation's context; a query or mutation is
        stopped after the operation timeout (TIMEOUT), a subscription's events are sent only
        while the connection's token holds."""
        timed = self.operation_timeout is not None and selected_operation_type(
            operation.query, operation.operation_name) in (OperationType.QUERY, OperationType.MUTATION)
        try:
            source = await self.schema.stream(operation.query, variable_values=operation.variables,
                                              context_value=context, root_value=self.root_value,
                                              operation_name=operation.operation_name)
            async with aclosing(source):
                if timed:
                    results = await self._within_timeout(source)
                    await self._send_result_stream(operation, _replay(results))
                else:
                    await self._send_result_stream(operation, self._while_live(source))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except (LaggardClosed, WebSocketDisconnected):
            raise
        except Exception as error:  # noqa: BLE001 - as Strawberry's run_operation: log, complete
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)

    async def _within_timeout(self, source: Any) -> list[Any]:
        """The results of a query or mutation, or one TIMEOUT error once the operation
        timeout passed (the work is cancelled: its transaction rolls back)."""
        timeout = self.operation_timeout
        assert timeout is not None
        try:
            async with asyncio.timeout(timeout):
                return [result async for result in source]
        except TimeoutError:
            metrics = getattr(self.context, "metrics", None)
            if metrics is not None:
                metrics.inc("parvis_graphql_errors_total", code="TIMEOUT")
            return [ExecutionResult(data=None, errors=[error_in(
                locale_of(self.context), "The operation took longer than {seconds} s and was stopped.", "TIMEOUT",
                seconds=f"{timeout:g}",
            )])]

    async def _while_live(self, source: Any) -> AsyncGenerator[Any, None]:
        """A subscription's results; before each is sent, the connection's token is checked
        again (one indexed read, as each HTTP request makes): revoked, expired or erased, the
        subscription ends with UNAUTHENTICATED instead (as `notifications` always did), and
        the connection's next operation closes it (4403)."""
        async for result in source:
            if self.context.token is not None and not await token_still_live(self.context.token):
                yield ExecutionResult(data=None, errors=[error_in(
                    locale_of(self.context), "The token of this connection was revoked or expired: authenticate again.",
                    "UNAUTHENTICATED",
                )])
                return
            yield result

    async def _join_shared(self, operation: Any, plan: Any, context: Any) -> None:
        """Make the operation a recipient of its shared stream. Its task ends here: from now
        on the recipient's writer (started by the group, see SharedOperation) sends its
        frames, and cleanup_operation (complete, socket closed, laggard) lets it go."""
        recipient = SharedOperation(self, operation, plan.replay_latest)
        if self._shared is None:
            self._shared = {}
        self._shared[operation.id] = recipient
        # Nothing is left for this task to do: cleanup_operation lets the recipient go
        # instead of cancelling it, and the finished task is not kept.
        operation.task = None
        try:
            group = streams_for(context.broker).join(self.schema, plan, recipient, operation.query,
                                                     operation.variables, operation.operation_name, context)
            # The group holds an equal document and variables: this connection's decoded
            # copies (a few hundred bytes, for hours) can go.
            operation.query, operation.variables = group.query, group.variables
        except Exception as error:  # noqa: BLE001 - as Strawberry's run_operation: log, complete
            self._drop_shared(recipient)
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        recipient = self._shared.get(operation_id) if self._shared else None
        if recipient is None:
            await super().cleanup_operation(operation_id)
            return
        self.operations.pop(operation_id, None)
        self._drop_shared(recipient)

    def _drop_shared(self, recipient: SharedOperation) -> None:
        """The recipient leaves its group and this connection; a write in progress stops (as
        Strawberry cancels an operation's task), unless the watchdog already stopped it."""
        if self._shared is not None and self._shared.get(recipient.operation.id) is recipient:
            del self._shared[recipient.operation.id]
        recipient.closed = True
        recipient.leave()
        writer = recipient.writer
        if writer is not None and writer is not asyncio.current_task() and (
                self._stuck is None or writer not in self._stuck):
            writer.cancel()

    async def write_shared(self, recipient: SharedOperation) -> None:
        """The recipient's writer: its pending frames, then its end (complete, or the error
        the group met before any result). Started by the recipient when the group hands it
        something; ends when nothing is left, so an idle subscription has no task."""
        operation = recipient.operation
        try:
            while (frame := recipient.take()) is not None:
                await self.send_text(frame)
            if recipient.ended and not recipient.closed:
                self._drop_shared(recipient)
                if recipient.error is not None:
                    await operation.send_operation_message(
                        {"id": operation.id, "type": "error", "payload": recipient.error})
                else:
                    await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except (LaggardClosed, WebSocketDisconnected):
            pass  # the connection is closing: its cleanup lets the recipient go
        except Exception as error:  # noqa: BLE001 - as Strawberry's run_operation: log, complete
            await self.handle_task_exception(error)
            if not recipient.closed:
                self._drop_shared(recipient)
                self.operations.pop(operation.id, None)
                with contextlib.suppress(Exception):
                    await self.send_message({"id": operation.id, "type": "complete"})
        finally:
            recipient.writer = None


class SharedOperation(Recipient):
    """A shared operation of one connection: the group's recipient, written to the socket
    by a short-lived writer task (ParvisTransportWSHandler.write_shared) that exists only
    while something waits to be written. One writer at a time keeps the frames in order."""

    __slots__ = ("closed", "handler", "operation", "writer")

    def __init__(self, handler: ParvisTransportWSHandler, operation: Any, coalesce: bool) -> None:
        super().__init__(operation.id, coalesce)
        self.handler = handler
        self.operation = operation
        self.writer: asyncio.Task[None] | None = None
        self.closed = False

    def wake(self) -> None:
        if self.writer is None and not self.closed:
            self.writer = asyncio.get_running_loop().create_task(self.handler.write_shared(self))


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
        # Checked as given, not with `or`: an operationName of {} or 0 was an unexpected error.
        if not isinstance(payload.get("variables"), (dict, type(None))):
            return "Subscribe variables must be an object"
        if not isinstance(payload.get("operationName"), (str, type(None))):
            return "Subscribe operationName must be a string"
        if not isinstance(payload.get("extensions"), (dict, type(None))):
            return "Subscribe extensions must be an object"
    return None


async def _replay(results: list[Any]) -> AsyncGenerator[Any, None]:
    for result in results:
        yield result


def transport_ws_handler(send_timeout: float, operation_timeout: float | None = None) -> type[ParvisTransportWSHandler]:
    """The handler class for a GraphQL view, with this deployment's send and operation timeouts."""
    return type("TransportWSHandler", (ParvisTransportWSHandler,),
                {"send_timeout": send_timeout, "operation_timeout": operation_timeout})
