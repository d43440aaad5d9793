from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    name = "kalan.progress"
    label = "progress"
    verbose_name = _("Progress")

    def ready(self) -> None:
        from kalan.lrs import projections
        from kalan.progress.projector import ResourceProgressProjector
        from kalan.progress.selectors import learner_panel
        from kalan.schools.home_panels import Panel, register_learner_panel

        projections.register(ResourceProgressProjector())
        register_learner_panel(
            Panel(
                name="progress",
                template="progress/learner_panel.html",
                order=10,
                context=learner_panel,
            )
        )
