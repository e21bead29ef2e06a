"""The `octopus` command: start, version, migrate, reset-password; parsing only."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import os
import secrets
import sys
from pathlib import Path

from octopus import __version__
from octopus.settings import ConfigError, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="octopus", description="all AI services in one place")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("start", "start the gateway"),
        ("migrate", "bring the database schema up to date and exit"),
        ("reset-password", "set a new admin password (recovers a lost account)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--config", type=Path, default=None, help="config file (data/config.json)"
        )
    start = commands.choices["start"]
    start.add_argument(
        "--workers", type=int, default=None, help="serving processes (0 = one per core)"
    )
    start.add_argument("--worker-fd", type=int, default=None, help=argparse.SUPPRESS)
    start.add_argument(
        "--admin-password",
        default=None,
        help="the admin password on first start (else admin/admin, to be changed at first login)",
    )
    reset = commands.choices["reset-password"]
    reset.add_argument("--username", default=None, help="also rename the account")
    reset.add_argument("--password", default=None, help="the new password (asked when omitted)")
    reset.add_argument("--random", action="store_true", help="generate and print a random password")
    commands.add_parser("version", help="print the version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"octopus {__version__} (python {sys.version.split()[0]})")  # noqa: T201
        return 0
    try:
        settings = Settings.load(args.config)
        if getattr(args, "workers", None) is not None:
            settings = settings.with_workers(args.workers)
    except ConfigError as exc:
        print(f"octopus: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    from octopus.core.logs import setup_logging

    setup_logging(settings.log_level, settings.debug)
    if args.command == "start":
        from octopus.core.memory import one_malloc_arena
        from octopus.server import serve, serve_workers

        one_malloc_arena()  # before any thread: the arenas are chosen as threads first allocate

        if args.admin_password is not None:
            # through the environment: worker processes load their settings again
            os.environ["OCTOPUS_ADMIN_PASSWORD"] = args.admin_password
            settings = dataclasses.replace(settings, admin_password=args.admin_password)

        if args.worker_fd is not None:
            return serve(settings, worker_fd=args.worker_fd)
        return serve_workers(settings, args.config)
    from octopus import maintenance

    if args.command == "migrate":
        return asyncio.run(maintenance.migrate(settings))
    password = args.password
    if args.random:
        password = secrets.token_urlsafe(12)
        print(f"new admin password: {password}")  # noqa: T201
    elif password is None:
        password = getpass.getpass("new admin password: ")
    return asyncio.run(maintenance.reset_password(settings, password, args.username))
