#!/usr/bin/env python3.11
"""Learner statements and Kalan instances for bench/xapi_ingest.py, and its helpers that run
inside Kalan.

Imports the standard library only (and bench/foundation.py): bench/xapi_ingest.py generates the
POST bodies with it and makes its instances (`Instance`: a KALAN_HOME, a PostgreSQL database)
outside Kalan's venv. Run as a script with Kalan's venv python, DJANGO_SETTINGS_MODULE and
KALAN_HOME set, it works on that instance's database:

  learners --count N          create N learner accounts (the statements' actors) in the school
  fill --statements N ...     store N statements through kalan.lrs.statements.store_statements
  count                       print the number of stored statements
  explain                     time the filtered queries in-process and print their query plans

The population is deterministic (uuid5 of an index), so the bench process and the Kalan
process agree on the learners' and resources' ids without asking each other.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import calendar
import datetime as dt
import itertools
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foundation as fb  # noqa: E402  (Server, log)

REPO = fb.REPO
WORK = fb.BENCH / ".work" / "xapi"
VENV = fb.BENCH / ".venv-xapi"  # Kalan as committed (install_kalan), unmoved by work in progress
KALAN = VENV / "bin" / "kalan"
PYTHON = VENV / "bin" / "python"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
DB_PREFIX = "bench_xapi_"
log = fb.log

NS = uuid.UUID("6a1b2c3d-0000-4000-8000-00000000a91d")
PEOPLE_HOME = "https://kalan.invalid/people"  # kalan.accounts.xapi.ACCOUNT_HOMEPAGE
ADL = "http://adlnet.gov/expapi/verbs/"
VIDEO = "https://w3id.org/xapi/video/"
VERBS: dict[str, str] = {
    "experienced": ADL + "experienced",
    "attempted": ADL + "attempted",
    "answered": ADL + "answered",
    "completed": ADL + "completed",
    "passed": ADL + "passed",
    "failed": ADL + "failed",
    "progressed": ADL + "progressed",
    "played": VIDEO + "verbs/played",
}
KINDS = {  # resource kind -> (activity type, share of resources)
    "video": ("https://w3id.org/xapi/video/activity-type/video", 0.3),
    "exercise": ("http://adlnet.gov/expapi/activities/assessment", 0.4),
    "lesson": ("http://adlnet.gov/expapi/activities/lesson", 0.3),
}
WORDS_FR = (
    "fractions lecture calcul eau fleuve agriculture santé carte histoire nombres sciences "
    "géométrie conjugaison accords mesures énergie plantes corps climat alphabet"
).split()
WORDS_EN = (
    "fractions reading arithmetic water river farming health map history numbers science "
    "geometry verbs agreement measures energy plants body climate alphabet"
).split()


def learner_id(i: int) -> uuid.UUID:
    return uuid.uuid5(NS, f"learner-{i}")


def resource_iri(i: int) -> str:
    return f"https://kalan.invalid/resources/{uuid.uuid5(NS, f'resource-{i}')}"


def topic_iri(i: int) -> str:
    return f"https://kalan.invalid/topics/{uuid.uuid5(NS, f'topic-{i}')}"


def agent(i: int) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": PEOPLE_HOME, "name": str(learner_id(i))}}


def iso_z(epoch_s: float) -> str:
    whole = int(epoch_s)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((epoch_s - whole) * 1000):03d}Z"


@dataclass
class Population:
    learners: int = 2000
    resources: int = 5000
    per_topic: int = 50  # resources per topic (the contextActivities parent)
    zipf_s: float = 0.9  # resource popularity: a few resources get most of the use
    kinds: list[str] = field(default_factory=list)
    cum_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(1)
        names, shares = list(KINDS), [share for _, share in KINDS.values()]
        self.kinds = rng.choices(names, weights=shares, k=self.resources)
        self.cum_weights = list(
            itertools.accumulate(1 / (rank + 1) ** self.zipf_s for rank in range(self.resources))
        )

    def resource(self, rng: random.Random) -> int:
        return bisect.bisect_left(self.cum_weights, rng.random() * self.cum_weights[-1])

    def activity(self, i: int) -> dict[str, Any]:
        kind = self.kinds[i]
        word_fr, word_en = WORDS_FR[i % len(WORDS_FR)], WORDS_EN[i % len(WORDS_EN)]
        label = {"video": ("Vidéo", "Video"), "exercise": ("Exercice", "Exercise"), "lesson": ("Leçon", "Lesson")}[kind]
        return {
            "objectType": "Activity",
            "id": resource_iri(i),
            "definition": {
                "name": {"fr": f"{label[0]} {i} : {word_fr}", "en": f"{label[1]} {i}: {word_en}"},
                "type": KINDS[kind][0],
            },
        }


# The steps of one learner's session on one resource, by kind of resource.
def _session_steps(kind: str, rng: random.Random) -> list[str]:
    if kind == "video":
        steps = ["played"] + ["progressed"] * rng.randint(0, 2) + ["played"] * rng.randint(0, 1)
        return steps + (["completed"] if rng.random() < 0.7 else [])
    if kind == "exercise":
        steps = ["attempted"] + ["answered"] * rng.randint(1, 6)
        if rng.random() < 0.85:
            steps += ["completed", "passed" if rng.random() < 0.65 else "failed"]
        return steps
    steps = ["experienced"] + ["progressed"] * rng.randint(0, 2)
    return steps + (["completed"] if rng.random() < 0.6 else [])


@dataclass
class _Session:
    resource: int
    registration: str
    steps: list[str]
    position: int = 0


class StatementFactory:
    """Realistic learner statements: sessions of a learner on a resource (one registration
    each), learners interleaved at random; Zipf-popular resources."""

    def __init__(self, population: Population, seed: int) -> None:
        self.pop = population
        self.rng = random.Random(seed)
        self.sessions: dict[int, _Session] = {}
        self.activities = [population.activity(i) for i in range(population.resources)]
        self.parents = [
            [{"objectType": "Activity", "id": topic_iri(i // population.per_topic)}]
            for i in range(population.resources)
        ]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def next(self, when: float) -> tuple[dict[str, Any], int, int]:
        """(statement, learner index, resource index) of one statement made about `when`."""
        rng = self.rng
        learner = rng.randrange(self.pop.learners)
        session = self.sessions.get(learner)
        if session is None or session.position >= len(session.steps):
            resource = self.pop.resource(rng)
            session = _Session(resource, self._uuid(), _session_steps(self.pop.kinds[resource], rng))
            self.sessions[learner] = session
        verb = session.steps[session.position]
        session.position += 1
        resource = session.resource
        statement: dict[str, Any] = {
            "id": self._uuid(),
            "actor": agent(learner),
            "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
            "object": self.activities[resource],
            "context": {
                "registration": session.registration,
                "contextActivities": {"parent": self.parents[resource]},
                "platform": "Kalan",
                "language": "fr",
            },
            "timestamp": iso_z(when - rng.random() * 30),
        }
        result = self._result(verb, rng)
        if result:
            statement["result"] = result
        return statement, learner, resource

    @staticmethod
    def _result(verb: str, rng: random.Random) -> dict[str, Any] | None:
        if verb in {"passed", "failed", "completed"}:
            raw = rng.randint(0, 10) if verb == "completed" else rng.randint(6, 10) if verb == "passed" else rng.randint(0, 5)
            return {
                "score": {"scaled": raw / 10, "raw": raw, "min": 0, "max": 10},
                "success": verb != "failed",
                "completion": True,
                "duration": f"PT{rng.randint(1, 25)}M{rng.randint(0, 59)}S",
            }
        if verb == "answered":
            return {"success": rng.random() < 0.7, "response": str(rng.randint(1, 4)), "duration": f"PT{rng.randint(5, 90)}S"}
        if verb in {"played", "progressed"} and rng.random() < 0.5:
            return {"extensions": {VIDEO + "extensions/time": round(rng.random() * 600, 1)}}
        return None

    def many(self, n: int, when: float) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            yield self.next(when)[0]


# --------------------------------------------------------------------------- instances (bench side)
def install_kalan(source: str) -> dict[str, str]:
    """Kalan into bench/.venv-xapi: a commit (`git archive`; source "head" or a commit id),
    or with source "worktree" a copy of the work tree as it is now, so that edits made while
    the benchmark runs do not change the code it measures. Kept while the commit is the same."""
    commit = "HEAD" if source in {"head", "worktree"} else source
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"], capture_output=True, text=True, check=True).stdout.strip()
    source = "head" if source != "worktree" else source
    marker = VENV / "kalan-source.json"
    wanted = {"source": source, "commit": head}
    if source == "head" and marker.exists() and json.loads(marker.read_text()) == wanted:
        return wanted
    src = WORK / "src"
    subprocess.run(["rm", "-rf", str(src), str(VENV)], check=True)
    src.mkdir(parents=True)
    if source == "head":
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", head], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    else:
        ignore = [f"--exclude={p}" for p in (".git", ".venv*", "node_modules", "bench", "build", "dist", "*.egg-info", "__pycache__", ".kalan*", "*.sqlite3")]
        subprocess.run(["rsync", "-a", *ignore, f"{REPO}/", f"{src}/"], check=True)
    log(f"installing Kalan ({source}, {head[:12]}) into {VENV}")
    subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-c", str(src / "requirements" / "constraints.txt"), f"{src}[postgres]"], check=True)
    marker.write_text(json.dumps(wanted))
    return wanted


def psql(*sql: str) -> None:
    cmd = ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    for s in sql:
        cmd += ["-c", s]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


class Instance:
    """A fresh Kalan instance: its own KALAN_HOME, and for PostgreSQL its own database."""

    def __init__(self, backend: str, name: str) -> None:
        self.backend, self.name = backend, name
        self.home = WORK / name
        self.db = DB_PREFIX + name.replace("-", "_") if backend == "postgresql" else None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"KALAN_DATABASE_URL", "DJANGO_SETTINGS_MODULE"} and not k.lower().endswith("_proxy")}
        env.update(KALAN_HOME=str(self.home), PYTHONUNBUFFERED="1")
        if self.db:
            env["KALAN_DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{self.db}"
        return env

    def kalan(self, *args: str) -> str:
        r = subprocess.run([str(KALAN), *args], env=self.env(), capture_output=True, text=True, timeout=3600)
        if r.returncode:
            raise RuntimeError(f"kalan {' '.join(args)}: {r.stderr[-2000:]}")
        return r.stdout

    def helper(self, *args: str, stream: bool = False) -> list[str]:
        """Runs bench/xapi_data.py in Kalan's venv on this instance; returns its output lines."""
        env = {**self.env(), "DJANGO_SETTINGS_MODULE": "kalan.config.settings.base"}
        cmd = [str(PYTHON), str(fb.BENCH / "xapi_data.py"), *args]
        errors = WORK / f"helper-{self.name}.err"
        with open(errors, "w") as err:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, cwd=str(REPO))
            lines = []
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if stream and line.startswith("{"):
                    log(f"{self.name}: {line.strip()}")
            if proc.wait():
                raise RuntimeError(f"xapi_data.py {args[0]} failed: {errors.read_text()[-3000:]}")
        return lines

    def create(self) -> str:
        """Provisions the instance; returns the Authorization header of its credentials."""
        self.drop()
        self.home.mkdir(parents=True)
        if self.db:
            psql(f'CREATE DATABASE "{self.db}"')
        password = WORK / "admin-password"
        password.write_text("bench-admin-password-1\n")
        self.kalan("setup", "--school", "Bench School", "--admin", "admin", "--password-file", str(password), "--noinput")
        self.helper("learners", "--count", "2000")
        key, secret = self.kalan("lrs", "credentials", "create", "bench").split()
        return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

    def count(self) -> dict[str, int]:
        return json.loads(self.helper("count")[-1])

    def drop(self) -> None:
        if self.home.exists():
            subprocess.run(["rm", "-rf", str(self.home)], check=True)
        if self.db:
            psql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def server(self, port: int) -> fb.Server:
        cmd = [str(KALAN), "start", "--host", fb.LOOPBACK, "--port", str(port)]
        return fb.Server(f"kalan-{self.name}", cmd, self.env(), port, WORK / f"server-{self.name}.log", root="/signin/")


def read_queries(samples: list[dict[str, Any]], seed: int = 5) -> dict[str, list[str]]:
    """200 URLs per query, from statements the fill stored (so every learner+resource pair and
    every window has statements)."""
    rng = random.Random(seed)
    picked = [samples[rng.randrange(len(samples))] for _ in range(200)]
    enc = urllib.parse.urlencode

    def agent_json(i: int) -> str:
        return json.dumps(agent(i), separators=(",", ":"))

    def window(at: float) -> dict[str, str]:
        return {"since": iso_z(at - 3600), "until": iso_z(at + 3600)}

    verbs = list(VERBS.values())
    return {
        "learner + resource": [f"/xapi/statements?{enc({'agent': agent_json(s['learner']), 'activity': resource_iri(s['resource'])})}" for s in picked],
        "learner, newest 25": [f"/xapi/statements?{enc({'agent': agent_json(s['learner']), 'limit': 25})}" for s in picked],
        "2-hour window, limit 100": [f"/xapi/statements?{enc({**window(s['at']), 'limit': 100})}" for s in picked],
        "2-hour window, default page (500)": [f"/xapi/statements?{enc(window(s['at']))}" for s in picked],
        "verb, limit 50": [f"/xapi/statements?{enc({'verb': verbs[i % len(verbs)], 'limit': 50})}" for i in range(200)],
    }



# --------------------------------------------------------------------------- inside Kalan
def _django() -> None:
    """Django set up on KALAN_HOME's database, migrated if the migrations changed since."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalan.config.settings.base")
    import django

    django.setup()
    from kalan.commands import ensure_ready

    ensure_ready()


def cmd_learners(args: argparse.Namespace) -> None:
    _django()
    from kalan.accounts.models import User
    from kalan.schools.models import School

    school = School.objects.order_by("created_at").first()
    if school is None:
        raise SystemExit("no school: run `kalan setup` first")
    users = []
    for i in range(args.count):
        user = User(id=learner_id(i), username=f"bench{i:05d}", full_name=f"Learner {i}", school_id=school.id)
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users, batch_size=500, ignore_conflicts=True)
    print(json.dumps({"learners": User.objects.filter(school_id=school.id).count()}))


def cmd_fill(args: argparse.Namespace) -> None:
    """Store --statements statements in batches, with stored times spread over --days days
    from --start (the clock of store_statements is replaced by that simulated one; the rows are
    those the LRS writes for statements arriving over those days). Prints JSON lines."""
    _django()
    from django.db import connection

    from kalan.lrs import statements as lrs_statements
    from kalan.lrs.auth import credential_authority
    from kalan.lrs.models import Credential, Statement
    from kalan.lrs.validation import normalize_statement, validate_statements

    credential = Credential.objects.order_by("id").first()
    if credential is None:
        raise SystemExit("no credentials: run `kalan lrs credentials create NAME` first")
    authority = credential_authority(credential)
    factory = StatementFactory(Population(args.learners, args.resources), args.seed)
    start = calendar.timegm(time.strptime(args.start, "%Y-%m-%d"))
    already = Statement.objects.count()
    step = args.days * 86400 / (already + args.statements)  # the whole fill spans --days
    clock: dict[str, Any] = {}
    lrs_statements.stored_now = lambda: clock["now"]  # type: ignore[assignment]
    t_gen = t_val = t_store = 0.0
    t0 = time.perf_counter()
    last_t, last_n, samples = t0, 0, []
    done = 0
    while done < args.statements:
        n = min(args.batch, args.statements - done)
        when = start + (already + done) * step
        clock["now"] = dt.datetime.fromtimestamp(when, dt.UTC)
        a = time.perf_counter()
        batch = []
        for k in range(n):
            statement, learner, resource = factory.next(when)
            batch.append(statement)
            if (done + k) % args.sample_every == 0:
                samples.append({"learner": learner, "resource": resource, "at": when})
        b = time.perf_counter()
        valid = validate_statements(batch, version="2.0.0")
        normalized = [normalize_statement(s, version="2.0.0") for s in valid]
        c = time.perf_counter()
        lrs_statements.store_statements(normalized, version="2.0.0", authority=authority)
        d = time.perf_counter()
        t_gen, t_val, t_store = t_gen + b - a, t_val + c - b, t_store + d - c
        done += n
        if done % args.report_every < args.batch or done == args.statements:
            now = time.perf_counter()
            line = {
                "progress": done,
                "elapsed_s": round(now - t0, 1),
                "rate": round((done - last_n) / (now - last_t)),
                "gen_s": round(t_gen, 1),
                "validate_s": round(t_val, 1),
                "store_s": round(t_store, 1),
            }
            print(json.dumps(line), flush=True)
            last_t, last_n = now, done
            if args.probe and done >= args.probe and args.budget_s:
                estimate = (now - t0) / done * args.statements
                if estimate > args.budget_s:
                    print(json.dumps({"stopped": True, "estimate_s": round(estimate)}), flush=True)
                    break
    total = time.perf_counter() - t0
    size = None
    if connection.vendor == "sqlite":
        connection.close()
        base = str(connection.settings_dict["NAME"])
        size = sum(os.path.getsize(base + ext) for ext in ("", "-wal") if os.path.exists(base + ext))
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
    print(
        "FILL "
        + json.dumps(
            {
                "statements": done,
                "seconds": round(total, 1),
                "rate": round(done / total),
                "gen_s": round(t_gen, 1),
                "validate_s": round(t_val, 1),
                "store_s": round(t_store, 1),
                "db_bytes": size,
                "first_stored": start + already * step,
                "last_stored": start + (already + done) * step,
                "samples": samples,
            }
        ),
        flush=True,
    )


def cmd_count(_args: argparse.Namespace) -> None:
    _django()
    from kalan.lrs.models import Statement, StatementIndex

    print(json.dumps({"statements": Statement.objects.count(), "index_rows": StatementIndex.objects.count()}))


def cmd_explain(args: argparse.Namespace) -> None:
    """For each query of --queries (JSON: name -> URL query string), the time of
    selectors.statement_page alone and of the whole view through Django's test client (no HTTP
    server), medians of --repeat calls, and the plan of the SQL it runs."""
    _django()
    import statistics
    from urllib.parse import parse_qsl

    from django.db import connection
    from django.test import Client

    from kalan.lrs import selectors
    from kalan.lrs.views import statements as views

    queries: dict[str, str] = json.loads(args.queries)
    client = Client()
    headers = {"X-Experience-API-Version": "2.0.0", "Authorization": args.authorization}
    out: dict[str, Any] = {}
    pages: dict[str, Any] = {}
    original = selectors.statement_page

    def recording(query: Any) -> Any:
        page = original(query)
        pages["last"] = query
        return page

    views.statement_page = recording  # type: ignore[assignment]
    for name, qs in queries.items():
        client.get("/xapi/statements?" + qs, headers=headers)  # warm
        view_ms = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            response = client.get("/xapi/statements?" + qs, headers=headers)
            view_ms.append((time.perf_counter() - t) * 1000)
        query = pages["last"]
        db_ms = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            page = original(query)
            db_ms.append((time.perf_counter() - t) * 1000)
        sql, params = _raw_sql(query, selectors)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan = [" ".join(str(c) for c in row[1:]) for row in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
        out[name] = {
            "status": response.status_code,
            "statements": len(page.rows),
            "response_bytes": len(response.content),
            "view_ms_median": round(statistics.median(view_ms), 2),
            "page_ms_median": round(statistics.median(db_ms), 2),
            "sql": sql,
            "plan": plan,
        }
    print("EXPLAIN " + json.dumps(out))


def _raw_sql(query: Any, selectors: Any) -> tuple[str, list[Any]]:
    """The SQL and parameters statement_page runs for `query` (captured from its cursor)."""
    from django.db import connection

    captured: dict[str, Any] = {}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured["sql"], captured["params"] = sql, list(params or [])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        selectors.statement_page(query)
    return captured["sql"], captured["params"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    learners = sub.add_parser("learners")
    learners.add_argument("--count", type=int, default=2000)
    fill = sub.add_parser("fill")
    fill.add_argument("--statements", type=int, required=True)
    fill.add_argument("--batch", type=int, default=500)
    fill.add_argument("--seed", type=int, default=11)
    fill.add_argument("--learners", type=int, default=2000)
    fill.add_argument("--resources", type=int, default=5000)
    fill.add_argument("--start", default="2026-03-02", help="simulated first stored day (UTC)")
    fill.add_argument("--days", type=float, default=180.0)
    fill.add_argument("--sample-every", type=int, default=997)
    fill.add_argument("--report-every", type=int, default=50_000)
    fill.add_argument("--probe", type=int, default=0, help="after this many, check --budget-s")
    fill.add_argument("--budget-s", type=float, default=0, help="stop if the whole fill would take longer")
    sub.add_parser("count")
    explain = sub.add_parser("explain")
    explain.add_argument("--queries", required=True, help="JSON: name -> query string")
    explain.add_argument("--authorization", required=True)
    explain.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    {"learners": cmd_learners, "fill": cmd_fill, "count": cmd_count, "explain": cmd_explain}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
