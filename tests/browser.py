"""A real browser for the tests: headless Chromium driven over the DevTools protocol.

Debian's chromium (CI installs it); nothing else: the protocol is JSON over the websocket
Chromium opens, which the `websockets` package already speaks. A test opens a page at some
origin, then runs JavaScript in it, exactly as a single-page app would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# `make test` on a machine without Chromium skips the browser stories; CI installs it and sets
# PARVIS_REQUIRE_BROWSER=1, so there they run or fail, never skip.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("PARVIS_REQUIRE_BROWSER"),
    reason="chromium is not installed (Debian: apt-get install chromium)",
)
# What the sandbox needs: no GPU, no network of its own (the machine's is closed), a fresh profile.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """One Chromium process; `evaluate` runs a script in a page and returns its (awaited) value."""

    def __init__(self, devtools: ClientConnection) -> None:
        self.devtools = devtools
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.devtools:
            message = json.loads(raw)
            waiter = self._waiting.pop(message.get("id", -1), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
            elif "method" in message:
                self._events.put_nowait(message)

    async def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[number] = waiter
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self.devtools.send(json.dumps(message))
        answer: dict[str, Any] = await asyncio.wait_for(waiter, 20)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]  # type: ignore[no-any-return]

    async def open(self, url: str) -> str:
        """A new page at `url`, loaded; returns its session id."""
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        session: str = attached["sessionId"]
        await self.send("Page.enable", session)
        await self.send("Page.navigate", session, url=url)
        while True:
            event = await asyncio.wait_for(self._events.get(), 20)
            if event.get("sessionId") == session and event["method"] == "Page.loadEventFired":
                return session

    async def evaluate(self, session: str, script: str) -> Any:
        """The value of `script` (an expression, awaited if it is a promise) in the page."""
        result = await self.send("Runtime.evaluate", session, expression=script, awaitPromise=True,
                                 returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("exception", {}).get("description", "error"))
        return result["result"].get("value")

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.devtools.close()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium for the duration of the block."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    with tempfile.TemporaryDirectory(prefix="parvis-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        # Chromium's log goes on after it names its DevTools socket: drained, so it never blocks.
        drain: asyncio.Task[None] | None = None
        try:
            url = await asyncio.wait_for(_devtools_url(process.stderr), 30)
            drain = asyncio.get_running_loop().create_task(_drain(process.stderr))
            async with connect(url, max_size=2**24) as devtools:
                browser = Browser(devtools)
                try:
                    yield browser
                finally:
                    await browser.close()
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            if drain is not None:
                await drain


async def _devtools_url(stderr: asyncio.StreamReader) -> str:
    while line := (await stderr.readline()).decode(errors="replace"):
        if line.startswith("DevTools listening on "):
            return str(line.split(" ", 3)[3].strip())
    raise RuntimeError("chromium exited before opening its DevTools socket")


async def _drain(stderr: asyncio.StreamReader) -> None:
    while await stderr.readline():
        pass


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """`app` on a real uvicorn in this event loop; yields its http://127.0.0.1:<port>."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws="websockets-sansio", log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # pytest keeps its own
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def app_page() -> Starlette:
    """A front end's origin: a blank page the tests run their script in."""

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>app</title><body>app</body>")

    return Starlette(routes=[Route("/", index)])
