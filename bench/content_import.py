#!/usr/bin/env python3.11
"""Content import benchmark: the same ~1 GiB / 5,000-file channel imported from local disk by
`cp -r` (the baseline), by Kolibri 0.19.5 (`importchannel disk` + `importcontent disk`) and by
Kalan (`kalan content import PKG_DIR`), into fresh homes.

Per system and page-cache state (warm; cold = `echo 3 > /proc/sys/vm/drop_caches`, then the
program's own files read back so that only the content is cold), median of --runs runs:
  - wall time of the import, and of the `sync` that follows (the import's dirty pages reaching
    the disk), throughput in MB/s and as a ratio to `cp -r` of the same bytes;
  - peak memory: RSS summed over the process tree, sampled every 50 ms, and the largest single
    process's high-water mark (ru_maxrss from wait4);
  - the end state: every file present with its size and checksum, nothing partial left over.
Then, per system, --kill-runs times: start the import, `kill -9` its process group once half of
the content bytes are in the destination, rerun it, time the rerun, check the end state; and
time a rerun of the finished import (nothing to do).

The machine is shared: other processes' CPU is sampled every 2 s and reported per run. With
--wait-quiet MIN each measured run waits (up to MIN minutes) for 10 quiet seconds, and a run
during which others used more than --max-other-cpu % of a core is done again (--retries).

Everything generated lives in bench/.cache/content/ (a `.gitignore` holding `*` is written at
the top of bench/.cache/ so that it can never be committed): the synthetic channel source, the
Kolibri drive built from it (bench/kolibri_channel.py, run by the Kolibri venv's Python; storage
files are hard links to the source files), the Kalan package, template homes and run folders.
Every command runs in its own network namespace holding only loopback (`unshare -n`), so no
byte can leave the machine (--no-netns to switch off). Writes results/content-import-<date>.md
and .json.

Usage (from the repository root; as root for the cold runs and the network namespace):
  python3.11 bench/content_import.py                       # cp -r + Kolibri; Kalan "pending"
  python3.11 bench/content_import.py --kalan .venv/bin/kalan        # + Kalan (builds the package
                                          # with `kalan content build SRC --out PKG` first)
  python3.11 bench/content_import.py --kalan .venv/bin/kalan --kalan-pkg DIR  # prebuilt package
  python3.11 bench/content_import.py --only kalan --kalan standin  # harness self-test, no Kalan
  python3.11 bench/content_import.py --generate-only       # only the synthetic source
Small trial: --files 300 --size 60MiB --videos 2 --video-mib 5-10 --runs 1 --kill-runs 1.
The measurement in results/: python3.11 bench/content_import.py --wait-quiet 10
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import _status_field, proc_tree  # noqa: E402  (the same /proc helpers)

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
USE_NETNS = True
LOGS = BENCH / ".cache" / "content" / "run" / "logs"  # set in main()
NETNS_NOTE = "every command ran in its own network namespace with only loopback (`unshare -n`)"
KALAN_SETUP = (
    "setup --school 'Bench School' --admin admin --password-file {password_file} --noinput"
)


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


# =========================================================================== synthetic source
SUBJECTS = [
    "mathematics",
    "sciences",
    "french",
    "english",
    "history",
    "geography",
    "civics",
    "arts",
    "health",
    "computing",
]
WORDS = (  # noqa: SIM905
    "water river field school market number fraction triangle plant seed animal body health "
    "map country region village history king treaty poem story letter grammar verb noun "
    "energy light sound force machine circuit computer drawing music dance rights family"
).split()


@dataclass
class SourceSpec:
    seed: int = 1
    files: int = 5000
    size: int = 1 << 30
    videos: int = 8
    video_mib: tuple[int, int] = (50, 100)
    units: int = 8  # topics per subject

    @property
    def key(self) -> str:
        lo, hi = self.video_mib
        return f"s{self.seed}-n{self.files}-b{self.size}-v{self.videos}x{lo}-{hi}-u{self.units}"


def plan_source(spec: SourceSpec) -> list[dict]:
    """Which files, where, of which kind and size. Deterministic from spec."""
    rng = random.Random(f"plan:{spec.key}")
    lo, hi = spec.video_mib
    video_sizes = [rng.randint(lo * MIB, hi * MIB) for _ in range(spec.videos)]
    n_small = spec.files - spec.videos
    if n_small < 0:
        raise SystemExit("--videos is larger than --files")
    kinds = ["pdf" if rng.random() < 0.55 else "html5" for _ in range(n_small)]
    raw = [rng.lognormvariate(math.log(60e3 if k == "pdf" else 40e3), 1.1) for k in kinds]
    budget = spec.size - sum(video_sizes)
    if n_small and budget < n_small * 8192:
        raise SystemExit("--size too small for that many files next to the videos")
    scale = budget / sum(raw) if raw else 1.0
    small = [max(6 * 1024, min(int(x * scale), 16 * MIB)) for x in raw]
    topics = [(s, u) for s in range(len(SUBJECTS)) for u in range(spec.units)]
    entries: list[dict] = []
    slots: dict[tuple[int, int], int] = {}
    items = [("video", sz) for sz in video_sizes] + list(zip(kinds, small, strict=False))
    order = list(range(len(items)))
    rng.shuffle(order)
    for n, i in enumerate(order):
        kind, size = items[i]
        t = topics[n % len(topics)] if kind != "video" else rng.choice(topics)
        slots[t] = slots.get(t, 0) + 1
        s, u = t
        word = WORDS[rng.randrange(len(WORDS))]
        ext = {"video": "mp4", "pdf": "pdf", "html5": "zip"}[kind]
        label = {"video": "video", "pdf": "lesson", "html5": "activity"}[kind]
        name = f"{slots[t]:03d}-{label}-{word}.{ext}"
        rel = f"{s + 1:02d}-{SUBJECTS[s]}/unit-{u + 1:02d}/{name}"
        entries.append({"path": rel, "kind": kind, "size": size})
    entries.sort(key=lambda e: e["path"])
    return entries


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def write_mp4(f, size: int, rng: random.Random, hashes) -> None:
    """ISO-BMFF: ftyp, moov(mvhd with a duration), mdat of incompressible random bytes. Not
    playable (no tracks), but structurally valid and sized like a real lesson video."""
    ftyp = _box(b"ftyp", b"isom" + (512).to_bytes(4, "big") + b"isomiso2avc1mp41")
    duration_ms = int(size / (1_000_000 / 8) * 1000)  # about 1 Mbit/s
    matrix = b"".join(
        x.to_bytes(4, "big") for x in (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    )
    mvhd = _box(
        b"mvhd",
        b"\0\0\0\0"
        + (0).to_bytes(4, "big") * 2
        + (1000).to_bytes(4, "big")
        + duration_ms.to_bytes(4, "big")
        + (0x10000).to_bytes(4, "big")
        + (0x100).to_bytes(2, "big")
        + b"\0" * 10
        + matrix
        + b"\0" * 24
        + (2).to_bytes(4, "big"),
    )
    head = ftyp + _box(b"moov", mvhd)
    payload = size - len(head) - 8
    out = head + (8 + payload).to_bytes(4, "big") + b"mdat"
    for h in hashes:
        h.update(out)
    f.write(out)
    left = payload
    while left > 0:
        block = rng.randbytes(min(left, 4 * MIB))
        for h in hashes:
            h.update(block)
        f.write(block)
        left -= len(block)


def _pdf(title: str, pages: list[bytes], body: list[str]) -> bytes:
    """A small valid PDF 1.4: one page per image (random RGB pixels: incompressible, like a
    scanned page), with a line of text above it."""
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{5 + 3 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objs.append(
        f"<< /Title ({title}) /Author (Kalan bench) /Producer (bench/content_import.py) >>".encode()
    )
    for i, img in enumerate(pages):
        _pobj, cobj, iobj = 5 + 3 * i, 6 + 3 * i, 7 + 3 * i
        h = len(img) // (256 * 3)
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
            f"<< /F1 3 0 R >> /XObject << /Im{i} {iobj} 0 R >> >> /Contents {cobj} 0 R >>".encode()
        )
        text = body[i % len(body)]
        scale_h = max(1, min(640, h * 480 // 256))
        content = (
            f"BT /F1 16 Tf 56 780 Td ({title} - page {i + 1}) Tj ET\n"
            f"BT /F1 10 Tf 56 760 Td ({text}) Tj ET\n"
            f"q 480 0 0 {scale_h} 56 {740 - scale_h} cm /Im{i} Do Q\n"
        ).encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objs.append(
            b"<< /Type /XObject /Subtype /Image /Width 256 /Height %d /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (h, len(img)) + img + b"\nendstream"
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body_ in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body_ + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objs) + 1, xref)
    )
    return out.getvalue()


def make_pdf(title: str, size: int, rng: random.Random) -> bytes:
    body = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(4)]
    base = len(_pdf(title, [b"\0" * 768], body))
    room = max(768, size - base)
    per_page = 768 * 1366  # about 1 MiB of pixels per page
    n_pages = max(1, math.ceil(room / per_page))
    rows = max(1, (room // 768 - (n_pages - 1) * 360) // n_pages)  # page overhead ~ 360 B
    pages = [rng.randbytes(768 * rows) for _ in range(n_pages)]
    return _pdf(title, pages, body)


FIXED_DATE = (2026, 1, 1, 0, 0, 0)


def make_html5(title: str, size: int, rng: random.Random) -> bytes:
    """A zip with index.html, style.css, app.js and stored (incompressible) media blobs."""
    paras = "\n".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))}.</p>"
        for _ in range(rng.randint(5, 25))
    )
    index = (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="style.css"></head><body><h1>{title}</h1>{paras}'
        f'<script src="app.js"></script></body></html>'
    ).encode()
    css = b"body{font-family:sans-serif;margin:2rem;max-width:40rem}h1{color:#234}\n" * 3
    js = b"document.querySelectorAll('p').forEach(function(p,i){p.dataset.i=i});\n"

    def build(media: int) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, data, method in (
                ("index.html", index, zipfile.ZIP_DEFLATED),
                ("style.css", css, zipfile.ZIP_DEFLATED),
                ("app.js", js, zipfile.ZIP_DEFLATED),
            ):
                zi = zipfile.ZipInfo(name, FIXED_DATE)
                zi.compress_type = method
                z.writestr(zi, data)
            left, k = media, 0
            while left > 0:
                part = min(left, 512 * 1024)
                zi = zipfile.ZipInfo(f"media/clip-{k:02d}.bin", FIXED_DATE)
                z.writestr(zi, rng_media.randbytes(part))
                left -= part
                k += 1
        return buf.getvalue()

    state = rng.getstate()
    rng_media = random.Random()
    rng_media.setstate(state)
    base = len(build(0))
    media = max(0, size - base - 100)
    rng_media.setstate(state)
    return build(media)


def generate_source(spec: SourceSpec, cache: Path) -> tuple[Path, dict]:
    """The synthetic channel source folder, generated once per spec and reused."""
    src = cache / f"src-{spec.key}"
    stamp = cache / f"src-{spec.key}.json"
    if src.is_dir() and stamp.exists():
        meta = json.loads(stamp.read_text())
        log(f"source: reusing {src} ({meta['files_count']} files, {meta['bytes']:,} B)")
        return src, meta
    tmp = cache / f"src-{spec.key}.part"
    if tmp.exists():
        shutil.rmtree(tmp)
    if src.exists():
        shutil.rmtree(src)
    entries = plan_source(spec)
    log(f"source: generating {len(entries)} files into {src}")
    t0 = time.perf_counter()
    for e in entries:
        path = tmp / e["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{spec.seed}:{e['path']}")
        md5, sha = hashlib.md5(), hashlib.sha256()
        title = Path(e["path"]).stem.replace("-", " ")
        with open(path, "wb") as f:
            if e["kind"] == "video":
                write_mp4(f, e["size"], rng, (md5, sha))
            else:
                data = (make_pdf if e["kind"] == "pdf" else make_html5)(title, e["size"], rng)
                md5.update(data)
                sha.update(data)
                f.write(data)
        e["size"] = path.stat().st_size
        e["md5"], e["sha256"] = md5.hexdigest(), sha.hexdigest()
    os.replace(tmp, src)
    by_kind: dict[str, dict] = {}
    for e in entries:
        k = by_kind.setdefault(e["kind"], {"files": 0, "bytes": 0, "max": 0})
        k["files"] += 1
        k["bytes"] += e["size"]
        k["max"] = max(k["max"], e["size"])
    meta = {
        "spec": spec.__dict__ | {"video_mib": list(spec.video_mib)},
        "files_count": len(entries),
        "bytes": sum(e["size"] for e in entries),
        "by_kind": by_kind,
        "topics": len({str(Path(e["path"]).parent) for e in entries}),
        "generate_s": round(time.perf_counter() - t0, 1),
        "files": entries,
    }
    stamp.write_text(json.dumps(meta))
    log(f"source: {meta['bytes']:,} B in {len(entries)} files, {meta['generate_s']} s")
    return src, meta


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
    if not USE_NETNS:
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


# =========================================================================== systems
class System:
    key = ""
    title = ""
    payload_bytes = 0

    def prepare(self) -> dict:  # once per benchmark run
        return {}

    def software_paths(self) -> list[Path]:  # read back after drop_caches in "cold" runs
        return []

    def fresh(self, run_dir: Path) -> None:  # a fresh destination for one run (untimed)
        raise NotImplementedError

    def import_steps(self) -> list[tuple[str, list[str]]]:
        raise NotImplementedError

    def env(self) -> dict:
        return base_env()

    def dest_bytes(self) -> int:  # content bytes landed so far (for the interruption test)
        raise NotImplementedError

    def verify(self, hashes: bool) -> dict:
        raise NotImplementedError

    def pre_kill_steps(self) -> int:
        """How many of import_steps run to completion before the one that gets interrupted."""
        return 0


class CpR(System):
    key = "cp"
    title = "cp -r (baseline)"

    def __init__(self, src: Path, meta: dict):
        self.src, self.meta = src, meta
        self.payload_bytes = meta["bytes"]

    def fresh(self, run_dir: Path) -> None:
        self.dest = run_dir / "cp-dest"
        rmtree(self.dest)

    def import_steps(self):
        return [("cp -r", ["cp", "-r", str(self.src), str(self.dest)])]

    def dest_bytes(self) -> int:
        return tree_bytes(self.dest)

    def verify(self, hashes: bool) -> dict:
        bad = 0
        for e in self.meta["files"]:
            p = self.dest / e["path"]
            if (
                not p.is_file()
                or p.stat().st_size != e["size"]
                or (hashes and file_digest(p, "md5") != e["md5"])
            ):
                bad += 1
        return {"complete": bad == 0, "bad_files": bad, "hashes_checked": hashes}


class Kolibri(System):
    key = "kolibri"
    title = f"Kolibri {KOLIBRI_VERSION}"

    def __init__(self, src: Path, meta: dict, cache: Path, spec: SourceSpec):
        self.src, self.meta, self.cache, self.spec = src, meta, cache, spec
        self.venv = KOLIBRI_VENV
        self.drive = cache / f"kolibri-drive-{spec.key}"
        self.template = cache / "kolibri-home-template"
        self.cid = hashlib.md5(f"kalan-bench-channel:{spec.key}".encode()).hexdigest()
        self.payload_bytes = meta["bytes"]

    def env(self, home: Path | None = None) -> dict:
        e = base_env()
        e.update(KOLIBRI_ENV)
        e["KOLIBRI_HOME"] = str(home or self.home)
        e["PATH"] = f"{self.venv / 'bin'}:{e.get('PATH', '')}"
        return e

    def ensure_venv(self) -> None:
        if (self.venv / "bin" / "kolibri").exists():
            return
        log(f"creating {self.venv} (kolibri=={KOLIBRI_VERSION})")
        subprocess.run([PY, "-m", "venv", str(self.venv)], check=True)
        subprocess.run(
            [str(self.venv / "bin" / "pip"), "install", "-q", f"kolibri=={KOLIBRI_VERSION}"],
            check=True,
        )

    def build_drive(self) -> dict:
        stamp = self.drive / "channel.json"
        if stamp.exists():
            info = json.loads(stamp.read_text())
            log(f"kolibri: reusing drive {self.drive} (channel {info['channel_id']})")
            return info
        rmtree(self.drive)
        log(f"kolibri: building the channel database and storage in {self.drive}")
        r = subprocess.run(
            netns_wrap(
                [
                    str(self.venv / "bin" / "python"),
                    str(BENCH / "kolibri_channel.py"),
                    str(self.src),
                    str(self.drive),
                    "--channel-id",
                    self.cid,
                    "--name",
                    f"Kalan bench channel {self.spec.key}",
                ]
            ),
            env=self.env(self.cache / "kolibri-unused-home"),
            capture_output=True,
            text=True,
        )
        line = [x for x in r.stdout.splitlines() if x.startswith("CHANNEL ")]
        if r.returncode != 0 or not line:
            raise RuntimeError(
                f"kolibri_channel.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
            )
        info = json.loads(line[-1][len("CHANNEL ") :])
        if info["resources"] != self.meta["files_count"] or info["bytes"] != self.meta["bytes"]:
            raise RuntimeError(f"channel does not match the source: {info}")
        stamp.write_text(json.dumps(info))
        return info

    def prepare(self) -> dict:
        self.ensure_venv()
        info = self.build_drive()
        rmtree(self.template)
        self.template.mkdir(parents=True)
        log("kolibri: provisioning the template home (migrations, facility)")
        t0 = time.perf_counter()
        r = subprocess.run(
            netns_wrap(
                [
                    str(self.venv / "bin" / "kolibri"),
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
                ]
            ),
            env=self.env(self.template),
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"provisiondevice failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        return {
            "channel": info,
            "drive": str(self.drive),
            "provision_s": round(time.perf_counter() - t0, 1),
            "version": subprocess.run(
                [str(self.venv / "bin" / "kolibri"), "--version"],
                capture_output=True,
                text=True,
                env=self.env(self.template),
            ).stdout.strip(),
        }

    def software_paths(self) -> list[Path]:
        return [self.venv, self.home]

    def fresh(self, run_dir: Path) -> None:
        self.home = run_dir / "kolibri-home"
        rmtree(self.home)
        shutil.copytree(self.template, self.home, symlinks=True)

    def import_steps(self):
        k = str(self.venv / "bin" / "kolibri")
        return [
            ("importchannel", [k, "manage", "importchannel", "disk", self.cid, str(self.drive)]),
            ("importcontent", [k, "manage", "importcontent", "disk", self.cid, str(self.drive)]),
        ]

    def pre_kill_steps(self) -> int:
        return 1  # importchannel runs whole; importcontent (the bytes) is interrupted

    def dest_bytes(self) -> int:
        return tree_bytes(self.home / "content" / "storage")

    def verify(self, hashes: bool) -> dict:
        db = self.home / "db.sqlite3"
        res: dict = {}
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            q = lambda sql, *a: c.execute(sql, a).fetchone()[0]  # noqa: E731
            res["channel_rows"] = q(
                "select count(*) from content_channelmetadata where id=?", self.cid
            )
            res["resources_available"] = q(
                "select count(*) from content_contentnode where channel_id=? and kind!='topic' "
                "and available=1",
                self.cid,
            )
            res["localfiles_available"] = q(
                "select count(*) from content_localfile where available=1"
            )
        bad, present = 0, 0
        by_md5 = {e["md5"]: e for e in self.meta["files"]}
        for md5, e in by_md5.items():
            ext = Path(e["path"]).suffix.lstrip(".")
            p = self.home / "content" / "storage" / md5[0] / md5[1] / f"{md5}.{ext}"
            if p.is_file() and p.stat().st_size == e["size"]:
                present += 1
                if hashes and file_digest(p, "md5") != md5:
                    bad += 1
            else:
                bad += 1
        leftovers = [
            os.path.join(d, n)
            for d, _, fs in os.walk(self.home / "content" / "storage")
            for n in fs
            if n.endswith(".transfer")
        ]
        n = self.meta["files_count"]
        res.update(
            files_present=present,
            bad_files=bad,
            leftover_partial_files=len(leftovers),
            hashes_checked=hashes,
        )
        res["complete"] = (
            res["channel_rows"] == 1
            and res["resources_available"] == n
            and res["localfiles_available"] == len(by_md5)
            and bad == 0
        )
        return res


class Kalan(System):
    """Kalan's side. HOOK: runs once `kalan content build` and `kalan content import` exist.

    kalan_cmd is the command (a path, or several words: `--kalan ".venv/bin/kalan"`; the
    special value `standin` runs the stand-in in this file, which only tests the harness).
    - The package: --kalan-pkg DIR if given, else `KALAN content build SRC --out PKG`
      (+ --kalan-build-args) into bench/.cache/content/kalan-pkg-<key>, once, timed, with
      KALAN_HOME = bench/.cache/content/kalan-build-home (set up like the template below).
      SRC is the synthetic folder tree (topics = folders); it has no channel metadata file:
      if the builder needs one, pass it with --kalan-build-args.
    - Every run imports into a fresh KALAN_HOME: a copy of a template home prepared once with
      `KALAN setup ...` (--kalan-setup; '' for none). KALAN_DATABASE_URL is removed from the
      environment, so the home's SQLite is used.
    - Imported = `KALAN content import PKG` (+ --kalan-import-args); end state = every file
      of PKG/files/ present in KALAN_HOME/content/files/ with its SHA-256, nothing in
      content/tmp/, the manifest in content/channels/, the channel id in `kalan content list`.
    """

    key = "kalan"
    title = "Kalan"

    def __init__(self, kalan_cmd: list[str], src: Path, meta: dict, cache: Path, spec, args):
        self.cmd, self.src, self.meta, self.cache, self.spec = kalan_cmd, src, meta, cache, spec
        self.pkg = Path(args.kalan_pkg).resolve() if args.kalan_pkg else None
        self.build_args = shlex.split(args.kalan_build_args or "")
        self.import_args = shlex.split(args.kalan_import_args or "")
        self.setup_args = args.kalan_setup
        self.template = cache / "kalan-home-template"
        self.standin = kalan_cmd[-1] == "standin-kalan"

    def env(self, home: Path | None = None) -> dict:
        e = base_env()
        e["KALAN_HOME"] = str(home or self.home)
        e["PYTHONUNBUFFERED"] = "1"
        exe = Path(self.cmd[0])
        if exe.parent.name == "bin":
            e["PATH"] = f"{exe.parent}:{e.get('PATH', '')}"
        return e

    def _run(self, args: list[str], home: Path, what: str) -> subprocess.CompletedProcess:
        r = subprocess.run(
            netns_wrap([*self.cmd, *args]), env=self.env(home), capture_output=True, text=True
        )
        if r.returncode != 0:
            raise RuntimeError(
                f"{what} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
            )
        return r

    def _setup_home(self, home: Path) -> float:
        """A fresh home, prepared with --kalan-setup. Returns the seconds it took."""
        rmtree(home)
        home.mkdir(parents=True)
        if not self.setup_args:
            return 0.0
        pw = self.cache / "kalan-admin-password"
        pw.write_text("bench-admin-password-1\n")
        args = shlex.split(self.setup_args.replace("{password_file}", str(pw)))
        t0 = time.perf_counter()
        self._run(args, home, "kalan setup")
        return round(time.perf_counter() - t0, 1)

    def _build(self) -> dict:
        """`kalan content build SRC --out PKG`, in a home of its own (set up like the others),
        so that nothing the build leaves in its home can reach the homes that import."""
        self.pkg = self.cache / f"kalan-pkg-{self.spec.key}"
        rmtree(self.pkg)
        home = self.cache / "kalan-build-home"
        self._setup_home(home)
        log(f"kalan: building the package into {self.pkg}")
        cmd = [*self.cmd, "content", "build", str(self.src), "--out", str(self.pkg)]
        m = measure([*cmd, *self.build_args], self.env(home), LOGS / "kalan-build.log")
        if m.rc != 0:
            raise RuntimeError(f"kalan content build failed:\n{m.log}")
        return m.brief()

    def prepare(self) -> dict:
        info: dict = {"command": " ".join(self.cmd), "standin": self.standin}
        if self.pkg is None:
            info["build"] = self._build()
        files = [p for p in (self.pkg / "files").rglob("*") if p.is_file()]
        self.pkg_files = {p.name: p.stat().st_size for p in files}
        self.payload_bytes = sum(self.pkg_files.values())
        manifests = sorted((self.pkg / "channels").glob("*.json"))
        if not manifests:
            raise RuntimeError(f"no channels/*.json in {self.pkg}")
        self.channel_ids = [p.stem for p in manifests]
        info.update(
            pkg=str(self.pkg),
            pkg_files=len(files),
            pkg_bytes=self.payload_bytes,
            channels=self.channel_ids,
            setup_s=self._setup_home(self.template),
        )
        return info

    def software_paths(self) -> list[Path]:
        exe = Path(self.cmd[0]).resolve()
        venv = exe.parent.parent if exe.parent.name == "bin" else None
        paths = [self.home]
        if venv and (venv / "pyvenv.cfg").exists():
            paths.append(venv)
        return paths

    def fresh(self, run_dir: Path) -> None:
        self.home = run_dir / "kalan-home"
        rmtree(self.home)
        shutil.copytree(self.template, self.home, symlinks=True)

    def import_steps(self):
        cmd = [*self.cmd, "content", "import", str(self.pkg), *self.import_args]
        return [("kalan content import", cmd)]

    def dest_bytes(self) -> int:
        return tree_bytes(self.home / "content")

    def verify(self, hashes: bool) -> dict:
        store = self.home / "content" / "files"
        bad = present = 0
        for sha, size in self.pkg_files.items():
            p = store / sha[:2] / sha
            if p.is_file() and p.stat().st_size == size:
                present += 1
                if hashes and file_digest(p, "sha256") != sha:
                    bad += 1
            else:
                bad += 1
        tmp = self.home / "content" / "tmp"
        leftovers = sum(1 for p in tmp.rglob("*") if p.is_file()) if tmp.exists() else 0
        manifests = [
            cid
            for cid in self.channel_ids
            if (self.home / "content" / "channels" / f"{cid}.json").exists()
        ]
        res = {
            "files_present": present,
            "bad_files": bad,
            "leftover_partial_files": leftovers,
            "channels_present": len(manifests),
            "hashes_checked": hashes,
        }
        r = subprocess.run(
            netns_wrap([*self.cmd, "content", "list"]),
            env=self.env(),
            capture_output=True,
            text=True,
        )
        res["content_list_rc"] = r.returncode
        res["content_list_shows_channel"] = all(cid in r.stdout for cid in self.channel_ids)
        res["complete"] = (
            bad == 0
            and leftovers == 0
            and len(manifests) == len(self.channel_ids)
            and res["content_list_shows_channel"]
        )
        return res


# =========================================================================== the stand-in
def standin_kalan(argv: list[str]) -> int:
    """A stand-in for `kalan` used only to test this harness (not Kalan, not measured as
    Kalan): `setup ...` (no-op), `content build SRC --out PKG` (spec layout, unsigned),
    `content import PKG` (copy to content/tmp, SHA-256 check, rename; skips files present),
    `content list`."""
    home = Path(os.environ["KALAN_HOME"])
    if argv[:1] == ["setup"]:
        home.mkdir(parents=True, exist_ok=True)
        return 0
    if argv[:2] == ["content", "build"]:
        src, out = Path(argv[2]), Path(argv[argv.index("--out") + 1])
        children = []
        for p in sorted(src.rglob("*")):
            if p.is_file():
                sha = file_digest(p, "sha256")
                dest = out / "files" / sha[:2] / sha
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists():
                    shutil.copyfile(p, dest)
                children.append({"id": sha[:32], "title": p.stem, "files": [{"sha256": sha}]})
        cid = hashlib.md5(str(src).encode()).hexdigest()
        (out / "channels").mkdir(parents=True, exist_ok=True)
        manifest = {"format": "kalan-channel/1", "id": cid, "root": {"children": children}}
        (out / "channels" / f"{cid}.json").write_text(json.dumps(manifest))
        return 0
    if argv[:2] == ["content", "import"]:
        pkg = Path(argv[2])
        files, tmp = home / "content" / "files", home / "content" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        for p in sorted((pkg / "files").rglob("*")):
            if not p.is_file():
                continue
            dest = files / p.name[:2] / p.name
            if dest.exists() and dest.stat().st_size == p.stat().st_size:
                continue
            part, h = tmp / p.name, hashlib.sha256()
            with open(p, "rb") as fi, open(part, "wb") as fo:
                while block := fi.read(MIB):
                    h.update(block)
                    fo.write(block)
            if h.hexdigest() != p.name:
                part.unlink()
                print(f"{p.name}: checksum mismatch", file=sys.stderr)
                return 1
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, dest)
        (home / "content" / "channels").mkdir(parents=True, exist_ok=True)
        for m in (pkg / "channels").glob("*.json"):
            shutil.copyfile(m, home / "content" / "channels" / m.name)
        return 0
    if argv[:2] == ["content", "list"]:
        for m in sorted((home / "content" / "channels").glob("*.json")):
            print(m.stem)
        return 0
    print(f"stand-in: unsupported {argv}", file=sys.stderr)
    return 2


# =========================================================================== scenarios
def one_import(sysm: System, run_dir: Path, cache_state: str, tag: str, hashes: bool) -> dict:
    sysm.fresh(run_dir)
    os.sync()
    dropped = None
    if cache_state == "cold":
        dropped = drop_caches()
        warm(sysm.software_paths())
    steps = []
    for name, cmd in sysm.import_steps():
        m = measure(cmd, sysm.env(), LOGS / f"{sysm.key}-{tag}-{name.split()[-1]}.log")
        steps.append({"step": name} | m.brief())
        if m.rc != 0:
            log(f"  {sysm.key} {name} FAILED rc={m.rc}\n{m.log[-1500:]}")
            break
    sync_s = timed_sync()
    res = {
        "cache": cache_state,
        "drop_caches_ok": dropped,
        "steps": steps,
        "ok": all(s["rc"] == 0 for s in steps),
        "wall_s": round(sum(s["wall_s"] for s in steps), 3),
        "sync_s": sync_s,
        "peak_tree_rss_mib": max(s["peak_tree_rss_mib"] for s in steps),
        "peak_tree_pss_mib": max(s["peak_tree_pss_mib"] for s in steps),
        "maxrss_mib": max(s["maxrss_mib"] for s in steps),
        "other_cpu_pct": max((s["other_cpu_pct"] or 0) for s in steps),
    }
    res["wall_plus_sync_s"] = round(res["wall_s"] + sync_s, 3)
    res["mb_per_s"] = round(sysm.payload_bytes / 1e6 / res["wall_s"], 1)
    res["verify"] = sysm.verify(hashes)
    log(
        f"  {sysm.key:8s} {cache_state:4s} {res['wall_s']:7.2f} s (+ sync {sync_s:.2f} s) "
        f"{res['mb_per_s']:7.1f} MB/s  peak tree RSS {res['peak_tree_rss_mib']} MiB  "
        f"complete={res['verify'].get('complete')}  other CPU {res['other_cpu_pct']} %"
    )
    return res


def interrupted_import(sysm: System, run_dir: Path, tag: str, kill_at: float) -> dict:
    """Import, kill -9 at kill_at of the content bytes, rerun; then rerun the finished import."""
    sysm.fresh(run_dir)
    os.sync()
    steps = sysm.import_steps()
    first = sysm.pre_kill_steps()
    pre = []
    for name, cmd in steps[:first]:
        m = measure(cmd, sysm.env(), LOGS / f"{sysm.key}-{tag}-pre.log")
        pre.append({"step": name} | m.brief())
        if m.rc != 0:
            return {"ok": False, "error": f"{name} failed", "pre": pre}
    target = kill_at * sysm.payload_bytes

    def when():
        b = sysm.dest_bytes()
        return (
            {"dest_bytes": b, "fraction": round(b / sysm.payload_bytes, 3)} if b >= target else None
        )

    name, cmd = steps[first]
    killed = measure(cmd, sysm.env(), LOGS / f"{sysm.key}-{tag}-killed.log", kill_when=when)
    state_after_kill = sysm.verify(False)
    rerun = measure(cmd, sysm.env(), LOGS / f"{sysm.key}-{tag}-rerun.log")
    verify_rerun = sysm.verify(True)
    again = measure(cmd, sysm.env(), LOGS / f"{sysm.key}-{tag}-again.log")
    verify_again = sysm.verify(False)
    res = {
        "pre": pre,
        "interrupted_step": name,
        "killed": killed.brief(),
        "state_after_kill": state_after_kill,
        "rerun": rerun.brief(),
        "verify_after_rerun": verify_rerun,
        "rerun_finished": again.brief(),
        "verify_after_rerun_finished": verify_again,
        "other_cpu_pct": max((x.other_cpu_pct or 0) for x in (rerun, again)),
    }
    log(
        f"  {sysm.key:8s} killed at {killed.killed_at} -> rerun {rerun.wall_s:.2f} s rc={rerun.rc} "
        f"complete={verify_rerun.get('complete')}; rerun of a finished import {again.wall_s:.2f} s"
    )
    return res


def gated(args, run: Callable[[], dict]) -> dict:
    """One measured run, started when the machine is quiet (--wait-quiet) and done again
    (at most --retries times) while other processes used more than --max-other-cpu % of a
    core during it. Discarded attempts are kept in the result."""
    discarded = []
    for attempt in range(args.retries + 1):
        wq = wait_quiet(args.wait_quiet)
        r = run()
        r["wait_quiet"] = wq
        noise = r.get("other_cpu_pct")
        if noise is None or noise <= args.max_other_cpu or attempt == args.retries:
            break
        log(f"  noisy: other processes used {noise} % of a core; once more")
        discarded.append({k: v for k, v in r.items() if k not in ("steps", "verify")})
    r["discarded_noisy"] = discarded
    r["noisy"] = noise is not None and noise > args.max_other_cpu
    return r


def med(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


def summarize(results: dict) -> dict:
    out: dict = {}
    for key, per_cache in results["imports"].items():
        for cache_state, runs in per_cache.items():
            good = [r for r in runs if r["ok"]]
            if not good:
                continue
            row = {
                "n": len(good),
                "wall_s": med([r["wall_s"] for r in good]),
                "wall_min": min(r["wall_s"] for r in good),
                "wall_max": max(r["wall_s"] for r in good),
                "wall_plus_sync_s": med([r["wall_plus_sync_s"] for r in good]),
                "sync_s": med([r["sync_s"] for r in good]),
                "mb_per_s": med([r["mb_per_s"] for r in good]),
                "peak_tree_rss_mib": max(r["peak_tree_rss_mib"] for r in good),
                "peak_tree_pss_mib": max(r["peak_tree_pss_mib"] for r in good),
                "maxrss_mib": max(r["maxrss_mib"] for r in good),
                "other_cpu_pct": med([r["other_cpu_pct"] for r in good]),
                "all_complete": all(r["verify"].get("complete") for r in good),
                "redone_noisy": sum(len(r.get("discarded_noisy", [])) for r in good),
                "kept_noisy": sum(1 for r in good if r.get("noisy")),
                "kernel_cpu_pct": med(
                    [max((s.get("kernel_cpu_pct") or 0) for s in r["steps"]) for r in good]
                ),
            }
            steps: dict[str, list[float]] = {}
            for r in good:
                for s in r["steps"]:
                    steps.setdefault(s["step"], []).append(s["wall_s"])
            row["steps"] = {k: med(v) for k, v in steps.items()}
            cpu: dict[str, list[float]] = {}
            for r in good:
                for st in r["steps"]:
                    cpu.setdefault(st["step"], []).append(st["user_s"] + st["sys_s"])
            row["steps_cpu_s"] = {k: med(v) for k, v in cpu.items()}
            out.setdefault(key, {})[cache_state] = row
    cp = out.get("cp", {})
    for key, per_cache in out.items():
        for cache_state, row in per_cache.items():
            base = cp.get(cache_state)
            if base and key != "cp":
                row["ratio_to_cp"] = round(row["mb_per_s"] / base["mb_per_s"], 3)
                row["ratio_to_cp_with_sync"] = round(
                    (results["payload"][key] / row["wall_plus_sync_s"])
                    / (results["payload"]["cp"] / base["wall_plus_sync_s"]),
                    3,
                )
    for key, runs in results.get("interrupted", {}).items():
        good = [r for r in runs if "rerun" in r]
        if good:
            out.setdefault(key, {})["interrupted"] = {
                "n": len(good),
                "killed_at_fraction": med(
                    [(r["killed"]["killed_at"] or {}).get("fraction") for r in good]
                ),
                "killed_after_s": med(
                    [(r["killed"]["killed_at"] or {}).get("after_s") for r in good]
                ),
                "rerun_s": med([r["rerun"]["wall_s"] for r in good]),
                "rerun_min": min(r["rerun"]["wall_s"] for r in good),
                "rerun_max": max(r["rerun"]["wall_s"] for r in good),
                "rerun_peak_tree_rss_mib": max(r["rerun"]["peak_tree_rss_mib"] for r in good),
                "rerun_maxrss_mib": max(r["rerun"]["maxrss_mib"] for r in good),
                "rerun_finished_s": med([r["rerun_finished"]["wall_s"] for r in good]),
                "complete_after_rerun": all(r["verify_after_rerun"].get("complete") for r in good),
                "leftover_partial_after_kill": med(
                    [r["state_after_kill"].get("leftover_partial_files") for r in good]
                ),
                "rerun_rc": [r["rerun"]["rc"] for r in good],
                "not_interrupted": sum(1 for r in good if not r["killed"]["killed_at"]),
                "redone_noisy": sum(len(r.get("discarded_noisy", [])) for r in good),
                "kept_noisy": sum(1 for r in good if r.get("noisy")),
                "other_cpu_pct": med([r.get("other_cpu_pct") for r in good]),
            }
    return out


# =========================================================================== report
def fmt(x, nd=2):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def report(res: dict) -> str:
    s, src = res["summary"], res["source"]
    lines = [
        f"# Content import from local disk: cp -r, Kolibri {KOLIBRI_VERSION}, Kalan "
        f"({res['date']})",
        "",
        f"Run {res['started']} to {res['finished']} UTC on {res['machine']['cpus']} cores, "
        f"{res['machine']['mem_gib']} GiB RAM, {res['machine']['fs']} "
        f"({res['machine']['kernel']}). "
        f"Load average at start: {res['machine']['loadavg_start']}; at the end: "
        f"{res['machine']['loadavg_end']}. Medians of {res['args']['runs']} runs per row. "
        f"Network: {NETNS_NOTE if res['netns'] else 'not isolated (--no-netns)'}.",
        "",
        "Command:",
        "",
        "```sh",
        res["command"],
        "```",
        "",
        "## The channel",
        "",
        f"Synthetic and deterministic (seed {src['spec']['seed']}): "
        f"**{src['files_count']:,} files, "
        f"{src['bytes']:,} B ({src['bytes'] / MIB:,.0f} MiB)** in {src['topics']} topic folders "
        f"(10 subjects x {src['spec']['units']} units). All payload bytes are random, so nothing "
        "compresses.",
        "",
        "| kind | files | bytes | largest |",
        "|---|---|---|---|",
    ]
    for k, v in sorted(src["by_kind"].items()):
        lines.append(f"| {k} | {v['files']:,} | {v['bytes']:,} | {v['max']:,} |")
    lines += [
        "",
        "- video: `.mp4` ISO-BMFF (ftyp, moov/mvhd with a duration, mdat of random bytes); not "
        "playable, no tracks.",
        "- pdf: valid PDF 1.4 with one random-pixel RGB image per page (like a scan) and a "
        "line of text.",
        "- html5: zip with `index.html`, `style.css`, `app.js` (deflated) and stored random "
        "`media/*.bin`.",
        "",
    ]
    if "kolibri" in res.get("prepared", {}):
        ch = res["prepared"]["kolibri"]["channel"]
        lines += [
            f"Kolibri channel `{ch['channel_id']}` built offline by `bench/kolibri_channel.py` "
            "with "
            f"Kolibri's own export schema (content schema 5): {ch['nodes']:,} nodes, "
            f"{ch['resources']:,} resources, {ch['files']:,} storage files, channel database "
            f"{ch['db_bytes']:,} B. See `content-kolibri-notes.md`.",
            "",
        ]
    lines += [
        "## Results",
        "",
        'Import = wall time of the command(s), from a fresh home, without `sync`. "+ sync" adds '
        "the `sync` that follows, i.e. until the imported bytes are on the disk (none of the "
        "three calls fsync itself; `cp` never does). Ratio = MB/s divided by `cp -r`'s MB/s "
        "in the same cache state. maxrss = the largest RSS high-water mark (VmHWM) of any "
        "process of the command, what `/usr/bin/time -v` calls the maximum resident set size. "
        "Peak tree RSS / PSS = the highest sum over the command's process tree, RSS sampled "
        "every 50 ms, PSS every 200 ms and at every new RSS peak (PSS counts the pages a "
        "fork shares with its parent once; "
        "Kolibri forks `/bin/sh -c /sbin/ifconfig -a` during `importchannel` (morango asks "
        "`uuid.getnode()` for its instance id), which doubles the "
        "RSS sum for an instant). For Kolibri the two commands' times are summed and the "
        "memory is that of the larger.",
        "",
        "| system | cache | import s (min-max) | + sync s | MB/s | ratio to cp -r "
        "| ratio with sync | maxrss MiB | peak tree RSS / PSS MiB | end state complete "
        "| other CPU % |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = ["cp", "kolibri", "kalan"]
    titles = {"cp": "cp -r", "kolibri": f"Kolibri {KOLIBRI_VERSION}", "kalan": "Kalan"}
    for key in order:
        for cache_state in ("warm", "cold"):
            row = s.get(key, {}).get(cache_state)
            if key == "kalan" and row is None and cache_state in res["args"]["cache"]:
                lines.append(f"| Kalan | {cache_state} | pending | | | | | | | | |")
                continue
            if row is None:
                continue
            lines.append(
                f"| {titles[key]} | {cache_state} | **{fmt(row['wall_s'])}** "
                f"({fmt(row['wall_min'])}-{fmt(row['wall_max'])}) | "
                f"{fmt(row['wall_plus_sync_s'])} | {fmt(row['mb_per_s'], 1)} | "
                f"{fmt(row.get('ratio_to_cp'), 3) if key != 'cp' else '1'} | "
                f"{fmt(row.get('ratio_to_cp_with_sync'), 3) if key != 'cp' else '1'} | "
                f"{fmt(row['maxrss_mib'], 1)} | {fmt(row['peak_tree_rss_mib'], 1)} / "
                f"{fmt(row['peak_tree_pss_mib'], 1)} | "
                f"{'yes' if row['all_complete'] else '**no**'} | {fmt(row['other_cpu_pct'], 1)} |"
            )
    kol = s.get("kolibri", {})
    if kol:
        lines += ["", "Kolibri per command (medians):", ""]
        for cache_state in ("warm", "cold"):
            if cache_state in kol:
                row = kol[cache_state]
                lines.append(
                    f"- {cache_state}: "
                    + ", ".join(
                        f"`{k}` {fmt(v)} s (CPU user+sys {fmt(row['steps_cpu_s'].get(k))} s)"
                        for k, v in row["steps"].items()
                    )
                )
    noise = []
    for key, title in titles.items():
        rows = [v for c, v in s.get(key, {}).items() if c in ("warm", "cold", "interrupted")]
        if rows:
            redone = sum(v.get("redone_noisy", 0) for v in rows)
            kept = sum(v.get("kept_noisy", 0) for v in rows)
            noise.append(f"{title} {redone} / {kept}")
    lines += [
        "",
        f"Noise: a run during which other processes used more than "
        f"{res['args']['max_other_cpu']} % of a core was done again (at most "
        f"{res['args']['retries']} times). Runs redone / kept although still noisy: "
        + "; ".join(noise)
        + ". Kernel threads (mostly the write-back of the imported bytes) are not counted as "
        "other processes; their CPU is in the .json (`kernel_cpu_pct`).",
    ]
    lines += [
        "",
        "### Interrupted import",
        "",
        f"Start the import, `kill -9` its process group once {res['args']['kill_at']:.0%} of the "
        "content bytes are in the destination (including partial files), run it again, check the "
        "end state (files, checksums, database rows). Then run it once more on the finished "
        "import. Warm page cache.",
        "",
        "| system | runs | killed at (fraction of bytes, s) | rerun s (min-max) "
        "| rerun maxrss / peak tree RSS MiB | complete after rerun "
        "| partial files left by the kill "
        "| rerun of a finished import s | other CPU % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ("kolibri", "kalan"):
        row = s.get(key, {}).get("interrupted")
        if row is None:
            if key == "kalan":
                lines.append("| Kalan | pending | | | | | | | |")
            continue
        lines.append(
            f"| {titles[key]} | {row['n']}"
            + (
                f" ({row['not_interrupted']} finished before the kill)"
                if row["not_interrupted"]
                else ""
            )
            + f" | {fmt(row['killed_at_fraction'], 3)}, "
            f"{fmt(row['killed_after_s'])} | **{fmt(row['rerun_s'])}** ({fmt(row['rerun_min'])}-"
            f"{fmt(row['rerun_max'])}) | {fmt(row['rerun_maxrss_mib'], 1)} / "
            f"{fmt(row['rerun_peak_tree_rss_mib'], 1)} | "
            f"{'yes' if row['complete_after_rerun'] else '**no**'} | "
            f"{fmt(row['leftover_partial_after_kill'])} | {fmt(row['rerun_finished_s'])} | "
            f"{fmt(row['other_cpu_pct'], 1)} |"
        )
    after = [
        (k, r["state_after_kill"])
        for k, runs in res.get("interrupted", {}).items()
        for r in runs
        if "state_after_kill" in r
    ]
    if after:
        lines += ["", "State right after the kill (before the rerun):", ""]
        for k, st in after:
            shown = {
                x: st[x]
                for x in ("files_present", "leftover_partial_files", "resources_available")
                if x in st
            }
            lines.append(f"- {titles[k]}: " + ", ".join(f"{x} {v:,}" for x, v in shown.items()))
    kalan_note = res.get("prepared", {}).get("kalan")
    lines += ["", "## Kalan", ""]
    if kalan_note is None:
        lines += [
            "Pending: `kalan content build` and `kalan content import` do not exist yet. Run "
            "`python3.11 bench/content_import.py --kalan <path to kalan> --wait-quiet 10` once "
            "they do (see `--help` and the `Kalan` class in the script). Targets: ratio to "
            "`cp -r` >= 0.70, peak RSS <= 150 MB.",
        ]
    else:
        lines += [
            "```json\n"
            + json.dumps({k: v for k, v in kalan_note.items() if k != "build"}, indent=1)
            + "\n```"
        ]
        if kalan_note.get("standin"):
            lines += ["", "**This is the harness stand-in, not Kalan.**"]
    lines += [
        "",
        "## Method notes",
        "",
        "- Every run starts from a fresh destination: `cp -r` into a new folder; Kolibri into a "
        "copy of a home provisioned once (`provisiondevice`, migrations done); Kalan into a "
        "copy of "
        "a home prepared once (`kalan setup`). Source and destination are on the same file system.",
        "- Cold: `sync; echo 3 > /proc/sys/vm/drop_caches`, then the program's own files "
        "(the venv, "
        "the fresh home) are read back, so that only the content is cold. Warm: the source was "
        "read by the previous run.",
        "- Kolibri runs with ping, zeroconf and Studio URLs switched off or pointed at a dead "
        "loopback port (as in foundation.py).",
        "- The Kolibri drive's storage files are hard links to the source files, so Kolibri reads "
        "the same inodes as `cp -r`.",
        "- `sync` is system-wide: its time includes anything else dirty on the machine.",
        '- The disk is a virtual disk (`/dev/vda`): a "cold" read may still be served by the '
        "host's cache, which is why cold `cp -r` is barely slower than warm.",
        f"- Disk used by the cache (`du -s {res['args']['cache_dir']}`): "
        f"{fmt(res.get('cache_disk', {}).get('du_mib'), 1)} MiB (source tree, Kolibri drive of "
        "hard links + its database, template homes; run folders are removed).",
        "",
    ]
    return "\n".join(lines)


# =========================================================================== main
def parse_size(s: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s!r}")
    mult = {
        None: 1,
        "B": 1,
        "KB": 1e3,
        "MB": 1e6,
        "GB": 1e9,
        "KiB": 1024,
        "MiB": MIB,
        "GiB": 1 << 30,
    }
    return int(float(m.group(1)) * mult[m.group(2)])


def main() -> None:
    if sys.argv[1:2] == ["standin-kalan"]:
        sys.exit(standin_kalan(sys.argv[2:]))
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--size", type=parse_size, default=1 << 30, help="total bytes (default 1GiB)")
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--video-mib", default="50-100", help="size range of the videos, MiB")
    ap.add_argument("--units", type=int, default=8, help="topic folders per subject (10 subjects)")
    ap.add_argument("--cache-dir", type=Path, default=CACHE_ROOT / "content")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--only", default="cp,kolibri,kalan", help="systems: cp,kolibri,kalan")
    ap.add_argument("--cache", default="warm,cold", help="page-cache states: warm,cold")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--kill-runs", type=int, default=3, help="interrupted imports per system (0: none)"
    )
    ap.add_argument("--kill-at", type=float, default=0.5)
    ap.add_argument("--no-hash-check", action="store_true", help="check sizes only after each run")
    ap.add_argument(
        "--kalan",
        help="the kalan command (path or words); 'standin' = this file's stand-in (harness test)",
    )
    ap.add_argument("--kalan-pkg", help="an already built package dir (skips `content build`)")
    ap.add_argument("--kalan-build-args", default="", help="extra words for `kalan content build`")
    ap.add_argument(
        "--kalan-import-args", default="", help="extra words for `kalan content import PKG`"
    )
    ap.add_argument(
        "--kalan-setup",
        default=KALAN_SETUP,
        help="prepares the template KALAN_HOME ('' for nothing)",
    )
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        help="before each measured run, wait up to MIN minutes until other processes have "
        "used < 20 %% of a core for 10 s",
    )
    ap.add_argument(
        "--max-other-cpu",
        type=float,
        default=25,
        help="redo a run during which other processes used more than this %% of a core",
    )
    ap.add_argument("--retries", type=int, default=3, help="redos of a noisy run (default 3)")
    ap.add_argument(
        "--no-netns", action="store_true", help="do not isolate commands with unshare -n"
    )
    ap.add_argument("--out", type=Path, help="result file (.md; .json next to it)")
    args = ap.parse_args()

    global USE_NETNS
    USE_NETNS = not args.no_netns and netns_available()
    if not args.no_netns and not USE_NETNS:
        log("warning: unshare -n is not available; commands are not network-isolated")
    lo, hi = (int(x) for x in args.video_mib.split("-"))
    spec = SourceSpec(args.seed, args.files, args.size, args.videos, (lo, hi), args.units)
    cache = args.cache_dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    lock = open(cache / ".lock", "w")  # noqa: SIM115  (held until the process ends)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(f"another content_import.py is using {cache}; wait, or pass another --cache-dir")
    if cache.is_relative_to(CACHE_ROOT) and not (CACHE_ROOT / ".gitignore").exists():
        (CACHE_ROOT / ".gitignore").write_text("# generated by bench/content_import.py\n*\n")
    src, meta = generate_source(spec, cache)
    if args.generate_only:
        return

    NOISE.start()
    started = dt.datetime.now(dt.UTC)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    caches = [x.strip() for x in args.cache.split(",") if x.strip()]
    systems: list[System] = []
    if "cp" in only:
        systems.append(CpR(src, meta))
    if "kolibri" in only:
        systems.append(Kolibri(src, meta, cache, spec))
    kalan_cmd = None
    if "kalan" in only and args.kalan:
        kalan_cmd = (
            [sys.executable, str(Path(__file__).resolve()), "standin-kalan"]
            if args.kalan == "standin"
            else shlex.split(args.kalan)
        )
        systems.append(Kalan(kalan_cmd, src, meta, cache, spec, args))
    res: dict = {
        "date": started.strftime("%Y-%m-%d"),
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "command": "python3.11 bench/content_import.py "
        + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "args": vars(args)
        | {"cache": caches, "size": args.size, "cache_dir": str(cache), "out": str(args.out)},
        "netns": USE_NETNS,
        "machine": {
            "cpus": os.cpu_count(),
            "mem_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1
            ),
            "kernel": platform.release(),
            "fs": subprocess.run(["df", "-T", str(cache)], capture_output=True, text=True)
            .stdout.splitlines()[-1]
            .split()[1],
            "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        },
        "source": {k: v for k, v in meta.items() if k != "files"} | {"path": str(src)},
        "prepared": {},
        "imports": {},
        "interrupted": {},
        "payload": {},
    }
    global LOGS
    LOGS = cache / "run" / "logs"  # kept until the next run
    shutil.rmtree(cache / "run", ignore_errors=True)
    run_dir = cache / "run" / "dest"
    run_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below
    completed = False
    try:
        for s in systems:
            log(f"== prepare {s.key}")
            res["prepared"][s.key] = s.prepare()
            res["payload"][s.key] = s.payload_bytes
        hashes = not args.no_hash_check
        for cache_state in caches:
            log(f"== imports, {cache_state} page cache")
            for s in systems:  # one unmeasured warm-up round (reads the source into the cache)
                if cache_state == "warm" and not res["imports"].get(s.key):
                    one_import(s, run_dir, "warm", f"warmup-{s.key}", False)
            for i in range(args.runs):
                for s in systems:
                    tag, check = f"{cache_state}{i + 1}", hashes and i == 0
                    r = gated(
                        args,
                        lambda s=s, cs=cache_state, t=tag, c=check: one_import(
                            s, run_dir, cs, t, c
                        ),
                    )
                    res["imports"].setdefault(s.key, {}).setdefault(cache_state, []).append(r)
        if args.kill_runs:
            log("== interrupted imports")
            for i in range(args.kill_runs):
                for s in systems:
                    if s.key != "cp":
                        t = f"kill{i + 1}"
                        r = gated(
                            args, lambda s=s, t=t: interrupted_import(s, run_dir, t, args.kill_at)
                        )
                        res["interrupted"].setdefault(s.key, []).append(r)
        completed = True
    finally:
        NOISE.stop_evt.set()
        shutil.rmtree(run_dir, ignore_errors=True)
        res["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        res["machine"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        res["cache_disk"] = {
            "du_mib": round(
                int(
                    subprocess.run(
                        ["du", "-sk", str(cache)], capture_output=True, text=True
                    ).stdout.split()[0]
                )
                / 1024,
                1,
            )
        }
        res["summary"] = summarize(res)
        out = args.out or RESULTS / f"content-import-{res['date']}.md"
        if not completed:  # never overwrite a finished result with a broken-off one
            out = out.with_name(out.stem + "-incomplete.md")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
        out.write_text(report(res))
        log(f"wrote {out} and {out.with_suffix('.json').name}")


if __name__ == "__main__":
    main()
