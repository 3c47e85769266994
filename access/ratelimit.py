"""Rate limits: named buckets counted per account or per client address, in memory or in Redis.

Every bucket is a fixed window that opens at its first hit: `hit` counts one attempt and says
whether it fits and, if not, how many seconds remain until the window ends. The numbers and
why: docs/adr/0005-rate-limits.md.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis.asyncio as redis
from starlette.types import Scope

from events.bounded import bounded

log = logging.getLogger("parvis.ratelimit")

# Redis keys are namespaced so Parvis can share a Redis with other services.
REDIS_PREFIX = "parvis:rl:"


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window` seconds."""

    limit: int
    window: float


# bucket -> limit. Per-account buckets are keyed by account id, *_email by normalized email,
# *_ip by client address (an IPv6 client by its /64), *_email_ip by both.
DEFAULT_LIMITS: dict[str, Limit] = {
    # Failed logins only; a success resets its (email, address) bucket and refunds the others.
    # One address guessing an email is slowed by login_email_ip without touching the owner
    # elsewhere (at most 60 an hour, under login_email's 100: it cannot fill it alone); many
    # addresses guessing it together meet login_email, so a botnet gets 100 an hour, not more.
    "login_email_ip": Limit(5, 300),
    "login_email": Limit(100, 3600),
    "login_ip": Limit(30, 300),
    "signup_ip": Limit(30, 3600),
    # Password resets asked for one address, and from one client (each sends a mail).
    "reset_email": Limit(3, 3600),
    "reset_ip": Limit(20, 3600),
    # Verification mails asked again by one account.
    "verify_resend": Limit(5, 3600),
    # Current-password checks of one account (changePassword, changeEmail): a stolen
    # session must not guess the password it lacks.
    "password_check": Limit(10, 900),
    "question": Limit(10, 3600),
    "idea": Limit(10, 3600),
    # Edits of one's questions and ideas: each one is announced live and moves their table.
    "edit": Limit(30, 3600),
    "comment": Limit(60, 3600),
    "report": Limit(30, 3600),
    "vote": Limit(120, 60),
    # Document uploads and replacements of one account (each keeps a file).
    "upload": Limit(60, 3600),
    # Every HTTP request to /graphql, answered 429 over the limit.
    "requests_ip": Limit(600, 60),
}


@dataclass(frozen=True)
class Decision:
    """Whether a hit fits its bucket; if not, the seconds until the window ends."""

    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_seconds(self) -> int:
        """retry_after rounded up to whole seconds (at least 1), as told to clients."""
        return max(1, math.ceil(self.retry_after))


@dataclass(frozen=True)
class Budget:
    """A bucket as one key stands in it: its limit, the hits counted in the open window, and
    the seconds until that window ends (the whole window when none is open)."""

    limit: int
    used: int
    resets_in: float


class Backend(Protocol):
    async def incr(self, key: str, window: float) -> tuple[int, float]:
        """Count one hit: (hits in the current window, seconds until it ends)."""

    async def decr(self, key: str) -> None:
        """Take one hit back, if the window is still open."""

    async def delete(self, key: str) -> None: ...

    async def peek(self, key: str) -> tuple[int, float | None]:
        """Without counting: (hits in the current window, seconds until it ends; None when
        no window is open)."""

    async def close(self) -> None: ...


class MemoryBackend:
    """Counters of this process. Expired windows are dropped as time passes (a heap of
    expiries is swept on every hit), so memory holds only windows still open."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.counters: dict[str, tuple[int, float]] = {}  # key -> (hits, expires at on clock)
        self._expiries: list[tuple[float, str]] = []

    def _sweep(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expires, key = heapq.heappop(self._expiries)
            current = self.counters.get(key)
            if current is not None and current[1] == expires:
                del self.counters[key]

    async def incr(self, key: str, window: float) -> tuple[int, float]:
        now = self.clock()
        self._sweep(now)
        current = self.counters.get(key)
        if current is None or current[1] <= now:
            expires = now + window
            heapq.heappush(self._expiries, (expires, key))
            current = (0, expires)
        hits = current[0] + 1
        self.counters[key] = (hits, current[1])
        return hits, current[1] - now

    async def decr(self, key: str) -> None:
        current = self.counters.get(key)
        if current is not None and current[1] > self.clock():
            self.counters[key] = (max(0, current[0] - 1), current[1])

    async def delete(self, key: str) -> None:
        self.counters.pop(key, None)  # its heap entry is skipped when swept

    async def peek(self, key: str) -> tuple[int, float | None]:
        now = self.clock()
        current = self.counters.get(key)
        if current is None or current[1] <= now:
            return 0, None
        return current[0], current[1] - now

    async def close(self) -> None:
        return None


# INCR and the window's expiry in one atomic step; a key that lost its expiry gets one back
# (it would otherwise limit forever).
_INCR = """
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
"""
# DECR only an open window: DECR of a missing key would create one without expiry.
_DECR = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
return 0
"""
REDIS_TIMEOUT = 1.0
WARN_EVERY = 30.0


class RedisBackend:
    """Counters shared by every process on one Redis. If Redis fails, this process counts
    in memory meanwhile (limits then hold per process) rather than refusing everyone or
    letting everything through."""

    def __init__(self, url: str, namespace: str = "") -> None:
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        self.prefix = f"{REDIS_PREFIX}{namespace}:" if namespace else REDIS_PREFIX
        self._incr = self.client.register_script(_INCR)
        self._decr = self.client.register_script(_DECR)
        self.fallback = MemoryBackend()
        self._warned_at = -math.inf

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("redis rate limiting failed (%s: %s); counting in this process meanwhile",
                        type(exc).__name__, exc)

    async def incr(self, key: str, window: float) -> tuple[int, float]:
        try:
            hits, ttl_ms = await bounded(self._incr(keys=[self.prefix + key], args=[math.ceil(window * 1000)]),
                                         REDIS_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any Redis failure: fall back, keep serving
            self._failed(exc)
            return await self.fallback.incr(key, window)
        return int(hits), int(ttl_ms) / 1000

    async def decr(self, key: str) -> None:
        try:
            await bounded(self._decr(keys=[self.prefix + key]), REDIS_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - see incr
            self._failed(exc)
            await self.fallback.decr(key)

    async def delete(self, key: str) -> None:
        try:
            await bounded(self.client.delete(self.prefix + key), REDIS_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - see incr
            self._failed(exc)
            await self.fallback.delete(key)

    async def peek(self, key: str) -> tuple[int, float | None]:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(self.prefix + key)
                pipe.pttl(self.prefix + key)
                hits, ttl_ms = await bounded(pipe.execute(), REDIS_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - see incr
            self._failed(exc)
            return await self.fallback.peek(key)
        if hits is None or ttl_ms is None or int(ttl_ms) < 0:
            return 0, None
        return int(hits), int(ttl_ms) / 1000

    async def close(self) -> None:
        await self.client.aclose()


def parse_limits(spec: str) -> dict[str, Limit]:
    """`"vote=60/60,signup_ip=100/3600"` (hits/seconds per bucket) -> overrides; ValueError
    names what is wrong (for a setting such as PARVIS_RATE_LIMITS)."""
    overrides: dict[str, Limit] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in DEFAULT_LIMITS:
            raise ValueError(f"unknown rate limit {name!r} (known: {', '.join(DEFAULT_LIMITS)})")
        hits, _, window = value.partition("/")
        try:
            limit = Limit(int(hits), float(window))
        except ValueError as exc:
            raise ValueError(f"rate limit {name} must read hits/seconds, e.g. {name}=10/60") from exc
        if limit.limit < 1 or not 0 < limit.window <= 86400:
            raise ValueError(f"rate limit {name} needs at least 1 hit per 0 to 86400 seconds")
        overrides[name] = limit
    return overrides


def database_name(url: str) -> str:
    """The database a URL names, without host or credentials (a SQLite file's path): the
    same for every process of a deployment however each one reaches the database."""
    parts = urlsplit(url or "")
    if parts.scheme == "sqlite":
        return url.split("://", 1)[1]
    return parts.path.strip("/")


def deployment_namespace(database_url: str) -> str:
    """A short name for one deployment on a shared Redis: a digest of its database's name."""
    return hashlib.sha256(database_name(database_url).encode()).hexdigest()[:12]


def client_key(scope: Scope | None) -> str:
    """The client address of an ASGI scope, as a bucket key: an IPv6 client by its /64 (one
    host usually holds a whole /64), an IPv4-mapped address as IPv4.

    This is the address of the peer, which is the client itself unless a proxy is in front.
    The app (app/middleware.py, ClientAddress) replaces it by the forwarded client only when
    the peer is one of PARVIS_TRUSTED_PROXIES (default: none); behind a proxy, set that, or
    every client would share the proxy's buckets."""
    client = scope.get("client") if scope else None
    host = client[0] if client else None
    if not host:
        return "unknown"
    return _bucket_of(str(host))


@functools.lru_cache(maxsize=4096)
def _bucket_of(host: str) -> str:
    """client_key's answer for one address (parsing it was 2 % of a vote's CPU under load)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]  # a unix socket path or a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Limiter:
    """Named buckets (DEFAULT_LIMITS, with `overrides`) over one backend. One per app."""

    def __init__(
        self,
        backend: Backend | None = None,
        overrides: Mapping[str, Limit | tuple[int, float]] | None = None,
    ) -> None:
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        # Told of every refusal, by bucket (server.py counts them in /metrics).
        self.on_refusal: Callable[[str], None] | None = None
        self.limits = dict(DEFAULT_LIMITS)
        for name, value in (overrides or {}).items():
            if name not in DEFAULT_LIMITS:
                raise ValueError(f"unknown rate limit {name!r}")
            self.limits[name] = value if isinstance(value, Limit) else Limit(int(value[0]), float(value[1]))

    @classmethod
    def for_settings(cls, settings: Any) -> Limiter:
        """Redis when settings.redis_url is set, else this process's memory. Redis counters
        are namespaced by the database's name: the processes of one deployment share them,
        and two deployments (or test runs) on one Redis do not."""
        overrides = getattr(settings, "rate_limits", None) or {}
        if isinstance(overrides, str):
            overrides = parse_limits(overrides)
        redis_url = getattr(settings, "redis_url", None)
        if not redis_url:
            return cls(overrides=overrides)
        return cls(RedisBackend(redis_url, deployment_namespace(getattr(settings, "database_url", ""))), overrides)

    @staticmethod
    def _key(bucket: str, key: object) -> str:
        return f"{bucket}:{key}"

    async def hit(self, bucket: str, key: object) -> Decision:
        """Count one attempt in bucket `bucket` for `key`."""
        limit = self.limits[bucket]
        hits, remaining = await self.backend.incr(self._key(bucket, key), limit.window)
        if hits <= limit.limit:
            return Decision(True, 0.0)
        if self.on_refusal is not None:
            self.on_refusal(bucket)
        return Decision(False, max(remaining, 0.001))

    async def undo(self, bucket: str, key: object) -> None:
        """Give back one attempt counted by `hit` (e.g. a login that turned out right)."""
        await self.backend.decr(self._key(bucket, key))

    async def budget(self, bucket: str, key: object) -> Budget:
        """What is left of `key`'s budget in `bucket`, without counting a hit."""
        limit = self.limits[bucket]
        hits, left = await self.backend.peek(self._key(bucket, key))
        return Budget(
            limit=limit.limit, used=min(hits, limit.limit),
            resets_in=left if left is not None else limit.window,
        )

    async def reset(self, bucket: str, key: object) -> None:
        """Forget every attempt of `key` in `bucket`."""
        await self.backend.delete(self._key(bucket, key))

    async def close(self) -> None:
        await self.backend.close()


def private_key(value: str) -> str:
    """A bucket key for personal data (an email): Redis holds its digest, not the value."""
    # surrogatepass: a lone surrogate ("\ud800", legal in JSON) must not make hashing fail.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
