"""What each `kalan` command does (see cli.py for the arguments)."""

import argparse
import os
import sys
from pathlib import Path

from kalan.core import readiness
from kalan.core.errors import KalanError


def ensure_ready(*, quiet: bool = True) -> None:
    """Migrate the database and collect static files, only when something changed."""
    if readiness.is_ready():
        return
    from django.core.management import call_command

    verbosity = 0 if quiet else 1
    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("collectstatic", interactive=False, verbosity=verbosity)
    readiness.mark_ready()


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as error:
        raise KalanError(f"{name} must be a whole number, not {raw!r}") from error


def default_workers() -> int:
    """Two server processes where there are two cores and 1 GiB of memory, else one.

    Measured on two cores (ADR 0002): two processes with two threads each serve
    about twice the pages of one; each process costs about 60 MiB.
    """
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return 2 if (os.cpu_count() or 1) >= 2 and memory >= 1 << 30 else 1


def start(args: argparse.Namespace) -> int:
    """Serve with gunicorn (ADR 0002); SIGTERM and Ctrl-C stop it cleanly.

    When this process had to load Django to migrate, it replaces itself with a
    fresh one, so the server's master process holds no Django in memory.
    """
    from kalan.server import serve

    if not 0 < args.port < 65536:
        raise KalanError(f"--port must be between 1 and 65535, not {args.port}")
    workers = args.workers
    if workers is None:
        workers = _env_int("KALAN_WORKERS") or default_workers()
    threads = _env_int("KALAN_THREADS")
    threads = 2 if threads is None else threads
    if workers < 1 or threads < 1:
        raise KalanError("--workers and KALAN_THREADS must be at least 1")
    if "django" in sys.modules:  # loaded by cli.main because the instance was not ready
        ensure_ready()
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "kalan", *sys.argv[1:]])  # noqa: S606
    print(f"Kalan is serving on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    serve(host=args.host, port=args.port, workers=workers, threads=threads)
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


def users(args: argparse.Namespace) -> int:
    """`kalan users import-oneroster DIR [--school ID_OR_CODE]`: one summary line."""
    from kalan.schools.oneroster import import_oneroster_dir, school_by_id_or_code

    if not args.dir.is_dir():
        raise KalanError(f"{args.dir} is not a folder")
    ensure_ready()
    school = school_by_id_or_code(args.school) if args.school else None
    report = import_oneroster_dir(args.dir, school=school)
    prefix = "Nothing changed" if report.changed_nothing else "Imported"
    print(f"{prefix}: {report.summary()}")
    return 0
