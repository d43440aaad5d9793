"""Kolibri 0.19.5 in the sync benchmark: instance A with the plan's data, fresh peers, and
`kolibri manage sync` between them.

Instance A is provisioned like every Kolibri benchmark home (foundation.KOLIBRI_PROVISION: one
facility, admin `admin`), then the plan of sync_data.py is written with Kolibri's own models
through `kolibri manage shell` (every user, classroom and log `full_clean()`ed: a receiving
Kolibri validates each record and silently parks those that fail). A peer is a fresh Kolibri home
whose database has been set up (first run) and that has no facility: the sync pulls A's facility
and provisions the peer with it, which is Kolibri's own "import a facility" path.

Every Kolibri process gets the offline switches of foundation.KOLIBRI_ENV.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import foundation as fb
import sync_data
from sync_proc import marked_json_line, run_group

# Kolibri's models for the record kinds of sync_data.KINDS.
KIND_MODELS = {
    "users": "kolibriauth.FacilityUser",
    "classrooms": "kolibriauth.Classroom",
    "memberships": "kolibriauth.Membership",
    "roles": "kolibriauth.Role",
    "session_logs": "logger.ContentSessionLog",
    "summary_logs": "logger.ContentSummaryLog",
    "mastery_logs": "logger.MasteryLog",
    "attempt_logs": "logger.AttemptLog",
}

# Lines of the sync command's log that mark its phases: (name, text, first or last occurrence).
PHASE_MARKERS = (
    ("connected", "Success! We connected", "last"),
    ("pull_started", "Remotely preparing data", "first"),
    ("first_chunk", "Receiving data", "first"),
    ("last_chunk", "Receiving data", "last"),
    ("integrating", "Locally integrating received data", "first"),
    ("push_started", "Locally preparing data to send", "first"),
)
LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (.*)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Runs inside `kolibri manage shell`; writes the plan in $SYNC_PLAN to the default facility.
SEED_SCRIPT = r"""
import datetime
import json
import os
import time

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from kolibri.core.auth.models import Classroom, Facility, FacilityUser
from kolibri.core.logger.models import AttemptLog, ContentSessionLog, ContentSummaryLog, MasteryLog

with open(os.environ["SYNC_PLAN"]) as f:
    plan = json.load(f)
t0 = time.time()
facility = Facility.get_default_facility() or Facility.objects.get()
password = make_password(plan["password"])  # hashed once: every learner has the same password
now = timezone.now()
made = dict.fromkeys(["users", "classrooms", "memberships", "session_logs", "summary_logs",
                      "mastery_logs", "attempt_logs"], 0)


def keep(record, kind, unique=False):
    record.full_clean(validate_unique=unique)  # new random ids: uniqueness needs no query
    record.save()
    made[kind] += 1
    return record


def write_item(user, item):
    content_id, kind = plan["resources"][item["resource"]]
    common = dict(user=user, channel_id=plan["channel"], content_id=content_id, kind=kind)
    sessions = []
    for days, minutes, spent, progress, answers in item["sessions"]:
        end = now - datetime.timedelta(days=days, minutes=minutes)
        start = end - datetime.timedelta(seconds=spent)
        log = ContentSessionLog(start_timestamp=start, end_timestamp=end, time_spent=spent * 0.8,
                                progress=progress, **common)
        sessions.append((keep(log, "session_logs"), answers))
    progress = min(1.0, sum(s.progress for s, _ in sessions))
    first = min(s.start_timestamp for s, _ in sessions)
    last = max(s.end_timestamp for s, _ in sessions)
    total = sum(s.time_spent for s, _ in sessions)
    done = last if progress >= 1 else None
    summary = keep(ContentSummaryLog(start_timestamp=first, end_timestamp=last, time_spent=total,
                                     progress=progress, completion_timestamp=done, **common),
                   "summary_logs")
    if kind != "exercise":
        return
    mastery = keep(MasteryLog(
        user=user, summarylog=summary, mastery_level=1, complete=progress >= 1,
        mastery_criterion={"type": "m_of_n", "m": 3, "n": 5}, start_timestamp=first,
        end_timestamp=last, time_spent=summary.time_spent), "mastery_logs")
    for session, answers in sessions:
        for k, (correct, answer, spent) in enumerate(answers):
            keep(AttemptLog(
                user=user, masterylog=mastery, sessionlog=session, item=f"{content_id}:{k}",
                start_timestamp=session.start_timestamp, end_timestamp=session.end_timestamp,
                completion_timestamp=session.end_timestamp, time_spent=spent, complete=True,
                correct=float(correct), simple_answer=str(answer),
                answer={"question": {"type": "input"}, "answer": str(answer)},
                interaction_history=[{"type": "answer"}]), "attempt_logs")


with transaction.atomic():
    rooms = [keep(Classroom(parent=facility, name=name), "classrooms", unique=True)
             for name in plan["classrooms"]]
    for person in plan["learners"]:
        user = FacilityUser(facility=facility, username=person["username"],
                            full_name=person["full_name"], birth_year=person["birth_year"],
                            gender=person["gender"])
        user.password = password
        keep(user, "users", unique=True)
        rooms[person["classroom"]].add_member(user)
        made["memberships"] += 1
        for item in person["resources"]:
            write_item(user, item)
print("SYNCSEED " + json.dumps({"made": made, "facility_id": facility.id,
                                "seconds": round(time.time() - t0, 2)}))
"""

# Runs inside `kolibri manage shell`: what the sync server would otherwise do at the start of
# the first sync ("Remotely preparing data"): serialise the facility's records into morango's
# store.
SERIALIZE_SCRIPT = r"""
import json
import time

from kolibri.core.auth.models import Facility
from morango.models.certificates import Filter
from morango.sync.controller import MorangoProfileController

t0 = time.time()
facility = Facility.get_default_facility() or Facility.objects.get()
MorangoProfileController("facilitydata").serialize_into_store(filter=Filter(facility.dataset_id))
print("SYNCSERIALIZE " + json.dumps({"seconds": round(time.time() - t0, 2)}))
"""

# Runs inside `kolibri manage shell`: the records of facility $SYNC_FACILITY, per syncable model
# (count + digest of the sorted ids), and the state of morango's store for it.
COUNT_SCRIPT = r"""
import hashlib
import json
import os

from django.db.models import Q
from kolibri.core.auth.models import Facility
from morango.models import Buffer, InstanceIDModel, Store
from morango.registry import syncable_models

facility = Facility.objects.filter(id=os.environ["SYNC_FACILITY"]).first()
out = {"facility_found": facility is not None, "models": {}, "store": {},
       "instance_id": InstanceIDModel.get_or_create_current_instance()[0].id}
if facility is not None:
    dataset = facility.dataset_id
    for model in syncable_models.get_models("facilitydata"):
        manager = model.objects if model._meta.proxy else model._base_manager
        if model._meta.model_name == "facilitydataset":
            rows = manager.filter(id=dataset)
        else:
            rows = manager.filter(dataset_id=dataset)
        ids = sorted(str(i) for i in rows.values_list("id", flat=True))
        digest = hashlib.sha1(",".join(ids).encode()).hexdigest()[:16]
        out["models"][model._meta.label] = {"n": len(ids), "digest": digest}
    store = Store.objects.filter(partition__startswith=dataset)
    errors = store.exclude(Q(deserialization_error__isnull=True) | Q(deserialization_error=""))
    out["store"] = {"rows": store.count(), "dirty": store.filter(dirty_bit=True).count(),
                    "deserialization_errors": errors.count(), "buffer_rows": Buffer.objects.count()}
print("SYNCCOUNTS " + json.dumps(out))
"""


class KolibriSync:
    """The Kolibri side of the benchmark. The driver (sync.py) calls, in this order:
    install, seed, source_server (kept running), then per round fresh_peer, sync_command,
    add_records, counts, and restore_source between rounds (with the server stopped)."""

    key = "kolibri"
    title = f"Kolibri {fb.KOLIBRI_VERSION}"
    # The full syncs measured, each into its own fresh peer: (label, chunk size or None). The
    # incremental and no-change syncs go to the peer of the first.
    full_variants = [("full", None), ("full_chunk2000", 2000)]
    notes = [
        "A full sync into a fresh peer includes the peer making its certificate key: morango "
        "generates a 2048-bit RSA key with the pure-Python `rsa` package, because the Kolibri "
        "wheel ships no `cryptography`. That takes a random time (about 1 to 20 s in small runs "
        'on a busy machine) and shows as the gap between "connected" and "pull started".',
    ]
    admin = ("admin", "adminpass123")  # from foundation.KOLIBRI_PROVISION

    def __init__(self, learners_hint: int = 200):
        self.venv = fb.Kolibri.venv
        self.source_home = fb.WORK / "sync-kolibri-a"
        self.snapshot = fb.WORK / "sync-kolibri-a.snapshot"
        self.logs = fb.WORK / "logs" / "sync"
        self.facility_id = ""
        # seeding writes ~130 records per learner one by one (save() + full_clean())
        self.seed_timeout = 600 + 6 * learners_hint

    # ----------------------------------------------------------------- plumbing
    def env(self, home: Path) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(fb.KOLIBRI_ENV)
        env["KOLIBRI_HOME"] = str(home)
        env["PATH"] = f"{self.venv / 'bin'}:{env.get('PATH', '')}"
        return env

    def kolibri_cmd(self, *args) -> list:
        return [self.venv / "bin" / "kolibri", *args]

    def _shell(self, home: Path, script: str, name: str, marker: str, timeout: float, **env):
        path = fb.WORK / f"sync-kolibri-{name}.py"
        path.write_text(script)
        code = (
            f"p = {str(path)!r}; exec(compile(open(p).read(), p, 'exec'), {{'__name__': 'bench'}})"
        )
        done = run_group(
            self.kolibri_cmd("manage", "shell", "-c", code),
            {**self.env(home), **env},
            timeout,
            self.logs / f"{name}-{home.name}.log",
        )
        return json.loads(marked_json_line(done.output(), marker)), done

    # ----------------------------------------------------------------- steps
    def install(self, reuse: bool) -> dict:
        info = fb.Kolibri().install(reuse)
        return {k: v for k, v in info.items() if k != "pip_freeze"}

    def seed(self, plan: dict, warm_store: bool = True) -> dict:
        """Provisions A afresh and writes `plan` into it; with warm_store, also serialises the
        facility into morango's store (timed on its own), as a server that has synced before
        would have it. Keeps a copy of A's home for restore_source()."""
        for home in (self.source_home, self.snapshot):
            if home.exists():
                shutil.rmtree(home)
        self.source_home.mkdir(parents=True)
        done = run_group(
            self.kolibri_cmd(*fb.KOLIBRI_PROVISION),
            self.env(self.source_home),
            600,
            self.logs / "provision-a.log",
        )
        info: dict = {"provision_s": done.wall_s}
        plan_file = fb.WORK / "sync-plan.json"
        plan_file.write_text(json.dumps(plan))
        seeded, done = self._shell(
            self.source_home,
            SEED_SCRIPT,
            "seed",
            "SYNCSEED",
            self.seed_timeout,
            SYNC_PLAN=str(plan_file),
        )
        self.facility_id = seeded["facility_id"]
        info.update(
            facility_id=self.facility_id,
            seed_s=seeded["seconds"],
            seed_cli_s=done.wall_s,
            made=seeded["made"],
        )
        if warm_store:
            ser, done = self._shell(
                self.source_home, SERIALIZE_SCRIPT, "serialize", "SYNCSERIALIZE", 1800
            )
            info.update(serialize_s=ser["seconds"], serialize_cli_s=done.wall_s)
        shutil.copytree(self.source_home, self.snapshot, symlinks=True)
        return info

    def restore_source(self) -> None:
        """Puts A's home back as seed() left it (A's server must be stopped)."""
        shutil.rmtree(self.source_home)
        shutil.copytree(self.snapshot, self.source_home, symlinks=True)

    def source_server(self, port: int, lifetime: float) -> fb.Server:
        """A's server on 127.0.0.1:port. `timeout` ends it after `lifetime` seconds even if
        this script is killed before it can stop it; memory is sampled on its child."""
        serve = self.kolibri_cmd("start", "--foreground", "--port", port, "--zip-port", port + 10)
        return fb.Server(
            "kolibri-sync-a",
            ["timeout", "-k", "30", int(lifetime), *serve],
            self.env(self.source_home),
            port,
            self.logs / "server-a.log",
        )

    def fresh_peer(self, name: str) -> Path:
        """A new Kolibri home with its database set up (first run, not timed) and no facility."""
        home = fb.WORK / f"sync-kolibri-{name}"
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        run_group(
            self.kolibri_cmd("manage", "check"),
            self.env(home),
            600,
            self.logs / f"setup-{name}.log",
        )
        if not (home / "db.sqlite3").exists():
            raise RuntimeError(f"first run of {home} made no database")
        return home

    def sync_command(self, peer: Path, base_url: str, chunk_size: int | None = None):
        """(argv, env) of one sync of the facility from the server at base_url into `peer`
        (pull, then push: what `kolibri manage sync` does by default)."""
        fb._check_loopback(base_url)
        user, password = self.admin
        argv = self.kolibri_cmd(
            "manage",
            "sync",
            "--baseurl",
            base_url,
            "--facility",
            self.facility_id,
            "--username",
            user,
            "--password",
            password,
            "--noninteractive",
        )
        if chunk_size:
            argv += ["--chunk-size", chunk_size]
        return argv, self.env(peer)

    def add_records(self, plan: dict) -> dict:
        """Writes an increment plan (sync_data.make_increment) into A."""
        plan_file = fb.WORK / "sync-increment.json"
        plan_file.write_text(json.dumps(plan))
        seeded, _ = self._shell(
            self.source_home, SEED_SCRIPT, "add", "SYNCSEED", 600, SYNC_PLAN=str(plan_file)
        )
        return seeded["made"]

    def counts(self, home: Path) -> dict:
        """The facility's records in `home` per syncable model, plus the record kinds of
        sync_data.KINDS and morango's store state."""
        out, _ = self._shell(
            home, COUNT_SCRIPT, "count", "SYNCCOUNTS", 600, SYNC_FACILITY=self.facility_id
        )
        out["kinds"] = {
            kind: out["models"].get(model, {}).get("n", 0) for kind, model in KIND_MODELS.items()
        }
        out["total"] = sum(m["n"] for m in out["models"].values())
        return out

    @staticmethod
    def phases(log_text: str) -> dict[str, float]:
        """Seconds from "Invoking command" (the CLI has started) to each phase marker of a sync
        log, and to its last log line."""
        stamped = []
        for line in ANSI.sub("", log_text).splitlines():
            m = LOG_LINE.search(line)
            if m:
                stamped.append((dt.datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f"), m[2]))
        start = next((t for t, text in stamped if text.startswith("Invoking command")), None)
        if start is None:
            return {}
        out = {}
        for name, marker, which in PHASE_MARKERS:
            hits = [t for t, text in stamped if text.startswith(marker)]
            if hits:
                out[name] = round(
                    ((hits[0] if which == "first" else hits[-1]) - start).total_seconds(), 2
                )
        out["last_line"] = round((stamped[-1][0] - start).total_seconds(), 2)
        return out

    def expected_kinds(self, plans: list[dict]) -> dict[str, int]:
        """The kinds A must hold after writing `plans` (the first is the initial plan)."""
        total = dict.fromkeys(sync_data.KINDS, 0)
        for number, plan in enumerate(plans):
            for kind, n in sync_data.plan_counts(plan, admins=1 if number == 0 else 0).items():
                total[kind] += n
        return total

    @staticmethod
    def sync_problems(source: dict, peer: dict) -> list[str]:
        """Why the peer does not hold exactly the source's records (empty list: it does)."""
        problems = []
        if not peer.get("facility_found"):
            problems.append("the facility is missing on the peer")
        for model, mine in source["models"].items():
            theirs = peer["models"].get(model, {"n": 0, "digest": "-"})
            if theirs != mine:
                problems.append(f"{model}: source {mine['n']} records, peer {theirs['n']}")
        store = peer.get("store", {})
        if store.get("deserialization_errors"):
            n = store["deserialization_errors"]
            problems.append(f"{n} records failed to deserialise on the peer (parked in its store)")
        if store.get("dirty"):
            problems.append(f"{store['dirty']} records in the peer's store are not integrated")
        if peer.get("instance_id") == source.get("instance_id"):
            problems.append("peer and source have the same morango instance id")
        return problems
