#!/usr/bin/env python3.11
"""xAPI Learning Record Store: statement ingest over HTTP, and filtered reads at scale.

1. Ingest: a fresh instance per backend and round (SQLite in a new KALAN_HOME; PostgreSQL in a
   new database through KALAN_DATABASE_URL), 2,000 learner accounts and one pair of xAPI
   credentials, served by `kalan start` (its default workers and threads). wrk POSTs
   /xapi/statements for --duration seconds per scenario: one statement per request at c=1 and
   c=10, arrays of 50 at c=1 and c=4. The bodies are generated beforehand (bench/xapi_data.py:
   learner sessions on Zipf-popular resources, unique statement ids) and never sent twice.
   Statements/s, p50/p95 per request, peak memory of the server's process tree (and of the
   PostgreSQL backends), and a check that the database holds what was acknowledged.
2. Reads: --statements statements stored into a fresh instance through
   kalan.lrs.statements.store_statements (batches of 500, as many transactions; validated as
   the HTTP path validates them), timed. Then `kalan start` serves it and wrk (c=10) rotates
   200 URLs per query: a learner's statements about one resource, a learner's newest 25, a
   two-hour window (limit 100 and the default page of 500), one verb (limit 50). Afterwards
   each query is timed in-process and its query plan recorded. PostgreSQL too, when its fill
   (rate measured on the first 50,000) would end within --pg-fill-budget minutes.
Rounds: --rounds (default 3); the report gives medians and the per-round values.

Usage:
  python3.11 bench/xapi_ingest.py                       # quick: reads at 100,000 statements
  python3.11 bench/xapi_ingest.py --statements 1000000 --wait-quiet 3   # the reported run
  Options: --only ingest|reads, --backends sqlite,postgresql, --duration 15, --rounds 3,
  --pg-fill-budget 30 (minutes; 0 = no PostgreSQL reads), --keep (keep homes and databases),
  --noise-limit 25 / --attempts 3 (a run during which other processes took more than 25 % of a
  core is done again, ingest with bodies not sent before; the quietest of 3 tries kept).
  The quick run takes about 15 min on a quiet 2-core machine; the reported run about 75 min.
Kalan is measured as committed: `git archive HEAD` installed with pip into bench/.venv-xapi
(reused while HEAD is the same; --kalan worktree takes a copy of the work tree instead), so edits
made while it runs change nothing. Needs wrk (Debian package), rsync, and PostgreSQL on
127.0.0.1:5432 (user postgres, trust) with psql. Writes bench/results/xapi-ingest-<date>.md and
.json. Only 127.0.0.1 is contacted (pip aside); every server is stopped by its PID.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foundation as fb  # noqa: E402  (Server, tree_memory, log, port helpers)
import xapi_data as xd  # noqa: E402

from xapi_data import DB_PREFIX, PG, PYTHON, REPO, WORK, Instance, install_kalan, read_queries  # noqa: E402

RESULTS = fb.BENCH / "results"
BATCH = 50
# (name, statements per request, connections, wrk threads, ceiling req/s for the bodies made:
# enough for --attempts runs at that rate; a run that finds no body left fails)
INGEST = [
    ("single c=1", 1, 1, 1, 800),
    ("single c=10", 1, 10, 2, 1200),
    ("batch of 50, c=1", BATCH, 1, 1, 80),
    ("batch of 50, c=4", BATCH, 4, 2, 120),
]
log = fb.log

LUA = r"""
-- Written by bench/xapi_ingest.py. BENCH_BODIES=<prefix>: POST /xapi/statements, thread t
-- sending the lines of <prefix>.<t> in order (each a request body) from byte t of
-- BENCH_OFFSETS (where the run before stopped), so that no body is sent twice; done() prints
-- where each thread stopped. A thread that runs out stops and counts as "exhausted".
-- Otherwise GET the paths of BENCH_ROWS round-robin. BENCH_AUTH: Authorization header.
-- Non-200 responses are counted.
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local bodies, rows, i, get_headers, post_headers
non200 = 0
last_bad = 0
exhausted = 0
pos = 0
function init(args)
  get_headers = {["Host"] = os.getenv("BENCH_HOST"), ["Authorization"] = os.getenv("BENCH_AUTH"),
    ["X-Experience-API-Version"] = "2.0.0", ["User-Agent"] = "wrk-bench"}
  post_headers = {["Content-Type"] = "application/json"}
  for k, v in pairs(get_headers) do post_headers[k] = v end
  local prefix = os.getenv("BENCH_BODIES")
  if prefix and prefix ~= "" then
    bodies = assert(io.open(prefix .. "." .. tid, "r"))
    local k = 0
    for offset in string.gmatch(os.getenv("BENCH_OFFSETS") or "", "%d+") do
      if k == tid then pos = tonumber(offset) end
      k = k + 1
    end
    bodies:seek("set", pos)
  else
    rows = {}
    for line in io.lines(os.getenv("BENCH_ROWS")) do rows[#rows + 1] = line end
    i = tid * 7
  end
end
function request()
  if bodies then
    local body = bodies:read("*l")
    pos = bodies:seek()
    if body == nil then
      exhausted = 1
      wrk.thread:stop()
      return wrk.format("GET", "/xapi/about", get_headers)
    end
    return wrk.format("POST", "/xapi/statements", post_headers, body)
  end
  i = i + 1
  return wrk.format("GET", rows[(i % #rows) + 1], get_headers)
end
function response(status, hdrs, body)
  if status ~= 200 then
    non200 = non200 + 1
    last_bad = status
  end
end
function done(summary, latency, requests)
  local bad, bad_status, out, offsets = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    offsets[#offsets + 1] = tostring(t:get("pos") or 0)
    bad = bad + (tonumber(t:get("non200")) or 0)
    out = out + (tonumber(t:get("exhausted")) or 0)
    local s = tonumber(t:get("last_bad")) or 0
    if s ~= 0 then bad_status = s end
  end
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.2f,"p95_ms":%.2f,' ..
    '"p99_ms":%.2f,"max_ms":%.2f,"errors":%d,"timeouts":%d,"non200":%d,"last_non200":%d,' ..
    '"exhausted":%d,"offsets":[%s]}\n', summary.requests, s, summary.requests / s,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect + e.read + e.write, e.timeout, bad, bad_status, out,
    table.concat(offsets, ",")))
end
"""


# --------------------------------------------------------------------------- measuring aids
class Machine(threading.Thread):
    """Every 0.5 s: memory of the server's process tree (and of this run's PostgreSQL
    backends), and every 2 s the CPU used by processes that are not this run's: neither
    descendants of this script nor PostgreSQL processes serving its databases (its backends and
    the shared checkpointer, WAL and background writers, autovacuum). 100 % = one core."""

    AUX = ("checkpointer", "walwriter", "background writer", "autovacuum", "logical replication")

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.hz = os.sysconf("SC_CLK_TCK")
        self.cpu: list[tuple[float, float]] = []
        self.server_pid: int | None = None
        self.peak: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop_evt = threading.Event()

    def _procs(self) -> dict[int, tuple[int, int, bool]]:
        """pid -> (ppid, CPU ticks, serves this run's databases)."""
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                rest = s.rsplit(")", 1)[1].split()
                ours = False
                if s[s.index("(") + 1 : s.rindex(")")] == "postgres":
                    with open(f"/proc/{d}/cmdline", "rb") as f:
                        cmd = f.read().decode(errors="replace")
                    ours = DB_PREFIX in cmd or any(a in cmd for a in self.AUX)
                out[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]), ours)
            except (OSError, ValueError, IndexError):
                pass
        return out

    def pg_backends(self) -> list[int]:
        return [p for p, (_, _, ours) in self._procs().items() if ours and self._is_backend(p)]

    @staticmethod
    def _is_backend(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return DB_PREFIX in f.read().decode(errors="replace")
        except OSError:
            return False

    def watch(self, pid: int | None) -> None:
        with self.lock:
            self.server_pid, self.peak = pid, {}

    def take_peak(self) -> dict[str, float]:
        with self.lock:
            peak, self.peak = self.peak, {}
        return peak

    def _sample_memory(self) -> None:
        pid = self.server_pid
        if pid is None:
            return
        mem = fb.tree_memory(pid)
        pg = [fb._status_field(p, "Pss", "smaps_rollup") for p in self.pg_backends()]
        with self.lock:
            for key, value in (
                ("server_rss_mib", mem["rss_mib"]),
                ("server_pss_mib", mem["pss_mib"]),
                ("pg_backends_pss_mib", round(sum(pg) / 1024, 1)),
            ):
                self.peak[key] = max(self.peak.get(key, 0.0), value)

    def run(self) -> None:
        me = os.getpid()
        prev, t_prev, tick = self._procs(), time.monotonic(), 0
        while not self.stop_evt.wait(0.5):
            self._sample_memory()
            tick += 1
            if tick % 4:
                continue
            cur, t = self._procs(), time.monotonic()
            mine, changed = {me}, True
            while changed:
                changed = False
                for p, (pp, _, _) in cur.items():
                    if pp in mine and p not in mine:
                        mine.add(p)
                        changed = True
            other = sum(
                ticks - prev[p][1]
                for p, (_, ticks, ours) in cur.items()
                if p in prev and p not in mine and not ours
            )
            self.cpu.append((time.time(), round(100.0 * other / self.hz / (t - t_prev), 1)))
            prev, t_prev = cur, t

    def other_cpu(self, t0: float, t1: float | None = None) -> float | None:
        xs = [v for t, v in self.cpu if t >= t0 and (t1 is None or t <= t1)]
        return round(statistics.mean(xs), 1) if xs else None

    def wait_quiet(self, minutes: float, threshold: float = 20.0) -> float:
        t0 = time.time()
        while minutes > 0 and time.time() - t0 < minutes * 60:
            recent = [v for t, v in self.cpu if t >= time.time() - 30]
            if len(recent) >= 12 and max(recent) < threshold:
                break
            time.sleep(2)
        return round(time.time() - t0)


MACHINE = Machine()


def wrk(base: str, conc: int, threads: int, duration: int, auth: str, *, bodies: Path | None = None, rows: Path | None = None, offsets: list[int] | None = None) -> dict[str, Any]:
    fb._check_loopback(base)
    lua = WORK / "xapi.lua"
    lua.write_text(LUA)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(BENCH_HOST=urllib.parse.urlparse(base).netloc, BENCH_AUTH=auth, BENCH_BODIES=str(bodies or ""), BENCH_ROWS=str(rows or ""), BENCH_OFFSETS=",".join(map(str, offsets or [])))
    cmd = ["timeout", "-k", "5", str(duration + 60), "wrk", f"-t{threads}", f"-c{conc}", f"-d{duration}s", "--timeout", "30s", "-s", str(lua), base + "/xapi/statements"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 90)
    line = [x for x in r.stdout.splitlines() if x.startswith("WRKJSON ")]
    if not line:
        raise RuntimeError(f"wrk gave no result: {r.stdout[-2000:]} {r.stderr[-2000:]}")
    return json.loads(line[-1][len("WRKJSON ") :])


# --------------------------------------------------------------------------- part 1: ingest
def make_bodies(duration: int, attempts: int) -> dict[str, Path]:
    """Request bodies for each scenario, split per wrk thread: the scenario's ceiling rate for
    `attempts` runs of `duration`. The same files serve every round (fresh databases)."""
    made: dict[str, Path] = {}
    pop = xd.Population()
    for seed, (name, size, _conc, threads, ceiling) in enumerate(INGEST + [("warm-up", 1, 2, 1, 100)], start=100):
        prefix = WORK / "bodies" / name.replace(" ", "_").replace(",", "").replace("=", "")
        prefix.parent.mkdir(parents=True, exist_ok=True)
        factory = xd.StatementFactory(pop, seed)
        files = [open(f"{prefix}.{t}", "w") for t in range(threads)]  # noqa: SIM115
        now = time.time()
        for n in range(ceiling * duration * (attempts if name != "warm-up" else 1)):
            statements = list(factory.many(size, now))
            body = statements[0] if size == 1 else statements
            files[n % threads].write(json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n")
        for f in files:
            f.close()
        made[name] = prefix
    return made


def ingest_round(args: argparse.Namespace, backend: str, rnd: int, bodies: dict[str, Path], port: int) -> dict[str, Any]:
    """One round on one database: a fresh instance, the four scenarios, the stored-count check."""
    inst = Instance(backend, f"ingest-{backend}")
    auth = inst.create()
    before = inst.count()["statements"]
    server = inst.server(port)
    server.start()
    runs: list[dict[str, Any]] = []
    acknowledged, server_log_start, slack = 0, 0, 2
    try:
        server.wait_ready()
        MACHINE.watch(server.proc.pid if server.proc else None)
        warm = wrk(server.base, 2, 1, 3, auth, bodies=bodies["warm-up"])
        acknowledged += warm["requests"] - warm["non200"]
        server_log_start = server.logfile.stat().st_size
        for name, size, conc, threads, _ceiling in INGEST:
            offsets = [0] * threads
            kept: dict[str, Any] | None = None
            for attempt in range(1, args.attempts + 1):  # a noisy run is done again, new bodies
                waited = MACHINE.wait_quiet(args.wait_quiet)
                MACHINE.take_peak()
                t0 = time.time()
                res = wrk(server.base, conc, threads, args.duration, auth, bodies=bodies[name], offsets=offsets)
                offsets = res["offsets"]
                res.update(scenario=name, size=size, connections=conc, threads=threads, backend=backend, round=rnd + 1, attempt=attempt, waited_quiet_s=waited)
                ok = res["requests"] - res["non200"]  # a failed request stores nothing
                res["statements_per_s"] = round(ok * size / res["duration_s"], 1)
                res["other_cpu_pct"] = MACHINE.other_cpu(t0)
                res["peak"] = MACHINE.take_peak()
                if res["exhausted"]:  # bodies sent twice would be duplicates: not an ingest
                    raise RuntimeError(f"{backend} {name}: ran out of bodies (raise its ceiling in INGEST) {res}")
                if res["non200"] or res["errors"] or res["timeouts"]:
                    log(f"{backend} {name}: FAILED REQUESTS {res}; see {server.logfile}")
                acknowledged += ok * size
                slack += conc * size
                log(f"{backend} round {rnd + 1} {name} (try {attempt}): {res['statements_per_s']:.0f} statements/s, {res['rps']:.1f} req/s, p50 {res['p50_ms']} p95 {res['p95_ms']} ms, peak {res['peak']}, other CPU {res['other_cpu_pct']} %")
                if kept is None or (res["other_cpu_pct"] or 0) < (kept["other_cpu_pct"] or 0):
                    kept = res
                time.sleep(2)
                if (res["other_cpu_pct"] or 0) <= args.noise_limit:
                    break
            assert kept is not None
            kept["tries"] = attempt
            runs.append(kept)
    finally:
        MACHINE.watch(None)
        server.stop()
    errors = server.logfile.read_text(errors="replace")[server_log_start:]
    failures = sorted({line.strip() for line in errors.splitlines() if line.startswith(("psycopg.errors.", "sqlite3.", "django.db.utils."))})
    stored = inst.count()["statements"] - before
    check = {"acknowledged": acknowledged, "stored": stored, "ok": acknowledged <= stored <= acknowledged + slack}
    log(f"{backend} round {rnd + 1}: {check}")
    if not args.keep:
        inst.drop()
    if not check["ok"]:
        raise RuntimeError(f"stored statements do not match the acknowledged ones: {check}")
    return {"backend": backend, "round": rnd + 1, "runs": runs, "check": check, "server_errors": failures}


def ingest(args: argparse.Namespace, port: int) -> dict[str, Any]:
    log("ingest: generating the request bodies")
    bodies = make_bodies(args.duration, args.attempts)
    out: dict[str, Any] = {"rounds": []}
    for rnd in range(args.rounds):
        for backend in args.backends if rnd % 2 == 0 else args.backends[::-1]:
            out["rounds"].append(ingest_round(args, backend, rnd, bodies, port))
    return out


# --------------------------------------------------------------------------- part 2: reads
def answers(base: str, auth: str, queries: dict[str, list[str]]) -> dict[str, Any]:
    """Statements and bytes per answer (first 20 URLs of each query); every answer must be 200."""
    out = {}
    headers = {"Authorization": auth, "X-Experience-API-Version": "2.0.0"}
    for name, urls in queries.items():
        counts, sizes = [], []
        for url in urls[:20]:
            status, _, body, _ = fb.http_get(base + url, headers=headers, follow=False)
            if status != 200:
                raise RuntimeError(f"{name} {url}: HTTP {status} {body[:300]!r}")
            counts.append(len(json.loads(body)["statements"]))
            sizes.append(len(body))
        out[name] = {"statements_median": statistics.median(counts), "statements_min": min(counts), "bytes_median": statistics.median(sizes)}
    return out


def filled(args: argparse.Namespace, inst: Instance, kalan: dict[str, str]) -> tuple[dict[str, Any], str]:
    """A fresh instance filled with --statements statements: (the fill's record, Authorization).
    With --reuse-fill, an instance this script filled before (same size, same Kalan commit;
    its record is kept in the instance's home) is used as it is."""
    record = inst.home / "bench-fill.json"
    if args.reuse_fill and record.exists():
        kept = json.loads(record.read_text())
        if kept["fill"]["statements"] == args.statements and kept["kalan"] == kalan:
            log(f"{inst.backend}: reusing the {args.statements:,} statements stored at {kept['filled_at']}")
            key, secret = inst.kalan("lrs", "credentials", "create", "bench-reads").split()
            kept["fill"]["reused"] = kept["filled_at"]
            return kept["fill"], "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    auth = inst.create()
    fill = ["fill", "--statements", str(args.statements), "--batch", "500"]
    if inst.backend == "postgresql":
        fill += ["--probe", "50000", "--budget-s", str(args.pg_fill_budget * 60)]
    log(f"{inst.backend}: storing {args.statements:,} statements")
    t0 = time.time()
    lines = inst.helper(*fill, stream=True)
    result = json.loads([x for x in lines if x.startswith("FILL ")][-1][5:])
    result["progress"] = [json.loads(x) for x in lines if x.startswith('{"progress"')]
    result["other_cpu_pct"] = MACHINE.other_cpu(t0)
    stopped = [json.loads(x) for x in lines if x.startswith('{"stopped"')]
    if stopped:
        result["stopped_estimate_s"] = stopped[0]["estimate_s"]
    else:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        record.write_text(json.dumps({"fill": result, "kalan": kalan, "filled_at": stamp}))
    return result, auth


def reads(args: argparse.Namespace, backend: str, port: int, kalan: dict[str, str]) -> dict[str, Any]:
    inst = Instance(backend, f"reads-{backend}")
    res: dict[str, Any] = {"backend": backend}
    res["fill"], auth = filled(args, inst, kalan)
    samples = res["fill"].pop("samples")
    if "stopped_estimate_s" in res["fill"]:
        log(f"{backend}: the fill would take {res['fill']['stopped_estimate_s']} s; no reads measured")
        if not args.keep:
            inst.drop()
        return res
    queries = read_queries(samples)
    res["example_urls"] = {name: urls[0] for name, urls in queries.items()}
    server = inst.server(port)
    server.start()
    try:
        server.wait_ready()
        res["answers"] = answers(server.base, auth, queries)
        res["runs"] = {name: [] for name in queries}
        for rnd in range(args.rounds):
            for name, urls in queries.items():
                rows = WORK / "rows.txt"
                rows.write_text("".join(u + "\n" for u in urls))
                kept: dict[str, Any] | None = None
                for attempt in range(1, args.attempts + 1):  # reads change nothing: run again
                    MACHINE.wait_quiet(args.wait_quiet)
                    t0 = time.time()
                    r = wrk(server.base, 10, 2, args.duration, auth, rows=rows)
                    r["other_cpu_pct"], r["tries"] = MACHINE.other_cpu(t0), attempt
                    if kept is None or (r["other_cpu_pct"] or 0) < (kept["other_cpu_pct"] or 0):
                        kept = r
                    if (r["other_cpu_pct"] or 0) <= args.noise_limit:
                        break
                    log(f"{backend} {name}: other processes took {r['other_cpu_pct']} % of a core")
                assert kept is not None
                r = kept
                if r["non200"] or r["errors"] or r["timeouts"]:
                    raise RuntimeError(f"{backend} {name}: bad run {r}")
                res["runs"][name].append(r)
                log(f"{backend} reads round {rnd + 1} {name}: {r['rps']:.0f} req/s p95 {r['p95_ms']} ms")
        res["memory_after"] = server.memory()
    finally:
        server.stop()
    first = {name: urllib.parse.urlparse(urls[0]).query for name, urls in queries.items()}
    out = inst.helper("explain", "--queries", json.dumps(first), "--authorization", auth, "--repeat", "30")
    res["explain"] = json.loads([x for x in out if x.startswith("EXPLAIN ")][-1][8:])
    if not args.keep:
        inst.drop()
    return res


# --------------------------------------------------------------------------- report
def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def machine_notes() -> dict[str, Any]:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            return "n/a"

    cpu = [x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name")]
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    dirty = out(["git", "-C", str(REPO), "status", "--short", "--", "kalan"]).splitlines()
    return {
        "cpu": f"{len(cpu)} x {cpu[0] if cpu else '?'}",
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": out([str(PYTHON), "-c", "import sys, sqlite3; print(sys.version.split()[0], 'SQLite', sqlite3.sqlite_version)"]),
        "postgresql": out(["psql", "-h", PG["host"], "-U", PG["user"], "-d", "postgres", "-Atc", "select version()"]).split(" on ")[0],
        "pg_settings": out(["psql", "-h", PG["host"], "-U", PG["user"], "-d", "postgres", "-Atc", "select string_agg(name || '=' || setting, ', ') from pg_settings where name in ('shared_buffers','synchronous_commit','max_wal_size','work_mem')"]),
        "wrk": out(["wrk", "--version"]).splitlines()[0] if out(["wrk", "--version"]) else "n/a",
        "commit": out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "uncommitted_under_kalan": dirty,
    }


def ingest_table(data: dict[str, Any]) -> list[str]:
    lines = [
        "| database | scenario | statements/s stored (median) | per round | req/s | p50 ms | p95 ms | p99 ms | failed requests per round | peak server RSS / PSS MiB | peak PG backends PSS MiB | other CPU % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rnd in data["rounds"]:
        for r in rnd["runs"]:
            groups.setdefault((r["backend"], r["scenario"]), []).append(r)
    for (backend, name), runs in groups.items():
        peak_rss = max(r["peak"].get("server_rss_mib", 0) for r in runs)
        peak_pss = max(r["peak"].get("server_pss_mib", 0) for r in runs)
        pg = max(r["peak"].get("pg_backends_pss_mib", 0) for r in runs)
        lines.append(
            f"| {backend} | {name} | **{med([r['statements_per_s'] for r in runs]):,.0f}** | "
            + ", ".join(f"{r['statements_per_s']:,.0f}" for r in runs)
            + f" | {med([r['rps'] for r in runs]):.1f} | {med([r['p50_ms'] for r in runs]):.1f} | {med([r['p95_ms'] for r in runs]):.1f} | "
            f"{med([r['p99_ms'] for r in runs]):.1f} | "
            + ", ".join(f"{r['non200'] + r['errors'] + r['timeouts']}" + (f" ({r['last_non200']})" if r["non200"] else "") for r in runs)
            + f" | {peak_rss:.0f} / {peak_pss:.0f} | {pg:.0f} | "
            + ", ".join(str(r["other_cpu_pct"]) for r in runs)
            + " |"
        )
    return lines


def fill_lines(r: dict[str, Any]) -> list[str]:
    f = r["fill"]
    prog = f.get("progress", [])
    rates = ", ".join(f"{p['rate']:,}" for p in prog)
    line = (
        f"- **{r['backend']}**: {f['statements']:,} statements in **{f['seconds']:,.0f} s = {f['rate']:,} statements/s** "
        f"(generating {f['gen_s']} s, validating + normalising {f['validate_s']} s, `store_statements` {f['store_s']} s); "
        f"database {f['db_bytes'] / 2**20:,.0f} MiB. Rate per {prog[0]['progress'] if prog else 0:,} statements, in order: {rates}. "
        f"Other processes: {f.get('other_cpu_pct')} % of a core."
    )
    if f.get("reused"):
        line += f" (Stored by an earlier run of this script, same commit, at {f['reused']}; these reads reused that instance.)"
    if "stopped_estimate_s" in f:
        line += f" **Stopped** after the probe: the whole fill would have taken about {f['stopped_estimate_s'] / 60:.0f} min."
    return [line]


def reads_table(r: dict[str, Any]) -> list[str]:
    lines = [
        "| query | statements per answer (median, min) | bytes per answer | req/s (median) | p50 ms | p95 ms (median) | p95 per round | p95 <= 50 ms | in-process: query ms / whole view ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in r["runs"].items():
        a, e = r["answers"][name], r.get("explain", {}).get(name, {})
        p95 = med([x["p95_ms"] for x in runs])
        per_round = ", ".join(f"{x['p95_ms']:.1f}" for x in runs)
        lines.append(
            f"| {name} | {a['statements_median']:g} ({a['statements_min']}) | {a['bytes_median']:,.0f} | **{med([x['rps'] for x in runs]):.0f}** | "
            f"{med([x['p50_ms'] for x in runs]):.1f} | **{p95:.1f}** | {per_round} | "
            f"{'met' if p95 <= 50 else 'NOT met'} | {e.get('page_ms_median', 'n/a')} / {e.get('view_ms_median', 'n/a')} |"
        )
    return lines


def report(res: dict[str, Any]) -> str:
    m = res["machine"]
    out = [
        f"# xAPI LRS: statement ingest and filtered reads ({res['date']})",
        "",
        f"Command: `{res['command']}`",
        "",
        *(
            [f"{', '.join(res['earlier']['parts']).capitalize()}: from the earlier run `{res['earlier']['command']}` "
             f"({res['earlier']['started']} to {res['earlier']['finished']} UTC, Kalan `{res['earlier']['kalan']['commit'][:12]}`).", ""]
            if res.get("earlier") else []
        ),
        f"Run {res['started']} to {res['finished']} UTC. "
        + (
            f"Kalan at commit `{res['kalan']['commit'][:12]}`, installed with pip from `git archive` of that commit into `bench/.venv-xapi` "
            f"(work in progress in the tree is not measured: {len(m['uncommitted_under_kalan'])} files under kalan/ had uncommitted changes when the run started)."
            if res["kalan"]["source"] == "head"
            else f"Kalan from a copy of the work tree (commit `{res['kalan']['commit'][:12]}` plus uncommitted changes: "
            + ", ".join(x.split()[-1] for x in m["uncommitted_under_kalan"]) + "), installed into `bench/.venv-xapi`."
        )
        + f" {m['cpu']}, {m['memory_gib']} GiB, {m['os']}; Python {m['python']}; {m['postgresql']} ({m['pg_settings']}); {m['wrk']}. "
        "Server: `kalan start --host 127.0.0.1` with its defaults (gunicorn, 2 processes x 2 threads on this machine). "
        "Client (wrk) and server share the 2 cores; all traffic to 127.0.0.1. Kolibri has no Learning Record Store, so there is no Kolibri row.",
        "",
    ]
    if "ingest" in res:
        out += [
            "## 1. Ingest: POST /xapi/statements",
            "",
            f"{res['rounds']} rounds; each round and database a fresh instance (SQLite: new KALAN_HOME; PostgreSQL: new database), "
            f"2,000 learner accounts, one pair of credentials (HTTP Basic), `X-Experience-API-Version: 2.0.0`. wrk {res['duration']} s per scenario, "
            "after a 3 s warm-up; every request body pre-generated and sent once (unique statement ids). "
            "Latency is per request (a request carries 1 or 50 statements). Peak memory: sampled every 0.5 s during the run, summed over the "
            "server's process tree (RSS counts pages shared by the master and its workers once per process; PSS divides them); "
            "PostgreSQL backends are separate processes, given apart. After each round the database must hold every acknowledged statement. "
            f"Before each run the script waits (up to {res.get('wait_quiet', 0)} min) until other processes use under 20 % of a core; a run during which they "
            f"still took more than {res.get('noise_limit')} % of a core is done again with bodies not sent before (at most {res.get('attempts')} tries) and the quietest try kept.",
            "",
            *ingest_table(res["ingest"]),
            "",
        ]
        checks = [f"{r['backend']} r{r['round']}: {r['check']['acknowledged']:,} acknowledged / {r['check']['stored']:,} stored" for r in res["ingest"]["rounds"]]
        out += ["Stored vs acknowledged (the difference is requests in flight when wrk stopped): " + "; ".join(checks) + ".", ""]
        errors = sorted({e for r in res["ingest"]["rounds"] for e in r.get("server_errors", [])})
        if errors:
            out += ["Errors in the server logs during the measured runs: " + "; ".join(f"`{e}`" for e in errors) + ".", ""]
        batched = [r["statements_per_s"] for rnd in res["ingest"]["rounds"] for r in rnd["runs"] if r["backend"] == "sqlite" and r["size"] == BATCH]
        if batched:
            best = max(med([r["statements_per_s"] for rnd in res["ingest"]["rounds"] for r in rnd["runs"] if r["backend"] == "sqlite" and r["scenario"] == s]) for s, *_ in INGEST[2:])
            out += [f"Target >= 2,000 statements/s batched on SQLite: best batched median {best:,.0f} statements/s: **{'met' if best >= 2000 else 'NOT met'}**.", ""]
    if res.get("reads"):
        out += ["## 2. Filtered GET at scale", "", "### Fill (`store_statements` called directly, batches of 500, one transaction each)", ""]
        for r in res["reads"]:
            out += fill_lines(r)
        out += [
            "",
            "The fill process generates the statements, validates and normalises them as POST does, and calls "
            "`kalan.lrs.statements.store_statements` with a simulated clock (stored times spread evenly over 180 days from "
            "2026-03-02, one per batch): the rows are those the LRS writes for statements that arrive over those days.",
            "",
        ]
        for r in res["reads"]:
            if "runs" not in r:
                continue
            n = r["fill"]["statements"]
            out += [
                f"### {r['backend']}, {n:,} statements: wrk c=10 (2 threads), {res['duration']} s per query per round, 200 URLs rotated",
                "",
                *reads_table(r),
                "",
                "In-process: `selectors.statement_page` alone, and the whole view through Django's test client (no HTTP server), median of 30 calls. "
                f"A run during which other processes took more than {res.get('noise_limit')} % of a core is done again (at most {res.get('attempts')} tries; the quietest kept).",
                "",
                "Example URLs: " + "; ".join(f"{k}: `{v}`" for k, v in r["example_urls"].items()),
                "",
                "Query plans (first URL of each query):",
                "",
            ]
            for name, e in r.get("explain", {}).items():
                out += [f"- {name}:", "", "  ```", *("  " + p for p in e["plan"]), "  ```"]
            out.append("")
    out += ["## Notes", "", *res.get("notes", [])]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--statements", type=int, default=100_000, help="statements stored for the reads (reported run: 1000000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    ap.add_argument("--only", choices=["ingest", "reads"])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-fill-budget", type=float, default=30, help="minutes the PostgreSQL fill may take (0: no PostgreSQL reads)")
    ap.add_argument("--port", type=int, default=18411)
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="MIN", help="wait up to MIN minutes for other processes to go quiet before each phase")
    ap.add_argument("--noise-limit", type=float, default=25, help="%% of a core other processes may take during a measured run before it is done again")
    ap.add_argument("--attempts", type=int, default=3, help="at most this many tries of a noisy run (the quietest is kept)")
    ap.add_argument("--kalan", default="head", metavar="head|worktree|COMMIT", help="measure the committed HEAD (default), a copy of the work tree, or a commit; installed into bench/.venv-xapi")
    ap.add_argument("--reuse-fill", action="store_true", help="reads: use an instance this script filled before (same size and commit) instead of filling a new one")
    ap.add_argument("--keep", action="store_true", help="keep the instances (homes and PostgreSQL databases)")
    ap.add_argument("--out", default=None, help="output stem (default results/xapi-ingest-<date>)")
    args = ap.parse_args()
    args.backends = [b for b in args.backends.split(",") if b]
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        raise SystemExit("wrk is missing: apt-get install wrk")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    WORK.mkdir(parents=True, exist_ok=True)
    fb.WORK.mkdir(parents=True, exist_ok=True)
    port = fb.free_port(args.port)
    kalan_source = install_kalan(args.kalan)
    MACHINE.start()
    now = dt.datetime.now(dt.UTC)
    res: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d"),
        "started": now.strftime("%Y-%m-%d %H:%M"),
        "command": "python3.11 bench/xapi_ingest.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "machine": machine_notes(),
        "kalan": kalan_source,
        "rounds": args.rounds,
        "duration": args.duration,
        "wait_quiet": args.wait_quiet,
        "noise_limit": args.noise_limit,
        "attempts": args.attempts,
    }
    stem = Path(args.out) if args.out else RESULTS / f"xapi-ingest-{res['date']}"
    # With --only, what an earlier run of the same day measured and this one does not is kept.
    earlier = json.loads(stem.with_suffix(".json").read_text()) if args.only and stem.with_suffix(".json").exists() else {}
    kept_parts = []
    if args.only == "reads" and earlier.get("ingest"):
        res["ingest"] = earlier["ingest"]
        kept_parts.append("ingest")
    old_reads = [r for r in earlier.get("reads", []) if args.only == "ingest" or r["backend"] not in args.backends]
    kept_parts += [f"reads on {r['backend']}" for r in old_reads]
    if kept_parts:
        res["earlier"] = {"parts": kept_parts, **{k: earlier.get("earlier", {}).get(k) or earlier.get(k) for k in ("command", "started", "finished", "kalan")}}
    try:
        if args.only != "reads":
            res["ingest"] = ingest(args, port)
        res["reads"] = old_reads
        if args.only != "ingest":
            for backend in args.backends:
                if backend == "postgresql" and args.pg_fill_budget <= 0:
                    continue
                MACHINE.wait_quiet(args.wait_quiet)
                res["reads"].append(reads(args, backend, port, kalan_source))
    finally:
        MACHINE.stop_evt.set()
        res["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        res["other_cpu_mean_pct"] = MACHINE.other_cpu(0)
        RESULTS.mkdir(exist_ok=True)
        stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
        log("wrote", stem.with_suffix(".json"))
    md = report(res)
    stem.with_suffix(".md").write_text(md)
    log("wrote", stem.with_suffix(".md"))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
