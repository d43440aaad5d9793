#!/usr/bin/env python3.11
"""Which WSGI server for Kalan? The same authenticated learner page under several servers.

Serves the Kalan learner home (`GET /learn/`, 40 signed-in learners round-robin, one session
cookie per request) with:
  - granian, WSGI interface (`granian --interface wsgi kalan.config.wsgi:application`, its
    defaults), 1 and 2 workers;
  - `kalan start` (the server it embeds, with its own default thread count), 1 and 2 workers;
  - gunicorn with sync workers, 1 and 2 workers;
  - gunicorn with gthread workers (2 threads each, as `kalan start`), 1 and 2 workers;
  - waitress (its default 4 threads; one process, it has no worker processes);
and for each, wrk at concurrency 1, 10 and 40 (15 s each): req/s, p50/p95/p99, and the memory
(RSS and PSS summed over the server's process tree) 15 s after ready and after the load.

Writes bench/results/server-choice-<date>.md and .json. For comparison only: the production
server is whatever `kalan start` uses. All traffic to 127.0.0.1; every server stopped by PID.

Usage:  python3.11 bench/server_choice.py [--reuse-venvs] [--duration 15] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foundation as fb

SERVER_PINS = ("granian", "gunicorn", "waitress")
WSGI_APP = "kalan.config.wsgi:application"
GTHREADS = 2  # threads per gunicorn gthread worker: what `kalan start` gives granian
WAITRESS_THREADS = 4  # waitress's default


def kalan_server(k: KalanServers) -> str:
    """Which server the installed `kalan start` embeds, for the table."""
    try:
        src = "".join(f.read_text() for f in k.venv.glob("lib/python*/site-packages/kalan/*.py"))
    except OSError:
        return "`kalan start` (as shipped)"
    for name in ("gunicorn", "granian", "waitress"):
        if f"from {name}" in src or f"import {name}" in src:
            return f"`kalan start` (as shipped: {name})"
    return "`kalan start` (as shipped)"


def kalan_threads(k: KalanServers) -> str:
    """The blocking-thread default of the installed `kalan start`, for the table."""
    try:
        src = next(k.venv.glob("lib/python*/site-packages/kalan/commands.py")).read_text()
    except (StopIteration, OSError):
        return "default"
    m = re.search(r"threads = (\d+) if threads is None", src) or re.search(
        r'"KALAN_THREADS", "(\d+)"', src
    )
    return f"{m.group(1)} (default)" if m else "default"


class KalanServers(fb.Kalan):
    """Kalan installed with the candidate servers, in its own venv and KALAN_HOME, so the
    footprint measured by foundation.py stays that of a plain Kalan install."""

    key = "kalan-servers"
    venv = fb.BENCH / ".venv-servers"
    home = fb.WORK / "servers-home"

    def _pip_install(self):
        super()._pip_install()
        pins = [
            line.strip()
            for line in (fb.BENCH / "requirements.txt").read_text().splitlines()
            if line.strip().lower().startswith(SERVER_PINS)
        ]
        src = fb.WORK / "kalan-src"
        cons = src / "requirements" / "constraints.txt"
        extra = ["-c", cons] if cons.exists() else []
        fb.run([self.python(), "-m", "pip", "install", "-q", *extra, *pins])


def configs(k: KalanServers, port: int) -> list[dict]:
    b = k.venv / "bin"
    addr = f"{fb.LOOPBACK}:{port}"
    out = []
    for w in (1, 2):
        out.append(
            {
                "name": f"granian-w{w}",
                "server": "granian (WSGI, defaults)",
                "workers": w,
                "threads": "granian default",
                "cmd": [
                    b / "granian",
                    "--interface",
                    "wsgi",
                    "--host",
                    fb.LOOPBACK,
                    "--port",
                    port,
                    "--workers",
                    w,
                    "--log-level",
                    "warning",
                    "--no-ws",
                    WSGI_APP,
                ],
            }
        )
    for w in (1, 2):
        out.append(
            {
                "name": f"kalan-start-w{w}",
                "server": kalan_server(k),
                "workers": w,
                "threads": kalan_threads(k),
                "cmd": [
                    b / "kalan",
                    "start",
                    "--host",
                    fb.LOOPBACK,
                    "--port",
                    port,
                    "--workers",
                    w,
                ],
            }
        )
    for w in (1, 2):
        out.append(
            {
                "name": f"gunicorn-sync-w{w}",
                "server": "gunicorn sync",
                "workers": w,
                "threads": 1,
                "cmd": [
                    b / "gunicorn",
                    "-k",
                    "sync",
                    "-w",
                    w,
                    "-b",
                    addr,
                    "--log-level",
                    "warning",
                    WSGI_APP,
                ],
            }
        )
    for w in (1, 2):
        out.append(
            {
                "name": f"gunicorn-gthread-w{w}",
                "server": "gunicorn gthread",
                "workers": w,
                "threads": GTHREADS,
                "cmd": [
                    b / "gunicorn",
                    "-k",
                    "gthread",
                    "--threads",
                    GTHREADS,
                    "-w",
                    w,
                    "-b",
                    addr,
                    "--log-level",
                    "warning",
                    WSGI_APP,
                ],
            }
        )
    out.append(
        {
            "name": "waitress",
            "server": "waitress",
            "workers": 1,
            "threads": WAITRESS_THREADS,
            "cmd": [
                b / "waitress-serve",
                f"--listen={addr}",
                f"--threads={WAITRESS_THREADS}",
                WSGI_APP,
            ],
        }
    )
    return out


def versions(k: KalanServers) -> dict:
    freeze = fb.run([k.python(), "-m", "pip", "freeze"]).stdout.splitlines()
    want = ("granian", "gunicorn", "waitress", "django")
    return {
        n.split("==")[0].lower(): n.split("==")[1]
        for n in freeze
        if "==" in n and n.split("==")[0].lower() in want
    }


def measure(k: KalanServers, cfg: dict, port: int, rows, duration: int, idle_wait: float) -> dict:
    srv = fb.Server(cfg["name"], cfg["cmd"], k.env(), port, fb.WORK / "logs" / f"{cfg['name']}.log")
    srv.start()
    res = {k2: v for k2, v in cfg.items() if k2 != "cmd"}
    res["cmd"] = " ".join(str(c) for c in cfg["cmd"]).replace(str(fb.BENCH) + "/", "bench/")
    try:
        res["ready"] = srv.wait_ready(path=k.signin_path, timeout=120)
        time.sleep(idle_wait)
        res["memory_idle"] = srv.memory()
        for path, cookie in rows[:3]:  # the sessions really reach the learner page
            st, _, _, _ = fb.http_get(srv.base + path, follow=False, headers={"Cookie": cookie})
            if st != 200:
                raise RuntimeError(f"{cfg['name']}: {path} gave {st}")
        fb.run_wrk(srv.base, k.learn_path, 2, 3, rows)  # warm-up, not recorded
        res["runs"] = []
        for c in (1, 10, 40):
            t0 = time.time()
            r = fb.run_wrk(srv.base, k.learn_path, c, duration, rows)
            r["other_cpu_pct"] = fb.NOISE.summary(t0, time.time()).get("mean_pct")
            fb.log(
                f"{cfg['name']} c={c}: {r['rps']} req/s p50 {r['p50_ms']} p95 {r['p95_ms']} "
                f"p99 {r['p99_ms']} ms non-200 {r['non200']}"
            )
            res["runs"].append(r)
            time.sleep(2)
        res["memory_after"] = srv.memory()
    except Exception as e:  # one broken server must not stop the comparison
        fb.log(f"{cfg['name']} failed: {e}")
        res["error"] = str(e)[:500]
    finally:
        srv.stop()
    time.sleep(3)
    return res


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def report(res: dict) -> str:
    v = res["versions"]
    out = [f"# Kalan: WSGI server comparison, {res['date']}\n"]
    out.append(
        f"Run {res['started']} to {res['finished']} UTC on {res['machine']['cpus']} cores, "
        f"Python {res['machine']['python']}, Kalan commit `{res['kalan_commit']}`, Django "
        f"{v.get('django')}, granian {v.get('granian')}, gunicorn {v.get('gunicorn')}, waitress "
        f"{v.get('waitress')}. Produced by `bench/server_choice.py`.\n"
    )
    out.append(
        f"Endpoint: the learner home `GET /learn/` (server-rendered HTML), signed in, 40 "
        f"learners round-robin (a different session cookie on each request). wrk "
        f"{res['duration_s']} s per run, 1 thread at c=1 and 2 threads at c≥10, "
        f"`Accept-Encoding: gzip, deflate, br`. Client and server share the 2 cores. "
        f"{res['rounds']} rounds: every configuration is started afresh and measured once per "
        f"round, rounds one after the other. req/s = median of the rounds (min–max); latency "
        f"and memory = median of the rounds. Memory = RSS / PSS summed over the server's "
        f"process tree, {res['idle_wait_s']:.0f} s after ready (idle) and right after the three "
        f'runs. "bad" = non-200 responses + socket errors + timeouts, all rounds. "other CPU" = '
        f"mean CPU used by other processes on the machine during that configuration's runs "
        f"(100 = one core).\n"
    )
    out.append(
        "| server | workers | threads/worker | req/s c=1 | c=10 | c=40 | p50 / p95 / p99 ms c=1 "
        "| c=10 | c=40 | idle RSS / PSS MiB | after load RSS / PSS MiB | processes | bad "
        "| other CPU % |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    names = list(dict.fromkeys(r["name"] for r in res["results"]))
    for name in names:
        rs = [r for r in res["results"] if r["name"] == name]
        ok = [r for r in rs if "error" not in r and len(r.get("runs", [])) == 3]
        r0 = rs[0]
        if not ok:
            out.append(
                f"| {r0['server']} | {r0['workers']} | {r0['threads']} | failed: "
                f"{rs[-1].get('error', 'incomplete')[:120]} ||||||||||"
            )
            continue
        cells = []
        for ci in range(3):
            rps = [r["runs"][ci]["rps"] for r in ok]
            cells.append(f"**{_median(rps):.1f}** ({min(rps):.0f}–{max(rps):.0f})")
        for ci in range(3):
            lat = [_median([r["runs"][ci][f"p{q}_ms"] for r in ok]) for q in (50, 95, 99)]
            cells.append(" / ".join(f"{x:.1f}" for x in lat))

        def mem(key, field, ok=ok):
            return _median([r[key][field] for r in ok])

        bad = sum(
            x["non200"] + x["err_connect"] + x["err_read"] + x["err_write"] + x["err_timeout"]
            for r in ok
            for x in r["runs"]
        )
        other = [x.get("other_cpu_pct") or 0 for r in ok for x in r["runs"]]
        failed = len(rs) - len(ok)
        out.append(
            f"| {r0['server']} | {r0['workers']} | {r0['threads']} | "
            + " | ".join(cells)
            + f" | {mem('memory_idle', 'rss_mib'):.1f} / {mem('memory_idle', 'pss_mib'):.1f} | "
            f"{mem('memory_after', 'rss_mib'):.1f} / {mem('memory_after', 'pss_mib'):.1f} | "
            f"{ok[0]['memory_after']['pids']} | {bad}"
            + (f" ({failed} round(s) failed)" if failed else "")
            + f" | {statistics.mean(other):.1f} |"
        )
    out.append("\n## Commands\n")
    for name in names:
        r = next(r for r in res["results"] if r["name"] == name)
        out.append(f"- {name}: `{r['cmd']}`")
    n = res["noise"]
    out.append(
        f"\nOther processes on the machine used on average {n.get('mean_pct', 'n/a')} % of a "
        f"core during the run (max {n.get('max_pct', 'n/a')} %)."
    )
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuse-venvs", action="store_true", help="keep bench/.venv-servers")
    ap.add_argument("--duration", type=int, default=15, help="seconds per wrk run (default 15)")
    ap.add_argument(
        "--idle-wait", type=float, default=15.0, help="seconds after ready for idle RSS"
    )
    ap.add_argument("--only", default="", help="comma list of config names (default: all)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over all configs (default 3)")
    ap.add_argument(
        "--out", default=None, help="output stem (default results/server-choice-<date>)"
    )
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="MIN",
        help="before measuring, wait up to MIN minutes for other processes to go quiet",
    )
    args = ap.parse_args()
    # SIGTERM unwinds like an error, so every server started so far is stopped by its PID
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not fb.shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    fb.WORK.mkdir(parents=True, exist_ok=True)
    fb.RESULTS.mkdir(parents=True, exist_ok=True)
    fb.NOISE.start()
    now = dt.datetime.now(dt.UTC)
    res = {
        **fb.run_stamp(now),
        "duration_s": args.duration,
        "idle_wait_s": args.idle_wait,
        "rounds": args.rounds,
        "results": [],
    }
    k = KalanServers()
    res["install"] = {x: y for x, y in k.install(args.reuse_venvs).items() if x != "pip_freeze"}
    res["kalan_commit"] = res["install"].get("source_commit", res["kalan_commit"])
    res["versions"] = versions(k)
    res["provision"] = k.provision()
    port = fb.free_port(18300)
    wanted = set(filter(None, args.only.split(",")))
    cfgs = [c for c in configs(k, port) if not wanted or c["name"] in wanted]
    try:
        # sign the 40 learners in once (sessions live in the database, shared by all servers)
        first = fb.Server(
            "signin",
            [k.venv / "bin" / "kalan", "start", "--host", fb.LOOPBACK, "--port", port],
            k.env(),
            port,
            fb.WORK / "logs" / "servers-signin.log",
        ).start()
        try:
            first.wait_ready(path=k.signin_path, timeout=120)
            rows = next(t["rows"] for t in k.wrk_targets(first.base) if t["kind"] == "learner")
        finally:
            first.stop()
        time.sleep(3)
        for rnd in range(1, args.rounds + 1):
            for cfg in cfgs:
                fb.log("==", cfg["name"], "round", rnd)
                res.setdefault("wait_quiet", {})[f"{cfg['name']}-{rnd}"] = fb.wait_quiet(
                    args.wait_quiet
                )
                r = measure(k, cfg, port, rows, args.duration, args.idle_wait)
                r["round"] = rnd
                res["results"].append(r)
    finally:
        fb.NOISE.stop_evt.set()
        res["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        res["noise"] = fb.NOISE.summary()
        stem = Path(args.out) if args.out else fb.RESULTS / f"server-choice-{res['date']}"
        stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    md = report(res)
    stem.with_suffix(".md").write_text(md)
    fb.log("wrote", stem.with_suffix(".md"))
    print(md)


if __name__ == "__main__":
    main()
