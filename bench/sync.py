#!/usr/bin/env python3.11
"""Facility sync between two instances: Kolibri 0.19.5's `kolibri manage sync`, measured so
that Kalan's sync can run next to it, on the same data shape, in the same run.

For each system and each round:
  1. instance A holds a school of N learners in 4 classrooms with about 130 learning records
     each (sync_data.py: the shape of the earlier Kolibri measurement); A's server runs on
     127.0.0.1 behind a byte-counting TCP proxy (sync_proxy.py);
  2. full sync of A's facility into a fresh peer B, with the default chunk size, and into
     another fresh peer with --chunk-size 2000 (order alternates between rounds);
  3. about 75 new records on A (3 learners, 1 classroom, their memberships and logs), then an
     incremental sync into B; then a sync with nothing new;
  4. after every sync: the records of A's facility on A and on the peer, per syncable model
     (count and a digest of the ids), and the peer's sync store (records that failed to
     deserialise). Any difference is reported as CHECK FAILED and the script exits 1
     (Kolibri's sync exits 0 even when the receiver rejected every record).
Measured per sync: wall time of the sync command, bytes through the proxy each way (TCP payload)
and connections, peak RSS of the sync client (wait4), peak RSS/PSS of A's server process tree
(sampled every 0.5 s). A is put back as seeded between rounds; medians over rounds.

Writes bench/results/sync-<date>.md and .json (sync-<date>-<N>learners.* when N is not 200).
Every process runs in its own process group with a timeout and is killed with its group on
timeout, error, Ctrl-C or SIGTERM; all traffic to 127.0.0.1.

A system plugs in as a class with the steps of sync_kolibri.KolibriSync: install, seed,
source_server, restore_source, fresh_peer, sync_command, add_records, counts, expected_kinds,
sync_problems, full_variants.

Usage:  python3.11 bench/sync.py [--learners 200] [--rounds 3] [--reuse-venvs] [--only kolibri]
                                 [--wait-quiet MIN] [--sync-timeout 1800] [--out STEM]
Small check:  python3.11 bench/sync.py --learners 10 --rounds 1 --reuse-venvs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foundation as fb
import sync_data
from sync_kolibri import KolibriSync
from sync_proc import run_group
from sync_proxy import CountingProxy

SYSTEMS = {"kolibri": KolibriSync}

# The earlier Kolibri measurement (shared/anchors/kolibri.md), 200 learners, for reference.
ANCHOR = {
    "full": {"wall_s": 206.0, "down": 38924315, "up": 121703, "note": "220 s through the proxy"},
    "full_chunk2000": {"wall_s": 85.5},
    "incremental": {"wall_s": 10.0, "down": 148221, "up": 15003, "records": 84},
    "nochange": {"wall_s": 9.2, "down": 30183, "up": 14664},
}


class MemorySampler(threading.Thread):
    """Peak RSS and PSS of a process tree, sampled every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.halt = threading.Event()
        self.before = fb.tree_memory(pid)
        self.peak = dict(self.before)

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            now = fb.tree_memory(self.pid)
            for key in ("rss_mib", "pss_mib", "threads"):
                self.peak[key] = max(self.peak[key], now[key])

    def finish(self) -> dict:
        self.halt.set()
        self.join(5)
        after = fb.tree_memory(self.pid)
        for key in ("rss_mib", "pss_mib", "threads"):
            self.peak[key] = max(self.peak[key], after[key])
        return {"before": self.before, "peak": self.peak, "after": after}


def shout(message: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n{message}\n{bar}\n", flush=True)


class Lane:
    """One system under test: its instance A (server + proxy) and its results."""

    def __init__(self, system, args, plan: dict, increment: dict, failures: list[str]):
        self.system, self.args = system, args
        self.plan, self.increment = plan, increment
        self.failures = failures
        self.server: fb.Server | None = None
        self.proxy: CountingProxy | None = None
        self.result: dict = {
            "title": system.title,
            "notes": list(getattr(system, "notes", [])),
            "runs": [],
        }

    # ------------------------------------------------------------- setup / teardown
    def setup(self, port: int, proxy_port: int) -> None:
        s = self.system
        self.result["install"] = s.install(self.args.reuse_venvs)
        with fb.Phase(f"seed-{s.key}"):
            self.result["seed"] = s.seed(self.plan, warm_store=not self.args.cold_store)
        fb.log(s.key, "seeded:", {k: v for k, v in self.result["seed"].items() if k != "made"})
        self.port = port
        self.start_server()
        counts = s.counts(s.source_home)
        self.result["source_counts"] = counts
        expected = s.expected_kinds([self.plan])
        self.check_kinds("seed", counts["kinds"], expected)
        self.proxy = CountingProxy(proxy_port, port).start()
        fb.log(s.key, f"A serves on {self.server.base}, proxy {self.proxy.base}")

    def start_server(self) -> None:
        a = self.args
        lifetime = 3600 + a.rounds * (len(self.system.full_variants) + 2) * (a.sync_timeout + 300)
        self.server = self.system.source_server(self.port, lifetime)
        self.server.start()
        self.result.setdefault("server_ready", []).append(self.server.wait_ready(timeout=300))

    def server_pid(self) -> int:
        """The server process itself, below its `timeout` launcher."""
        launcher = self.server.proc.pid
        children = fb._children(launcher)
        return children[0] if len(children) == 1 else launcher

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def check_kinds(self, what: str, got: dict, expected: dict) -> None:
        wrong = {k: (got.get(k), n) for k, n in expected.items() if got.get(k) != n}
        if wrong:
            self.fail(f"{self.system.key} {what}: instance A does not hold the plan: {wrong}")

    def fail(self, message: str) -> None:
        self.failures.append(message)
        shout("CHECK FAILED: " + message)

    # ------------------------------------------------------------- one round
    def round(self, number: int) -> None:
        s = self.system
        if number > 0:  # A back to its seeded state, so every round syncs the same data
            self.server.stop()
            s.restore_source()
            self.start_server()
        variants = list(s.full_variants)
        peers = {label: s.fresh_peer(f"b-{label}") for label, _ in variants}
        first = variants[0][0]
        for label, chunk in variants if number % 2 == 0 else variants[::-1]:
            self.measure(number, label, peers[label], chunk, before_total=0)
        peer_total = self.last(first)["peer_total"]
        made = s.add_records(self.increment)
        source = s.counts(s.source_home)
        self.check_kinds(
            "after adding records", source["kinds"], s.expected_kinds([self.plan, self.increment])
        )
        fb.log(s.key, "added to A:", made)
        self.measure(number, "incremental", peers[first], None, before_total=peer_total)
        peer_total = self.last("incremental")["peer_total"]
        self.measure(number, "nochange", peers[first], None, before_total=peer_total)

    def last(self, label: str) -> dict:
        return [r for r in self.result["runs"] if r["label"] == label][-1]

    def measure(self, number: int, label: str, peer: Path, chunk, before_total: int) -> None:
        s = self.system
        argv, env = s.sync_command(peer, self.proxy.base, chunk)
        log = s.logs / f"sync-{label}-round{number + 1}.log"
        sampler = MemorySampler(self.server_pid())
        sampler.start()
        before = self.proxy.snapshot()
        t0 = time.time()
        try:
            done = run_group(argv, env, self.args.sync_timeout, log, check=False)
        finally:
            memory = sampler.finish()
        t1 = time.time()
        wire = self.proxy.since(before)
        source, got = s.counts(s.source_home), s.counts(peer)
        problems = s.sync_problems(source, got)
        if done.returncode != 0:
            problems.insert(0, f"sync exited {done.returncode}: {done.tail(800)}")
        run = {
            "system": s.key,
            "round": number + 1,
            "label": label,
            "chunk_size": chunk,
            "command": " ".join(str(a) for a in argv),
            "returncode": done.returncode,
            "wall_s": done.wall_s,
            "client_cpu_s": round(done.user_s + done.sys_s, 2),
            "client_maxrss_mib": round(done.maxrss_kib / 1024, 1),
            "bytes_down": wire["down"],
            "bytes_up": wire["up"],
            "connections": wire["connections"],
            "server_memory": memory,
            "source_total": source["total"],
            "peer_total": got["total"],
            "records_synced": got["total"] - before_total,
            "peer_kinds": got["kinds"],
            "peer_store": got["store"],
            "problems": problems,
            "ok": not problems,
            "log": str(log),
            "phases": s.phases(done.output()) if hasattr(s, "phases") else {},
            "other_cpu": fb.NOISE.summary(t0, t1),
        }
        self.result["runs"].append(run)
        fb.log(
            f"{s.key} {label} round {number + 1}: {run['wall_s']} s, "
            f"{run['bytes_down']:,} B down, {run['bytes_up']:,} B up, "
            f"{run['connections']} conns, client {run['client_maxrss_mib']} MiB, "
            f"A peak {memory['peak']['rss_mib']} MiB, peer {got['total']} / A {source['total']} "
            f"records: {'OK' if run['ok'] else 'MISMATCH'}"
        )
        if problems:
            self.fail(f"{s.key} {label} round {number + 1}: " + "; ".join(problems))


# ----------------------------------------------------------------------------- report
def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def spread(values: list[float], unit: str = " s", digits: int = 1) -> str:
    mid = statistics.median(values)
    if len(values) == 1:
        return f"**{mid:.{digits}f}{unit}**"
    return f"**{mid:.{digits}f}{unit}** ({min(values):.{digits}f}–{max(values):.{digits}f})"


def summary_rows(lane: dict) -> list[str]:
    rows = []
    for label in dict.fromkeys(r["label"] for r in lane["runs"]):
        runs = [r for r in lane["runs"] if r["label"] == label]
        ok = sum(r["ok"] for r in runs)
        peak = [r["server_memory"]["peak"]["rss_mib"] for r in runs]
        rows.append(
            f"| {lane['title']} | {label} | {spread([r['wall_s'] for r in runs])} | "
            f"{int(med(runs, 'records_synced')):,} | {int(med(runs, 'bytes_down')):,} | "
            f"{int(med(runs, 'bytes_up')):,} | {int(med(runs, 'connections'))} | "
            f"{med(runs, 'client_maxrss_mib'):.1f} | {statistics.median(peak):.1f} | "
            f"{ok}/{len(runs)} |"
        )
    return rows


def phase_rows(res: dict) -> list[str]:
    """Where the time of each sync went, from the phase markers of its log (if the system's
    sync logs them)."""
    runs = [(lane, r) for lane in res["systems"].values() for r in lane["runs"] if r["phases"]]
    if not runs:
        return []
    names = list(dict.fromkeys(n for _, r in runs for n in r["phases"]))
    out = [
        "\n## Where the time goes\n",
        "Seconds from the sync command's first log line of the command proper (\"Invoking "
        'command", after CLI start-up) to each phase marker in its log; wall = the whole '
        "command.\n",
        "| system | round | sync | " + " | ".join(n.replace("_", " ") for n in names) + " | wall |",
        "|---|---|---|" + "---|" * (len(names) + 1),
    ]
    for lane, r in runs:
        cells = " | ".join(str(r["phases"].get(n, "")) for n in names)
        out.append(f"| {lane['title']} | {r['round']} | {r['label']} | {cells} | {r['wall_s']} |")
    return out


def report(res: dict) -> str:
    titles = " vs ".join(v["title"] for v in res["systems"].values())
    out = [f"# Facility sync: {titles}, {res['date']}\n"]
    if res["failures"]:
        out.append("## FAILED\n")
        out += [f"- {f}" for f in res["failures"]]
        out.append("")
    out.append(
        f"Command: `{res['command']}`. Run {res['started']} to {res.get('finished', '?')} UTC on "
        f"{res['machine']['cpus']} cores, {res['machine']['os']}, Python "
        f"{res['machine']['python']}. {res['learners']} learners, {res['rounds']} round(s); "
        "medians (min–max). All traffic to 127.0.0.1. Produced by `bench/sync.py`.\n"
    )
    out.append("## Data on instance A\n")
    out.append("| kind | " + " | ".join(sync_data.KINDS) + " | total |")
    out.append("|---|" + "---|" * (len(sync_data.KINDS) + 1))
    for name, counts in (
        ("initial plan (+1 admin)", res["plan_counts"]),
        ("added before the incremental sync", res["increment_counts"]),
        ("anchor data set (200 learners)", sync_data.ANCHOR_COUNTS),
    ):
        cells = " | ".join(f"{counts.get(k, 0):,}" for k in sync_data.KINDS)
        out.append(f"| {name} | {cells} | {sum(counts.values()):,} |")
    out.append("")
    out.append("## Syncs\n")
    out.append(
        "| system | sync | wall time | records synced | bytes down | bytes up | connections | "
        "client peak RSS MiB | A server peak RSS MiB | peer == A |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for lane in res["systems"].values():
        out += summary_rows(lane)
    out.append(
        "\nBytes are TCP payload through the counting proxy (HTTP headers and bodies as sent). "
        "Records synced = records of A's facility on the peer after the sync minus before "
        '(all syncable models, including the facility and its dataset rows). "peer == A": '
        "every syncable model has the same count and the same ids on both, and the peer's "
        "sync store holds no record that failed to deserialise.\n"
    )
    out.append(
        "Earlier Kolibri measurement at 200 learners, for reference: "
        + "; ".join(
            f"{k} {v['wall_s']} s"
            + (f", {v['down']:,} B down / {v['up']:,} B up" if "down" in v else "")
            for k, v in ANCHOR.items()
        )
        + " (`shared/anchors/kolibri.md`).\n"
    )
    out.append("## Every run\n")
    out.append(
        "| system | round | sync | exit | wall s | client CPU s | bytes down | bytes up | "
        "records | A RSS before → peak MiB | other CPU % (mean/max) | check |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for lane in res["systems"].values():
        for r in lane["runs"]:
            m = r["server_memory"]
            noise = r["other_cpu"]
            out.append(
                f"| {lane['title']} | {r['round']} | {r['label']} | {r['returncode']} | "
                f"{r['wall_s']} | {r['client_cpu_s']} | {r['bytes_down']:,} | {r['bytes_up']:,} | "
                f"{r['records_synced']:,} | {m['before']['rss_mib']} → {m['peak']['rss_mib']} | "
                f"{noise.get('mean_pct', 'n/a')}/{noise.get('max_pct', 'n/a')} | "
                f"{'OK' if r['ok'] else 'FAILED: ' + '; '.join(r['problems'])[:300]} |"
            )
    out += phase_rows(res)
    out.append("\n## Method\n")
    for lane in res["systems"].values():
        seed = lane.get("seed", {})
        out.append(
            f"- **{lane['title']}**: instance A provisioned in {seed.get('provision_s', '?')} s, "
            f"data written in {seed.get('seed_s', '?')} s"
            + (
                f", serialised into the sync store in {seed['serialize_s']} s (once, before "
                "the syncs, so every full sync starts from a server that has synced before)"
                if "serialize_s" in seed
                else " (store not pre-serialised: `--cold-store`)"
            )
            + f". Sync command: `{lane['runs'][0]['command'] if lane['runs'] else '?'}`."
        )
        out += [f"- {lane['title']}: {note}" for note in lane.get("notes", [])]
    out.append(
        "- A peer is a fresh home whose database was set up by a first run (not timed) and "
        "that has no facility; the sync pulls A's facility and provisions the peer with it."
    )
    out.append(
        "- Wall time: from starting the sync command to its exit (CLI start-up included). "
        "Client peak RSS: `ru_maxrss` from `wait4`. A server memory: VmRSS summed over its "
        "process tree every 0.5 s."
    )
    noise = res.get("noise", {})
    out.append(
        f"- Other processes used on average {noise.get('mean_pct', 'n/a')} % of a core during "
        f"the run (max {noise.get('max_pct', 'n/a')} %, top: {noise.get('max_top', '')})."
    )
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--learners", type=int, default=sync_data.SHAPE["learners"])
    ap.add_argument("--rounds", type=int, default=3, help="rounds per system (medians)")
    ap.add_argument("--reuse-venvs", action="store_true", help="keep existing bench venvs")
    ap.add_argument("--only", choices=sorted(SYSTEMS), help="measure one system only")
    ap.add_argument(
        "--increment", type=int, default=75, help="records added before the incremental sync"
    )
    ap.add_argument("--sync-timeout", type=float, default=1800, help="seconds per sync command")
    ap.add_argument(
        "--cold-store",
        action="store_true",
        help="do not pre-serialise A's sync store: the first full sync of each round pays for it",
    )
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="MIN",
        help="before each round, wait up to MIN minutes for other processes to go quiet",
    )
    ap.add_argument("--out", default=None, help="output stem (default results/sync-<date>)")
    args = ap.parse_args()
    if not 1 <= args.learners <= 5000:
        ap.error("--learners must be between 1 and 5000")
    if args.rounds < 1 or args.increment < 10:
        ap.error("--rounds must be at least 1 and --increment at least 10")
    return args


def main() -> int:
    args = parse_args()
    # SIGTERM and Ctrl-C unwind like errors: every process group started so far is killed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fb.WORK.mkdir(parents=True, exist_ok=True)
    fb.RESULTS.mkdir(parents=True, exist_ok=True)
    plan = sync_data.make_plan(args.learners)
    increment = sync_data.make_increment(plan, target=args.increment)
    now = dt.datetime.now(dt.UTC)
    res: dict = {
        **fb.run_stamp(now),
        "command": "python3.11 bench/sync.py " + " ".join(sys.argv[1:]),
        "learners": args.learners,
        "rounds": args.rounds,
        "shape": sync_data.SHAPE,
        "plan_counts": sync_data.plan_counts(plan, admins=1),
        "increment_counts": sync_data.plan_counts(increment),
        "systems": {},
        "failures": [],
    }
    keys = [args.only] if args.only else list(SYSTEMS)
    lanes = [Lane(SYSTEMS[k](args.learners), args, plan, increment, res["failures"]) for k in keys]
    default_stem = f"sync-{res['date']}" + (
        "" if args.learners == 200 else f"-{args.learners}learners"
    )
    stem = Path(args.out) if args.out else fb.RESULTS / default_stem
    fb.NOISE.start()
    code = 0
    try:
        for number, lane in enumerate(lanes):
            res["systems"][lane.system.key] = lane.result
            lane.setup(fb.free_port(18480 + 100 * number), fb.free_port(18560 + 100 * number))
        for number in range(args.rounds):
            res.setdefault("wait_quiet", []).append(fb.wait_quiet(args.wait_quiet))
            for lane in lanes if number % 2 == 0 else lanes[::-1]:
                with fb.Phase(f"{lane.system.key}-round{number + 1}"):
                    lane.round(number)
    except KeyboardInterrupt:
        res["failures"].append("interrupted (Ctrl-C)")
        code = 130
    except SystemExit as exc:
        res["failures"].append(f"stopped by a signal (exit {exc.code})")
        code = exc.code if isinstance(exc.code, int) else 1
    except RuntimeError as exc:  # a command failed or timed out: its message says which
        res["failures"].append(f"error: {exc}")
        code = 1
    except Exception as exc:  # unexpected: written to the results, re-raised after clean-up
        res["failures"].append(f"error: {exc!r}")
        raise
    finally:
        for lane in lanes:
            lane.stop()
        fb.NOISE.stop_evt.set()
        res["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        res["noise"] = fb.NOISE.summary()
        stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
        stem.with_suffix(".md").write_text(report(res))
        fb.log("wrote", stem.with_suffix(".md"), "and .json")
    print(stem.with_suffix(".md").read_text())
    if res["failures"]:
        shout("SYNC BENCHMARK FAILED\n" + "\n".join(res["failures"]))
        return code or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
