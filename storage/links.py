"""The URLs documents are read at: /files/<key> for what anyone may read, the same with
`expires` and `signature` (an HMAC of the key and the instant, keyed with the deployment's
secret) for drafts and what moderation hid. A signed URL is refused after it expires or
once any of its characters changed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from storage.files import FileStore


@dataclass(frozen=True)
class FileLinks:
    store: FileStore
    # Where the app's /files route is reached, e.g. https://api.example/files.
    base_url: str
    secret: str
    # How long a signed URL serves.
    signed_seconds: int = 900

    def _signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self.secret.encode(), f"files\n{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def public_url(self, key: str) -> str:
        return f"{self.base_url}/{quote(key)}"

    def signed_url(self, key: str, now: float) -> str:
        expires = int(now) + self.signed_seconds
        query = urlencode({"expires": expires, "signature": self._signature(key, expires)})
        return f"{self.public_url(key)}?{query}"

    def check_signature(self, key: str, expires: str | None, signature: str | None, now: float) -> bool:
        """Whether (expires, signature) were made here for `key` and have not expired."""
        # ASCII digits only: "²".isdigit() is True, and int("²") raises.
        if not expires or not signature or not expires.isascii() or not expires.isdigit() or len(expires) > 12:
            return False
        if int(expires) < now:
            return False
        # As bytes: compare_digest refuses a str with non-ASCII characters (a TypeError).
        return hmac.compare_digest(self._signature(key, int(expires)).encode(), signature.encode())
