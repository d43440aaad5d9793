"""Helpers for tests that run `kalan` as a separate process, or a real `kalan start`."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HOST = "127.0.0.1"
STARTUP_SECONDS = 90
STOP_SECONDS = 10


@contextmanager
def own_database(prefix: str = "kalan_t") -> Iterator[str | None]:
    """A database of its own for a `kalan` process started by a test.

    On PostgreSQL (KALAN_DATABASE_URL set) a new database is created and dropped
    afterwards; on SQLite, None: the process uses the file in its KALAN_HOME.
    """
    url = os.environ.get("KALAN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    base, _, _name = url.rpartition("/")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_kalan(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KALAN_HOME": str(home), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "kalan", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed; fails on tracebacks or more lines."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("kalan")
    return lines[0]


# ---------------------------------------------------------------- a real server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "KALAN_HOME": str(home)}
    for name in ("DJANGO_SETTINGS_MODULE", "KALAN_DATABASE_URL", "KALAN_DEBUG"):
        env.pop(name, None)
    if database_url:
        env["KALAN_DATABASE_URL"] = database_url
    return env


def kalan_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kalan", *args]


def direct_opener() -> urllib.request.OpenerDirector:
    """Never through a proxy: the server is on the loopback address."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    opener = direct_opener()
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kalan start exited with {process.returncode}:\n{log.read_text()}")
        try:
            with opener.open(f"{url}/signin/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"kalan start did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM, then the exit code; None (after killing it) if it would not stop."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the server and its worker, nothing else
        process.wait()
        return None


@contextmanager
def serving_kalan(home: Path, env: dict[str, str], *extra_args: str) -> Iterator[str]:
    """`kalan start` on a free loopback port with `env`; yields its base URL.

    Stopped with SIGTERM at the end, which must leave it cleanly within 10 s.
    """
    log = home / "server.log"
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            kalan_command("start", "--host", HOST, "--port", str(port), *extra_args),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{HOST}:{port}"
    try:
        _wait_until_answering(url, process, log)
        yield url
    finally:
        code = _stop(process)
    assert code is not None, f"kalan start ignored SIGTERM for {STOP_SECONDS} s"
    assert code == 0, f"kalan start exited with {code} on SIGTERM:\n{log.read_text()}"


@contextmanager
def serving_demo_with(package: Path, home: Path, database_prefix: str) -> Iterator[str]:
    """`kalan start` on the demo school plus the channel package `package`; yields its URL.

    The instance gets `home` and, on PostgreSQL, a database of its own.
    """
    with own_database(database_prefix) as database_url:
        env = server_env(home, database_url)
        for command in (["demo"], ["content", "import", str(package)]):
            done = subprocess.run(
                kalan_command(*command),
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, f"kalan {command}:\n{done.stdout}\n{done.stderr}"
        with serving_kalan(home, env) as url:
            yield url
