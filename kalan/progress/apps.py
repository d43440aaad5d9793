from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    name = "kalan.progress"
    label = "progress"
    verbose_name = _("Progress")

    def ready(self) -> None:
        from kalan.lrs import projections
        from kalan.progress.projector import ResourceProgressProjector

        projections.register(ResourceProgressProjector())
