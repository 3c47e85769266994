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
client reconnects and resumes with `after`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

log = logging.getLogger("parvis.ws")

# RFC 6455 "Try Again Later": graphql-ws clients retry on it (they give up on 44xx codes).
LAGGARD_CLOSE_CODE = 1013
LAGGARD_CLOSE_REASON = "Client too slow: reconnect and resume with after"
DEFAULT_SEND_TIMEOUT = 10.0


class LaggardClosed(Exception):
    """Raised in an operation's task when its connection was closed as a laggard."""


class ParvisTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    send_timeout: float = DEFAULT_SEND_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.laggard = False

    async def handle_message(self, message: Any) -> None:
        problem = _malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            message = {**message, "payload": {}}
        await super().handle_message(message)

    async def send_message(self, message: Any) -> None:
        if self.laggard:
            raise LaggardClosed
        try:
            async with asyncio.timeout(self.send_timeout):
                await super().send_message(message)
        except TimeoutError:
            await self._close_laggard()
            raise LaggardClosed from None

    async def _close_laggard(self) -> None:
        if self.laggard:
            return
        self.laggard = True
        log.warning("closing a websocket that took no message in %.1f s (%d operations)",
                    self.send_timeout, len(self.operations))
        # The operations end now, whatever the socket does: their hub memberships and
        # broker listeners are released at once (the current one by LaggardClosed).
        current = asyncio.current_task()
        for operation_id, operation in list(self.operations.items()):
            if operation.task is current:
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
            await super().run_operation(operation)
        except LaggardClosed:
            pass


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
