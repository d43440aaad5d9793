"""The assessments app: grading, mastery models and the order of practice."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "kalan.assessments"
    label = "assessments"
    verbose_name = _("Assessments")

    def ready(self) -> None:
        from kalan.assessments.projector import AnswersProjector
        from kalan.lrs import projections

        projections.register(AnswersProjector())
