"""PostgreSQL test databases: each test session (and each end-to-end server) gets a new one."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def fresh_postgres_database(base_url: str, name: str) -> str:
    """Create database `name` on the server of base_url; return its URL."""
    parts = urlsplit(base_url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))
