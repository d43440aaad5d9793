#!/usr/bin/env python3
"""Run the ADL LRS conformance test suite against a fresh Kalan on the loopback address.

The suite (github.com/adlnet/lrs-conformance-test-suite, Node.js) is not part of Kalan:
give its folder, with its npm dependencies installed (`npm install` there). This script
makes a new Kalan home, creates xAPI credentials with `kalan lrs credentials create`,
serves it with `kalan start` on 127.0.0.1, runs the suite for each version asked and
prints, per version, the counts and every failing test with its error.

Usage: python3 scripts/lrs_conformance.py SUITE_DIR [--version 2.0.0] [--version 1.0.3]
           [--database-url URL] [--json OUT]
Exit status: 0 when no test failed, 1 otherwise, 2 when the run itself could not be made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def kalan(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kalan", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"kalan {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
    return done.stdout


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(120):
        if server.poll() is not None:
            raise SystemExit("kalan start stopped before answering")
        try:
            opener.open(f"{base}/xapi/about", timeout=2).read()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"{base} did not answer within a minute")


def failures(node: dict[str, Any], path: tuple[str, ...] = ()) -> list[dict[str, str]]:
    title = node.get("title") or node.get("name") or ""
    found = []
    children = node.get("tests") or []
    if not children and node.get("status") == "failed":
        found.append(
            {"suite": path[-1] if path else "", "test": title, "error": node.get("error", "")}
        )
    for child in children:
        found += failures(child, (*path, title))
    return found


def run_suite(suite: Path, base: str, key: str, secret: str, version: str) -> dict[str, Any]:
    logs = suite / "logs"
    before = set(logs.glob("*.log")) if logs.exists() else set()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    command = ["node", "bin/console_runner.js", "-e", f"{base}/xapi", "-a", "-u", key, "-p", secret]
    command += ["-x", version]
    started = time.monotonic()
    subprocess.run(command, cwd=suite, env=env, capture_output=True, timeout=3600)
    new = sorted(set(logs.glob("*.log")) - before, key=lambda p: p.stat().st_mtime)
    if not new:
        raise SystemExit(f"the suite wrote no log for version {version}")
    log = json.loads(new[-1].read_text())
    summary = log.get("summary", {})
    return {
        "version": version,
        "total": summary.get("total"),
        "passed": summary.get("passed"),
        "failed": summary.get("failed"),
        "seconds": round(time.monotonic() - started, 1),
        "failures": failures(log["log"]),
        "log": str(new[-1]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("suite", type=Path)
    parser.add_argument("--version", action="append", choices=["2.0.0", "1.0.3"])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the new home)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    suite = args.suite.resolve()
    if not (suite / "bin" / "console_runner.js").exists():
        print(f"{suite} is not the conformance suite (no bin/console_runner.js)", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="kalan-conformance-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KALAN_DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["KALAN_HOME"] = str(home)
    if args.database_url:
        env["KALAN_DATABASE_URL"] = args.database_url
    password = home / "admin-password"
    password.write_text("conformance-admin-password\n")
    server = None
    try:
        kalan(
            "setup",
            "--school",
            "Conformance",
            "--admin",
            "admin",
            "--password-file",
            str(password),
            "--noinput",
            env=env,
        )
        key, secret = kalan("lrs", "credentials", "create", "conformance", env=env).split()
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "kalan", "start", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(base, server)
        results = [
            run_suite(suite, base, key, secret, v) for v in args.version or ["2.0.0", "1.0.3"]
        ]
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    for result in results:
        print(
            f"xAPI {result['version']}: {result['passed']} passed, {result['failed']} failed"
            f" of {result['total']} ({result['seconds']} s; log {result['log']})"
        )
        for failure in result["failures"]:
            print(f"  FAILED {failure['suite'][:100]} :: {failure['test']}")
            print(f"         {failure['error'].splitlines()[0][:300] if failure['error'] else ''}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
