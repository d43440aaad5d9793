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
import datetime as dt
import fcntl
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from content_harness import (
    CACHE_ROOT,
    KALAN_SETUP,
    KOLIBRI_VERSION,
    MIB,
    NETNS_NOTE,
    NOISE,
    RESULTS,
    SETTINGS,
    drop_caches,
    log,
    measure,
    netns_available,
    timed_sync,
    wait_quiet,
    warm,
)
from content_source import (
    SourceSpec,
    generate_source,
)
from content_systems import (
    CpR,
    Kalan,
    Kolibri,
    System,
    standin_kalan,
)


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
        m = measure(cmd, sysm.env(), SETTINGS.logs / f"{sysm.key}-{tag}-{name.split()[-1]}.log")
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
        m = measure(cmd, sysm.env(), SETTINGS.logs / f"{sysm.key}-{tag}-pre.log")
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
    killed = measure(
        cmd, sysm.env(), SETTINGS.logs / f"{sysm.key}-{tag}-killed.log", kill_when=when
    )
    state_after_kill = sysm.verify(False)
    rerun = measure(cmd, sysm.env(), SETTINGS.logs / f"{sysm.key}-{tag}-rerun.log")
    verify_rerun = sysm.verify(True)
    again = measure(cmd, sysm.env(), SETTINGS.logs / f"{sysm.key}-{tag}-again.log")
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

    SETTINGS.use_netns = not args.no_netns and netns_available()
    if not args.no_netns and not SETTINGS.use_netns:
        log("warning: unshare -n is not available; commands are not network-isolated")
    lo, hi = (int(x) for x in args.video_mib.split("-"))
    spec = SourceSpec(args.seed, args.files, args.size, args.videos, (lo, hi), args.units)
    cache = args.cache_dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    lock = open(cache / ".lock", "w")
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
        "netns": SETTINGS.use_netns,
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
    SETTINGS.logs = cache / "run" / "logs"  # kept until the next run
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
