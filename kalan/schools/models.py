"""Schools in their admin areas, the people's roles there, classes and groups.

Every table carries its school scope (`school`), except admin areas and the
viewers over them, which are national records.
"""

import uuid
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kalan.core.models import SyncableModel, SyncableQuerySet


class AdminArea(SyncableModel):
    class Kind(models.TextChoices):
        REGION = "region", _("Region")
        DISTRICT = "district", _("District")

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    sync_scope_field: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("admin area")
        verbose_name_plural = _("admin areas")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="schools_adminarea_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchoolQuerySet(SyncableQuerySet):
    def in_area(self, area_id: uuid.UUID) -> "SchoolQuerySet":
        """Schools of a district, or of every district of a region."""
        return self.filter(Q(area_id=area_id) | Q(area__parent_id=area_id))


class School(SyncableModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("school code"), max_length=50, unique=True)
    government_id = models.CharField(_("government id"), max_length=100, blank=True)
    area = models.ForeignKey(
        AdminArea,
        verbose_name=_("admin area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schools",
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    closed_reason = models.CharField(_("reason for closure"), max_length=300, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    passwordless_signin = models.BooleanField(
        _("young learners sign in by picking their name"),
        default=False,
    )
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )

    objects = SchoolQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    sync_scope_field: ClassVar[str | None] = "id"  # a school is its own scope


class SchoolRole(SyncableModel):
    """What a person is in a school. One person may hold several roles."""

    class Kind(models.TextChoices):
        ADMIN = "admin", _("School admin")
        TEACHER = "teacher", _("Teacher")
        LEARNER = "learner", _("Learner")
        PARENT = "parent", _("Parent or guardian")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="school_roles"
    )
    kind = models.CharField(_("role"), max_length=20, choices=Kind.choices)

    class Meta:
        verbose_name = _("school role")
        verbose_name_plural = _("school roles")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "user", "kind"], name="schools_schoolrole_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} @ {self.school_id}"


class GuardianLink(SyncableModel):
    """A parent or guardian sees only the children linked to them here."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="children_links"
    )
    child = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian_links"
    )

    class Meta:
        verbose_name = _("guardian link")
        verbose_name_plural = _("guardian links")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "child"], name="schools_guardian_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} -> {self.child_id}"


class AreaViewer(SyncableModel):
    """Read-only access for district or national staff over an admin area."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="viewed_areas"
    )
    area = models.ForeignKey(AdminArea, on_delete=models.CASCADE, related_name="viewers")

    sync_scope_field: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("area viewer")
        verbose_name_plural = _("area viewers")
        constraints = [
            models.UniqueConstraint(fields=["user", "area"], name="schools_areaviewer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} views {self.area_id}"


class Classroom(SyncableModel):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classrooms")
    name = models.CharField(_("name"), max_length=200)
    grade = models.CharField(_("grade"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    source_id = models.CharField(_("roster id"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "name"], name="schools_classroom_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Enrolment(SyncableModel):
    """A teacher or a learner in a class."""

    class Kind(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        LEARNER = "learner", _("Learner")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="enrolments")
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    kind = models.CharField(_("as"), max_length=20, choices=Kind.choices)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["classroom", "user", "kind"], name="schools_enrolment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} in {self.classroom_id}"


class LearnerGroup(SyncableModel):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="learner_groups")
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "name"], name="schools_group_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(SyncableModel):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="group_memberships")
    group = models.ForeignKey(LearnerGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"], name="schools_groupmembership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"
