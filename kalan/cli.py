"""The `kalan` command: the contract that scripts and operators rely on.

Every failure a person can cause (bad arguments, an unusable KALAN_HOME, a bad
file) ends in one line on stderr and a non-zero exit, never a traceback.
"""

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from kalan.core import readiness
from kalan.core.paths import kalan_home

log = logging.getLogger("kalan.cli")


class CommandError(Exception):
    """A one-line failure for the person at the terminal."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> Parser:
    parser = Parser(prog="kalan", description="Offline-first learning platform.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    start = commands.add_parser("start", help="serve in the foreground (Ctrl-C stops)")
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=8000)
    start.add_argument("--workers", type=int, default=None, help="server processes")

    setup = commands.add_parser("setup", help="provision this instance without questions")
    setup.add_argument("--school", required=True, help="name of the school")
    setup.add_argument("--school-code", default="", help="school code (default: from the name)")
    setup.add_argument("--admin", required=True, help="username of the school admin")
    setup.add_argument("--password-file", required=True, type=Path)
    setup.add_argument("--noinput", action="store_true", help="never ask anything")

    commands.add_parser("demo", help="create the demo school, people and classes (idempotent)")

    users = commands.add_parser("users", help="people of the schools")
    users_commands = users.add_subparsers(dest="users_command", required=True, parser_class=Parser)
    oneroster = users_commands.add_parser(
        "import-oneroster", help="import a OneRoster 1.1 CSV bundle (a folder)"
    )
    oneroster.add_argument("dir", type=Path, metavar="DIR", help="folder of the bundle's CSV files")
    oneroster.add_argument(
        "--school", default="", help="id or code of the school that receives everyone"
    )

    _add_content(commands)
    _add_lrs(commands)
    _add_sync(commands)

    manage = commands.add_parser("manage", help="Django management commands", add_help=False)
    manage.add_argument("args", nargs=argparse.REMAINDER)

    return parser


def _add_content(commands: "argparse._SubParsersAction[Parser]") -> None:
    content = commands.add_parser("content", help="the library: build, import, export channels")
    sub = content.add_subparsers(dest="content_command", required=True, parser_class=Parser)
    build = sub.add_parser("build", help="make a signed channel package from a folder tree")
    build.add_argument("src", type=Path, metavar="SRC_DIR")
    build.add_argument("--out", type=Path, required=True, metavar="PKG_DIR")
    build.add_argument("--key", type=Path, help="Ed25519 key (default: this instance's)")
    build.add_argument("--publisher", default="", help="publisher name written in the channel")
    imp = sub.add_parser("import", help="import channels from a folder, USB path or peer URL")
    imp.add_argument("src", metavar="SRC")
    imp.add_argument("--channel", action="append", default=[], help="channel id (repeatable)")
    imp.add_argument("--topic", action="append", default=[], help="only this topic (repeatable)")
    export = sub.add_parser("export", help="write a channel into a folder (e.g. a USB stick)")
    export.add_argument("channel", metavar="CHANNEL_ID")
    export.add_argument("dest", type=Path, metavar="DEST_DIR")
    listing = sub.add_parser("list", help="the channels installed here, or those in SRC")
    listing.add_argument("src", nargs="?", default=None, metavar="SRC")
    delete = sub.add_parser("delete", help="remove an installed channel and its unused files")
    delete.add_argument("channel", metavar="CHANNEL_ID")
    convert = sub.add_parser(
        "convert-qti",
        help="write a QTI 2.x/3.0 package or item as an exercise file, to edit before a build",
    )
    convert.add_argument("src", type=Path, metavar="SRC", help="item .xml, package .zip or folder")
    convert.add_argument("--out", type=Path, required=True, metavar="DIR")
    convert.add_argument("--name", default="", help="NAME.exercise.json (default: SRC's name)")


def _add_lrs(commands: "argparse._SubParsersAction[Parser]") -> None:
    lrs = commands.add_parser("lrs", help="the xAPI Learning Record Store")
    sub = lrs.add_subparsers(dest="lrs_command", required=True, parser_class=Parser)
    credentials = sub.add_parser("credentials", help="HTTP Basic credentials for xAPI tools")
    credentials_sub = credentials.add_subparsers(
        dest="credentials_command", required=True, parser_class=Parser
    )
    create = credentials_sub.add_parser(
        "create", help="new credentials: prints KEY SECRET on one line (shown only once)"
    )
    create.add_argument("name", metavar="NAME", help="what the credentials are for")


def _add_sync(commands: "argparse._SubParsersAction[Parser]") -> None:
    sync = commands.add_parser("sync", help="exchange records with other instances")
    sub = sync.add_subparsers(dest="sync_command", required=True, parser_class=Parser)
    status = sub.add_parser("status", help="per school: records, positions and a digest")
    status.add_argument("--json", action="store_true", help="print JSON, for scripts")


def prepare_home() -> Path:
    """Create KALAN_HOME if needed and prove it is writable."""
    home = kalan_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        raise CommandError(f"KALAN_HOME {home} is not usable: {reason}") from error
    return home


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalan.config.settings.base")
    import django

    django.setup()


def dispatch(args: argparse.Namespace) -> int:
    from kalan import commands

    handlers = {
        "start": commands.start,
        "setup": commands.setup,
        "demo": commands.demo,
        "users": commands.users,
        "content": commands.content,
        "lrs": commands.lrs,
        "sync": commands.sync,
        "manage": commands.manage,
    }
    return handlers[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        prepare_home()
        if not (args.command == "start" and readiness.is_ready()):
            setup_django()
        return dispatch(args)
    except CommandError as error:
        print(f"kalan: error: {error}", file=sys.stderr)
        return 2
    except SystemExit:
        raise
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        return report_unexpected(error)


def report_unexpected(error: BaseException) -> int:
    from kalan.core.errors import KalanError

    message = " ".join(str(error).split())  # one line, whatever the library wrote
    if isinstance(error, KalanError):
        print(f"kalan: error: {message}", file=sys.stderr)
        return error.exit_code
    logfile = kalan_home() / "logs" / "kalan-error.log"
    try:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with logfile.open("a") as handle:
            traceback.print_exception(error, file=handle)
        where = f" (details in {logfile})"
    except OSError:
        where = ""
    print(f"kalan: error: {type(error).__name__}: {message}{where}", file=sys.stderr)
    return 1
