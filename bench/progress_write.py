#!/usr/bin/env python3.11
"""The learner progress write path at c=1, 10 and 40: Kalan next to Kolibri 0.19.5, in one run.

What a classroom of 40 tablets does while the learners watch videos: every few seconds each
player reports progress.
- Kalan: the player posts an xAPI statement (a video "paused" statement with the played
  segment, the media time and the duration) to `POST /xapi/statements` with the learner's
  session and CSRF token, exactly as kalan/content/static/content/records.js does. Each
  request is one new statement (a fresh id): it is validated, stored, indexed and projected
  into the learner's progress row in the same transaction.
- Kolibri: the same learners' heartbeat `PUT /api/logger/trackprogress/<session_id>/` with
  `{"progress_delta": 0.0001, "time_spent_delta": 1.0}`, after `POST /api/logger/trackprogress/`
  opened one session per learner (as its learner pages do).
40 learners are signed in on each system and rotated; wrk (send.lua) runs each concurrency for
--duration seconds, the two systems taking turns; --rounds rounds, medians reported. Afterwards
the number of statements Kalan stored is checked against the number of 2xx answers wrk counted.

Usage: python3.11 bench/progress_write.py [--duration 20] [--rounds 3] [--reuse-venvs]
Writes bench/results/progress-write-<date>.md and .json. Needs wrk; all traffic to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foundation as fb  # noqa: E402

SEND_LUA = fb.BENCH / "wrk" / "send.lua"
CONCURRENCIES = (1, 10, 40)
RESOURCE = "https://kalan.invalid/resources/"
VIDEO = "https://w3id.org/xapi/video/"
PEOPLE = "https://kalan.invalid/people"
NODE = uuid.UUID("6b3f3c1e-0c7a-4b55-9d51-6b616c616e31")  # any resource: the path does not check


def statement_body(learner_id: str) -> str:
    """A player's progress report, with "@UUID@" where send.lua puts a fresh statement id."""
    return json.dumps(
        {
            "id": "@UUID@",
            "actor": {"objectType": "Agent", "account": {"homePage": PEOPLE, "name": learner_id}},
            "verb": {"id": VIDEO + "verbs/paused", "display": {"en-US": "paused"}},
            "object": {"objectType": "Activity", "id": f"{RESOURCE}{NODE}"},
            "result": {
                "duration": "PT5S",
                "extensions": {
                    VIDEO + "extensions/played-segments": "10[.]15",
                    VIDEO + "extensions/time": 15.0,
                    VIDEO + "extensions/progress": 0.15,
                },
            },
            "context": {
                "contextActivities": {"category": [{"id": VIDEO}]},
                "extensions": {VIDEO + "extensions/length": 100, VIDEO + "extensions/session-id": "bench"},
            },
        },
        separators=(",", ":"),
    )


def row(method: str, path: str, headers: dict[str, str], body: str) -> str:
    joined = "|".join(f"{name}: {value}" for name, value in headers.items())
    return f"{method}\t{path}\t{joined}\t{body}\n"


def kalan_learner_ids(kalan: fb.Kalan) -> dict[str, str]:
    code = (
        "import json; from kalan.accounts.models import User;"
        "print('IDS ' + json.dumps({u: str(i) for u, i in User.objects.filter("
        "username__startswith='learner').values_list('username', 'id')}))"
    )
    out = kalan.kalan("manage", "shell", "-c", code).stdout
    return json.loads([x for x in out.splitlines() if x.startswith("IDS ")][-1][4:])


def kalan_rows(kalan: fb.Kalan, base: str) -> list[str]:
    ids = kalan_learner_ids(kalan)
    rows = []
    for username, password in kalan.learners:
        jar = kalan.login(base, username, password)
        cookies = {c.name: c.value for c in jar}
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "X-CSRFToken": cookies["csrftoken"],
            "X-Experience-API-Version": "2.0.0",
            "Content-Type": "application/json",
        }
        rows.append(row("POST", "/xapi/statements", headers, statement_body(ids[username])))
    return rows


def kolibri_rows(kolibri: fb.Kolibri, base: str) -> list[str]:
    rows = []
    start = json.dumps(
        {"node_id": NODE.hex, "content_id": uuid.uuid5(NODE, "c").hex, "channel_id": uuid.uuid5(NODE, "ch").hex, "kind": "video"}
    ).encode()
    for username, password in kolibri.learners:
        jar, _me = kolibri.login(base, username, password)
        cookies = {c.name: c.value for c in jar}
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": cookies.get("kolibri_csrftoken", ""),
            "Referer": base + "/",
        }
        status, _h, body = fb.http_send(base + "/api/logger/trackprogress/", "POST", start, headers, jar)
        if status not in (200, 201):
            raise RuntimeError(f"kolibri trackprogress start {username}: {status} {body[:200]!r}")
        session_id = json.loads(body)["session_id"]
        cookies = {c.name: c.value for c in jar}
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        headers["X-CSRFToken"] = cookies.get("kolibri_csrftoken", "")
        rows.append(
            row("PUT", f"/api/logger/trackprogress/{session_id}/", headers,
                '{"progress_delta":0.0001,"time_spent_delta":1.0}')
        )
    return rows


def run_send(base: str, rows: list[str], conc: int, duration: int) -> dict:
    fb._check_loopback(base)
    rowfile = fb.WORK / "send-rows.tsv"
    rowfile.write_text("".join(rows))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(BENCH_HOST=urllib.parse.urlparse(base).netloc, BENCH_ROWS=str(rowfile), BENCH_MAXREQ="200000")
    threads = 1 if conc < 10 else 2
    cmd = ["timeout", "-k", "5", str(duration + 30), "wrk", f"-t{threads}", f"-c{conc}", f"-d{duration}s",
           "--timeout", "10s", "-s", str(SEND_LUA), base + "/"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    lines = [x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")]
    if not lines:
        raise RuntimeError(f"wrk gave no result: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    result = json.loads(lines[-1][len("WRKJSON "):])
    result.update(threads=threads, connections=conc)
    return result


def stored_statements(kalan: fb.Kalan) -> int:
    out = kalan.kalan("manage", "shell", "-c",
                      "from kalan.lrs.models import Statement; print('COUNT', Statement.objects.count())").stdout
    return int([x for x in out.splitlines() if x.startswith("COUNT ")][-1].split()[1])


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def report(res: dict) -> str:
    lines = [
        f"# Learner progress writes: Kalan vs {fb.Kolibri.title} ({res['date']})",
        "",
        f"Command: `{res['command']}`",
        "",
        f"Machine: {res['machine']['cpus']} CPUs, {res['machine']['os']}. Kalan commit {res['kalan_commit']}. "
        f"wrk {res['duration_s']} s per run, {res['rounds']} rounds, the two systems taking turns; medians.",
        "",
        "- Kalan: `POST /xapi/statements`, one new video statement per request (validated, stored, indexed,"
        " projected into progress), 40 learners' sessions with their CSRF tokens.",
        "- Kolibri: `PUT /api/logger/trackprogress/<session_id>/` with"
        " `{\"progress_delta\":0.0001,\"time_spent_delta\":1.0}`, 40 learners' sessions.",
        "",
        "| c | Kalan req/s | Kalan p50 ms | Kalan p95 ms | Kolibri req/s | Kolibri p50 ms | Kolibri p95 ms | req/s ratio | non-2xx (Kalan / Kolibri) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for conc in CONCURRENCIES:
        k = res["runs"]["kalan"][str(conc)]
        o = res["runs"]["kolibri"].get(str(conc), [])
        krps, orps = median_of(k, "rps"), (median_of(o, "rps") if o else None)
        ratio = f"{krps / orps:.1f}x" if orps else "-"
        lines.append(
            f"| {conc} | {krps} | {median_of(k, 'p50_ms')} | {median_of(k, 'p95_ms')} | "
            f"{orps if o else '-'} | {median_of(o, 'p50_ms') if o else '-'} | {median_of(o, 'p95_ms') if o else '-'} | "
            f"{ratio} | {sum(r['non2xx'] for r in k)} / {sum(r['non2xx'] for r in o) if o else '-'} |"
        )
    check = res["kalan_check"]
    extra = check["stored"] - check["answered_2xx"]
    verdict = (
        "every answered write was stored"
        if 0 <= extra <= check["in_flight"]
        else "MISMATCH"
    )
    lines += [
        "",
        f"Kalan stored {check['stored']} statements for {check['answered_2xx']} 2xx answers counted by wrk;"
        f" up to {check['in_flight']} more may have been stored for requests still in flight when a run"
        f" stopped: {verdict}.",
        "",
        "Targets (issue 4): at c=40, Kalan >= 5x Kolibri's rate with p95 <= 200 ms.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse-venvs", action="store_true")
    parser.add_argument("--only", choices=["kalan", "kolibri"])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fb.WORK.mkdir(parents=True, exist_ok=True)
    (fb.WORK / "logs").mkdir(exist_ok=True)
    systems: list[fb.System] = [fb.Kalan(), fb.Kolibri()]
    if args.only:
        systems = [s for s in systems if s.key == args.only]
    now = dt.datetime.now(dt.UTC)
    res: dict = {
        "date": now.strftime("%Y-%m-%d"),
        "command": "python3.11 bench/progress_write.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "os": os.uname().sysname + " " + os.uname().release},
        "duration_s": args.duration,
        "rounds": args.rounds,
        "runs": {s.key: {} for s in systems},
    }
    servers = []
    try:
        rows = {}
        for number, system in enumerate(systems):
            system.install(args.reuse_venvs)
            system.provision()
            server = system.server(fb.free_port(18281 + 100 * number))
            server.start()
            server.wait_ready()
            servers.append((system, server))
            rows[system.key] = kalan_rows(system, server.base) if system.key == "kalan" else kolibri_rows(system, server.base)
        res["kalan_commit"] = getattr(systems[0], "source_commit", "?")
        answered = 0
        for round_number in range(args.rounds):
            for conc in CONCURRENCIES:
                order = servers if (round_number + conc) % 2 == 0 else servers[::-1]
                for system, server in order:
                    result = run_send(server.base, rows[system.key], conc, args.duration)
                    fb.log(f"{system.key} c={conc} round {round_number + 1}: {result['rps']} req/s "
                           f"p95 {result['p95_ms']} ms non-2xx {result['non2xx']}")
                    res["runs"][system.key].setdefault(str(conc), []).append(result)
                    if system.key == "kalan":
                        answered += result["requests"] - result["non2xx"]
                    time.sleep(2)
        kalan = next((s for s, _srv in servers if s.key == "kalan"), None)
        if kalan is not None:
            in_flight = args.rounds * sum(CONCURRENCIES)
            res["kalan_check"] = {
                "stored": stored_statements(kalan),
                "answered_2xx": answered,
                "in_flight": in_flight,
            }
    finally:
        for _system, server in servers:
            server.stop()
    stem = fb.RESULTS / f"progress-write-{res['date']}"
    stem.with_suffix(".json").write_text(json.dumps(res, indent=1))
    if "kalan" in res["runs"] and "kolibri" in res["runs"]:
        stem.with_suffix(".md").write_text(report(res))
        print(stem.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
