"""The content import benchmark's harness: constants, /proc sampling, other processes'
CPU, network namespaces, one measured command, page-cache control, file helpers."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import _status_field, proc_tree

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE_ROOT = BENCH / ".cache"
RESULTS = BENCH / "results"
KOLIBRI_VENV = BENCH / ".venv-kolibri"
KOLIBRI_VERSION = "0.19.5"
PY = os.environ.get("BENCH_PYTHON", "python3.11")
MIB = 1 << 20
# Kolibri is kept off the network as in foundation.py and shared/anchors/kolibri-scripts/env.sh.
KOLIBRI_ENV = {
    "KOLIBRI_DISABLE_PING": "True",
    "KOLIBRI_ZEROCONF_ENABLED": "False",
    "KOLIBRI_LISTEN_ADDRESS": "127.0.0.1",
    "KOLIBRI_RUN_MODE": "bench",
    "KOLIBRI_CENTRAL_CONTENT_BASE_URL": "http://127.0.0.1:9",
    "KOLIBRI_DATA_PORTAL_SYNCING_BASE_URL": "http://127.0.0.1:9",
    "PYTHONUNBUFFERED": "1",
}
NETNS_NOTE = "every command ran in its own network namespace with only loopback (`unshare -n`)"
KALAN_SETUP = (
    "setup --school 'Bench School' --admin admin --password-file {password_file} --noinput"
)


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


class Settings:
    """What main() decides for the whole run."""

    use_netns = True  # every command in its own network namespace (loopback only)
    logs = BENCH / ".cache" / "content" / "run" / "logs"


SETTINGS = Settings()


# =========================================================================== process helpers
def _mem_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB; VmHWM is its RSS high-water mark since exec."""
    return _status_field(pid, "VmRSS"), _status_field(pid, "VmHWM")


def _pss_kib(pid: int) -> int:
    return _status_field(pid, "Pss", "smaps_rollup")


class CpuNoise(threading.Thread):
    """CPU used by processes that are not this script or its descendants, sampled every 2 s
    (100 % = one core), so that a noisy run can be recognised. Kernel threads (children of
    kthreadd) are counted apart: their work is mostly the write-back of this benchmark's own
    bytes."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, str, float]] = []  # (time, other, top, kernel)
        self.stop_evt = threading.Event()
        self.hz = os.sysconf("SC_CLK_TCK")

    def _snapshot(self):
        stats = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        s = f.read()
                    rest = s.rsplit(")", 1)[1].split()
                    name = s[s.index("(") + 1 : s.rindex(")")]
                    stats[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]), name)
                except (OSError, ValueError, IndexError):
                    pass
        return stats

    def _mine(self, cur: dict) -> set[int]:
        mine, changed = {os.getpid()}, True
        while changed:
            changed = False
            for p, (pp, _, _) in cur.items():
                if pp in mine and p not in mine:
                    mine.add(p)
                    changed = True
        return mine

    def run(self):
        prev, t_prev = self._snapshot(), time.monotonic()
        while not self.stop_evt.wait(2.0):
            cur, t = self._snapshot(), time.monotonic()
            mine = self._mine(cur)
            other, kernel, top = 0.0, 0.0, []
            for p, (pp, ticks, name) in cur.items():
                if p in mine or p not in prev or ticks <= prev[p][1]:
                    continue
                if p == 2 or pp == 2:
                    kernel += ticks - prev[p][1]
                else:
                    other += ticks - prev[p][1]
                    top.append((ticks - prev[p][1], name))
            top.sort(reverse=True)
            k = 100.0 / self.hz / (t - t_prev)
            self.samples.append(
                (
                    time.time(),
                    round(other * k, 1),
                    ",".join(n for _, n in top[:3]),
                    round(kernel * k, 1),
                )
            )
            prev, t_prev = cur, t

    def _window(self, t0: float, t1: float) -> list:
        # A sample at time s covers (s - 2, s]: keep those that overlap [t0, t1].
        return [s for s in self.samples if s[0] > t0 and s[0] - 2 < t1]

    def mean(self, t0: float, t1: float) -> float | None:
        xs = [s[1] for s in self._window(t0, t1)]
        return round(statistics.mean(xs), 1) if xs else None

    def kernel_mean(self, t0: float, t1: float) -> float | None:
        xs = [s[3] for s in self._window(t0, t1)]
        return round(statistics.mean(xs), 1) if xs else None

    def top(self, t0: float, t1: float) -> str:
        xs = self._window(t0, t1)
        return max(xs, key=lambda s: s[1])[2] if xs else ""

    def wait_past(self, t: float, limit: float = 2.5) -> None:
        """Waits until a sample covering time t exists (the run's last moments)."""
        end = time.time() + limit
        while (
            self.is_alive() and time.time() < end and not any(x[0] >= t for x in self.samples[-3:])
        ):
            time.sleep(0.1)


NOISE = CpuNoise()


def wait_quiet(max_minutes: float, threshold: float = 20.0, window_s: float = 10.0) -> dict:
    """Waits (at most max_minutes) until other processes have used < threshold % of a core in
    every sample of the last window_s seconds."""
    if max_minutes <= 0:
        return {"waited_s": 0, "quiet": None}
    t0, need = time.time(), max(1, int(window_s / 2))
    announced = False
    while time.time() - t0 < max_minutes * 60:
        recent = [x[1] for x in NOISE.samples[-need:]]
        if len(recent) >= need and max(recent) < threshold:
            return {"waited_s": round(time.time() - t0), "quiet": True}
        if not announced and time.time() - t0 > 5:
            log(f"  waiting up to {max_minutes} min for other processes to go quiet")
            announced = True
        time.sleep(1)
    return {"waited_s": round(time.time() - t0), "quiet": False}


def netns_wrap(cmd: list[str]) -> list[str]:
    """Runs cmd in a new network namespace that has only loopback (same PID: sh execs it)."""
    if not SETTINGS.use_netns:
        return cmd
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *cmd]


def netns_available() -> bool:
    try:
        r = subprocess.run(
            ["unshare", "-n", "sh", "-c", "ip link set lo up && cat /proc/net/dev"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    ifaces = [ln.split(":")[0].strip() for ln in r.stdout.splitlines()[2:]]
    return r.returncode == 0 and ifaces == ["lo"]


@dataclass
class Measured:
    cmd: list[str]
    rc: int | None = None
    wall_s: float = 0.0
    peak_tree_rss_mib: float = 0.0  # sum over the tree, sampled every 50 ms
    peak_tree_pss_mib: float = 0.0  # same with PSS (a fork's shared pages counted once), 5 Hz
    processes: int = 0  # distinct processes seen in the tree
    maxrss_mib: float = 0.0  # largest single process: its VmHWM (RSS high-water since exec)
    wait4_maxrss_mib: float = 0.0  # ru_maxrss from wait4 (includes the netns wrapper's `ip`)
    user_s: float = 0.0
    sys_s: float = 0.0
    killed_at: dict | None = None
    other_cpu_pct: float | None = None  # mean CPU of other processes during the run
    kernel_cpu_pct: float | None = None  # kernel threads (write-back etc.)
    other_top: str = ""  # the busiest other processes in the noisiest sample
    log: str = ""
    extra: dict = field(default_factory=dict)

    def brief(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("cmd", "log")}
        d["cmd"] = " ".join(shlex.quote(c) for c in self.cmd)
        return d


def measure(
    cmd: list[str],
    env: dict,
    logfile: Path,
    kill_when: Callable[[], dict | None] | None = None,
    timeout: float = 3600,
    cwd: Path | None = None,
) -> Measured:
    """Runs cmd (in its own session), samples the RSS of its process tree every 50 ms, and
    if kill_when() returns a dict, SIGKILLs the whole process group (that is the interruption
    test). Returns wall time, peaks, CPU times."""
    m = Measured(cmd=cmd)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "wb") as out:
        t0 = time.perf_counter()
        tw0 = time.time()
        p = subprocess.Popen(
            netns_wrap(cmd),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
        )
        peak, peak_pss, polls, last_check, hwm = 0, 0, 0, 0.0, {}
        try:
            while True:
                # Exited? (WNOWAIT: not reaped yet, so its PID and group cannot be reused
                # before the leftovers of its group are killed below.)
                if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    break
                total = 0
                tree = proc_tree(p.pid)
                for q in tree:
                    rss, h = _mem_kib(q)
                    total += rss
                    hwm[q] = max(hwm.get(q, 0), h)
                if total > peak or polls % 4 == 0:  # PSS costs more: at new RSS peaks, 5 Hz
                    peak_pss = max(peak_pss, sum(_pss_kib(q) for q in tree))
                peak = max(peak, total)
                polls += 1
                now = time.perf_counter()
                if kill_when and m.killed_at is None and now - last_check >= 0.1:
                    last_check = now
                    hit = kill_when()
                    if hit is not None:
                        os.killpg(p.pid, signal.SIGKILL)
                        m.killed_at = hit | {"after_s": round(now - t0, 2)}
                if now - t0 > timeout:
                    os.killpg(p.pid, signal.SIGKILL)
                    m.extra["timeout"] = True
                time.sleep(0.05)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        m.wall_s = round(time.perf_counter() - t0, 3)
        if m.killed_at is None and len(proc_tree(p.pid)) > 1:
            m.extra["left_running"] = len(proc_tree(p.pid)) - 1
        with contextlib.suppress(ProcessLookupError):  # leftovers of its group go too
            os.killpg(p.pid, signal.SIGKILL)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    m.rc = p.returncode
    m.peak_tree_rss_mib = round(peak / 1024, 1)
    m.peak_tree_pss_mib = round(peak_pss / 1024, 1)
    m.processes = len(hwm)
    m.maxrss_mib = round(max(hwm.values(), default=0) / 1024, 1)
    m.wait4_maxrss_mib = round(ru.ru_maxrss / 1024, 1)
    m.user_s, m.sys_s = round(ru.ru_utime, 2), round(ru.ru_stime, 2)
    tw1 = time.time()
    NOISE.wait_past(tw1)
    m.other_cpu_pct = NOISE.mean(tw0, tw1)
    m.kernel_cpu_pct = NOISE.kernel_mean(tw0, tw1)
    m.other_top = NOISE.top(tw0, tw1)
    m.log = logfile.read_text(errors="replace")[-4000:]
    return m


def timed_sync() -> float:
    t0 = time.perf_counter()
    os.sync()
    return round(time.perf_counter() - t0, 3)


def drop_caches() -> bool:
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def warm(paths: list[Path]) -> None:
    """Reads every file under paths (the program's own files) back into the page cache."""
    for root in paths:
        if root.is_file():
            root.read_bytes()
            continue
        for d, _, fs in os.walk(root):
            for name in fs:
                p = os.path.join(d, name)
                if not os.path.islink(p):
                    try:
                        with open(p, "rb") as f:
                            while f.read(MIB):
                                pass
                    except OSError:
                        pass


def tree_bytes(root: Path) -> int:
    total = 0
    for d, _, fs in os.walk(root):
        for name in fs:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(d, name)).st_size
    return total


def rmtree(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


def file_digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while block := f.read(MIB):
            h.update(block)
    return h.hexdigest()


def base_env() -> dict:
    drop = ("KALAN_", "KOLIBRI_", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    return {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(drop)
    }
