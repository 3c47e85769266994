"""The raw-broadcast baseline of bench/fanout.py: a minimal Starlette websocket server.

    python bench/ws_broadcast_server.py --port P [--deflate]

`/ws` accepts any websocket and keeps it; `POST /poke` broadcasts the request body (as one
text message, the same string to every socket) to all connected sockets, concurrently, and
answers once every send returned. Same uvicorn as `server.py serve` (websockets protocol,
asyncio loop); permessage-deflate only with --deflate (as PARVIS_WS_DEFLATE for the app).
`GET /healthz` answers for the bench's start-up check.
"""

from __future__ import annotations

import argparse
import asyncio
import resource

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

SOCKETS: set[WebSocket] = set()


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    SOCKETS.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, KeyError, RuntimeError):
        pass
    finally:
        SOCKETS.discard(websocket)


async def poke(request: Request) -> Response:
    text = (await request.body()).decode()
    sockets = list(SOCKETS)
    await asyncio.gather(*(ws.send_text(text) for ws in sockets), return_exceptions=True)
    return JSONResponse({"sent": len(sockets)})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "sockets": len(SOCKETS)})


app = Starlette(routes=[Route("/poke", poke, methods=["POST"]), Route("/healthz", healthz),
                        WebSocketRoute("/ws", endpoint)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--deflate", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 200_000), max(hard, 200_000)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvicorn.run(app, host="127.0.0.1", port=args.port, ws="websockets", log_level="warning",
                ws_per_message_deflate=args.deflate)


if __name__ == "__main__":
    main()
