"""Who a person is, where: computed once per request and kept on the user."""

import uuid
from dataclasses import dataclass, field

from django.db.models import Q

from kalan.accounts.models import User
from kalan.schools.models import AdminArea, AreaViewer, Enrolment, School, SchoolRole


@dataclass(frozen=True)
class Roles:
    superuser: bool = False
    admin_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    teacher_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    learner_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    parent_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    viewer_areas: frozenset[uuid.UUID] = field(default_factory=frozenset)
    teaches: frozenset[uuid.UUID] = field(default_factory=frozenset)  # classroom ids

    @property
    def any_school(self) -> frozenset[uuid.UUID]:
        return self.admin_of | self.teacher_of | self.learner_of | self.parent_of

    def viewed_school_ids(self) -> frozenset[uuid.UUID]:
        if not self.viewer_areas:
            return frozenset()
        return frozenset(
            School.objects.filter(
                Q(area_id__in=self.viewer_areas) | Q(area__parent_id__in=self.viewer_areas)
            ).values_list("id", flat=True)
        )


def roles_of(user: User) -> Roles:
    """The roles of a signed-in person (cached on the user object for the request)."""
    cached: Roles | None = getattr(user, "_kalan_roles", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        roles = Roles()
    else:
        by_kind: dict[str, set[uuid.UUID]] = {k: set() for k in SchoolRole.Kind.values}
        for school_id, kind in SchoolRole.objects.filter(user=user).values_list(
            "school_id", "kind"
        ):
            by_kind[kind].add(school_id)
        roles = Roles(
            superuser=user.is_superuser,
            admin_of=frozenset(by_kind[SchoolRole.Kind.ADMIN]),
            teacher_of=frozenset(by_kind[SchoolRole.Kind.TEACHER]),
            learner_of=frozenset(by_kind[SchoolRole.Kind.LEARNER]),
            parent_of=frozenset(by_kind[SchoolRole.Kind.PARENT]),
            viewer_areas=frozenset(
                AreaViewer.objects.filter(user=user).values_list("area_id", flat=True)
            ),
            teaches=frozenset(
                Enrolment.objects.filter(user=user, kind=Enrolment.Kind.TEACHER).values_list(
                    "classroom_id", flat=True
                )
            ),
        )
    user._kalan_roles = roles  # type: ignore[attr-defined]
    return roles


def is_admin(user: User) -> bool:
    """A school admin somewhere, or a superuser: who may manage the instance's pages."""
    roles = roles_of(user)
    return roles.superuser or bool(roles.admin_of)


def forget_roles(user: User) -> None:
    user.__dict__.pop("_kalan_roles", None)


def area_ids_under(area_id: uuid.UUID) -> list[uuid.UUID]:
    return [area_id, *AdminArea.objects.filter(parent_id=area_id).values_list("id", flat=True)]
