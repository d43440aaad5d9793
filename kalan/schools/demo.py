"""The demo school (`kalan demo`): idempotent, with fixed ids.

A second run finds every record already there and writes nothing, so stamps
and passwords stay as they were.
"""

import uuid

from django.db import transaction

from kalan.accounts import services as accounts
from kalan.accounts.models import User
from kalan.schools import services
from kalan.schools.models import AdminArea, Classroom, LearnerGroup, School, SchoolRole

NAMESPACE = uuid.UUID("6f1d3c52-1b0e-4c47-9a53-0d6f4a1f2c11")
LEARNER_PASSWORD = "learnerpass"  # noqa: S105 - published demo credentials
DEMO_ACCOUNTS = [
    ("school admin", "head", "demo-head-pass"),
    ("teacher", "teacher", "demo-teacher-pass"),
    ("learner (40: learner01-40)", "learner01", LEARNER_PASSWORD),
    ("parent of learner01-02", "parent", "demo-parent-pass"),
    ("district viewer", "district", "demo-district-pass"),
]
FIRST_NAMES = [
    "Aminata",
    "Moussa",
    "Fatoumata",
    "Ousmane",
    "Mariam",
    "Bakary",
    "Awa",
    "Seydou",
    "Kadiatou",
    "Ibrahim",
    "Firuza",
    "Rustam",
    "Zarina",
    "Farhod",
    "Nilufar",
    "Dilshod",
    "Madina",
    "Sino",
    "Oumou",
    "Adama",
]
LAST_NAMES = [
    "Traoré",
    "Diarra",
    "Keïta",
    "Coulibaly",
    "Sidibé",
    "Rahimova",
    "Nazarov",
    "Karimova",
    "Saidov",
    "Dembélé",
]


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def _person(school: School, username: str, full_name: str, password: str, roles: list[str]) -> User:
    existing = User.objects.filter(id=_id(f"user:{username}")).first()
    if existing:
        return existing
    return services.create_person(
        school=school,
        username=username,
        full_name=full_name,
        roles=roles,
        password=password,
        user_id=_id(f"user:{username}"),
    )


def _places() -> tuple[AdminArea, School]:
    region = AdminArea.objects.filter(id=_id("region")).first()
    if region is None:
        region = AdminArea(id=_id("region"), name="Demo Region", kind="region", code="DEMO-R")
        region.save()
    district = AdminArea.objects.filter(id=_id("district")).first()
    if district is None:
        district = AdminArea(
            id=_id("district"), name="Demo District", kind="district", code="DEMO-D", parent=region
        )
        district.save()
    school = School.objects.filter(id=_id("school")).first() or services.create_school(
        name="Demo School",
        code="DEMO-001",
        area=district,
        government_id="EMIS-0001",
        passwordless_signin=True,
        school_id=_id("school"),
    )
    return district, school


@transaction.atomic
def create_demo() -> bool:
    """Create whatever of the demo is missing; True if anything was created."""
    if (
        School.objects.filter(id=_id("school")).exists()
        and User.objects.filter(id=_id("user:district")).exists()
    ):
        return False
    district, school = _places()
    _person(school, "head", "Mariam Konaté", "demo-head-pass", [SchoolRole.Kind.ADMIN])
    teacher = _person(
        school, "teacher", "Ibrahim Maïga", "demo-teacher-pass", [SchoolRole.Kind.TEACHER]
    )
    classroom = Classroom.objects.filter(id=_id("class")).first() or services.create_classroom(
        school=school, name="Grade 3 A", grade="3", classroom_id=_id("class")
    )
    services.enrol(classroom=classroom, user=teacher, kind="teacher")
    readers = LearnerGroup.objects.filter(
        classroom=classroom, name="Readers"
    ).first() or services.create_group(classroom=classroom, name="Readers")
    learners = []
    for n in range(1, 41):
        # Forty different names: a child picking their own must find exactly one.
        name = f"{FIRST_NAMES[(n - 1) % 20]} {LAST_NAMES[(n - 1 + (n - 1) // 20) % 10]}"
        learner = _person(
            school, f"learner{n:02d}", name, LEARNER_PASSWORD, [SchoolRole.Kind.LEARNER]
        )
        services.enrol(classroom=classroom, user=learner, kind="learner")
        if n <= 10:
            services.add_to_group(group=readers, user=learner)
        learners.append(learner)
    parent = _person(school, "parent", "Oumou Traoré", "demo-parent-pass", [SchoolRole.Kind.PARENT])
    for child in learners[:2]:
        services.link_guardian(school=school, guardian=parent, child=child)
    viewer = User.objects.filter(id=_id("user:district")).first() or accounts.create_user(
        username="district",
        full_name="District Office",
        school_id=None,
        password=DEMO_ACCOUNTS[-1][2],
        user_id=_id("user:district"),
    )
    services.grant_area_viewer(user=viewer, area=district)
    return True
