"""The delivery queue: jobs leave after commit, once per key, retried with backoff, dead
letters an operator replays, and no message lost when a worker dies mid-send."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from app.mail import email_sender
from delivery import enqueue, register_sender
from delivery.email import CHANNEL
from delivery.worker import Policy, Worker, dead_jobs, replay
from models.clock import now
from models.delivery import DeliveryJob, JobStatus
from tests.e2e.server import run_cli
from tests.mailbox import free_port, html_of, text_of

ROOT = Path(__file__).resolve().parents[2]


def a_mail(name: str = "Alice") -> dict[str, object]:
    return {"kind": "password_changed", "locale": "en", "params": {"name": name}}


def an_address() -> str:
    return f"someone-{uuid.uuid4().hex[:8]}@example.org"


async def test_a_job_is_queued_with_the_write_that_commits_and_not_with_one_that_rolls_back():
    kept, lost = an_address(), an_address()
    async with in_transaction():
        await enqueue(CHANNEL, kept, a_mail(), f"test:{kept}")

    with pytest.raises(RuntimeError):
        async with in_transaction():
            await enqueue(CHANNEL, lost, a_mail(), f"test:{lost}")
            raise RuntimeError("the mutation failed after queuing")

    assert await DeliveryJob.filter(recipient=kept).count() == 1
    assert await DeliveryJob.filter(recipient=lost).count() == 0


async def test_the_same_key_queued_twice_sends_one_mail(mail, smtp):
    address = an_address()
    for _ in range(2):
        async with in_transaction():
            await enqueue(CHANNEL, address, a_mail(), f"test:twice:{address}")

    await mail()
    await mail()

    assert await DeliveryJob.filter(recipient=address).count() == 1
    received = smtp.mailbox.wait_for(address)
    assert len(received) == 1
    assert "password of your account just changed" in text_of(received[0])
    assert "<p>Hello Alice,</p>" in html_of(received[0])
    job = await DeliveryJob.get(recipient=address)
    assert job.status == JobStatus.SENT and job.attempts == 1


async def test_a_server_that_is_down_delays_delivery_then_dead_letters_an_operator_replays(smtp, settings):
    address = an_address()
    async with in_transaction():
        await enqueue(CHANNEL, address, a_mail(), f"test:down:{address}")
    # Nothing listens on this port: every send fails.
    register_sender(CHANNEL, email_sender(replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")))
    worker = Worker(Policy(backoff_seconds=60, max_attempts=2, send_timeout=5))

    await worker.drain()
    job = await DeliveryJob.get(recipient=address)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.last_error and "Connect" in job.last_error
    # Backoff: not due again for about a minute (60 s, give or take the 20% jitter).
    assert job.run_after > now() + dt.timedelta(seconds=45)

    await DeliveryJob.filter(id=job.id).update(run_after=now())
    await worker.drain()
    job = await DeliveryJob.get(id=job.id)
    assert job.status == JobStatus.DEAD and job.attempts == 2
    assert job.id in [dead.id for dead in await dead_jobs(1000)]

    register_sender(CHANNEL, email_sender(replace(settings, smtp_url=smtp.url)))
    assert await replay([job.id]) == 1
    await worker.drain()
    assert (await DeliveryJob.get(id=job.id)).status == JobStatus.SENT
    assert len(smtp.mailbox.wait_for(address)) == 1


async def test_an_address_the_server_refuses_for_good_is_dead_at_once(mail, smtp):
    address = an_address()
    smtp.mailbox.refuse.add(address)
    async with in_transaction():
        await enqueue(CHANNEL, address, a_mail(), f"test:refused:{address}")

    await mail()

    job = await DeliveryJob.get(recipient=address)
    assert job.status == JobStatus.DEAD and job.attempts == 1
    assert "550" in (job.last_error or "")


async def test_a_sent_job_keeps_no_secret(mail, smtp):
    address = an_address()
    payload = {"kind": "reset_password", "locale": "fr", "params": {"name": "Alice", "minutes": 60},
               "secret": {"token": "the-secret-token"}}
    async with in_transaction():
        await enqueue(CHANNEL, address, payload, f"test:secret:{address}")

    await mail()

    [message] = smtp.mailbox.wait_for(address)
    assert "/reset-password?token=the-secret-token" in text_of(message)
    assert "Choisissez un nouveau mot de passe" == message["Subject"]
    job = await DeliveryJob.get(recipient=address)
    assert "secret" not in job.payload and "the-secret-token" not in str(job.payload)


async def test_the_embedded_default_writes_eml_files(tmp_path, settings):
    address = an_address()
    async with in_transaction():
        await enqueue(CHANNEL, address, a_mail("Bob"), f"test:eml:{address}")
    register_sender(CHANNEL, email_sender(replace(settings, smtp_url=None, mail_dir=str(tmp_path))))

    await Worker(Policy(send_timeout=5)).drain()

    files = [p.read_text() for p in tmp_path.glob("*.eml")]
    assert [text for text in files if f"To: {address}" in text]


async def test_a_worker_killed_mid_send_loses_no_message(smtp, settings, database_url, tmp_path):
    """A worker process is killed while the SMTP server holds its message unanswered; once its
    claim lapses another worker delivers the message, once."""
    address = an_address()
    async with in_transaction():
        await enqueue(CHANNEL, address, a_mail(), f"test:killed:{address}")
    smtp.mailbox.hang_next.set()
    env = {**os.environ, "DATABASE_URL": database_url, "SMTP_URL": smtp.url,
           "PARVIS_DELIVERY_LEASE_SECONDS": "4", "PARVIS_DELIVERY_POLL_SECONDS": "0.2"}
    env.pop("REDIS_URL", None)
    log = (tmp_path / "worker.log").open("wb")
    worker = await asyncio.create_subprocess_exec(sys.executable, "server.py", "deliver", cwd=ROOT, env=env,
                                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            if smtp.mailbox.hanging.is_set():
                break
            await asyncio.sleep(0.05)
        assert smtp.mailbox.hanging.is_set(), (tmp_path / "worker.log").read_text()
        claimed = await DeliveryJob.get(recipient=address)
        assert claimed.status == JobStatus.PENDING and claimed.locked_until is not None
    finally:
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), 10)
        log.close()
    assert smtp.mailbox.to(address) == []

    register_sender(CHANNEL, email_sender(replace(settings, smtp_url=smtp.url)))
    rescuer = Worker(Policy(send_timeout=5))
    await rescuer.drain()  # too early: the claim still holds
    assert smtp.mailbox.to(address) == []
    await asyncio.sleep(4.2)  # the dead worker's claim lapses
    await rescuer.drain()

    assert len(smtp.mailbox.wait_for(address)) == 1
    job = await DeliveryJob.get(recipient=address)
    assert job.status == JobStatus.SENT and job.attempts == 2


async def test_an_operator_lists_dead_letters_and_replays_them_from_the_command_line(database_url):
    address = an_address()
    job = await DeliveryJob.create(key=f"test:cli:{address}", channel=CHANNEL, recipient=address, payload=a_mail(),
                                   status=JobStatus.DEAD, attempts=8, run_after=now(), last_error="SMTPTimeoutError")

    listed = await asyncio.to_thread(run_cli, database_url, "delivery-dead", "--limit", "100000")
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if address in line]
    assert line.startswith(f"{job.id}\temail\t{address}\tattempts=8\t") and line.endswith("SMTPTimeoutError")

    refused = await asyncio.to_thread(run_cli, database_url, "delivery-replay")
    assert refused.returncode == 2 and "needs job ids or --all" in refused.stderr
    replayed = await asyncio.to_thread(run_cli, database_url, "delivery-replay", str(job.id))
    assert replayed.returncode == 0 and replayed.stdout.strip() == "1 jobs queued again"
    again = await DeliveryJob.get(id=job.id)
    assert again.status == JobStatus.PENDING and again.attempts == 0
