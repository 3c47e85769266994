"""The command line: serve, migrate, create a territory or an admin, seed the demo, export the SDL.

    python server.py [serve] [--host H] [--port P] [--workers N]
    python server.py migrate
    python server.py create-territory --slug S --name N [--population P] [--reply-deadline-days D]
    python server.py create-admin --territory S --email E --password P --display-name D
    python server.py seed-demo [--scale K]
    python server.py register-documents MANIFEST.json --client "web 2.3.0"
    python server.py fetch-graphiql-assets DIR
    python server.py export-schema
    python server.py generate-vapid-keys [--subject mailto:you@example.org]
    python server.py deliver [--once]
    python server.py delivery-dead [--limit N]
    python server.py delivery-replay [ID ...] [--all]

server.py hands `main` the function that builds the ASGI app (and its import path, for
`--workers`, where each worker builds its own).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from strawberry.printer import print_schema
from tortoise import Tortoise

from access.passwords import hash_password
from access.ratelimit import deployment_namespace
from app.api import schema
from app.database import apply_migrations, check_database, check_migrations, tortoise_config
from app.files import file_links, file_store
from app.graphiql import fetch_assets, missing_assets
from app.mail import delivery_policy, register_channels
from app.observability import uvicorn_log_config
from app.persisted import manifest_documents
from app.settings import ConfigError, Settings
from delivery.push import VapidKeys
from delivery.worker import Worker, dead_jobs, replay
from demo.seed import SeedRefused, do_seed_demo
from events.brokers import RedisBroker
from models.accounts import Account, Member, Role
from models.clients import TrustedDocument
from models.territories import Territory
from resolvers.accounts import check_email, check_password
from resolvers.validation import Checks
from schema.relay import encode_id
from sharing.stamp import announce_write

BuildApp = Callable[[Settings], Starlette]
WORKER_HEALTHCHECK_SECONDS = 60


@dataclass(frozen=True)
class Composition:
    """What the composition root hands the CLI: how to build the app, and where that lives."""

    build_app: BuildApp
    factory_path: str  # "module:function", imported by each worker of `serve --workers N`


def export_schema() -> str:
    return print_schema(schema) + "\n"


def _run(work: Callable[[], Awaitable[None]], settings: Settings) -> None:
    """Run a command's work with the database open (migrated first on SQLite), then tell the
    servers that share REDIS_URL that data may have changed."""

    async def main() -> None:
        await check_database(settings.database_url)
        if settings.is_sqlite:
            await apply_migrations(settings.database_url)
        await Tortoise.init(config=tortoise_config(settings.database_url))
        try:
            await work()
        finally:
            await Tortoise.close_connections()
            await announce_cli_writes(settings)

    asyncio.run(main())


async def announce_cli_writes(settings: Settings) -> None:
    """A command may have written what servers share between readers: tell the servers on
    REDIS_URL (a lone in-process server's shared answers live at most
    response_cache_seconds; see docs/adr/0006)."""
    if not settings.redis_url:
        return
    broker = RedisBroker(settings.redis_url, deployment_namespace(settings.database_url))
    try:
        await announce_write(broker)
    finally:
        await broker.close()


def cmd_serve(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    if settings.production and not settings.secret_from_env:
        # A generated secret file is one host's: ballots sealed on another host could never be
        # counted here (docs/adr/0009).
        raise ConfigError("PARVIS_SECRET must be set in production, the same on every host (see docs/adr/0009)")
    asyncio.run(check_database(settings.database_url))
    if settings.is_sqlite:
        # The embedded default needs nothing else: bring the schema up to date here.
        asyncio.run(apply_migrations(settings.database_url))
    else:
        # A shared database is migrated once per deployment, on purpose: refuse rather than
        # answer every query with an error.
        asyncio.run(check_migrations(settings.database_url))
    if settings.graphiql_assets is not None:
        missing = missing_assets(Path(settings.graphiql_assets))
        if missing:
            raise ConfigError(f"PARVIS_GRAPHIQL_ASSETS={settings.graphiql_assets} lacks {len(missing)} of GraphiQL's "
                              f"files: run `python server.py fetch-graphiql-assets {settings.graphiql_assets}`")
    host = args.host or settings.host
    port = args.port or settings.port
    # uvicorn would take X-Forwarded-For from 127.0.0.1 by default (FORWARDED_ALLOW_IPS): off,
    # the app reads forwarded headers from PARVIS_TRUSTED_PROXIES only (app/middleware.py).
    common: dict[str, Any] = {
        "host": host, "port": port, "ws": "websockets-sansio", "log_level": "info",
        "log_config": uvicorn_log_config(settings.production), "ws_per_message_deflate": settings.ws_deflate,
        "proxy_headers": False, "forwarded_allow_ips": "",
    }
    if args.workers and args.workers > 1:
        with metrics_directory(settings) as directory:
            # Each worker reads PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess
            # mode), so any worker's /metrics shows the whole server.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
            # A worker re-imports server.py before it answers uvicorn's health check: on a
            # busy machine that takes longer than uvicorn's 5 s, and every worker was killed.
            uvicorn.run(root.factory_path, factory=True, workers=args.workers,
                        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS, **common)
    else:
        uvicorn.run(serving(root.build_app(settings)), **common)


def serving(app: Starlette) -> Starlette:
    """An app this process serves until it exits: once it is up, what its startup built (the
    schema, the modules, the pools) leaves the cyclic garbage collector's watch (server.py's
    lifespan, gc.freeze: ADR 0025). Tests build apps that come and go: not these."""
    app.state.freeze_heap = True
    return app


@contextlib.contextmanager
def metrics_directory(settings: Settings) -> Iterator[str]:
    """The operator's PROMETHEUS_MULTIPROC_DIR, or a new one removed when the server stops
    (a directory left from an earlier run would add its counts to this one's)."""
    if settings.metrics_dir is not None:
        yield settings.metrics_dir
        return
    directory = tempfile.mkdtemp(prefix="parvis-metrics-")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def cmd_migrate(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    async def main() -> None:
        await check_database(settings.database_url)
        await apply_migrations(settings.database_url)

    asyncio.run(main())
    print("migrations applied")


def cmd_create_territory(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    async def work() -> None:
        slug = args.slug.strip().lower()
        if await Territory.filter(slug=slug).exists():
            raise ConfigError(f"a territory with slug {slug!r} already exists")
        if args.reply_deadline_days is not None and not 1 <= args.reply_deadline_days <= 365:
            raise ConfigError("--reply-deadline-days must be 1 to 365")
        row = await Territory.create(
            slug=slug, name=args.name.strip(), population=args.population,
            reply_deadline_days=args.reply_deadline_days or 15,
        )
        print(f"territory {row.slug} created (id {encode_id('Territory', row.id)})")

    _run(work, settings)


def cmd_create_admin(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    async def work() -> None:
        territory = await Territory.get_or_none(slug=args.territory.strip().lower())
        if territory is None:
            raise ConfigError(f"no territory with slug {args.territory!r}")
        # The same rules as signUp.
        checks = Checks()
        email = check_email(checks, args.email)
        account = await Account.get_or_none(email=email) if not checks.errors else None
        name = ""
        if account is None:
            check_password(checks, args.password)
            name = checks.text(args.display_name, "displayName", max_length=100)
        if checks.errors:
            raise ConfigError("; ".join(f"{(e.field or ['?'])[-1]}: {e.message}" for e in checks.errors))
        if account is None:
            account = await Account.create(email=email, display_name=name, password_hash=await hash_password(args.password))
        member, _ = await Member.get_or_create(account_id=account.id, territory_id=territory.id)
        await Member.filter(id=member.id).update(role=Role.ADMIN, verified=True, left_at=None)
        print(f"{email} is an admin of {territory.slug}")

    _run(work, settings)


def cmd_seed_demo(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    if settings.production and not args.force:
        # The demo creates an admin whose password is published in the README.
        raise ConfigError("seed-demo refuses to run in production (it creates an admin with a published "
                          "password); add --force if this really is a demo deployment")

    async def work() -> None:
        try:
            # The demo's files go where the app serves them from (PARVIS_FILES_DIR or S3).
            summary = await do_seed_demo(scale=args.scale, files=file_links(settings, file_store(settings)))
        except SeedRefused as exc:
            raise ConfigError(str(exc)) from exc
        print(summary)

    _run(work, settings)


def cmd_register_documents(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    try:
        with open(args.manifest, encoding="utf-8") as file:
            documents = manifest_documents(json.load(file))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{args.manifest}: {exc}") from exc
    client = args.client.strip()
    if not 1 <= len(client) <= 100:
        raise ConfigError("--client must name the app in 1 to 100 characters")

    async def work() -> None:
        found: list[Any] = await TrustedDocument.filter(hash__in=list(documents)).values_list("hash", flat=True)
        existing = set(found)
        await TrustedDocument.bulk_create([
            TrustedDocument(hash=digest, document=document, client=client)
            for digest, document in documents.items() if digest not in existing
        ])
        print(f"{len(documents) - len(existing)} documents registered for {client} "
              f"({len(existing)} already were)")

    _run(work, settings)


def cmd_fetch_graphiql_assets(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    try:
        written = fetch_assets(Path(args.directory))
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        raise ConfigError(f"could not fetch GraphiQL's assets: {exc}") from exc
    print(f"{len(written)} files in {args.directory}: set PARVIS_GRAPHIQL_ASSETS={args.directory}")


def cmd_deliver(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    """A delivery worker on its own (servers run one each; this adds capacity, or drains)."""

    async def work() -> None:
        register_channels(settings)
        worker = Worker(delivery_policy(settings))
        if args.once:
            print(f"{await worker.drain()} jobs delivered or retried")
        else:
            await worker.run_forever()

    _run(work, settings)


def cmd_delivery_dead(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    async def work() -> None:
        rows = await dead_jobs(args.limit)
        for row in rows:
            print(f"{row.id}\t{row.channel}\t{row.recipient}\tattempts={row.attempts}\t"
                  f"{row.created_at.isoformat()}\t{row.last_error or ''}")
        print(f"{len(rows)} dead jobs", file=sys.stderr)

    _run(work, settings)


def cmd_delivery_replay(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    if not args.all and not args.ids:
        raise ConfigError("delivery-replay needs job ids or --all")

    async def work() -> None:
        count = await replay(None if args.all else args.ids)
        print(f"{count} jobs queued again")

    _run(work, settings)


def cmd_export_schema(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    print(export_schema(), end="")


def cmd_generate_vapid_keys(args: argparse.Namespace, settings: Settings, root: Composition) -> None:
    keys = VapidKeys.generate(args.subject)
    print("# Web Push keys (docs/notifications.md). Keep the private key secret; browsers")
    print(f"# subscribe with the public one (Query.pushPublicKey): {keys.public_key}")
    print(f"PARVIS_VAPID_PRIVATE_KEY={keys.private_key}")
    print(f"PARVIS_VAPID_SUBJECT={keys.subject}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="parvis", description="Parvis civic participation API")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the API (the default command)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("migrate", help="apply the database migrations")
    territory = sub.add_parser("create-territory", help="create a territory")
    territory.add_argument("--slug", required=True)
    territory.add_argument("--name", required=True)
    territory.add_argument("--population", type=int)
    territory.add_argument("--reply-deadline-days", type=int, default=15)
    admin = sub.add_parser("create-admin", help="create an account (if needed) and make it admin")
    admin.add_argument("--territory", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--display-name", required=True)
    seed = sub.add_parser("seed-demo", help="fill a demo territory modeled on Carcassonne Agglo")
    seed.add_argument("--scale", type=int, default=1)
    seed.add_argument("--force", action="store_true", help="seed even in production (a demo deployment)")
    documents = sub.add_parser("register-documents",
                               help="register an app's persisted documents (PARVIS_TRUSTED_DOCUMENTS)")
    documents.add_argument("manifest", help="graphql-codegen persisted documents or an Apollo manifest (JSON)")
    documents.add_argument("--client", required=True, help='the app and version, e.g. "web 2.3.0"')
    assets = sub.add_parser("fetch-graphiql-assets",
                            help="download GraphiQL's files (npm) for PARVIS_GRAPHIQL_ASSETS, checked by hash")
    assets.add_argument("directory")
    sub.add_parser("export-schema", help="print the GraphQL SDL")
    vapid = sub.add_parser("generate-vapid-keys", help="make the VAPID key pair Web Push needs (printed as env lines)")
    vapid.add_argument("--subject", default=Settings.vapid_subject, help="mailto: or https: contact for push services")
    deliver = sub.add_parser("deliver", help="run a delivery worker (mails, pushes) in this process")
    deliver.add_argument("--once", action="store_true", help="deliver what is due, then stop")
    dead = sub.add_parser("delivery-dead", help="list the dead letters: jobs out of attempts")
    dead.add_argument("--limit", type=int, default=100)
    again = sub.add_parser("delivery-replay", help="queue dead jobs again with fresh attempts")
    again.add_argument("ids", nargs="*", type=int, help="job ids (from delivery-dead)")
    again.add_argument("--all", action="store_true", help="every dead job")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve", *argv])
    return args


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, Composition], None]] = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "create-territory": cmd_create_territory,
    "create-admin": cmd_create_admin,
    "seed-demo": cmd_seed_demo,
    "register-documents": cmd_register_documents,
    "fetch-graphiql-assets": cmd_fetch_graphiql_assets,
    "export-schema": cmd_export_schema,
    "generate-vapid-keys": cmd_generate_vapid_keys,
    "deliver": cmd_deliver,
    "delivery-dead": cmd_delivery_dead,
    "delivery-replay": cmd_delivery_replay,
}


def main(argv: list[str], root: Composition) -> int:
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
        COMMANDS[args.command](args, settings, root)
    except ConfigError as exc:
        print(f"parvis: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
