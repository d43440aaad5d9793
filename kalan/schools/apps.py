from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "kalan.schools"
    label = "schools"
    verbose_name = _("Schools")

    def ready(self) -> None:
        from kalan.accounts import directory
        from kalan.schools import selectors

        directory.set_school_choices(selectors.list_school_choices)
        _register_syncable()


def _register_syncable() -> None:
    from kalan.schools import models
    from kalan.sync.registry import Kind, register

    for model, order in [
        (models.AdminArea, 10),
        (models.School, 20),
        (models.SchoolRole, 40),
        (models.GuardianLink, 40),
        (models.AreaViewer, 40),
        (models.Classroom, 50),
        (models.Enrolment, 60),
        (models.LearnerGroup, 60),
        (models.GroupMembership, 70),
    ]:
        register(model, kind=Kind.MUTABLE, order=order)
