"""The school data of the sync benchmark, independent of the system that stores it.

`make_plan()` builds, from a seed, every record the benchmark puts on instance A: the learners,
their classrooms and, per learner, the resources they used with their sessions and answers.
Each system's seeder (Kolibri's in sync_kolibri.py, Kalan's later) writes exactly this plan
with its own models, so both systems sync the same data shape. `plan_counts()` gives the number
of records per kind; both seeders are checked against it.

The shape follows the earlier Kolibri measurement (shared/anchors/kolibri.md, "Sync"): 200
learners in 4 classrooms, 20 resources per learner out of 100 (half exercises, half videos),
1-3 sessions per resource, one summary per resource, one mastery record per exercise and 1-5
answers per exercise session: about 130 records per learner, about 26,000 in all.
"""

from __future__ import annotations

import random
import uuid

# Parameters of the full-size data set. The record counts it gives at 200 learners are in
# ANCHOR_COUNTS; plan_counts() gives the exact counts of any plan.
SHAPE = {
    "learners": 200,
    "classrooms": 4,
    "resources": 100,  # even index: exercise, odd index: video
    "resources_per_learner": 20,
    "sessions_per_resource": (1, 3),
    "answers_per_exercise_session": (1, 5),
    "admins": 1,
}

# What the earlier Kolibri measurement synced (its instance A, 200 learners).
ANCHOR_COUNTS = {
    "users": 201,
    "classrooms": 4,
    "memberships": 200,
    "roles": 1,
    "session_logs": 8081,
    "summary_logs": 4040,
    "mastery_logs": 1994,
    "attempt_logs": 11949,
}

# The record kinds a plan is made of, in the order they are reported.
KINDS = (
    "users",
    "classrooms",
    "memberships",
    "roles",
    "session_logs",
    "summary_logs",
    "mastery_logs",
    "attempt_logs",
)

PASSWORD = "learnerpass"


def _uuid_hex(rnd: random.Random) -> str:
    return uuid.UUID(int=rnd.getrandbits(128)).hex


def _session(rnd: random.Random, exercise: bool) -> list:
    """[days ago, minutes ago, seconds spent, progress, answers]; an answer is
    [correct 0/1, answer number, seconds spent]."""
    answers = []
    if exercise:
        low, high = SHAPE["answers_per_exercise_session"]
        answers = [
            [int(rnd.random() < 0.7), rnd.randint(0, 99), round(rnd.uniform(5, 60), 1)]
            for _ in range(rnd.randint(low, high))
        ]
    return [
        rnd.randint(0, 60),
        rnd.randint(0, 600),
        round(rnd.uniform(30, 900), 1),
        round(rnd.random(), 4),
        answers,
    ]


def _learner(rnd: random.Random, plan: dict, number: int, classroom: int, items: int) -> dict:
    low, high = SHAPE["sessions_per_resource"]
    resources = []
    for index in rnd.sample(range(len(plan["resources"])), items):
        exercise = plan["resources"][index][1] == "exercise"
        sessions = [_session(rnd, exercise) for _ in range(rnd.randint(low, high))]
        resources.append({"resource": index, "sessions": sessions})
    prefix = plan["prefix"]
    return {
        "username": f"{prefix}_{number:05d}",
        "full_name": f"Learner {prefix} {number}",
        "birth_year": str(2010 + number % 6),
        "gender": rnd.choice(["MALE", "FEMALE"]),
        "classroom": classroom,
        "resources": resources,
    }


def _base(seed: int, prefix: str, classrooms: int) -> tuple[random.Random, dict]:
    rnd = random.Random(seed)
    plan = {
        "seed": seed,
        "prefix": prefix,
        "password": PASSWORD,
        "channel": _uuid_hex(rnd),
        "resources": [
            [_uuid_hex(rnd), "exercise" if i % 2 == 0 else "video"]
            for i in range(SHAPE["resources"])
        ],
        "classrooms": [f"{prefix}-class-{c + 1}" for c in range(classrooms)],
        "learners": [],
    }
    return rnd, plan


def make_plan(learners: int = SHAPE["learners"], seed: int = 1) -> dict:
    """The initial data of instance A: `learners` learners (usernames l_00000...) spread over
    SHAPE["classrooms"] classrooms, with their learning records. Same seed, same plan."""
    rnd, plan = _base(seed, "l", SHAPE["classrooms"])
    per = SHAPE["resources_per_learner"]
    plan["learners"] = [
        _learner(rnd, plan, i, i % SHAPE["classrooms"], per) for i in range(learners)
    ]
    return plan


def make_increment(base: dict, target: int = 75, seed: int = 7, learners: int = 3) -> dict:
    """Records added to instance A before the incremental sync: `learners` new learners
    (n_00000...) in one new classroom, with resources added round-robin until the plan holds at
    least `target` records (users + classroom + memberships + logs). The new logs are about
    the resources of the `base` plan."""
    rnd, plan = _base(seed, "n", 1)
    plan["resources"] = base["resources"]
    plan["channel"] = base["channel"]
    people = [_learner(rnd, plan, i, 0, 0) for i in range(learners)]
    plan["learners"] = people
    turn = 0
    while sum(plan_counts(plan).values()) < target:
        person = people[turn % learners]
        used = {r["resource"] for r in person["resources"]}
        extra = _learner(rnd, plan, 0, 0, 1)["resources"][0]
        if extra["resource"] not in used:
            person["resources"].append(extra)
            turn += 1
    return plan


def plan_counts(plan: dict, admins: int = 0) -> dict[str, int]:
    """Records per kind in the plan (plus `admins` admin users and their roles)."""
    counts = dict.fromkeys(KINDS, 0)
    counts["users"] = len(plan["learners"]) + admins
    counts["roles"] = admins
    counts["classrooms"] = len(plan["classrooms"])
    counts["memberships"] = len(plan["learners"])
    for person in plan["learners"]:
        for item in person["resources"]:
            counts["summary_logs"] += 1
            counts["session_logs"] += len(item["sessions"])
            if plan["resources"][item["resource"]][1] == "exercise":
                counts["mastery_logs"] += 1
                counts["attempt_logs"] += sum(len(s[4]) for s in item["sessions"])
    return counts
