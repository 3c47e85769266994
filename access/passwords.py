"""Passwords: argon2id hashes, computed and checked off the event loop.

A hash or a check holds a CPU for 50-250 ms on purpose. On the event loop that would stall
every request and subscription of the process during a burst of sign-ups or logins, so both
run in a small pool of threads (argon2 releases the GIL while it works); beyond the pool's
size, callers wait their turn here.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.accounts import Account

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
_pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="parvis-argon2")
# Checked against when the email is unknown, so both halves of a bad login cost the same.
_DUMMY_HASH = _hasher.hash("parvis-dummy-password")


def _encodable(password: str) -> str:
    """A lone surrogate cannot be hashed: such a password is checked as a wrong one would be."""
    try:
        password.encode()
    except UnicodeEncodeError:
        return ""
    return password


def _matches(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """The stored form of a password (argon2id, salted)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(account: Account | None, password: str) -> bool:
    """Whether `password` is the account's (False for no account, at the same cost)."""
    stored = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    matches = await asyncio.get_running_loop().run_in_executor(_pool, _matches, stored, _encodable(password))
    return matches and account is not None and account.password_hash is not None
