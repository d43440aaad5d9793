#!/usr/bin/env python3.11
"""Kalan vs Kolibri 0.19.5, side by side on this machine, in one run.

Measures, for both systems:
  1. installed size: du and file count of a fresh venv holding only that system;
  2. cold start: seconds from launching the server to the first HTTP 200 on the root URL,
     following redirects (3 runs, alternating systems; median, min, max);
  3. idle memory: RSS and PSS summed over the server's whole process tree, 30 s after ready;
  4. page weight: bytes on the wire for the sign-in page and for the learner home page, each on
     first load with an empty browser cache (headless Debian Chromium driven by Playwright), and
     the number of requests to any host other than loopback (must be 0);
  5. throughput and latency with wrk at concurrency 1, 10 and 40 (20 s each) for the sign-in page
     HTML and for an authenticated learner page, rotating 40 logged-in learners.

Writes bench/results/foundation-<date>.md and .json. Every server it starts is stopped by PID
(also on error); all traffic goes to 127.0.0.1. See bench/README.md.

Usage:  python3.11 bench/foundation.py [--reuse-venvs] [--duration 20] [--only kalan|kolibri]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import html
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
TOOLS_VENV = BENCH / ".venv-tools"
WRK_LUA = BENCH / "wrk" / "rotate.lua"
PY = os.environ.get("BENCH_PYTHON", "python3.11")
KOLIBRI_VERSION = "0.19.5"
LOOPBACK = "127.0.0.1"
N_LEARNERS = 40
LEARNER_PASSWORD = "learnerpass"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces: nothing can leave the machine even if a page asked for it. Loopback is
    # never proxied, every other name is unresolvable. Such requests are still seen and counted.
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

# Kolibri is kept off the network exactly as in the earlier Kolibri measurement
# (shared/anchors/kolibri-scripts/env.sh).
KOLIBRI_ENV = {
    "KOLIBRI_DISABLE_PING": "True",
    "KOLIBRI_ZEROCONF_ENABLED": "False",
    "KOLIBRI_LISTEN_ADDRESS": LOOPBACK,
    "KOLIBRI_RUN_MODE": "bench",
    "KOLIBRI_CENTRAL_CONTENT_BASE_URL": "http://127.0.0.1:9",
    "KOLIBRI_DATA_PORTAL_SYNCING_BASE_URL": "http://127.0.0.1:9",
    "PYTHONUNBUFFERED": "1",
}


def run_stamp(now: dt.datetime) -> dict:
    """What every report says of its run: when, on what machine, at which Kalan commit."""
    return {
        "date": now.strftime("%Y-%m-%d"),
        "started": now.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "os": platform.platform(),
            "python": platform.python_version(),
            "kernel": platform.release(),
        },
        "kalan_commit": subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or "none",
    }


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


# --------------------------------------------------------------------------- bootstrap
def ensure_tools_python():
    """Re-exec under bench/.venv-tools (created from requirements.txt) if Playwright is missing."""
    try:
        import playwright  # noqa: F401

        return
    except ImportError:
        pass
    py = TOOLS_VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == TOOLS_VENV.resolve():
        sys.exit("playwright is not importable in bench/.venv-tools")
    if not py.exists():
        log("creating", TOOLS_VENV)
        subprocess.run([PY, "-m", "venv", str(TOOLS_VENV)], check=True)
    pins = [
        line
        for line in (BENCH / "requirements.txt").read_text().splitlines()
        if line.strip().lower().startswith("playwright")
    ]
    subprocess.run([str(py), "-m", "pip", "install", "-q", *pins], check=True)
    os.execv(str(py), [str(py), *sys.argv])


# --------------------------------------------------------------------------- /proc helpers
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def proc_tree(pid: int) -> list[int]:
    seen: list[int] = []
    stack = [pid]
    while stack and len(seen) < 10000:
        p = stack.pop()
        if p in seen:
            continue
        seen.append(p)
        stack += _children(p)
    return seen


def _status_field(pid: int, key: str, fname: str = "status") -> int:
    try:
        with open(f"/proc/{pid}/{fname}") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def tree_memory(pid: int) -> dict:
    pids = proc_tree(pid)
    rss = sum(_status_field(p, "VmRSS") for p in pids)
    pss = sum(_status_field(p, "Pss", "smaps_rollup") for p in pids)
    threads = sum(_status_field(p, "Threads") for p in pids)
    return {
        "pids": len(pids),
        "threads": threads,
        "rss_mib": round(rss / 1024, 1),
        "pss_mib": round(pss / 1024, 1),
    }


def _starttime(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class CpuNoise(threading.Thread):
    """Samples the CPU used by processes that are NOT descendants of this script (other users of
    the 2 cores) every 2 s, so that a noisy run can be recognised. 100 % = one full core."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, str]] = []
        self.stop_evt = threading.Event()
        self.hz = os.sysconf("SC_CLK_TCK")

    def _snapshot(self):
        stats = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                name = s[s.index("(") + 1 : s.rindex(")")]
                rest = s.rsplit(")", 1)[1].split()
                stats[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]), name)  # ppid, ticks
            except (OSError, ValueError, IndexError):
                pass
        return stats

    def run(self):
        me = os.getpid()
        prev = self._snapshot()
        t_prev = time.monotonic()
        while not self.stop_evt.wait(2.0):
            cur = self._snapshot()
            t = time.monotonic()
            mine = {me}
            changed = True
            while changed:  # descendants of this script, by ppid
                changed = False
                for p, (pp, _, _) in cur.items():
                    if pp in mine and p not in mine:
                        mine.add(p)
                        changed = True
            other = 0.0
            top = []
            for p, (_, ticks, name) in cur.items():
                if p in mine or p not in prev:
                    continue
                d = ticks - prev[p][1]
                if d > 0:
                    other += d
                    top.append((d, name))
            pct = 100.0 * other / self.hz / (t - t_prev)
            top.sort(reverse=True)
            self.samples.append((time.time(), round(pct, 1), ",".join(n for _, n in top[:3])))
            prev, t_prev = cur, t

    def summary(self, t0: float | None = None, t1: float | None = None) -> dict:
        xs = [s for s in self.samples if (t0 is None or s[0] >= t0) and (t1 is None or s[0] <= t1)]
        if not xs:
            return {"n": 0}
        vals = [s[1] for s in xs]
        worst = max(xs, key=lambda s: s[1])
        return {
            "n": len(vals),
            "mean_pct": round(statistics.mean(vals), 1),
            "max_pct": max(vals),
            "max_top": worst[2],
        }


NOISE = CpuNoise()


def wait_quiet(max_minutes: float, threshold: float = 20.0, window_s: float = 30.0) -> dict:
    """Waits (at most max_minutes) until other processes have used less than `threshold` % of a
    core in every sample of the last `window_s` seconds. Returns how long it waited."""
    t0 = time.time()
    need = int(window_s / 2)
    if max_minutes <= 0:
        return {"waited_s": 0, "quiet": None}
    log(f"waiting up to {max_minutes} min for a quiet machine (other CPU < {threshold} %)")
    while time.time() - t0 < max_minutes * 60:
        recent = [x[1] for x in NOISE.samples[-need:]]
        if len(recent) >= need and max(recent) < threshold:
            return {"waited_s": round(time.time() - t0), "quiet": True}
        time.sleep(2)
    return {"waited_s": round(time.time() - t0), "quiet": False}


PHASES: dict[str, tuple[float, float]] = {}


class Phase:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0 = time.time()
        log("==", self.name)

    def __exit__(self, *exc):
        PHASES[self.name] = (self.t0, time.time())


# --------------------------------------------------------------------------- HTTP helpers
def _opener(jar=None, follow=True):
    handlers: list = [urllib.request.ProxyHandler({})]  # never use an environment proxy
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    if not follow:

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        handlers.append(NoRedirect())
    return urllib.request.build_opener(*handlers)


def _check_loopback(url: str):
    host = urllib.parse.urlparse(url).hostname
    if host not in (LOOPBACK, "localhost"):
        raise RuntimeError(f"refusing non-loopback URL {url}")


def http_get(url: str, jar=None, follow=True, timeout=10.0, headers=None):
    """Returns (status, final_url, body bytes, headers)."""
    _check_loopback(url)
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _opener(jar, follow).open(req, timeout=timeout) as r:
            return r.status, r.geturl(), r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, url, e.read() if e.fp else b"", e.headers


def http_send(url, method, data: bytes, headers: dict, jar, follow=False, timeout=30.0):
    _check_loopback(url)
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener(jar, follow).open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read() if e.fp else b""


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
            return True
        except OSError:
            return False


def free_port(start: int) -> int:
    for p in range(start, start + 200):
        if port_free(p) and port_free(p + 10):
            return p
    raise RuntimeError("no free port")


def du(path: Path) -> dict:
    disk = int(
        subprocess.run(
            ["du", "-sk", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
    )
    apparent = int(
        subprocess.run(
            ["du", "-sk", "--apparent-size", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
    )
    files = sum(  # regular files, as `find -type f` (the venv's python symlinks are not)
        1 for d, _, fs in os.walk(path) for f in fs if not os.path.islink(os.path.join(d, f))
    )
    return {
        "disk_mib": round(disk / 1024, 1),
        "apparent_mib": round(apparent / 1024, 1),
        "files": files,
    }


def run(cmd, env=None, check=True, timeout=900, **kw):
    log("$", " ".join(str(c) for c in cmd)[:300])
    r = subprocess.run(
        [str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout, **kw
    )
    if check and r.returncode != 0:
        raise RuntimeError(
            f"command failed ({r.returncode}): {cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    return r


# --------------------------------------------------------------------------- server control
class Server:
    """One server process, launched in its own session and stopped by its PID (SIGTERM, then
    SIGKILL for the launcher and for any process of its tree that outlives it)."""

    def __init__(self, name, cmd, env, port, logfile: Path, root="/"):
        self.name, self.cmd, self.env, self.port, self.logfile = name, cmd, env, port, logfile
        self.root = root
        self.proc: subprocess.Popen | None = None
        self.t_launch = 0.0

    @property
    def base(self):
        return f"http://{LOOPBACK}:{self.port}"

    def start(self):
        if not port_free(self.port):
            raise RuntimeError(f"port {self.port} is busy: refusing to start {self.name}")
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.logfile, "ab")  # noqa: SIM115 - closed in stop()
        self.t_launch = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(c) for c in self.cmd],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(WORK),
        )
        return self

    def wait_ready(self, path=None, timeout=180.0, interval=0.05) -> dict:
        """Polls GET <root> (redirects followed) until the first 200. Returns timings (s)."""
        url = self.base + (path or self.root)
        t_first = None
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}; see {self.logfile}"
                )
            try:
                st, final, _, _ = http_get(url, timeout=5)
            except (OSError, urllib.error.URLError):
                st, final = None, None
            now = time.perf_counter()
            if st is not None and t_first is None:
                t_first = now - self.t_launch
            if st == 200:
                return {
                    "first_response_s": round(t_first, 3),
                    "first_200_s": round(now - self.t_launch, 3),
                    "final_url": final,
                }
            time.sleep(interval)
        raise RuntimeError(f"{self.name} not ready after {timeout} s")

    def memory(self):
        return tree_memory(self.proc.pid)

    def stop(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        tree = [(p, _starttime(p)) for p in proc_tree(pid)]
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: SIGTERM ignored for 30 s, SIGKILL {pid}")
                os.kill(pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        deadline = time.time() + 10
        for p, st in tree:  # stragglers of the same tree (same pid AND same start time)
            while st and _starttime(p) == st and time.time() < deadline:
                time.sleep(0.1)
            if st and _starttime(p) == st:
                log(f"{self.name}: leftover pid {p}, SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
        self._log.close()
        self.proc = None
        for _ in range(100):  # let the port go before the next start
            if port_free(self.port):
                break
            time.sleep(0.1)


# --------------------------------------------------------------------------- systems
class System:
    key = ""
    title = ""
    venv: Path
    signin_path = ""
    learn_path = ""
    wrk_pages: list[tuple[str, str]] = []  # (label, kind) kind: "signin" or a learner rows name

    def python(self):
        return self.venv / "bin" / "python"

    def install(self, reuse: bool) -> dict:
        meta = WORK / f"install-{self.key}.json"
        if reuse and meta.exists() and self.venv.exists():
            log(f"{self.key}: reusing {self.venv} (size measured at install)")
            return json.loads(meta.read_text())
        if self.venv.exists():
            shutil.rmtree(self.venv)
        t0 = time.perf_counter()
        run([PY, "-m", "venv", self.venv])
        self._pip_install()
        took = time.perf_counter() - t0
        info = du(self.venv)
        info.update(
            install_s=round(took, 1),
            python=run([self.python(), "-V"]).stdout.strip(),
            pip_freeze=run([self.python(), "-m", "pip", "freeze"]).stdout.splitlines(),
        )
        if getattr(self, "source_commit", None):
            info["source_commit"] = self.source_commit
        meta.write_text(json.dumps(info, indent=1))
        return info


class Kolibri(System):
    key = "kolibri"
    title = f"Kolibri {KOLIBRI_VERSION}"
    venv = BENCH / ".venv-kolibri"
    home = WORK / "kolibri-home"
    signin_path = "/en/auth/"
    learn_path = "/en/learn/"

    def _pip_install(self):
        run([self.python(), "-m", "pip", "install", "-q", f"kolibri=={KOLIBRI_VERSION}"])

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        e.update(KOLIBRI_ENV)
        e["KOLIBRI_HOME"] = str(self.home)
        e["PATH"] = f"{self.venv / 'bin'}:{e.get('PATH', '')}"
        return e

    def kolibri(self, *args, timeout=900):
        return run([self.venv / "bin" / "kolibri", *args], env=self.env(), timeout=timeout)

    def provision(self) -> dict:
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True)
        t0 = time.perf_counter()
        self.kolibri(*KOLIBRI_PROVISION)
        t_prov = time.perf_counter() - t0
        seed = WORK / "kolibri_seed.py"
        seed.write_text(KOLIBRI_SEED)
        out = self.kolibri("manage", "shell", "-c", f"exec(open({str(seed)!r}).read())").stdout
        line = [x for x in out.splitlines() if x.startswith("BENCHSEED ")][-1]
        self.seed = json.loads(line[len("BENCHSEED ") :])
        self.learners = [(u["username"], LEARNER_PASSWORD) for u in self.seed["learners"]]
        return {
            "provision_s": round(t_prov, 1),
            "facility_id": self.seed["facility_id"],
            "learners": len(self.learners),
        }

    def server(self, port: int) -> Server:
        return Server(
            "kolibri",
            [
                self.venv / "bin" / "kolibri",
                "start",
                "--foreground",
                "--port",
                port,
                "--zip-port",
                port + 10,
            ],
            self.env(),
            port,
            WORK / "logs" / "kolibri-server.log",
        )

    def login(
        self, base: str, username: str, password: str
    ) -> tuple[http.cookiejar.CookieJar, dict]:
        """What the sign-in SPA does: PUT session/current to get the CSRF cookie, then POST the
        session API."""
        jar = http.cookiejar.CookieJar()
        hdr = {"Content-Type": "application/json", "Referer": base + "/"}
        http_send(base + "/api/auth/session/current/?active=false", "PUT", b"{}", hdr, jar)
        csrf = {c.name: c.value for c in jar}.get("kolibri_csrftoken", "")
        body = json.dumps(
            {"username": username, "password": password, "facility": self.seed["facility_id"]}
        ).encode()
        st, _, resp = http_send(
            base + "/api/auth/session/", "POST", body, {**hdr, "X-CSRFToken": csrf}, jar
        )
        if st not in (200, 201):
            raise RuntimeError(f"kolibri login {username}: {st} {resp[:300]!r}")
        return jar, json.loads(resp)

    async def browser_login(self, ctx, base, username, password):
        r = await ctx.request.put(
            base + "/api/auth/session/current/?active=false",
            data={},
            headers={"Referer": base + "/"},
        )
        ck = {c["name"]: c["value"] for c in await ctx.cookies()}
        r = await ctx.request.post(
            base + "/api/auth/session/",
            data={"username": username, "password": password, "facility": self.seed["facility_id"]},
            headers={"X-CSRFToken": ck.get("kolibri_csrftoken", ""), "Referer": base + "/"},
        )
        if r.status not in (200, 201):
            raise RuntimeError(f"kolibri browser login: {r.status}")

    def wrk_targets(self, base: str) -> list[dict]:
        """Rows for the authenticated wrk runs: 40 learners logged in, round-robin."""
        html_rows, api_rows = [], []
        for u, pw in self.learners:
            jar, me = self.login(base, u, pw)
            cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
            html_rows.append((self.learn_path, cookie))
            api_rows.append((f"/api/logger/userprogress/{me['user_id']}/", cookie))
        return [
            {
                "label": f"sign-in page HTML `GET {self.signin_path}`",
                "kind": "signin",
                "path": self.signin_path,
                "rows": None,
            },
            {
                "label": f"learner home HTML `GET {self.learn_path}` (authenticated, 40 learners)",
                "kind": "learner",
                "path": self.learn_path,
                "rows": html_rows,
            },
            {
                "label": "learner API `GET /api/logger/userprogress/<id>/` (authenticated, "
                "40 learners)",
                "kind": "learner_api",
                "path": api_rows[0][0],
                "rows": api_rows,
            },
        ]


# `kolibri manage provisiondevice`: the device and facility every Kolibri benchmark home gets.
KOLIBRI_PROVISION = (
    "manage",
    "provisiondevice",
    "--facility",
    "Bench School",
    "--superusername",
    "admin",
    "--superuserpassword",
    "adminpass123",
    "--preset",
    "formal",
    "--language_id",
    "en",
    "--noinput",
)


KOLIBRI_SEED = r"""
import json
from django.db import transaction
from django.contrib.auth.hashers import make_password
from kolibri.core.auth.models import Facility, FacilityUser, Classroom
fac = Facility.get_default_facility() or Facility.objects.first()
pw = make_password("@PASSWORD@")
users = []
with transaction.atomic():
    cl, _ = Classroom.objects.get_or_create(parent=fac, name="Bench class")
    for i in range(1, @N@ + 1):
        name = f"l_{i:05d}"
        u = FacilityUser.objects.filter(facility=fac, username=name).first()
        if u is None:
            u = FacilityUser(facility=fac, username=name, full_name=f"Learner {i}")
            u.password = pw
            u.full_clean()
            u.save()
        cl.add_member(u)
        users.append({"username": name, "id": u.id})
print("BENCHSEED " + json.dumps({"facility_id": fac.id, "class_id": cl.id, "learners": users}))
""".replace("@PASSWORD@", LEARNER_PASSWORD).replace("@N@", str(N_LEARNERS))


class Kalan(System):
    key = "kalan"
    title = "Kalan"
    venv = BENCH / ".venv-kalan"
    home = WORK / "kalan-home"
    signin_path = "/signin/"
    learn_path = "/learn/"

    def _source(self) -> Path:
        """A clean copy of the repository: the committed HEAD (git archive), or the work tree
        while there is no commit. Installing from a copy keeps pip's build files out of the
        repository."""
        src = WORK / "kalan-src"
        if src.exists():
            shutil.rmtree(src)
        src.mkdir(parents=True)
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.source_commit = "work tree"
        if head and not os.environ.get("BENCH_KALAN_WORKTREE"):
            self.source_commit = head[:12]
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", "--format=tar", head],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        else:
            shutil.copytree(
                REPO,
                src,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(
                    ".git",
                    ".venv*",
                    "node_modules",
                    "bench",
                    "build",
                    "dist",
                    "*.egg-info",
                    "__pycache__",
                    ".kalan*",
                    ".*_cache",
                    "*.sqlite3",
                ),
            )
        return src

    def _pip_install(self):
        src = self._source()
        cons = src / "requirements" / "constraints.txt"
        extra = ["-c", cons] if cons.exists() else []
        run([self.python(), "-m", "pip", "install", "-q", *extra, src])

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        e["KALAN_HOME"] = str(self.home)
        e["PYTHONUNBUFFERED"] = "1"
        e["PATH"] = f"{self.venv / 'bin'}:{e.get('PATH', '')}"
        return e

    def kalan(self, *args, timeout=900, input_text=None):
        return run(
            [self.venv / "bin" / "kalan", *args], env=self.env(), timeout=timeout, input=input_text
        )

    def provision(self) -> dict:
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True)
        pwfile = WORK / "kalan-admin-password"
        pwfile.write_text("bench-admin-password-1\n")
        t0 = time.perf_counter()
        self.kalan(
            "setup",
            "--school",
            "Bench School",
            "--admin",
            "admin",
            "--password-file",
            pwfile,
            "--noinput",
        )
        t_setup = time.perf_counter() - t0
        out = self.kalan("demo").stdout
        (WORK / "kalan-demo-output.txt").write_text(out)
        names = sorted(set(re.findall(r"\blearner\d\d\b", out)))
        if len(names) < N_LEARNERS:
            names = [f"learner{i:02d}" for i in range(1, N_LEARNERS + 1)]
        self.learners = [(n, LEARNER_PASSWORD) for n in names[:N_LEARNERS]]
        return {"setup_s": round(t_setup, 1), "learners": len(self.learners)}

    def server(self, port: int) -> Server:
        return Server(
            "kalan",
            [self.venv / "bin" / "kalan", "start", "--host", LOOPBACK, "--port", port],
            self.env(),
            port,
            WORK / "logs" / "kalan-server.log",
        )

    @staticmethod
    def signin_fields(page: str) -> dict:
        """Hidden fields of the sign-in form: the CSRF token and the school of the learners
        (a <select> when the instance has several schools, a hidden input otherwise)."""
        fields = {}
        m = re.search(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"', page)
        if not m:
            raise RuntimeError("kalan sign-in page has no csrfmiddlewaretoken")
        fields["csrfmiddlewaretoken"] = html.unescape(m.group(1))
        sel = re.search(r'<select[^>]*name="school"[^>]*>(.*?)</select>', page, re.S)
        if sel:
            for value, label in re.findall(
                r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', sel.group(1)
            ):
                if html.unescape(label).strip() == "Demo School":
                    fields["school"] = value
        else:
            m = re.search(r'<input[^>]*name="school"[^>]*>', page)
            v = re.search(r'value="([^"]*)"', m.group(0)) if m else None
            if v:
                fields["school"] = html.unescape(v.group(1))
        return fields

    def login(self, base, username, password) -> http.cookiejar.CookieJar:
        jar = http.cookiejar.CookieJar()
        st, _, body, _ = http_get(base + self.signin_path, jar=jar)
        if st != 200:
            raise RuntimeError(f"kalan sign-in page: {st}")
        form = urllib.parse.urlencode(
            {"username": username, "password": password, **self.signin_fields(body.decode())}
        )
        st, _, resp = http_send(
            base + self.signin_path,
            "POST",
            form.encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": base + self.signin_path,
            },
            jar,
        )
        if st not in (302, 303) or "sessionid" not in {c.name for c in jar}:
            raise RuntimeError(f"kalan login {username}: {st} {resp[:300]!r}")
        return jar

    async def browser_login(self, ctx, base, username, password):
        r = await ctx.request.get(base + self.signin_path)
        fields = self.signin_fields(await r.text())
        r = await ctx.request.post(
            base + self.signin_path,
            form={"username": username, "password": password, **fields},
            headers={"Referer": base + self.signin_path},
            max_redirects=0,
        )
        if r.status not in (302, 303):
            raise RuntimeError(f"kalan browser login: {r.status}")

    def wrk_targets(self, base: str) -> list[dict]:
        rows = []
        for u, pw in self.learners:
            jar = self.login(base, u, pw)
            rows.append((self.learn_path, "; ".join(f"{c.name}={c.value}" for c in jar)))
        return [
            {
                "label": f"sign-in page HTML `GET {self.signin_path}`",
                "kind": "signin",
                "path": self.signin_path,
                "rows": None,
            },
            {
                "label": f"learner home HTML `GET {self.learn_path}` (authenticated, 40 learners)",
                "kind": "learner",
                "path": self.learn_path,
                "rows": rows,
            },
        ]


# --------------------------------------------------------------------------- measurements
def cold_starts(systems, ports, runs=3, idle_wait=30.0) -> dict:
    out = {s.key: [] for s in systems}
    for s in systems:  # one unmeasured start each: first-run work, page cache
        srv = s.server(ports[s.key]).start()
        try:
            srv.wait_ready()
        finally:
            srv.stop()
        time.sleep(2)
    for i in range(runs):
        for s in systems if i % 2 == 0 else list(reversed(systems)):
            t0 = time.time()
            srv = s.server(ports[s.key]).start()
            try:
                r = srv.wait_ready()
                log(f"{s.key} run {i + 1}: first 200 after {r['first_200_s']} s ({r['final_url']})")
                time.sleep(idle_wait)
                r["idle30"] = srv.memory()
                r["other_cpu_pct"] = NOISE.summary(t0, time.time()).get("mean_pct")
                log(f"{s.key} run {i + 1}: idle {r['idle30']}")
                r["run"] = i + 1
                out[s.key].append(r)
            finally:
                srv.stop()
            time.sleep(3)
    return out


async def _page_weight_async(s: System, base: str, shots: Path) -> dict:
    from playwright.async_api import async_playwright

    async def scenario(pw, name, path, login: bool):
        udd = tempfile.mkdtemp(prefix=f"udd-{s.key}-", dir=WORK)
        reqs, nonloop, failed, pending = [], [], [], []
        try:
            ctx = await pw.chromium.launch_persistent_context(
                udd,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 800},
            )
            try:
                if login:  # through the API request context: shares cookies, not the HTTP cache
                    await s.browser_login(ctx, base, *s.learners[0])
                page = ctx.pages[0] if ctx.pages else await ctx.new_page()

                def on_request(req):
                    u = req.url
                    if not u.startswith(("data:", "blob:", "about:")) and urllib.parse.urlparse(
                        u
                    ).hostname not in (LOOPBACK, "localhost"):
                        nonloop.append(u)

                async def finished(req):
                    sz = await req.sizes()
                    resp = await req.response()
                    reqs.append(
                        {
                            "url": req.url,
                            "status": resp.status if resp else None,
                            "type": req.resource_type,
                            "ctype": (resp.headers.get("content-type", "") if resp else ""),
                            "cenc": (resp.headers.get("content-encoding", "") if resp else ""),
                            "body": max(0, sz["responseBodySize"]),
                            "headers": max(0, sz["responseHeadersSize"]),
                            "req_bytes": max(0, sz["requestHeadersSize"])
                            + max(0, sz["requestBodySize"]),
                        }
                    )

                ctx.on("request", on_request)
                ctx.on(
                    "requestfinished", lambda r: pending.append(asyncio.ensure_future(finished(r)))
                )
                ctx.on("requestfailed", lambda r: failed.append({"url": r.url, "error": r.failure}))
                t0 = time.perf_counter()
                resp = await page.goto(base + path, wait_until="networkidle", timeout=60000)
                t_idle = time.perf_counter() - t0
                await page.wait_for_timeout(2000)  # late requests are counted too
                if pending:
                    await asyncio.gather(*pending)
                final = page.url
                await page.screenshot(path=str(shots / f"{s.key}-{name}.png"))
            finally:
                await ctx.close()
        finally:
            shutil.rmtree(udd, ignore_errors=True)
        by_type: dict[str, dict] = {}
        for r in reqs:
            b = by_type.setdefault(r["type"], {"n": 0, "bytes": 0})
            b["n"] += 1
            b["bytes"] += r["body"] + r["headers"]
        return {
            "entry": path,
            "final_url": final,
            "status": resp.status if resp else None,
            "networkidle_s": round(t_idle, 2),
            "requests": len(reqs) + len(failed),
            "finished": len(reqs),
            "failed": failed,
            "wire_bytes": sum(r["body"] + r["headers"] for r in reqs),
            "body_bytes": sum(r["body"] for r in reqs),
            "header_bytes": sum(r["headers"] for r in reqs),
            "request_bytes": sum(r["req_bytes"] for r in reqs),
            "non_loopback_requests": len(nonloop),
            "non_loopback_urls": nonloop[:20],
            "by_type": by_type,
            "detail": reqs,
        }

    async with async_playwright() as pw:
        signin = await scenario(pw, "signin", "/", login=False)
        learn = await scenario(pw, "learn", s.learn_path, login=True)
    return {"signin": signin, "learn": learn}


def page_weight(s: System, base: str) -> dict:
    shots = WORK / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    res = asyncio.run(_page_weight_async(s, base, shots))
    # sanity: the learner page must really be the learner page, not the sign-in page
    lp = urllib.parse.urlparse(res["learn"]["final_url"]).path
    if not lp.startswith(s.learn_path):
        raise RuntimeError(f"{s.key}: learner page ended on {res['learn']['final_url']}")
    for k, v in res.items():
        log(
            f"{s.key} {k}: {v['requests']} requests, {v['wire_bytes']} B on the wire, "
            f"non-loopback {v['non_loopback_requests']}, final {v['final_url']}"
        )
    return res


def run_wrk(
    base: str, path: str, conc: int, duration: int, rows=None, maxreq=200000, stride=False
) -> dict:
    """wrk on `base`; with `rows`, one request per row, rotated (with `stride`, the threads
    take alternate rows, so no row is repeated before all have been sent once)."""
    _check_loopback(base)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["BENCH_HOST"] = urllib.parse.urlparse(base).netloc
    env["BENCH_MAXREQ"] = str(maxreq)
    rowfile = None
    if rows:
        rowfile = WORK / "wrk-rows.tsv"
        rowfile.write_text("".join(f"{p}\t{c}\n" for p, c in rows))
        env["BENCH_ROWS"] = str(rowfile)
    else:
        env.pop("BENCH_ROWS", None)
    threads = 1 if conc < 10 else 2
    if stride:
        env["BENCH_STRIDE"] = str(threads)
    else:
        env.pop("BENCH_STRIDE", None)
    cmd = [
        "timeout",
        "-k",
        "5",
        str(duration + 30),
        "wrk",
        f"-t{threads}",
        f"-c{conc}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_LUA),
        base + path,
    ]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    line = [x for x in r.stdout.splitlines() if x.startswith("WRKJSON ")]
    if not line:
        raise RuntimeError(f"wrk gave no result: {r.stdout[-2000:]} {r.stderr[-2000:]}")
    res = json.loads(line[-1][len("WRKJSON ") :])
    res.update(threads=threads, connections=conc)
    return res


def load_tests(pairs: list[tuple[System, Server]], duration: int, concs=(1, 10, 40)) -> dict:
    """wrk on every target of every system, interleaved: for each kind of page and each
    concurrency the systems take turns (order alternating), so that a burst of other load on the
    machine hits both rather than one."""
    plan, out = {}, {}
    for s, srv in pairs:
        targets = s.wrk_targets(srv.base)
        # each learner session must really reach the learner page
        for t in targets:
            for p, cookie in (t["rows"] or [(t["path"], "")])[:N_LEARNERS]:
                st, _, _, _ = http_get(
                    srv.base + p, follow=False, headers={"Cookie": cookie} if cookie else {}
                )
                if st != 200:
                    raise RuntimeError(f"{s.key}: {p} with learner cookie gave {st}")
        plan[s.key] = {t["kind"]: t for t in targets}
        out[s.key] = {"memory_before": srv.memory(), "targets": []}
    kinds: list[str] = []
    for s, _ in pairs:
        kinds += [k for k in plan[s.key] if k not in kinds]
    for kind in kinds:
        here = [(s, srv) for s, srv in pairs if kind in plan[s.key]]
        results = {}
        for s, srv in here:
            t = plan[s.key][kind]
            run_wrk(srv.base, t["path"], 2, 3, t["rows"])  # short warm-up, not recorded
            results[s.key] = {"label": t["label"], "kind": kind, "runs": []}
        for i, c in enumerate(concs):
            for s, srv in here if i % 2 == 0 else here[::-1]:
                t = plan[s.key][kind]
                t0 = time.time()
                r = run_wrk(srv.base, t["path"], c, duration, t["rows"])
                r["other_cpu_pct"] = NOISE.summary(t0, time.time()).get("mean_pct")
                log(
                    f"{s.key} {kind} c={c}: {r['rps']} req/s p50 {r['p50_ms']} p95 {r['p95_ms']} "
                    f"p99 {r['p99_ms']} ms, non-200 {r['non200']}, errors "
                    f"{r['err_connect'] + r['err_read'] + r['err_write'] + r['err_timeout']}, "
                    f"other CPU {r['other_cpu_pct']} %"
                )
                results[s.key]["runs"].append(r)
                time.sleep(3)
        for k, v in results.items():
            out[k]["targets"].append(v)
    for s, srv in pairs:
        out[s.key]["memory_after"] = srv.memory()
    return out


# --------------------------------------------------------------------------- report
def fmt_mib(x):
    return f"{x:.1f}"


def report(res: dict) -> str:
    sysk = [k for k in ("kalan", "kolibri") if k in res["systems"]]
    sres = res["systems"]
    title = {k: sres[k]["title"] for k in sysk}
    out = []
    out.append(f"# Kalan vs Kolibri {KOLIBRI_VERSION}: foundation benchmark, {res['date']}\n")
    out.append(
        f"Run {res['started']} to {res['finished']} UTC on {res['machine']['cpus']} cores, "
        f"{res['machine']['os']}, {res['machine']['python']}. Kalan commit "
        f"`{res['kalan_commit']}`. Client (wrk, Chromium) and server share the same 2 cores; "
        f"all traffic to 127.0.0.1. Produced by `bench/foundation.py`.\n"
    )
    hdr = "| measure | " + " | ".join(title[k] for k in sysk) + " |"
    sep = "|---|" + "---|" * len(sysk)
    out += ["## Summary\n", hdr, sep]

    def row(name, f):
        cells = []
        for k in sysk:
            try:
                cells.append(f(sres[k]))
            except (KeyError, IndexError, TypeError, statistics.StatisticsError):
                cells.append("n/a")
        out.append(f"| {name} | " + " | ".join(cells) + " |")

    row(
        "installed size (du of the venv)",
        lambda s: f"{s['install']['disk_mib']} MiB ({s['install']['apparent_mib']} MiB apparent)",
    )
    row("files in the venv", lambda s: f"{s['install']['files']:,}")

    def cs(s):
        v = [r["first_200_s"] for r in s["coldstart"]]
        return f"**{statistics.median(v):.2f} s** (min {min(v):.2f}, max {max(v):.2f}; n={len(v)})"

    row("cold start to first 200 on `/` (redirects followed)", cs)
    row(
        "final URL of that 200",
        lambda s: f"`{urllib.parse.urlparse(s['coldstart'][0]['final_url']).path}`",
    )

    def mem(key):
        def f(s):
            v = [r["idle30"][key] for r in s["coldstart"]]
            return f"**{statistics.median(v):.1f} MiB** (min {min(v):.1f}, max {max(v):.1f})"

        return f

    row("idle RSS, whole process tree, 30 s after ready (median of runs)", mem("rss_mib"))
    row("idle PSS, same", mem("pss_mib"))
    row(
        "processes / threads in the tree",
        lambda s: (
            f"{s['coldstart'][-1]['idle30']['pids']} / {s['coldstart'][-1]['idle30']['threads']}"
        ),
    )

    def pw(which):
        def f(s):
            p = s["pageweight"][which]
            return (
                f"**{p['wire_bytes']:,} B** ({p['wire_bytes'] / 1024:.1f} KiB) in "
                f"{p['requests']} requests"
            )

        return f

    row("sign-in page, empty cache: bytes on the wire (bodies + headers)", pw("signin"))
    row("learner home, empty cache (signed in): bytes on the wire", pw("learn"))
    row(
        "requests to non-loopback hosts (both pages)",
        lambda s: str(
            s["pageweight"]["signin"]["non_loopback_requests"]
            + s["pageweight"]["learn"]["non_loopback_requests"]
        ),
    )
    row(
        "memory after the load tests (RSS / PSS)",
        lambda s: (
            f"{s['load']['memory_after']['rss_mib']} / {s['load']['memory_after']['pss_mib']} MiB"
        ),
    )

    out.append("\n## Throughput and latency (wrk)\n")
    out.append(
        f"wrk 4.1.0, {res['wrk_duration_s']} s per run, 1 thread at c=1 and 2 threads at "
        "c≥10, `--timeout 10s`, `Accept-Encoding: gzip, deflate, br`, request cap per thread. "
        "Authenticated runs rotate 40 signed-in learners (a different session cookie on "
        'each request). "bad" = non-200 responses + socket errors + timeouts.\n'
    )
    out.append(
        "| page | c | system | endpoint | req/s | p50 ms | p95 ms | p99 ms | max ms | bad "
        "| other CPU % |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    kinds: list[str] = []
    for k in sysk:
        kinds += [t["kind"] for t in sres[k].get("load", {}).get("targets", [])]
    kind_names = {"signin": "sign-in", "learner": "learner home", "learner_api": "learner API"}
    for kind in dict.fromkeys(kinds):
        for c in (1, 10, 40):
            for k in sysk:
                for t in sres[k].get("load", {}).get("targets", []):
                    for r in t["runs"]:
                        if t["kind"] != kind or r["connections"] != c:
                            continue
                        bad = sum(
                            r[f]
                            for f in (
                                "non200",
                                "err_connect",
                                "err_read",
                                "err_write",
                                "err_timeout",
                            )
                        )
                        out.append(
                            f"| {kind_names.get(kind, kind)} | {c} | {title[k]} | {t['label']} | "
                            f"**{r['rps']:.1f}** | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                            f"{r['p99_ms']:.1f} | {r['max_ms']:.0f} | {bad} | "
                            f"{r.get('other_cpu_pct', 'n/a')} |"
                        )

    out.append("\n## Page weight by resource type (bytes on the wire, empty cache)\n")
    out.append("| system | page | final URL | type | requests | bytes |")
    out.append("|---|---|---|---|---|---|")
    for k in sysk:
        if "pageweight" not in sres[k]:
            continue
        for which in ("signin", "learn"):
            p = sres[k]["pageweight"][which]
            path = urllib.parse.urlparse(p["final_url"]).path
            for typ, b in sorted(p["by_type"].items(), key=lambda kv: -kv[1]["bytes"]):
                out.append(
                    f"| {title[k]} | {which} | `{path}` | {typ} | {b['n']} | {b['bytes']:,} |"
                )
            out.append(
                f"| {title[k]} | {which} | `{path}` | **total** | {p['requests']} | "
                f"**{p['wire_bytes']:,}** |"
            )

    out.append("\n## Cold-start runs\n")
    out.append(
        "| system | run | first response s | first 200 s | idle RSS MiB | idle PSS MiB | "
        "processes | threads | other CPU % |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|")
    for k in sysk:
        for r in sres[k].get("coldstart", []):
            m = r["idle30"]
            out.append(
                f"| {title[k]} | {r['run']} | {r['first_response_s']} | {r['first_200_s']} | "
                f"{m['rss_mib']} | {m['pss_mib']} | {m['pids']} | {m['threads']} | "
                f"{r.get('other_cpu_pct', 'n/a')} |"
            )

    out.append("\n## Method and conditions\n")
    for k in sysk:
        s = sres[k]
        out.append(f"- **{title[k]}**: {s['how']}")
    out.append(
        "- Sizes: `du -sk` and `du -sk --apparent-size` of the venv right after "
        "`pip install`, and the number of regular files in it. Both venvs are plain "
        "`python3.11 -m venv` plus the one package (pip and setuptools included)."
    )
    out.append(
        "- Cold start: time from launching the server to the first HTTP 200 on the root URL, "
        "polled every 50 ms with redirects followed. One unmeasured start of each system "
        "first; then the systems alternate. Warm OS page cache."
    )
    out.append(
        "- Idle memory: `VmRSS` and `Pss` (`/proc/<pid>/smaps_rollup`) summed over the "
        "server process and all its descendants, 30 s after the first 200."
    )
    out.append(
        "- Page weight: Debian " + res["chromium"] + " driven by Playwright with a "
        "fresh user-data dir per page, waiting for network idle plus 2 s. Bytes = "
        "`responseBodySize + responseHeadersSize` of `request.sizes()` over every finished "
        "request (failed requests are counted as requests with 0 bytes). For the learner "
        "home, the learner signs in through the browser context's API client first "
        "(shares cookies, not the HTTP cache), so that page too is loaded with an empty cache."
    )
    noise = res["noise"]
    out.append(
        f"- Other processes on the machine (not this benchmark) used on average "
        f"{noise['all'].get('mean_pct', 'n/a')} % of a core during the run (max "
        f"{noise['all'].get('max_pct', 'n/a')} %, top: {noise['all'].get('max_top', '')}). "
        "Per phase: "
        + "; ".join(f"{k} {v.get('mean_pct', 'n/a')} %" for k, v in noise["phases"].items())
        + "."
    )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--reuse-venvs",
        action="store_true",
        help="keep existing bench venvs (their size was recorded at install)",
    )
    ap.add_argument("--duration", type=int, default=20, help="seconds per wrk run (default 20)")
    ap.add_argument("--runs", type=int, default=3, help="cold-start runs per system (default 3)")
    ap.add_argument(
        "--idle-wait", type=float, default=30.0, help="seconds after ready for idle RSS"
    )
    ap.add_argument("--only", choices=["kalan", "kolibri"], help="measure one system only")
    ap.add_argument("--skip", default="", help="comma list of steps to skip: load,pageweight")
    ap.add_argument("--out", default=None, help="output stem (default results/foundation-<date>)")
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="MIN",
        help="before measuring, wait up to MIN minutes for other processes to go quiet",
    )
    args = ap.parse_args()
    ensure_tools_python()
    # SIGTERM unwinds like an error, so every server started so far is stopped by its PID
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    if not Path(CHROMIUM).exists():
        sys.exit("chromium is missing: apt-get install -y chromium")
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    systems: list[System] = [Kalan(), Kolibri()]
    if args.only:
        systems = [s for s in systems if s.key == args.only]
    NOISE.start()
    now = dt.datetime.now(dt.UTC)
    res: dict = {
        **run_stamp(now),
        "chromium": subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
        .stdout.strip()
        .split(" built")[0],
        "wrk_duration_s": args.duration,
        "systems": {},
    }
    ports = {"kalan": free_port(18081), "kolibri": free_port(18180)}
    for s in systems:
        res["systems"][s.key] = {"title": s.title}
    with Phase("install"):
        for s in systems:
            res["systems"][s.key]["install"] = s.install(args.reuse_venvs)
            log(
                s.key,
                "installed:",
                {k: v for k, v in res["systems"][s.key]["install"].items() if k != "pip_freeze"},
            )
    if "kalan" in res["systems"]:  # the commit that was installed (may predate --reuse-venvs)
        res["kalan_commit"] = res["systems"]["kalan"]["install"].get(
            "source_commit", res["kalan_commit"]
        )
    with Phase("provision"):
        for s in systems:
            res["systems"][s.key]["provision"] = s.provision()
    res["systems"].get("kolibri", {})["how"] = (
        f"`pip install kolibri=={KOLIBRI_VERSION}`; `kolibri manage provisiondevice --preset "
        "formal` + 1 class and 40 learners `l_00001`..`l_00040` created with Kolibri's models "
        "(`full_clean()`); `kolibri start --foreground` (Cheroot, one process), offline switches "
        "as in the earlier Kolibri measurement (`KOLIBRI_DISABLE_PING=True`, "
        "`KOLIBRI_ZEROCONF_ENABLED=False`, "
        "`KOLIBRI_LISTEN_ADDRESS=127.0.0.1`, central URLs on a dead loopback port). Sign-in via "
        "`PUT /api/auth/session/current/?active=false` then `POST /api/auth/session/`."
    )
    res["systems"].get("kalan", {})["how"] = (
        '`pip install <repo>` into a fresh venv; `kalan setup --school "Bench School" --admin '
        "admin --password-file F --noinput`, `kalan demo` (40 learners); `kalan start --host "
        "127.0.0.1`. Sign-in via the HTML form on `/signin/` (CSRF token + cookie)."
    )
    res["wait_quiet"] = {}
    try:
        res["wait_quiet"]["coldstart"] = wait_quiet(args.wait_quiet)
        with Phase("coldstart"):
            cold = cold_starts(systems, ports, runs=args.runs, idle_wait=args.idle_wait)
            for s in systems:
                res["systems"][s.key]["coldstart"] = cold[s.key]
        if not {"pageweight", "load"} <= skip:
            res["wait_quiet"]["serve"] = wait_quiet(args.wait_quiet)
            pairs: list[tuple[System, Server]] = []
            try:
                for s in systems:  # both servers up; each measured while the other idles
                    srv = s.server(ports[s.key])
                    pairs.append((s, srv))
                    srv.start().wait_ready()
                if "pageweight" not in skip:
                    for s, srv in pairs:
                        with Phase(f"pageweight-{s.key}"):
                            res["systems"][s.key]["pageweight"] = page_weight(s, srv.base)
                if "load" not in skip:
                    time.sleep(5)
                    with Phase("load"):
                        for k, v in load_tests(pairs, args.duration).items():
                            res["systems"][k]["load"] = v
            finally:
                for _, srv in pairs:
                    srv.stop()
    finally:
        NOISE.stop_evt.set()
        res["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        res["noise"] = {
            "all": NOISE.summary(),
            "phases": {k: NOISE.summary(*v) for k, v in PHASES.items()},
        }
        stem = Path(args.out) if args.out else RESULTS / f"foundation-{res['date']}"
        stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
        log("wrote", stem.with_suffix(".json"))
    md = report(res)
    stem.with_suffix(".md").write_text(md)
    log("wrote", stem.with_suffix(".md"))
    print(md)


if __name__ == "__main__":
    main()
