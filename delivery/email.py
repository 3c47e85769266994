"""The email channel: SMTP (SMTP_URL) with aiosmtplib, or, with no SMTP server configured,
.eml files written to a folder (PARVIS_MAIL_DIR) so a developer reads what would be sent.

A mail whose payload names what it may unsubscribe from ({"unsubscribe": {"account", "kinds"}}:
notifications, digests) carries a signed one-click link (RFC 8058, access/unsubscribe.py) in
`List-Unsubscribe` and its footer; account mails (confirmations, resets) carry none.

Each message's Message-ID comes from its job's idempotency key: the copy a worker killed
between sending and recording may send again carries the same Message-ID.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from access.unsubscribe import unsubscribe_token
from delivery import Job, PermanentFailure
from delivery.mails import render
from models.notifications import NotificationKind

CHANNEL = "email"


def message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailSender:
    """Sends the `email` channel's jobs: payload {"kind", "locale", "params", "secret",
    "unsubscribe"}. Unsubscribe links are signed with `secret` (none without it)."""

    def __init__(
        self,
        *,
        smtp_url: str | None,
        mail_dir: str,
        from_address: str,
        domain: str,
        public_url: str,
        timeout: float = 30.0,
        secret: str | None = None,
    ) -> None:
        self.smtp_url = smtp_url
        self.mail_dir = Path(mail_dir)
        self.from_address = from_address
        self.domain = domain
        self.public_url = public_url
        self.timeout = timeout
        self.secret = secret

    def unsubscribe_link(self, job: Job) -> str | None:
        """The one-click link of what the job's payload names, or None for a mail without one."""
        named = job.payload.get("unsubscribe")
        if not named or self.secret is None:
            return None
        try:
            kinds = [NotificationKind(kind) for kind in named["kinds"]]
            token = unsubscribe_token(self.secret, int(named["account"]), kinds)
        except (KeyError, TypeError, ValueError) as exc:
            # A notification mail without its way out is not sent at all.
            raise PermanentFailure(f"cannot sign the unsubscribe link: {exc!r}") from exc
        return f"{self.public_url.rstrip('/')}/unsubscribe?token={token}"

    def build(self, job: Job) -> EmailMessage:
        payload = job.payload
        unsubscribe = self.unsubscribe_link(job)
        try:
            mail = render(
                str(payload["kind"]),
                str(payload.get("locale") or ""),
                dict(payload.get("params") or {}),
                self.public_url,
                (payload.get("secret") or {}).get("token"),
                unsubscribe,
            )
        except (KeyError, IndexError, ValueError) as exc:
            raise PermanentFailure(f"cannot render mail: {exc!r}") from exc
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = job.recipient
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(job.key, self.domain)
        message["Auto-Submitted"] = "auto-generated"
        if unsubscribe is not None:
            # RFC 2369 and RFC 8058: mail clients show an unsubscribe button and POST
            # "List-Unsubscribe=One-Click" to the link (app/unsubscribe.py).
            message["List-Unsubscribe"] = f"<{unsubscribe}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    async def __call__(self, job: Job) -> None:
        message = self.build(job)
        if self.smtp_url is None:
            await asyncio.to_thread(self._write, job.key, message)
            return
        await self._send(message)

    async def _send(self, message: EmailMessage) -> None:
        url = urlsplit(self.smtp_url or "")
        try:
            await aiosmtplib.send(
                message,
                hostname=url.hostname or "localhost",
                port=url.port,
                username=unquote(url.username) if url.username else None,
                password=unquote(url.password) if url.password else None,
                use_tls=url.scheme == "smtps",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # The server refuses the address for good (5xx): retrying will not help.
            if all(500 <= error.code < 600 for error in exc.recipients):
                raise PermanentFailure(f"recipient refused: {exc}") from exc
            raise

    def _write(self, key: str, message: EmailMessage) -> None:
        """One file per job, named by its key: a retry overwrites, never duplicates."""
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        path = self.mail_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.eml"
        partial = path.with_suffix(".tmp")
        partial.write_bytes(bytes(message))
        os.replace(partial, path)
