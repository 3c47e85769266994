"""A websocket crowd for bench/fanout.py: N client sockets in one asyncio process.

    python bench/wsclients.py SPEC.json     (then JSON commands on stdin, one JSON answer per line on stdout)

Spec: {"targets": [{"port": 8000, "path": "/graphql"}, ...], "mode": "graphql" | "raw",
       "query": "...", "variables": {...}, "deflate": false, "token": null}
Commands (one JSON object per line):
  {"cmd": "open", "count": N}   open N more sockets, spread round-robin over the targets; for
                                "graphql": connection_init, then one subscribe each (id "s<i>"),
                                answered once every socket has its first `next` message
  {"cmd": "arm", "needle": "..."}   from now on, note when each socket first receives a message
                                containing `needle` (bytes of the decoded text)
  {"cmd": "wait", "timeout": 30}    wait until every socket has it: {"got", "last", "first", "ids_ok"}
  {"cmd": "quit"}

Each socket is a bare asyncio.Protocol (no task per socket, no per-message library
overhead): the handshake is written by hand, server frames are parsed just enough, pings
are answered, and `permessage-deflate` is offered (and inflated) only with "deflate".
Times are time.monotonic() (CLOCK_MONOTONIC: comparable across processes). 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import struct
import sys
import time
import zlib
from typing import Any

HOST = "127.0.0.1"
CONNECT_CONCURRENCY = 50


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 200_000
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def client_frame(text: str, opcode: int = 0x1) -> bytes:
    """A masked client frame (the mask is random, as RFC 6455 requires)."""
    payload = text.encode() if isinstance(text, str) else text
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class Client(asyncio.Protocol):
    def __init__(self, crowd: Crowd, index: int, port: int, path: str) -> None:
        self.crowd = crowd
        self.index = index
        self.op_id = f"s{index}"
        self.port = port
        self.path = path
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.inflate: Any = None
        self.fresh_inflate = False
        self.ready = asyncio.get_running_loop().create_future()
        self.seen_at: float | None = None
        self.seen_ok = True
        self.closed: str | None = None

    # -- the handshake
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Upgrade: websocket",
            "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
        ]
        if self.crowd.mode == "graphql":
            lines.append("Sec-WebSocket-Protocol: graphql-transport-ws")
        if self.crowd.deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").lower()
            del self.buffer[: end + 4]
            if not head.startswith("http/1.1 101"):
                self._fail(f"handshake: {head.splitlines()[0] if head else '?'}")
                return
            self.upgraded = True
            if "permessage-deflate" in head:
                self.fresh_inflate = "server_no_context_takeover" in head
                self.inflate = zlib.decompressobj(-15)
            if self.crowd.mode == "graphql":
                init = {"type": "connection_init", "payload": (
                    {"authorization": f"Bearer {self.crowd.token}"} if self.crowd.token else {})}
                self.send(json.dumps(init))
            else:
                self._ready()
        self._frames(now)

    def _frames(self, now: float) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            offset = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = struct.unpack_from("!H", buf, 2)[0]
                offset = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = struct.unpack_from("!Q", buf, 2)[0]
                offset = 10
            if len(buf) < offset + n:
                return
            payload = bytes(buf[offset: offset + n])
            del buf[: offset + n]
            opcode = b0 & 0x0F
            if b0 & 0x40 and self.inflate is not None:
                if self.fresh_inflate:
                    self.inflate = zlib.decompressobj(-15)
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            if opcode == 0x9:  # ping
                self.transport.write(client_frame(payload, 0xA))  # type: ignore[union-attr]
            elif opcode == 0x8:
                code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else None
                self._fail(f"closed by the server ({code})")
            elif opcode in (0x1, 0x2):
                self._message(payload, now)

    def _message(self, payload: bytes, now: float) -> None:
        needle = self.crowd.needle
        if needle is not None and self.seen_at is None and self.ready.done() and needle in payload:
            self.seen_at = now
            if self.crowd.mode == "graphql":
                message = json.loads(payload)
                self.seen_ok = message.get("id") == self.op_id and message.get("type") == "next"
            self.crowd.arrived(now)
            return
        if self.crowd.mode != "graphql":
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "connection_ack":
            self.send(json.dumps({"id": self.op_id, "type": "subscribe", "payload": {
                "query": self.crowd.query, "variables": self.crowd.variables}}))
        elif kind == "next" and not self.ready.done():
            if message.get("id") != self.op_id or message["payload"].get("errors"):
                self._fail(f"unexpected first message: {payload[:200]!r}")
            else:
                self._ready()
        elif kind == "ping":
            self.send(json.dumps({"type": "pong"}))
        elif kind in ("error", "complete"):
            self._fail(f"{kind}: {payload[:200]!r}")

    def send(self, text: str) -> None:
        self.transport.write(client_frame(text))  # type: ignore[union-attr]

    def _ready(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def _fail(self, why: str) -> None:
        self.closed = why
        if not self.ready.done():
            self.ready.add_done_callback(lambda f: f.exception())
            self.ready.set_exception(RuntimeError(f"socket {self.index}: {why}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost ({exc})")


class Crowd:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.targets = spec["targets"]
        self.mode = spec["mode"]
        self.query = spec.get("query")
        self.variables = spec.get("variables") or {}
        self.deflate = bool(spec.get("deflate"))
        self.token = spec.get("token")
        self.clients: list[Client] = []
        self.retries: list[str] = []
        self.needle: bytes | None = None
        self.got = 0
        self.first = self.last = 0.0
        self.all_arrived = asyncio.Event()

    def arrived(self, now: float) -> None:
        self.got += 1
        if self.got == 1:
            self.first = now
        self.last = max(self.last, now)
        if self.got >= len(self.clients):
            self.all_arrived.set()

    async def open(self, count: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(index: int) -> None:
            target = self.targets[index % len(self.targets)]
            async with gate:
                for attempt in range(3):
                    client = Client(self, index, target["port"], target["path"])
                    try:
                        await loop.create_connection(lambda c=client: c, HOST, target["port"])
                        await asyncio.wait_for(client.ready, 60)
                    except (OSError, RuntimeError, TimeoutError) as exc:
                        # A socket the server dropped while opening: counted, retried.
                        self.retries.append(repr(exc))
                        if client.transport is not None:
                            client.transport.close()
                        if attempt == 2:
                            raise
                        await asyncio.sleep(0.5)
                        continue
                    self.clients.append(client)
                    return

        base = len(self.clients)
        await asyncio.gather(*(one(base + i) for i in range(count)))
        return {"open": len(self.clients), "seconds": time.monotonic() - started,
                "retries": len(self.retries), "retry_sample": self.retries[:3]}

    def arm(self, needle: str) -> dict[str, Any]:
        self.needle = needle.encode()
        self.got = 0
        self.first = self.last = 0.0
        self.all_arrived = asyncio.Event()
        for client in self.clients:
            client.seen_at = None
            client.seen_ok = True
        return {"armed": len(self.clients)}

    async def wait(self, seconds: float) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self.all_arrived.wait(), seconds)
        except TimeoutError:
            pass
        self.needle = None
        closed = [c.closed for c in self.clients if c.closed]
        return {"got": self.got, "of": len(self.clients), "first": self.first, "last": self.last,
                "ids_ok": all(c.seen_ok for c in self.clients), "closed": len(closed),
                "closed_sample": closed[:2]}


async def main(spec: dict[str, Any]) -> None:
    raise_fd_limit()
    crowd = Crowd(spec)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"hello": True}), flush=True)
    while line := await reader.readline():
        command = json.loads(line)
        try:
            if command["cmd"] == "open":
                answer = await crowd.open(command["count"])
            elif command["cmd"] == "arm":
                answer = crowd.arm(command["needle"])
            elif command["cmd"] == "wait":
                answer = await crowd.wait(command.get("timeout", 30))
            elif command["cmd"] == "quit":
                break
            else:
                answer = {"error": f"unknown command {command['cmd']}"}
        except Exception as exc:  # noqa: BLE001 - reported to the orchestrator
            answer = {"error": repr(exc)}
        print(json.dumps(answer), flush=True)
    for client in crowd.clients:
        if client.transport is not None:
            client.transport.close()


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        asyncio.run(main(json.load(spec_file)))
