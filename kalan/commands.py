"""What each `kalan` command does, once Django is set up (see cli.py)."""

import argparse
import hashlib
import json
import os
from pathlib import Path

from django.conf import settings

from kalan.core.errors import KalanError

PACKAGE_DIR = Path(__file__).resolve().parent


def _signature() -> str:
    """Changes when migrations, static files or the database location change."""
    digest = hashlib.sha256(str(settings.DATABASES["default"].get("NAME")).encode())
    for pattern in ("*/migrations/*.py", "*/static/**/*"):
        for path in sorted(PACKAGE_DIR.glob(pattern)):
            if path.is_file():
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(PACKAGE_DIR)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                )
    return digest.hexdigest()


def _database_exists() -> bool:
    db = settings.DATABASES["default"]
    return "sqlite" not in db["ENGINE"] or Path(str(db["NAME"])).exists()


def ensure_ready(*, quiet: bool = True) -> None:
    """Migrate the database and collect static files, only when something changed.

    A stamp in KALAN_HOME makes this a few milliseconds on an unchanged instance,
    so `kalan start` stays quick on a single-board computer.
    """
    from django.core.management import call_command

    stamp = settings.KALAN_HOME / "ready.json"
    signature = _signature()
    try:
        if _database_exists() and json.loads(stamp.read_text())["signature"] == signature:
            return
    except (OSError, ValueError, KeyError):
        pass
    verbosity = 0 if quiet else 1
    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("collectstatic", interactive=False, verbosity=verbosity)
    stamp.write_text(json.dumps({"signature": signature}))


def start(args: argparse.Namespace) -> int:
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    if not 0 < args.port < 65536:
        raise KalanError(f"--port must be between 1 and 65535, not {args.port}")
    if args.workers < 1:
        raise KalanError("--workers must be at least 1")
    ensure_ready()
    print(f"Kalan is serving on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    server = Server(
        "kalan.config.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=int(os.environ.get("KALAN_THREADS", "8")),
        log_level=LogLevels.warning,
        websockets=False,
    )
    server.serve()
    return 0


def _read_password(path: Path) -> str:
    try:
        password = path.read_text(encoding="utf-8").strip("\r\n")
    except OSError as error:
        raise KalanError(f"cannot read the password file {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise KalanError(f"the password file {path} is not UTF-8 text") from error
    if not password:
        raise KalanError(f"the password file {path} is empty")
    return password


def setup(args: argparse.Namespace) -> int:
    from kalan.schools.provisioning import provision_school

    password = _read_password(args.password_file)
    ensure_ready()
    school, admin = provision_school(
        school_name=args.school,
        school_code=args.school_code,
        admin_username=args.admin,
        admin_password=password,
    )
    print(f"School {school.name!r} ({school.code}) is ready; its admin is {admin.username!r}.")
    return 0


def demo(args: argparse.Namespace) -> int:
    from kalan.schools.demo import DEMO_ACCOUNTS, create_demo

    ensure_ready()
    created = create_demo()
    print("Demo school ready." if created else "Demo school already present; nothing changed.")
    print("Demo accounts (username / password):")
    for role, username, password in DEMO_ACCOUNTS:
        print(f"  {role:<28} {username:<12} {password}")
    return 0


def manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kalan manage", *args.args])
    return 0
