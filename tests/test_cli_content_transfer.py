"""Channels moving between instances, as operators move them: `kalan` processes, real folders,
a real `kalan start` serving its library over HTTP, and a kill -9 in the middle of an import.

Every instance here is a KALAN_HOME of its own (and, on PostgreSQL, a database of its own).
Migrating and collecting static files for each would cost most of a minute, so one
instance is prepared per module and copied: its SQLite file (or a PostgreSQL database
made from it as a template), its static files (hard links) and a readiness stamp
written for the copy's own place.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kalan.content.store import LibraryFolder
from kalan.content.tests.packages import (
    Item,
    PeerServer,
    corpus_items,
    damaged_files,
    make_package,
    package_files,
    random_items,
    serving,
    sha256,
    store_files,
    topic_id,
)
from kalan.core import readiness
from tests.support import one_error_line

HOST = "127.0.0.1"
SUMMARY = re.compile(r"(\d+) files copied \([^)]*\), (\d+) already here")


# ---------------------------------------------------------------- instances


@dataclass
class Home:
    path: Path
    database_url: str | None

    @property
    def store(self) -> Path:
        return self.path / "content"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "KALAN_HOME": str(self.path)}
        for name in ("DJANGO_SETTINGS_MODULE", "KALAN_DATABASE_URL", "KALAN_CONTENT_DIR"):
            env.pop(name, None)
        if self.database_url:
            env["KALAN_DATABASE_URL"] = self.database_url
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "kalan", *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"kalan {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def channels(self) -> list[str]:
        """The lines of `kalan content list`."""
        return [line for line in self.ok("content", "list").splitlines() if line.strip()]

    def files(self) -> set[str]:
        return store_files(self.store)

    def tmp_files(self) -> list[str]:
        tmp = self.store / "tmp"
        return sorted(p.name for p in tmp.iterdir()) if tmp.is_dir() else []


def _postgres_base() -> str | None:
    url = os.environ.get("KALAN_DATABASE_URL", "")
    return url.rpartition("/")[0] if url.startswith("postgres") else None


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{_postgres_base()}/postgres", autocommit=True) as conn:
        conn.execute(sql)


class Homes:
    """Makes ready instances by copying one prepared instance."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.databases: list[str] = []
        self.made = 0
        self.template = self._prepare()

    def _new_database(self, template: str | None = None) -> str | None:
        base = _postgres_base()
        if base is None:
            return None
        name = f"kalan_tr_{uuid.uuid4().hex[:12]}"
        _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.databases.append(name)
        return f"{base}/{name}"

    def _prepare(self) -> Home:
        home = Home(self.root / "template", self._new_database())
        home.path.mkdir()
        home.ok("content", "list")  # migrates and collects static files once
        return home

    def make(self, name: str) -> Home:
        self.made += 1
        path = self.root / f"{name}-{self.made}"
        shutil.copytree(self.template.path / "static", path / "static", copy_function=os.link)
        for item in self.template.path.iterdir():
            if item.is_file() and item.name != readiness.STAMP_NAME:
                shutil.copy2(item, path / item.name)
        template_db = self.template.database_url
        url = self._new_database(template_db.rpartition("/")[2]) if template_db else None
        home = Home(path, url)
        self._stamp(home)
        return home

    @staticmethod
    def _stamp(home: Home) -> None:
        saved = {name: os.environ.get(name) for name in ("KALAN_HOME", "KALAN_DATABASE_URL")}
        try:
            os.environ["KALAN_HOME"] = str(home.path)
            os.environ.pop("KALAN_DATABASE_URL", None)
            if home.database_url:
                os.environ["KALAN_DATABASE_URL"] = home.database_url
            stamp = {"signature": readiness.signature()}
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        (home.path / readiness.STAMP_NAME).write_text(json.dumps(stamp))

    def close(self) -> None:
        for name in self.databases:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homes]:
    made = Homes(tmp_path_factory.mktemp("transfer-homes"))
    try:
        yield made
    finally:
        made.close()


def failure_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a failed import; progress lines (stderr is not a terminal) aside."""
    progress = [line for line in result.stderr.splitlines() if line.startswith("Importing ")]
    rest = "".join(f"{line}\n" for line in result.stderr.splitlines() if line not in progress)
    return one_error_line(subprocess.CompletedProcess(result.args, result.returncode, "", rest))


def copied(output: str) -> tuple[int, int]:
    """(files copied, files already here) from an import's summary line."""
    match = SUMMARY.search(output)
    assert match, output
    return int(match[1]), int(match[2])


# ---------------------------------------------------------------- a running hub


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(home: Home) -> Iterator[str]:
    """`kalan start` on 127.0.0.1 for `home`, stopped with SIGTERM at the end."""
    port = _free_port()
    log = home.path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            home.command("start", "--host", HOST, "--port", str(port), "--workers", "1"),
            env=home.env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{HOST}:{port}/"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with opener.open(f"{url}content/library/index.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=15) == 0, log.read_text()
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise


# ---------------------------------------------------------------- tests


def test_import_over_http_from_a_running_hub(homes, tmp_path):
    items = corpus_items()
    package = tmp_path / "package"
    channel_id, _ = make_package(package, resources=items, title="Lecture et calcul")
    hub, school = homes.make("hub"), homes.make("school")
    hub.ok("content", "import", str(package))
    with running(hub) as url:
        [offered] = school.ok("content", "list", url).splitlines()
        output = school.ok("content", "import", url)
    assert offered.startswith(f"{channel_id}  v1 ")
    assert offered.endswith("Lecture et calcul")
    assert f"Imported Lecture et calcul (v1): {len(items)} resources" in output
    assert copied(output) == (len(items), 0)
    assert school.files() == set(package_files(package, channel_id))
    assert damaged_files(school.store) == []
    assert school.tmp_files() == []
    [line] = school.channels()
    assert line.startswith(f"{channel_id}  v1 ")
    assert line.endswith("Lecture et calcul")
    assert f"{len(items)} resources" in line
    with (school.store / f"channels/{channel_id}.json").open("rb") as mine:
        assert mine.read() == (package / f"channels/{channel_id}.json").read_bytes()


def test_an_unreachable_hub_is_one_error_line(homes):
    school = homes.make("school")
    port = _free_port()
    line = one_error_line(school.run("content", "import", f"http://{HOST}:{port}/"))
    assert line == f"kalan: error: cannot reach http://{HOST}:{port}/: Connection refused"
    assert school.files() == set()


def test_import_from_a_usb_stick(homes, tmp_path):
    stick = tmp_path / "usb"
    channel_id, _ = make_package(stick / "kalan-library", resources=random_items(4))
    school = homes.make("school")
    output = school.ok("content", "import", str(stick))
    assert copied(output) == (4, 0)
    assert school.files() == set(package_files(stick / "kalan-library", channel_id))
    assert str(channel_id) in school.channels()[0]


def test_import_of_chosen_topics_only(homes, tmp_path):
    package = tmp_path / "package"
    items = random_items(6, topics=("Eau", "Air", "Feu"))
    channel_id, _ = make_package(package, resources=items)
    school = homes.make("school")
    output = school.ok(
        "content",
        "import",
        str(package),
        "--channel",
        str(channel_id),
        "--topic",
        str(topic_id(channel_id, "Air")),
    )
    air = [item for item in items if item.topic == "Air"]
    assert copied(output) == (2, 0)
    assert f": {len(air)} resources" in output
    assert school.files() == {sha256(item.data) for item in air}
    assert f"{len(air)} resources" in school.channels()[0]


def test_export_to_a_folder_then_import_it_in_a_fresh_instance(homes, tmp_path):
    package = tmp_path / "package"
    channel_id, _ = make_package(package, resources=random_items(5, topics=("A", "B")))
    first, second = homes.make("first"), homes.make("second")
    first.ok("content", "import", str(package))
    stick = tmp_path / "stick"
    exported = first.ok("content", "export", str(channel_id), str(stick))
    assert "5 files copied" in exported
    assert store_files(stick) == set(package_files(package, channel_id))
    assert LibraryFolder(stick).read_manifest(channel_id) == LibraryFolder(package).read_manifest(
        channel_id
    )
    output = second.ok("content", "import", str(stick))
    assert copied(output) == (5, 0)
    assert second.files() == first.files()
    assert second.channels() == first.channels()


def test_a_tampered_manifest_is_refused_and_nothing_is_written(homes, tmp_path):
    package = tmp_path / "package"
    channel_id, _ = make_package(package, resources=random_items(3))
    manifest = package / f"channels/{channel_id}.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"Sciences P3", b"Sciences P4"))
    school = homes.make("school")
    line = one_error_line(school.run("content", "import", str(package)))
    assert "signature does not match its manifest" in line
    assert school.files() == set()
    assert not (school.store / "channels").exists() or not any(
        (school.store / "channels").iterdir()
    )
    assert school.channels() == ["No channels."]


def test_a_damaged_file_is_refused_and_nothing_is_left_behind(homes, tmp_path):
    package = tmp_path / "package"
    items = random_items(4)
    channel_id, _ = make_package(package, resources=items)
    victim = sorted(package_files(package, channel_id))[-1]  # copied last
    path = LibraryFolder(package).path(victim)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    school = homes.make("school")
    line = failure_line(school.run("content", "import", str(package)))
    assert f"file {victim} arrived damaged" in line
    assert school.files() == set()
    assert school.tmp_files() == []
    assert school.channels() == ["No channels."]


def test_a_new_version_transfers_only_new_and_changed_files(homes, tmp_path):
    package = tmp_path / "package"
    items = random_items(5, topics=("A", "B"))
    channel_id, key = make_package(package, resources=items)
    school = homes.make("school")
    assert copied(school.ok("content", "import", str(package))) == (5, 0)
    changed = Item(title=items[3].title, data=b"a corrected lesson", topic=items[3].topic)
    added = random_items(2, topics=("C",), seed=9)
    newer = [*items[:3], changed, *added]  # items[4] is gone
    make_package(package, resources=newer, version=2, key=key, channel_id=channel_id)
    output = school.ok("content", "import", str(package))
    assert "(v1 -> v2)" in output
    assert copied(output) == (3, 3)
    assert school.files() == {sha256(item.data) for item in newer}  # old files removed
    assert school.channels()[0].startswith(f"{channel_id}  v2 ")


def test_an_import_killed_midway_resumes_and_copies_only_the_rest(homes, tmp_path):
    package = tmp_path / "package"
    count = 8
    channel_id, _ = make_package(package, resources=random_items(count, size=300_000))
    school = homes.make("school")
    peer = PeerServer([package], chunk=32 * 1024, delay=0.05)  # about 0.5 s a file
    with serving(peer):
        process = subprocess.Popen(
            school.command("content", "import", peer.url),
            env=school.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 90
            while len(school.files()) < 2:
                assert process.poll() is None, "the import ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kept = school.files()
        assert 2 <= len(kept) < count
        assert damaged_files(school.store) == []  # only whole files at their final names
        assert school.channels() == ["No channels."]
        peer.delay = 0
        peer.requests.clear()
        output = school.ok("content", "import", peer.url)
    done, present = copied(output)
    assert present == len(kept)
    assert done == count - present
    assert len([path for path in peer.requests if "/files/" in path]) == done
    assert school.files() == set(package_files(package, channel_id))  # no orphan
    assert school.tmp_files() == []
    assert damaged_files(school.store) == []
    assert f"{count} resources" in school.channels()[0]
