"""A light HTTP/1.1 load generator: one process, asyncio, raw sockets, keep-alive.

    python bench/loadgen.py SPEC.json   ->  prints one JSON report on stdout

The spec (written by bench/home.py and bench/votes.py):
    {"port": 8000, "concurrency": 32, "duration": 10, "warmup": 2,
     "requests": [{"path": "/graphql", "body": "...", "headers": {...}}, ...],
     "max_requests": null | N,     # null: cycle through `requests` until time is up;
                                   # N: send each request at most once, N in all (bounded count)
     "check": "status" | "no-errors" | "vote"}

The machine has 2 cores shared with the server under test, so this client does as little
as it can per request: requests are encoded once, responses are parsed just enough to
find their end (Content-Length or chunked) and to check them. Only 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

HOST = "127.0.0.1"


def encode(port: int, request: dict[str, Any]) -> bytes:
    body = request["body"].encode()
    lines = [f"POST {request['path']} HTTP/1.1", f"host: {HOST}:{port}", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in request["headers"].items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length = None
    chunked = False
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if not chunked:
        raise RuntimeError("response without Content-Length nor chunked encoding")
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def acceptable(check: str, status: int, body: bytes) -> bool:
    if status != 200:
        return False
    if check == "status":
        return True
    if b'"errors"' in body:
        return False
    if check == "vote":
        return b'"userErrors":[]' in body
    return True


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    port = int(spec["port"])
    payloads = [encode(port, r) for r in spec["requests"]]
    bounded = spec.get("max_requests")
    limit = min(int(bounded), len(payloads)) if bounded is not None else None
    check = spec.get("check", "status")
    concurrency = int(spec["concurrency"])
    started = time.perf_counter()
    warm_end = started + float(spec["warmup"])
    deadline = warm_end + float(spec["duration"])

    next_index = 0
    latencies: list[float] = []
    errors = 0
    ok_total = 0
    bad: list[str] = []
    last_done = warm_end

    def take() -> bytes | None:
        nonlocal next_index
        if limit is not None:
            if next_index >= limit:
                return None
            payload = payloads[next_index]
        else:
            payload = payloads[next_index % len(payloads)]
        next_index += 1
        return payload

    async def worker() -> None:
        nonlocal errors, ok_total, last_done
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while True:
                begin = time.perf_counter()
                if begin >= deadline:
                    return
                payload = take()
                if payload is None:
                    return
                writer.write(payload)
                status, body = await read_response(reader)
                end = time.perf_counter()
                good = acceptable(check, status, body)
                ok_total += good
                if begin >= warm_end:
                    latencies.append(end - begin)
                    last_done = max(last_done, end)
                    if not good:
                        errors += 1
                if not good and len(bad) < 3:
                    bad.append(f"{status} {body[:300]!r}")
        finally:
            writer.close()
            with_suppress = writer.wait_closed()
            try:
                await with_suppress
            except OSError:
                pass

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = max(last_done - warm_end, 1e-9)
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 3),
        "rps": len(latencies) / seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "ok_total": ok_total,
        "sent_total": next_index,
        "bad_samples": bad,
    }


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
