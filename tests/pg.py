"""PostgreSQL test databases: each test session (and each end-to-end server) gets a new one,
dropped when the session ends; every pool is small, so a run fits in a server shared with
other work (max_connections 100)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg

# (admin URL, name) of every database this session created: dropped at its end.
_CREATED: list[tuple[str, str]] = []


async def _admin(admin: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(admin)
    except asyncpg.TooManyConnectionsError as exc:
        raise RuntimeError(
            "PostgreSQL refused a connection (too many clients): another job holds the server's connections; "
            "the suite needs about 30 (see max_connections and pg_stat_activity)"
        ) from exc


def fresh_postgres_database(base_url: str, name: str, pool: int = 5) -> str:
    """Create database `name` on the server of base_url; its URL, with a pool of `pool`."""
    parts = urlsplit(base_url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    async def create() -> None:
        conn = await _admin(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    _CREATED.append((admin, name))
    return urlunsplit(("postgres", parts.netloc, f"/{name}", f"maxsize={pool}", ""))


def drop_created_databases() -> None:
    """Drop every database this session created (whoever still holds a connection to it)."""

    async def drop() -> None:
        for admin, name in reversed(_CREATED):
            conn = await _admin(admin)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

    if _CREATED:
        asyncio.run(drop())
        _CREATED.clear()
