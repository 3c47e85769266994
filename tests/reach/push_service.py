"""A Web Push service for the tests: a real HTTP server in the test process that checks each
push the way a browser vendor's service and the browser itself would.

- The VAPID header (RFC 8292): `vapid t=<JWT>,k=<public key>`; the JWT must be signed
  ES256 by that key, the key must be the server's (Query.pushPublicKey), and its claims
  name this origin (aud), a near future expiry (exp) and a contact (sub).
- The body (RFC 8291, aes128gcm) is decrypted with the private key of the subscription,
  made like a browser makes one (a P-256 key pair and a 16-byte secret).

What it received and what it refused are kept for the test to read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.e2e.server import free_port


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class Browser:
    """One browser's subscription: what registerPushSubscription takes, and its secrets."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def subscription(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": b64url(self.auth)}


@dataclass
class Push:
    path: str
    payload: dict[str, Any]
    headers: dict[str, str]


@dataclass
class PushService:
    server_key: str  # the VAPID public key pushes must be signed with
    port: int = field(default_factory=free_port)
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Push] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    # Statuses to answer per path, in order (then 201): 500 for a passing failure, 410 for gone.
    answers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def browser(self, name: str) -> Browser:
        path = f"/push/{name}-{os.urandom(6).hex()}"
        browser = Browser(self.origin + path, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.browsers[path] = browser
        return browser

    def pushes_to(self, browser: Browser) -> list[Push]:
        return [push for push in self.received if self.origin + push.path == browser.endpoint]

    def check_vapid(self, authorization: str) -> str | None:
        """Why the Authorization header is not a valid VAPID one for this service, or None."""
        scheme, _, params = authorization.partition(" ")
        if scheme != "vapid":
            return f"scheme {scheme!r}"
        parts = dict(part.strip().split("=", 1) for part in params.split(","))
        if parts.get("k") != self.server_key:
            return "not the server's key"
        header, claims, signature = parts["t"].split(".")
        if json.loads(b64url_decode(header)) != {"typ": "JWT", "alg": "ES256"}:
            return "not an ES256 JWT"
        raw = b64url_decode(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(parts["k"]))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad signature"
        body = json.loads(b64url_decode(claims))
        if body.get("aud") != self.origin:
            return f"aud {body.get('aud')!r}"
        if not time.time() < body.get("exp", 0) <= time.time() + 24 * 3600:
            return "exp"
        if not str(body.get("sub", "")).startswith(("mailto:", "https://")):
            return "sub"
        return None

    async def receive(self, request: Request) -> Response:
        path = request.url.path
        browser = self.browsers.get(path)
        if browser is None:
            return Response(status_code=404)
        self.attempts[path] += 1
        problem = self.check_vapid(request.headers.get("authorization", ""))
        if problem is None and request.headers.get("content-encoding") != "aes128gcm":
            problem = "content-encoding"
        if problem is not None:
            self.refused.append(problem)
            return Response(status_code=401)
        if self.answers[path]:
            return Response(status_code=self.answers[path].pop(0))
        body = await request.body()
        clear = http_ece.decrypt(body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm")
        self.received.append(Push(path, json.loads(clear), dict(request.headers)))
        return Response(status_code=201)

    async def until(self, count: int, timeout: float = 10.0) -> list[Push]:
        """Wait for `count` pushes in all."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} pushes of {count}; refused: {self.refused}")
            await asyncio.sleep(0.02)
        return self.received


@asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[uvicorn.Server]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            ws="websockets-sansio")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # pytest keeps its own
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def push_service_app(service: PushService) -> Starlette:
    return Starlette(routes=[Route("/push/{rest:path}", service.receive, methods=["POST"])])
