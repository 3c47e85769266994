"""Passwords: argon2id hashes, computed and checked off the event loop, in a bounded pool.

A hash or a check holds the CPU for 50-250 ms on purpose. On the event loop that would stall
every request and subscription of the process during a burst of sign-ups or logins, so both
run in a small pool of threads (argon2 releases the GIL while it works). Each job already
spreads over `parallelism` (4) threads of argon2's own, so the pool has one worker per that
many cores: more would only queue work inside the kernel and starve the event loop's thread.

The pool admits a job only while the queue in front of it can be worked off within
MAX_WAIT seconds (judged from how long recent jobs took): past that, `PasswordsBusy` says
"retry in a second" at once, instead of a request waiting until the operation times out
while its hash, still queued, costs the CPU the requests behind it need.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.accounts import Account

T = TypeVar("T")

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
WORKERS = max(1, (os.cpu_count() or 1) // _hasher.parallelism)
# The longest a hash may wait for a worker: well under the operation timeout (10 s).
MAX_WAIT = 3.0


class PasswordsBusy(Exception):
    """Too many hashes queued already: retry in `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"password hashing is busy; retry in {retry_after:.1f} s")
        self.retry_after = retry_after


class BoundedPool:
    """A thread pool that refuses work it could not start within `max_wait` seconds."""

    def __init__(self, workers: int, max_wait: float, first_guess: float = 0.25) -> None:
        self.workers = workers
        self.max_wait = max_wait
        self.pending = 0  # admitted, not finished (touched on the event loop only)
        self.job_seconds = first_guess  # moving average of how long one job runs
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parvis-argon2")

    def expected_wait(self) -> float:
        """Seconds a job admitted now would wait for a worker."""
        return math.floor(self.pending / self.workers) * self.job_seconds

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        wait = self.expected_wait()
        if wait > self.max_wait:
            raise PasswordsBusy(wait - self.max_wait + self.job_seconds)
        self.pending += 1
        try:
            result, seconds = await asyncio.get_running_loop().run_in_executor(self._executor, _timed, fn, *args)
        finally:
            self.pending -= 1
        self.job_seconds = 0.8 * self.job_seconds + 0.2 * seconds
        return result


def _timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


# Checked against when the email is unknown, so both halves of a bad login cost the same.
# Timed too: how long a job takes on this machine, before any has run in the pool (a guess
# too low would admit a burst that then times out).
_DUMMY_HASH, _first_job_seconds = _timed(_hasher.hash, "parvis-dummy-password")
_pool = BoundedPool(WORKERS, MAX_WAIT, first_guess=_first_job_seconds)


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
    """The stored form of a password (argon2id, salted). Raises PasswordsBusy."""
    return await _pool.run(_hasher.hash, password)


async def verify_password(account: Account | None, password: str) -> bool:
    """Whether `password` is the account's (False for no account, at the same cost).
    Raises PasswordsBusy."""
    stored = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    matches = await _pool.run(_matches, stored, _encodable(password))
    return matches and account is not None and account.password_hash is not None
