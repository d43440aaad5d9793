"""What each `kalan` command does (see cli.py for the arguments)."""

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from kalan.core import readiness
from kalan.core.errors import KalanError

if TYPE_CHECKING:
    from kalan.content.discovery import Announcement


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
    announcement = _announce(args.port)
    try:
        serve(host=args.host, port=args.port, workers=workers, threads=threads)
    finally:
        if announcement is not None:
            announcement.close()
    return 0


def _announce(port: int) -> "Announcement | None":
    """Announce the hub on the LAN by mDNS when KALAN_DISCOVERY=1 (off by default).

    Only then does the server's master process load Django, to read the hub's id
    and name; a failure to announce is reported and the hub serves anyway.
    """
    if os.environ.get("KALAN_DISCOVERY", "").strip().lower() not in {"1", "true", "yes", "on"}:
        return None
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalan.config.settings.base")
    django.setup()
    from kalan.content.discovery import announce_this_hub

    try:
        return announce_this_hub(port)
    except Exception as error:
        print(f"kalan: warning: cannot announce this hub on the LAN: {error}", file=sys.stderr)
        return None


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
    from kalan.content.demo import ensure_demo_channel
    from kalan.schools.demo import DEMO_ACCOUNTS, create_demo

    ensure_ready()
    created = create_demo()
    print("Demo school ready." if created else "Demo school already present; nothing changed.")
    if ensure_demo_channel():
        print("Demo library channel imported.")
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


# ---------------------------------------------------------------- lrs


def lrs(args: argparse.Namespace) -> int:
    """`kalan lrs credentials create NAME`: prints "KEY SECRET" on one line, for scripts."""
    from kalan.lrs.auth import new_credentials

    name = args.name.strip()
    if not name:
        raise KalanError("the credentials need a name")
    if len(name) > 100:
        raise KalanError("the name is longer than 100 characters")
    ensure_ready()
    credential, secret = new_credentials(name=name)
    print(f"{credential.key} {secret}")
    return 0


def sync(args: argparse.Namespace) -> int:
    """`kalan sync status [--json]`."""
    from kalan.sync.status import status

    ensure_ready()
    found = status()
    if args.json:
        print(json.dumps(found, indent=2, sort_keys=True))
        return 0
    print(f"instance {found['instance']}")
    for scope, seen in found["scopes"].items():
        records = ", ".join(f"{model} {n}" for model, n in seen["records"].items()) or "none"
        print(f"{scope}: {records}")
        print(f"  digest {seen['digest']}")
        for origin, seq in sorted(seen["positions"].items()):
            print(f"  holds {origin} up to {seq}")
    return 0


# ---------------------------------------------------------------- content


def _uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise KalanError(f"{what} {raw!r} is not an id (a UUID)") from error


def content(args: argparse.Namespace) -> int:
    handlers = {
        "build": _content_build,
        "import": _content_import,
        "export": _content_export,
        "list": _content_list,
        "delete": _content_delete,
        "convert-qti": _content_convert_qti,
    }
    return handlers[args.content_command](args)


def _content_build(args: argparse.Namespace) -> int:
    """Needs no database: a teacher's laptop can build without an instance."""
    from kalan.content.builder import BuildFailed, build_channel
    from kalan.content.keys import load_or_create_key

    key = load_or_create_key(args.key)
    try:
        report = build_channel(args.src, args.out, key=key, publisher=args.publisher)
    except BuildFailed as error:
        for problem in error.problems:
            print(f"  refused: {problem}", file=sys.stderr)
        raise
    for path in report.ignored:
        print(f"  ignored (not a kind Kalan plays): {path}")
    for note in report.notes:  # what a conversion (QTI) left out
        print(f"  note: {note}")
    print(report.summary())
    return 0


def _content_import(args: argparse.Namespace) -> int:
    from kalan.content.importer import import_channel
    from kalan.content.sources import open_source
    from kalan.core.progress import ProgressBar

    ensure_ready()
    source = open_source(args.src)
    channel_ids = [_uuid(raw, "channel") for raw in args.channel] or source.channel_ids()
    if not channel_ids:
        raise KalanError(f"{source.label} holds no channel")
    topics = [_uuid(raw, "topic") for raw in args.topic]
    if topics and len(channel_ids) != 1:
        raise KalanError("--topic needs exactly one --channel")
    for channel_id in channel_ids:
        bar = ProgressBar(f"Importing {str(channel_id)[:8]}")
        try:
            report = import_channel(source, channel_id, topic_ids=topics, progress=bar)
        finally:
            bar.close()
        print(f"Imported {report.summary()}")
        for title in report.skipped:
            print(f"  skipped (files not in the source): {title}")
    return 0


def _content_export(args: argparse.Namespace) -> int:
    from kalan.content.exporter import export_channel
    from kalan.core.progress import ProgressBar

    ensure_ready()
    bar = ProgressBar("Exporting")
    try:
        report = export_channel(_uuid(args.channel, "channel"), args.dest, progress=bar)
    finally:
        bar.close()
    print(f"Exported {report.summary()} to {args.dest}")
    return 0


def _content_list(args: argparse.Namespace) -> int:
    from kalan.content.manifest import key_fingerprint
    from kalan.content.selectors import list_channels, list_source_channels

    if args.src:
        from kalan.content.sources import open_source

        rows = list_source_channels(open_source(args.src))
    else:
        ensure_ready()
        rows = list_channels()
    if not rows:
        print("No channels.")
    for row in rows:
        print(
            f"{row.id}  v{row.version:<3} {row.resource_count:>6} resources"
            f"  {row.size_text:>9}  key {key_fingerprint(row.public_key)}  {row.title}"
        )
    return 0


def _content_delete(args: argparse.Namespace) -> int:
    from kalan.content.importer import delete_channel

    ensure_ready()
    removed = delete_channel(_uuid(args.channel, "channel"))
    print(f"Channel removed; {removed} files no other channel needed were deleted.")
    return 0


def _content_convert_qti(args: argparse.Namespace) -> int:
    """`kalan content convert-qti SRC --out DIR [--name NAME]`: needs no database, like build.

    Writes NAME.exercise.json and the pictures and sounds it uses into DIR, and
    never over an existing file; on any refusal nothing is written.
    """
    from kalan.content.exercises.qti import import_qti, save_qti_import

    source: Path = args.src
    if not source.exists():
        raise KalanError(f"{source} does not exist")
    name = args.name or (source.name if source.is_dir() else source.stem)
    if not name or name != Path(name).name or name.startswith(".") or "\\" in name:
        raise KalanError(f"--name {name!r} must be a plain file name, without folders")
    try:
        result = import_qti(source)
    except KalanError as error:  # ExerciseError, InvalidFile: one line with the reason
        raise KalanError(f"{source}: {error}") from error
    try:
        path = save_qti_import(result, args.out, name)
    except FileExistsError as error:
        raise KalanError(f"{error.filename} already exists; nothing was written") from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise KalanError(f"cannot write into {args.out}: {reason}; nothing was written") from error
    for note in result.notes:
        print(f"  note: {note}")
    print(
        f"Wrote {path}: {len(result.exercise.items)} items, {len(result.files)} pictures and sounds"
    )
    return 0
