"""Where document files are kept, behind one interface (`FileStore`): a local folder on the
embedded default, or any S3-compatible store (S3_URL, S3_BUCKET).

Keys are chosen by the server (`new_key`): a random folder and a cleaned file name, so a
client's name can neither climb out of the store (`../`) nor collide with another file.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# What a key looks like: lowercase hex folder, then a cleaned name; nothing else is served.
KEY = re.compile(r"^documents/[0-9a-f]{32}/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StoreError(Exception):
    """The store could not keep or give back a file (disk full, S3 unreachable)."""


def clean_filename(name: str | None, extension: str) -> str:
    """A file name safe in a key, a path and a Content-Disposition header: the client's base
    name (no folders), in ASCII letters, digits, dots, dashes and underscores, with the
    extension of the type read from the content (never the client's)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:80] or "document"
    return f"{stem}.{extension}"


def new_key(filename: str) -> str:
    return f"documents/{secrets.token_hex(16)}/{filename}"


def is_key(key: str) -> bool:
    return KEY.match(key) is not None and ".." not in key


class FileStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Keep `data` under `key` (a new key: never overwrites)."""
        ...

    async def read(self, key: str) -> bytes:
        """The bytes kept under `key` (FileNotFoundError if none)."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key` (nothing if it is not there)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file on this machine, for the app to serve; None for a remote store."""
        ...

    async def download_url(self, key: str, content_type: str, disposition: str, seconds: int) -> str | None:
        """A URL that serves the file for `seconds` with these headers; None when the app
        serves it itself (local_path)."""
        ...


class LocalStore:
    """A folder on this machine (PARVIS_FILES_DIR); the app serves it at /files/<key>."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not is_key(key):
            raise FileNotFoundError(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise FileNotFoundError(key)
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(_write_new, path, data)
        except OSError as exc:
            raise StoreError(str(exc)) from exc

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self._path(key).unlink, True)
        except FileNotFoundError:
            pass

    def local_path(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except FileNotFoundError:
            return None
        return path if path.is_file() else None

    async def download_url(self, key: str, content_type: str, disposition: str, seconds: int) -> str | None:
        return None


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: a key is written once; a partial file is removed so no reader meets it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError:
        path.unlink(missing_ok=True)
        raise


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Garage, Ceph...), through boto3 in a thread;
    files are handed out by presigned GET URLs that expire."""

    def __init__(self, endpoint: str | None, bucket: str, region: str,
                 access_key_id: str | None, secret_access_key: str | None) -> None:
        self.bucket = bucket
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 3}, connect_timeout=5, read_timeout=30),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=key, Body=data,
                                    ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(str(exc)) from exc

    async def read(self, key: str) -> bytes:
        try:
            answer = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
            data: bytes = await asyncio.to_thread(answer["Body"].read)
            return data
        except ClientError as exc:
            raise FileNotFoundError(key) from exc

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(str(exc)) from exc

    def local_path(self, key: str) -> Path | None:
        return None

    async def download_url(self, key: str, content_type: str, disposition: str, seconds: int) -> str | None:
        # Presigning is local computation (no request), but boto3 may read its config: a thread.
        url: str = await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition},
            ExpiresIn=seconds,
        )
        return url

    def close(self) -> None:
        self.client.close()
