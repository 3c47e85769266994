"""Push: the push channel of the delivery queue (docs/adr/0011).

- `enqueue_pushes` (inside the transaction that stored the notifications) queues one job per
  notification and subscription whose owner wants that kind pushed IMMEDIATELY;
- `PushSender` (registered as the "push" channel) sends one job: Web Push with VAPID
  (RFC 8030/8291/8292) to a browser, or a native token through the operator's sender;
- `check_endpoint` is the rule for which endpoints Parvis accepts (no SSRF);
- `VapidKeys` the application server's key pair.

`send_push` never raises for what the push service answers: it says what to do next
(`PushOutcome`): forget the subscription (404/410), retry later (network, 429, 5xx), or
nothing (sent, or refused for good).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import json
import re
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPusher

from delivery import Job, PermanentFailure, enqueue
from models.notifications import Notification, NotificationKind
from models.reach import Channel, Frequency, PushPlatform, PushSubscription, frequency_of, preferences_of
from reads.paging import encode_cursor

CHANNEL = "push"

ENDPOINT_MAX = 2048
# RFC 8291: the browser's key is an uncompressed P-256 point, its secret 16 bytes.
P256DH_BYTES = 65
AUTH_BYTES = 16
# Seconds a push service keeps a message for a device that is offline.
TTL_SECONDS = 24 * 3600
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


class PushOutcome(Enum):
    SENT = "sent"
    GONE = "gone"  # the push service no longer knows the subscription: forget it
    RETRY = "retry"  # a passing failure: try again later
    FAILED = "failed"  # refused for good (bad request, too large, not configured)


def b64url_decode(text: str) -> bytes:
    """base64url with or without padding; ValueError when it is not."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def check_keys(p256dh: str, auth: str) -> tuple[str, str] | None:
    """(field, why) when the browser's keys are not usable, or None."""
    try:
        public = b64url_decode(p256dh)
    except ValueError:
        return "p256dh", "p256dh must be base64url."
    if len(public) != P256DH_BYTES or public[0] != 0x04:
        return "p256dh", "p256dh must be an uncompressed P-256 public key (65 bytes)."
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    except ValueError:
        return "p256dh", "p256dh is not a point of P-256."
    try:
        secret = b64url_decode(auth)
    except ValueError:
        return "auth", "auth must be base64url."
    if len(secret) != AUTH_BYTES:
        return "auth", "auth must be 16 bytes."
    return None


NATIVE_TOKEN_MAX = 4096
FCM_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,4096}")
APNS_TOKEN = re.compile(r"(?:[0-9a-fA-F]{2}){32,100}")


def check_native_token(platform: PushPlatform, token: str) -> str | None:
    """Why a native device token is not one, or None."""
    pattern = APNS_TOKEN if platform == PushPlatform.APNS else FCM_TOKEN
    if len(token) > NATIVE_TOKEN_MAX or pattern.fullmatch(token) is None:
        return f"This is not an {platform.value} device token."
    return None


def is_public_address(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local,
    multicast, reserved, or an IPv4 address mapped into IPv6 that is one of those)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, *, allow_loopback: bool) -> str | None:
    """Why Parvis will not send to this endpoint, or None. The rule (docs/notifications.md):
    https to a host that is a public address or a name (names are resolved again, and
    every address checked, before each send); with `allow_loopback` (tests, development)
    also http or https to this machine's loopback. Never credentials in the URL."""
    if len(endpoint) > ENDPOINT_MAX:
        return f"The endpoint must be at most {ENDPOINT_MAX} characters."
    try:
        url = urlsplit(endpoint)
        port = url.port
    except ValueError:
        return "The endpoint is not a URL."
    host = (url.hostname or "").lower()
    if not host or url.username is not None or url.password is not None or port == 0:
        return "The endpoint must be an https URL with a host and no credentials."
    if allow_loopback and is_loopback_host(host) and url.scheme in ("http", "https"):
        return None
    if url.scheme != "https":
        return "The endpoint must be an https URL."
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # A name: refuse the ones that only mean something inside a network.
        if "." not in host or host.endswith((".local", ".localhost", ".internal", ".lan", ".home.arpa")):
            return "The endpoint's host must be a public name or address."
        return None
    if not is_public_address(host):
        return "The endpoint's host must be a public name or address."
    return None


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address a name resolves to (the sender checks them all)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_reachable(endpoint: str, *, allow_loopback: bool, resolver: Resolver = resolve) -> bool:
    """The endpoint passes `check_endpoint` and its name resolves only to public addresses
    (or loopback when allowed): a name that was public at registration may point inside
    since (DNS rebinding)."""
    if check_endpoint(endpoint, allow_loopback=allow_loopback) is not None:
        return False
    url = urlsplit(endpoint)
    host = url.hostname or ""
    if allow_loopback and is_loopback_host(host):
        return True
    try:
        addresses = await resolver(host, url.port or 443)
    except OSError:
        return False
    return bool(addresses) and all(is_public_address(address) for address in addresses)


@dataclass(frozen=True)
class VapidKeys:
    """The application server's VAPID key pair (RFC 8292) and its contact (mailto: or https:)."""

    private_key: str  # base64url of the raw 32-byte P-256 private value
    subject: str

    def signer(self) -> Vapid:
        return Vapid.from_string(self.private_key)

    @property
    def public_key(self) -> str:
        """The applicationServerKey browsers subscribe with (base64url, 65 bytes)."""
        point = self.signer().public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @classmethod
    def generate(cls, subject: str) -> VapidKeys:
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.private_numbers().private_value.to_bytes(32, "big")
        return cls(private_key=b64url(raw), subject=subject)


class NativeSender(Protocol):
    """What sends to a native app's device token (FCM, APNs): configured by the operator
    (docs/notifications.md); without one, native subscriptions are stored but not sent to."""

    async def send(self, subscription: PushSubscription, payload: bytes) -> PushOutcome: ...


def vapid_headers(vapid: VapidKeys, endpoint: str, now: float | None = None) -> dict[str, str]:
    """The Authorization header of RFC 8292: a JWT (ES256) for the push service's origin."""
    url = urlsplit(endpoint)
    claims = {
        "aud": f"{url.scheme}://{url.netloc}",
        "exp": int((now if now is not None else time.time()) + 12 * 3600),
        "sub": vapid.subject,
    }
    return dict(vapid.signer().sign(claims))


def encrypt(subscription: PushSubscription, payload: bytes) -> bytes:
    """The payload encrypted for the browser (aes128gcm, RFC 8291)."""
    pusher = WebPusher({"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}})
    body = pusher.encode(payload, "aes128gcm")["body"]
    return bytes(body)


def outcome_of(status: int) -> PushOutcome:
    if status in (200, 201, 202):
        return PushOutcome.SENT
    if status in (404, 410):
        return PushOutcome.GONE
    if status == 429 or status >= 500:
        return PushOutcome.RETRY
    return PushOutcome.FAILED


async def send_web_push(
    client: httpx.AsyncClient,
    subscription: PushSubscription,
    payload: bytes,
    vapid: VapidKeys,
    *,
    topic: str | None = None,
    allow_loopback: bool = False,
    resolver: Resolver = resolve,
) -> PushOutcome:
    """Send one payload to one browser subscription. `topic` (at most 32 base64url
    characters) lets the push service replace an undelivered copy of the same message, so
    a retry after a lost answer does not show twice."""
    if not await check_reachable(subscription.endpoint, allow_loopback=allow_loopback, resolver=resolver):
        return PushOutcome.FAILED
    headers = {
        **vapid_headers(vapid, subscription.endpoint),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TTL_SECONDS),
        "Urgency": "normal",
    }
    if topic:
        headers["Topic"] = topic
    try:
        response = await client.post(
            subscription.endpoint, content=encrypt(subscription, payload), headers=headers, follow_redirects=False
        )
    except httpx.HTTPError:
        return PushOutcome.RETRY
    return outcome_of(response.status_code)


async def send_push(
    client: httpx.AsyncClient,
    subscription: PushSubscription,
    payload: bytes,
    vapid: VapidKeys | None,
    native: NativeSender | None,
    *,
    topic: str | None = None,
    allow_loopback: bool = False,
) -> PushOutcome:
    """One payload to one subscription, whatever its platform."""
    if subscription.platform == PushPlatform.WEB:
        if vapid is None:
            return PushOutcome.FAILED
        return await send_web_push(client, subscription, payload, vapid, topic=topic, allow_loopback=allow_loopback)
    if native is None:
        return PushOutcome.FAILED
    return await native.send(subscription, payload)


def push_payload(row: Notification) -> bytes:
    """What a push carries: the notification's kind and cursor, never its text. The app
    fetches the notification itself (`notifications(after:)` from its last cursor), so what
    a moderator hid after the push is not shown from it, and push services learn nothing."""
    return json.dumps({"kind": NotificationKind(row.kind).value, "cursor": encode_cursor([row.id])}).encode()


async def enqueue_pushes(notifications: Sequence[tuple[int, int, NotificationKind]]) -> int:
    """Queue the pushes of stored notifications (id, account id, kind), in the transaction
    that stored them: one job per notification and subscription of a recipient whose PUSH
    preference for that kind is IMMEDIATELY. Returns how many jobs were queued."""
    accounts = sorted({account_id for _, account_id, _ in notifications})
    subscriptions: dict[int, list[int]] = defaultdict(list)
    for subscription_id, account_id in await PushSubscription.filter(account_id__in=accounts).order_by(
        "id"
    ).values_list("id", "account_id"):
        subscriptions[int(account_id)].append(int(subscription_id))
    queued = 0
    wanted: dict[int, dict[tuple[NotificationKind, Channel], Frequency]] = {}
    for notification_id, account_id, kind in notifications:
        if not subscriptions[account_id]:
            continue
        if account_id not in wanted:
            wanted[account_id] = await preferences_of(account_id)
        if wanted[account_id][(kind, Channel.PUSH)] is not Frequency.IMMEDIATELY:
            continue
        for subscription_id in subscriptions[account_id]:
            # The key makes the job once per notification and device, however often queued.
            await enqueue(CHANNEL, str(subscription_id), {"notification": notification_id},
                          key=f"push:{notification_id}:{subscription_id}")
            queued += 1
    return queued


class PushRefused(Exception):
    """The push service answered with a passing failure: the queue retries the job."""


class PushSender:
    """The "push" channel: one job is one notification to one subscription."""

    def __init__(
        self,
        vapid: VapidKeys | None,
        *,
        native: NativeSender | None = None,
        allow_loopback: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.vapid = vapid
        self.native = native
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """One connection pool to the push services, made on first use (again after close).
        Proxies from the environment are ignored: the endpoint rule is checked against the
        push service itself."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __call__(self, job: Job) -> None:
        subscription = await PushSubscription.get_or_none(id=int(job.recipient))
        row = await Notification.get_or_none(id=int(job.payload["notification"]))
        if subscription is None or row is None:
            return  # unregistered, or the account erased, since: nothing to send
        # The owner may have turned pushes of this kind off since the job was queued.
        if await frequency_of(row.account_id, NotificationKind(row.kind), Channel.PUSH) is not Frequency.IMMEDIATELY:
            return
        outcome = await send_push(
            self.client, subscription, push_payload(row), self.vapid, self.native,
            topic=f"n{row.id}", allow_loopback=self.allow_loopback,
        )
        if outcome is PushOutcome.GONE:
            # The browser unsubscribed or the push service expired it (404/410).
            await PushSubscription.filter(id=subscription.id).delete()
        elif outcome is PushOutcome.RETRY:
            raise PushRefused(f"push service of subscription {subscription.id} failed for now")
        elif outcome is PushOutcome.FAILED:
            raise PermanentFailure(f"push to subscription {subscription.id} refused for good")
