"""The database: Tortoise's configuration for a URL, migrations, and a reachability check.

Parvis applies Tortoise's own migrations (migrations/), never generate_schemas.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate
from tortoise.migrations.executor import MigrationExecutor

from app.settings import DEFAULT_DATABASE_URL, ConfigError, Settings, redact

MODEL_MODULES = [
    "models.territories",
    "models.accounts",
    "models.questions",
    "models.ideas",
    "models.references",
    "models.projects",
    "models.polls",
    "models.news",
    "models.comments",
    "models.moderation",
    "models.notifications",
    "models.reach",
    "models.feed",
    "models.clients",
    "models.delivery",
    "models.stats",
    "models.surveys",
    "models.consultations",
]


async def keep_session(connection: Any) -> None:
    """The pool's reset for a connection coming back: nothing beyond what asyncpg always does
    (it rolls back a transaction left open). asyncpg's default would also run `RESET ALL;
    CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all()`, one more round trip per
    statement; Parvis never leaves such state on a session (no SET outside a transaction,
    no cursor, LISTEN or advisory lock: events go through Redis). See docs/adr/0007."""


def tortoise_config(database_url: str, *, statement_timeout: float = 8.0) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("postgres://"):
        connection = expand_db_url(database_url)
        credentials = connection["credentials"]
        # Below the operation timeout, so a runaway query ends as an error, not a hang.
        credentials.setdefault("server_settings", {})["statement_timeout"] = str(int(statement_timeout * 1000))
        # asyncpg's pool defaults to at most 5 connections.
        credentials.setdefault("maxsize", 20)
        # Tortoise takes a pooled connection per statement: no reset round trip on release.
        credentials["reset"] = keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    """TORTOISE_ORM, for Tortoise's own CLI (`tortoise makemigrations`, [tool.tortoise] in
    pyproject.toml): read from the environment only when that CLI asks for it."""
    if name == "TORTOISE_ORM":
        try:
            return tortoise_config(Settings.from_env().database_url)
        except ConfigError:
            return tortoise_config(DEFAULT_DATABASE_URL)
    raise AttributeError(name)


async def apply_migrations(database_url: str, *, close: bool = True) -> None:
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        # aiosqlite's worker thread would otherwise keep the process alive.
        if close:
            await Tortoise.close_connections()


async def pending_migrations() -> list[str]:
    """The migrations the open database still needs ("models.0002_x"), in order (Tortoise must
    be initialised on it)."""
    apps = tortoise_config("sqlite://unused")["apps"]
    steps = await MigrationExecutor(Tortoise.get_connection("default"), apps).plan()
    return [f"{step.migration.app_label}.{step.migration.name}" for step in steps if not step.backward]


async def check_migrations(database_url: str) -> None:
    """Refuse, in one line, to serve a database its code is ahead of: every query would fail."""
    try:
        await Tortoise.init(config=tortoise_config(database_url))
        pending = await pending_migrations()
    finally:
        with contextlib.suppress(Exception):
            await Tortoise.close_connections()
    if pending:
        raise ConfigError(f"migrations pending ({', '.join(pending)}): run `python server.py migrate` first")


async def check_database(database_url: str) -> None:
    """Fail with one clear line when the database cannot be reached."""
    try:
        await Tortoise.init(config=tortoise_config(database_url))
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
        raise ConfigError(f"cannot reach the database at {redact(database_url)}: {exc}") from exc
    finally:
        with contextlib.suppress(Exception):
            await Tortoise.close_connections()
