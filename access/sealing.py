"""Keys derived from the deployment's secret: sealed ballots and keyed log pseudonyms.

One secret (PARVIS_SECRET, or the generated local file app/settings.py falls back to) gives,
through HKDF-SHA256 with a distinct label each, the AES-GCM key that seals ballots until
they are counted and the HMAC key of log pseudonyms. The database never holds either: a dump
alone opens no ballot and reverses no pseudonym (docs/adr/0009).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# A ballot is a bitmap of the chosen options' positions, always this many bytes (polls have
# at most 32 options), so a sealed ballot's length says nothing of how many were chosen.
BALLOT_BYTES = 4
NONCE_BYTES = 12
SEALED_BYTES = NONCE_BYTES + BALLOT_BYTES + 16  # nonce, ciphertext, GCM tag


class BallotUnreadable(Exception):
    """A sealed ballot that this secret cannot open (another secret, or tampered with)."""


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


@dataclass(frozen=True)
class Keys:
    """The keys of one secret."""

    ballot: AESGCM
    pseudonym: bytes


@functools.cache
def keys_for(secret: str) -> Keys:
    if not secret:
        raise ValueError("no secret: set PARVIS_SECRET (app/settings.py)")
    return Keys(
        ballot=AESGCM(_derive(secret, b"parvis ballot v1")),
        pseudonym=_derive(secret, b"parvis log pseudonym v1"),
    )


def _poll_label(poll_id: int) -> bytes:
    # Associated data: a sealed ballot opens only for the poll it was cast in.
    return f"poll:{poll_id}".encode()


def seal_ballot(keys: Keys, poll_id: int, positions: list[int]) -> bytes:
    """The chosen positions of a poll's options, sealed (random nonce: equal choices give
    unrelated bytes)."""
    bitmap = 0
    for position in positions:
        bitmap |= 1 << position
    nonce = os.urandom(NONCE_BYTES)
    return nonce + keys.ballot.encrypt(nonce, bitmap.to_bytes(BALLOT_BYTES, "little"), _poll_label(poll_id))


def open_ballot(keys: Keys, poll_id: int, sealed: bytes) -> list[int]:
    """The positions a sealed ballot of this poll chose."""
    try:
        plain = keys.ballot.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _poll_label(poll_id))
    except Exception as exc:  # noqa: BLE001 - InvalidTag, or bytes too short to be a ballot
        raise BallotUnreadable(f"a sealed ballot of poll {poll_id} does not open with this secret") from exc
    bitmap = int.from_bytes(plain, "little")
    return [position for position in range(BALLOT_BYTES * 8) if bitmap >> position & 1]


def pseudonym(keys: Keys, kind: str, pk: int) -> str:
    """A stable pseudonym for logs (HMAC-SHA256): follows one account across lines, and
    cannot be reversed by trying every id without the secret."""
    return hmac.new(keys.pseudonym, f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()[:16]


class Unpaddable(ValueError):
    """A survey payload longer than the fixed size its survey's sealed responses share."""


def seal_padded(keys: Keys, label: str, plain: bytes, size: int) -> bytes:
    """`plain` padded to exactly `size` bytes (a 4-byte length, then zeros) and sealed under
    `label` (associated data): every sealed payload of one label family has the same length,
    whatever it says (survey responses and drafts, docs/adr/0021)."""
    if len(plain) > size:
        raise Unpaddable(f"{len(plain)} bytes do not fit in {size}")
    padded = len(plain).to_bytes(4, "little") + plain + bytes(size - len(plain))
    nonce = os.urandom(NONCE_BYTES)
    return nonce + keys.ballot.encrypt(nonce, padded, label.encode())


def open_padded(keys: Keys, label: str, sealed: bytes) -> bytes:
    """What seal_padded sealed under `label`."""
    try:
        padded = keys.ballot.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], label.encode())
    except Exception as exc:  # noqa: BLE001 - InvalidTag, or bytes too short
        raise BallotUnreadable(f"a sealed payload of {label} does not open with this secret") from exc
    length = int.from_bytes(padded[:4], "little")
    return padded[4 : 4 + length]
