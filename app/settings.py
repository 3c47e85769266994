"""Settings: the environment, read once at start-up into one frozen object.

Only this module reads the environment; everything else receives settings (or what they
configure) from the composition root, server.py. Bad configuration is one line, never a
traceback (`ConfigError`).
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from access.i18n import LOCALES
from access.ratelimit import parse_limits
from app.middleware import FORWARDED_HEADERS, Network, parse_networks
from delivery.push import VapidKeys

DEFAULT_DATABASE_URL = "sqlite://parvis.sqlite3"
# Where the secret is kept when PARVIS_SECRET is not set: generated once, readable by the
# server's user only, outside the database and gitignored (docs/adr/0009).
DEFAULT_SECRET_FILE = ".parvis-secret"
MIN_SECRET_LENGTH = 32

log = logging.getLogger("parvis.settings")


class ConfigError(Exception):
    """Bad configuration: reported as one line, never a traceback."""


@dataclass(frozen=True)
class Settings:
    """Configuration, read once from the environment."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    env: str = "development"
    allowed_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    token_days: int = 30
    # Websockets: seconds a client has to send connection_init, and the legacy protocol.
    ws_init_timeout: float = 3.0
    ws_legacy: bool = False
    # Seconds a websocket may leave a message unread before it is closed as a laggard.
    ws_send_timeout: float = 10.0
    # permessage-deflate on websockets (PARVIS_WS_DEFLATE; see docs/performance.md, fan-out).
    ws_deflate: bool = False
    # How often the server closes polls whose closesAt passed (notifications, final tally).
    poll_closer_seconds: float = 5.0
    # An operation is stopped after this long; PostgreSQL statements a little before.
    operation_timeout: float = 10.0
    # Overrides of the default rate limits, e.g. "signup_ip=100/3600,vote=60/60".
    rate_limits: str = ""
    # The anonymous response cache and shared parts (docs/adr/0006): on/off, and the longest
    # an entry lives (what a cross-process "changed" event lost in a Redis outage can cost).
    response_cache: bool = True
    response_cache_seconds: float = 60.0
    # max-age of anonymous GET answers for browsers and CDNs (they revalidate with ETag).
    http_cache_seconds: int = 0
    # The territory's language (PARVIS_LOCALE, "fr" or "en"): messages to a client that names
    # none in Accept-Language and has no account locale (access/i18n.py).
    locale: str = "fr"
    # Proxies whose X-Forwarded-For / Forwarded headers name the client (addresses or CIDRs);
    # none by default, loopback included: anyone else can write those headers.
    trusted_proxies: tuple[Network, ...] = ()
    # The one header those proxies write: x-forwarded-for (nginx, HAProxy, load balancers) or
    # forwarded (RFC 7239).
    forwarded_header: str = "x-forwarded-for"
    # Run only the documents registered with `register-documents` (app/persisted.py).
    trusted_documents: bool = False
    # A directory of GraphiQL's assets (fetch-graphiql-assets): GraphiQL with no internet.
    graphiql_assets: str | None = None
    # Web Push (docs/notifications.md): the VAPID private key (base64url, from
    # generate-vapid-keys) and the contact push services may write to; no key, no push.
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:webmaster@localhost"
    # Push endpoints on this machine (http or https to loopback): tests and development only.
    push_allow_loopback: bool = False
    # Email (docs/notifications.md): SMTP_URL (smtp://user:pass@host:port, smtps:// for TLS);
    # without it, mails are written as .eml files to mail_dir. Links in mails start with
    # public_url (the web app's address).
    smtp_url: str | None = None
    mail_dir: str = "var/mail"
    mail_from: str = "Parvis <no-reply@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    # The delivery queue (delivery/worker.py): poll, claim lease, first backoff, attempts.
    delivery_poll_seconds: float = 2.0
    delivery_lease_seconds: float = 120.0
    delivery_backoff_seconds: float = 10.0
    delivery_max_attempts: int = 8
    # Document files (docs/adr/0020-document-files.md): a local folder (PARVIS_FILES_DIR) unless
    # S3_BUCKET names an S3-compatible bucket (S3_URL its endpoint, none for AWS itself).
    files_dir: str = "var/files"
    # Where the app's /files route is reached from outside; default: public_url + "/files".
    files_url: str | None = None
    # How long a draft's signed URL serves (PARVIS_FILES_URL_SECONDS).
    files_url_seconds: int = 900
    # The largest upload any territory may accept (PARVIS_UPLOAD_MAX_BYTES); the request body
    # limit of multipart requests follows it.
    upload_max_bytes: int = 50 * 1024 * 1024
    s3_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = field(default=None, repr=False)
    # The key of the account pseudonyms in logs (PARVIS_LOG_KEY); without it, one derived from
    # the deployment's secret (app/observability.py::account_hash).
    log_key: str | None = None
    # /metrics answers only with `Authorization: Bearer <this>` (PARVIS_METRICS_TOKEN).
    metrics_token: str | None = None
    # prometheus-client's multiprocess directory (PROMETHEUS_MULTIPROC_DIR): set by
    # `serve --workers N`, so that one scrape of /metrics shows every worker.
    metrics_dir: str | None = None
    # Seals ballots until they are counted and keys log pseudonyms (access/sealing.py): never
    # stored in the database. PARVIS_SECRET, else the generated file PARVIS_SECRET_FILE.
    secret: str = field(default_factory=lambda: _default_secret(), repr=False)
    # Whether it came from PARVIS_SECRET (production's `serve` requires it: every host must share it).
    secret_from_env: bool = False

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        database_url = normalize_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        redis_url = env.get("REDIS_URL") or None
        if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix:// (got {redis_url!r})")
        mode = env.get("PARVIS_ENV", "development").strip().lower() or "development"
        if mode not in ("development", "production"):
            raise ConfigError(f"PARVIS_ENV must be development or production (got {mode!r})")
        origins = tuple(o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
        try:
            port = int(env.get("PORT", "8000"))
        except ValueError as exc:
            raise ConfigError(f"PORT must be a number (got {env.get('PORT')!r})") from exc
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            env=mode,
            allowed_origins=origins,
            host=env.get("HOST", "127.0.0.1"),
            port=port,
            ws_init_timeout=_seconds(env, "PARVIS_WS_INIT_TIMEOUT", 3.0, maximum=60),
            ws_legacy=_flag(env, "PARVIS_WS_LEGACY", False),
            ws_send_timeout=_seconds(env, "PARVIS_WS_SEND_TIMEOUT", 10.0, maximum=600),
            ws_deflate=_flag(env, "PARVIS_WS_DEFLATE", cls.ws_deflate),
            poll_closer_seconds=_seconds(env, "PARVIS_POLL_CLOSER_SECONDS", 5.0, maximum=3600),
            operation_timeout=_seconds(env, "PARVIS_OPERATION_TIMEOUT", 10.0, maximum=300),
            rate_limits=_rate_limits(env.get("PARVIS_RATE_LIMITS", "")),
            response_cache=_flag(env, "PARVIS_RESPONSE_CACHE", True),
            response_cache_seconds=_seconds(env, "PARVIS_RESPONSE_CACHE_SECONDS", 60.0, maximum=3600),
            trusted_proxies=_networks(env, "PARVIS_TRUSTED_PROXIES"),
            locale=_choice(env, "PARVIS_LOCALE", LOCALES),
            forwarded_header=_choice(env, "PARVIS_FORWARDED_HEADER", FORWARDED_HEADERS),
            trusted_documents=_flag(env, "PARVIS_TRUSTED_DOCUMENTS", False),
            graphiql_assets=_directory(env, "PARVIS_GRAPHIQL_ASSETS"),
            metrics_token=_token(env, "PARVIS_METRICS_TOKEN"),
            log_key=_token(env, "PARVIS_LOG_KEY"),
            metrics_dir=_directory(env, "PROMETHEUS_MULTIPROC_DIR"),
            http_cache_seconds=int(_seconds(env, "PARVIS_HTTP_CACHE_SECONDS", 0.0, maximum=3600, allow_zero=True)),
            vapid_private_key=_vapid_key(env),
            vapid_subject=_vapid_subject(env),
            push_allow_loopback=_push_loopback(env, mode),
            smtp_url=_smtp_url(env.get("SMTP_URL")),
            mail_dir=(env.get("PARVIS_MAIL_DIR") or "").strip() or cls.mail_dir,
            mail_from=(env.get("PARVIS_MAIL_FROM") or "").strip() or cls.mail_from,
            public_url=(env.get("PARVIS_PUBLIC_URL") or "").strip().rstrip("/") or cls.public_url,
            delivery_poll_seconds=_seconds(env, "PARVIS_DELIVERY_POLL_SECONDS", 2.0, maximum=3600),
            delivery_lease_seconds=_seconds(env, "PARVIS_DELIVERY_LEASE_SECONDS", 120.0, maximum=3600),
            delivery_backoff_seconds=_seconds(env, "PARVIS_DELIVERY_BACKOFF_SECONDS", 10.0, maximum=3600),
            delivery_max_attempts=int(_seconds(env, "PARVIS_DELIVERY_MAX_ATTEMPTS", 8, maximum=100)),
            secret=_secret(env),
            secret_from_env=bool(env.get("PARVIS_SECRET")),
            files_dir=(env.get("PARVIS_FILES_DIR") or "").strip() or cls.files_dir,
            files_url=(env.get("PARVIS_FILES_URL") or "").strip().rstrip("/") or None,
            files_url_seconds=int(_seconds(env, "PARVIS_FILES_URL_SECONDS", 900, maximum=7 * 86400)),
            upload_max_bytes=_upload_max(env),
            s3_url=_s3_url(env.get("S3_URL")),
            s3_bucket=(env.get("S3_BUCKET") or "").strip() or None,
            s3_region=(env.get("S3_REGION") or "").strip() or cls.s3_region,
            s3_access_key_id=(env.get("S3_ACCESS_KEY_ID") or "").strip() or None,
            s3_secret_access_key=(env.get("S3_SECRET_ACCESS_KEY") or "").strip() or None,
        )

    @property
    def files_base_url(self) -> str:
        return self.files_url or f"{self.public_url}/files"


def _default_secret() -> str:
    return local_secret(DEFAULT_SECRET_FILE)


def _secret(env: Mapping[str, str]) -> str:
    secret = env.get("PARVIS_SECRET", "")
    if secret:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"PARVIS_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return secret
    return local_secret(env.get("PARVIS_SECRET_FILE") or DEFAULT_SECRET_FILE)


@functools.cache
def local_secret(path: str) -> str:
    """The secret kept in a local file, generated there (mode 0600) on first use. Every
    process of one deployment must share it: a ballot sealed by one is counted by another."""
    file = Path(path)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = file.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{path} must hold a secret of at least {MIN_SECRET_LENGTH} characters") from None
        return secret
    except OSError as exc:
        raise ConfigError(f"cannot create the secret file {path} ({exc}): set PARVIS_SECRET") from exc
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    log.warning("PARVIS_SECRET is not set: generated %s; keep it, and back it up apart from the database", path)
    return secret


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be on or off (got {env.get(name)!r})")


def _vapid_key(env: Mapping[str, str]) -> str | None:
    raw = (env.get("PARVIS_VAPID_PRIVATE_KEY") or "").strip()
    if not raw:
        return None
    try:
        VapidKeys(private_key=raw, subject="mailto:check@localhost").public_key  # noqa: B018 - parses the key
    except Exception as exc:  # noqa: BLE001 - py_vapid raises several kinds for a bad key
        raise ConfigError(
            "PARVIS_VAPID_PRIVATE_KEY is not a VAPID private key (make one with: python server.py generate-vapid-keys)"
        ) from exc
    return raw


def _vapid_subject(env: Mapping[str, str]) -> str:
    raw = (env.get("PARVIS_VAPID_SUBJECT") or "").strip()
    if not raw:
        return Settings.vapid_subject
    if not raw.startswith(("mailto:", "https://")):
        raise ConfigError(f"PARVIS_VAPID_SUBJECT must be a mailto: or https: URL (got {raw!r})")
    return raw


def _push_loopback(env: Mapping[str, str], mode: str) -> bool:
    allowed = _flag(env, "PARVIS_PUSH_ALLOW_LOOPBACK", False)
    if allowed and mode == "production":
        raise ConfigError("PARVIS_PUSH_ALLOW_LOOPBACK is for tests and development, not production")
    return allowed
def _smtp_url(raw: str | None) -> str | None:
    url = (raw or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"SMTP_URL must look like smtp://host:port or smtps://host:port (got {redact(url)!r})")
    return url


def _upload_max(env: Mapping[str, str]) -> int:
    raw = (env.get("PARVIS_UPLOAD_MAX_BYTES") or "").strip()
    if not raw:
        return Settings.upload_max_bytes
    if not (raw.isascii() and raw.isdigit()) or not 1024 <= int(raw) <= 2 * 1024**3:
        raise ConfigError(f"PARVIS_UPLOAD_MAX_BYTES must be a number of bytes from 1024 to 2 GiB (got {raw!r})")
    return int(raw)


def _s3_url(raw: str | None) -> str | None:
    url = (raw or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"S3_URL must be the store's endpoint, http(s)://host[:port] (got {redact(url)!r})")
    return url


def _directory(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    return raw or None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (case-insensitive), the first by default."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)} (got {env.get(name)!r})")
    return raw


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get(name, ""))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc} (expected e.g. 10.0.0.0/8,192.0.2.7)") from exc
def _token(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if raw and len(raw) < 16:
        raise ConfigError(f"{name} must be at least 16 characters")
    return raw or None


def _rate_limits(spec: str) -> str:
    try:
        parse_limits(spec)
    except ValueError as exc:
        raise ConfigError(f"PARVIS_RATE_LIMITS: {exc}") from exc
    return spec


def _seconds(env: Mapping[str, str], name: str, default: float, *, maximum: float, allow_zero: bool = False) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds (got {raw!r})") from exc
    if not (0 <= value if allow_zero else 0 < value) or value > maximum:
        least = "0 or more" if allow_zero else "more than 0"
        raise ConfigError(f"{name} must be {least} and at most {maximum:g} seconds (got {raw!r})")
    return value


def normalize_database_url(url: str) -> str:
    """Tortoise's spelling of a database URL (postgres:// for asyncpg, sqlite://path)."""
    url = url.strip()
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql", "asyncpg"):
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(f"DATABASE_URL needs a host and a database name (got {redact(url)!r})")
        return "postgres://" + url.split("://", 1)[1]
    if scheme == "sqlite":
        if not url.split("://", 1)[1]:
            raise ConfigError("DATABASE_URL sqlite:// needs a file path, e.g. sqlite://parvis.sqlite3")
        return url
    raise ConfigError(f"DATABASE_URL must start with postgres:// or sqlite:// (got {redact(url)!r})")


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
